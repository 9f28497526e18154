// `npm run test:dates`: the whole suite as if it were each of the days below, one after another (about three
// minutes each). The days are the ones dates go wrong on: a Friday ("next Friday" on a Friday), a Sunday
// (weeks begin on it), the year's last day and its first (this year, last year, year to date, the seed's span),
// 29 February, and a quarter's last minutes (the run crosses into the next). `npm run test:dates -- 2027-01-01`
// runs the days given instead.
import { spawnSync } from 'node:child_process';
import { fileURLToPath } from 'node:url';

const DAYS = [
  '2026-12-04T12:00:00Z',
  '2026-12-06T12:00:00Z',
  '2026-12-31T12:00:00Z',
  '2027-01-01T12:00:00Z',
  '2028-02-29T12:00:00Z',
  '2027-03-31T23:40:00Z',
];
const days = process.argv.slice(2).length ? process.argv.slice(2) : DAYS;
const shift = fileURLToPath(new URL('../test/helpers/clock-shift.mjs', import.meta.url));
const failed = [];
for (const day of days) {
  console.error(`\n=== the suite as if it were ${day}`);
  const r = spawnSync('npx', ['vitest', 'run'], {
    stdio: 'inherit',
    env: {
      ...process.env,
      FAKE_NOW: day,
      NODE_OPTIONS: `${process.env.NODE_OPTIONS ?? ''} --import ${shift}`.trim(),
    },
  });
  if (r.status !== 0) failed.push(day);
}
console.error(
  failed.length
    ? `\nFailed on: ${failed.join(', ')}`
    : `\nPassed on ${days.length === 1 ? 'the day' : `each of ${days.length} days`}.`,
);
process.exit(failed.length ? 1 : 0);
