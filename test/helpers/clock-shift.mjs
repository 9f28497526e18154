// Loaded with `node --import` by scripts/test-dates.mjs: every process of a test run (vitest, its workers, the
// servers the tests spawn) reads the clock as if it were FAKE_NOW, the clock still moving from there. The
// seed, "today", "this quarter" and every date in words follow it, so a test that holds only on some days
// fails here rather than in CI on that day.
//
// Certificates keep the real time: OpenSSL checks a certificate's validity against the real clock, so one
// made "in 2027" would not yet be valid. A Date read while one is made (the emulator's tls.ts, vitest.config.ts,
// the selfsigned package) is the real one; the stack says which.
const target = process.env.FAKE_NOW;
if (target) {
  const RealDate = Date;
  const offset = RealDate.parse(target) - RealDate.now();
  if (Number.isNaN(offset)) throw new Error(`FAKE_NOW is not a date: ${target}`);
  const forCertificate = () => {
    const limit = Error.stackTraceLimit;
    Error.stackTraceLimit = 4;
    const stack = new Error().stack ?? '';
    Error.stackTraceLimit = limit;
    return /emulator[\\/]tls\.|vitest\.config|selfsigned/.test(stack);
  };
  const now = () => RealDate.now() + (forCertificate() ? 0 : offset);
  class ShiftedDate extends RealDate {
    constructor(...args) {
      if (args.length === 0) super(now());
      else super(...args);
    }
    static now() {
      return now();
    }
  }
  globalThis.Date = ShiftedDate;
}
