import { DynamicsMcpError } from '../../errors.js';

/**
 * The serialised result, refused whole when it is over the policy's cap (never cut silently), with advice
 * that fits how many records it holds: a smaller "top" cannot shrink one record.
 */
export function fitResult(structured: unknown, records: number, maxBytes: number): string {
  const json = JSON.stringify(structured);
  const bytes = Buffer.byteLength(json);
  if (bytes <= maxBytes) return json;
  const fits = Math.max(1, Math.floor((records * maxBytes) / bytes));
  throw new DynamicsMcpError(
    'too_large',
    `The result would be ${Math.round(bytes / 1024)} KB, over this server's ${Math.round(maxBytes / 1024)} KB limit.`,
    records === 1
      ? 'One record is this large: select fewer columns (long text such as description) or expand fewer relationships.'
      : `Ask for fewer columns with "select", narrow the conditions, or lower "top" to about ${fits}.`,
    { retryable: false },
  );
}
