import { ConfidentialClientApplication } from '@azure/msal-node';

/** What every reader gets from the parent: the emulator's coordinates and the query to read. */
export const env = {
  url: process.env.DYNAMICS_URL!,
  authority: process.env.AZURE_AUTHORITY_HOST!,
  tenant: process.env.AZURE_TENANT_ID!,
  clientId: process.env.AZURE_CLIENT_ID!,
  secret: process.env.AZURE_CLIENT_SECRET!,
  select: (process.env.BENCH_SELECT ?? 'name').split(','),
  pageSize: Number(process.env.BENCH_PAGE_SIZE ?? 5000),
};

export async function token(): Promise<string> {
  const cca = new ConfidentialClientApplication({
    auth: {
      clientId: env.clientId,
      clientSecret: env.secret,
      authority: `${env.authority}/${env.tenant}`,
      knownAuthorities: [new URL(env.authority).host],
    },
  });
  return (await cca.acquireTokenByClientCredential({ scopes: [`${env.url}/.default`] }))!.accessToken;
}

/**
 * Runs the read, then prints one JSON line: records, wall time, and the peak growth of this process's RSS and
 * of its JS heap during the read (sampled every millisecond and at the end), so module loading does not count.
 */
export async function report(read: () => Promise<number>): Promise<void> {
  (globalThis as { gc?: () => void }).gc?.();
  const base = process.memoryUsage();
  let peak = base.rss;
  let peakHeap = base.heapUsed;
  const sample = () => {
    const m = process.memoryUsage();
    peak = Math.max(peak, m.rss);
    peakHeap = Math.max(peakHeap, m.heapUsed);
  };
  const timer = setInterval(sample, 1);
  const start = performance.now();
  const records = await read();
  const ms = performance.now() - start;
  sample();
  clearInterval(timer);
  const maxRssMb = (peak - base.rss) / 1e6;
  const maxHeapMb = (peakHeap - base.heapUsed) / 1e6;
  process.stdout.write(`${JSON.stringify({ records, ms, maxRssMb, maxHeapMb })}\n`);
}
