import { DynamicsMcpError } from '../errors.js';
import type { EntityModel } from '../policy/model.js';
import type { Policy } from '../policy/policy.js';
import { sendBatch } from './batch.js';
import type { CallOptions, Row } from './client.js';
import { mapDataverseError } from './errors.js';
import type { MetadataCache } from './metadata.js';
import type { Transport } from './transport.js';
import { duplicateDetection, type WriteValues, writeBody } from './write-body.js';

/** A bulk create's options: records per $batch, batches at a time, and the user's override of duplicate rules. */
export type CreateManyOptions = CallOptions & { chunk?: number; parallel?: number; allowDuplicate?: boolean };

/** One record of a bulk create: its id, or why it was not created (the others still were). */
export type BatchCreateResult = { id: string; error?: undefined } | { id: string; error: DynamicsMcpError };

export interface BatchCreateDeps {
  transport: Transport;
  serviceRoot: string;
  policy: Policy;
  metadata: MetadataCache;
  /** the id each create carries: ours, so that a retried batch finds its records instead of adding more */
  nextId: () => string;
  maxParallel: number;
}

/**
 * Many creates in $batch requests of up to `chunk` operations, `parallel` at a time. Every part is an
 * idempotent create (own id, If-None-Match: *), so retrying a batch whose answer was lost duplicates nothing.
 * A record that fails validation is answered on its own, before anything is sent.
 */
export async function createInBatches(
  deps: BatchCreateDeps,
  model: EntityModel,
  records: WriteValues[],
  opts: CreateManyOptions = {},
): Promise<BatchCreateResult[]> {
  // a record that fails validation is reported on its own; the others still go
  const ops: { id: string; body: Row; index: number }[] = [];
  const invalid = new Map<number, DynamicsMcpError>();
  for (const [index, rec] of records.entries()) {
    try {
      const { body, columns } = await writeBody(model, rec, 'create', deps);
      deps.policy.assertWritable(model.logicalName, columns, `Creating a ${model.logicalName}`);
      ops.push({ id: deps.nextId(), body, index });
    } catch (err) {
      if (!(err instanceof DynamicsMcpError)) throw err;
      invalid.set(index, err);
    }
  }
  const chunk = Math.min(opts.chunk ?? 100, 1000);
  const chunks: (typeof ops)[] = [];
  for (let i = 0; i < ops.length; i += chunk) chunks.push(ops.slice(i, i + chunk));
  const results: BatchCreateResult[] = new Array(records.length);
  for (const [index, error] of invalid) results[index] = { id: '', error };
  const runChunk = async (part: typeof ops) => {
    const { parts: answers, attempts } = await sendBatch(
      deps.transport,
      deps.serviceRoot,
      part.map((o) => ({
        method: 'PATCH' as const,
        url: `${model.entitySetName}(${o.id})`,
        headers: { 'If-None-Match': '*', ...duplicateDetection(opts) },
        body: o.body,
      })),
      opts.signal,
    );
    return part.map((o, i) => {
      const a = answers[i];
      if (!a)
        return {
          id: o.id,
          error: new DynamicsMcpError(
            'server',
            'The $batch response had no answer for this record.',
            'Check whether it exists before creating it again.',
          ),
        };
      if (a.status < 300 || (a.status === 412 && attempts > 1)) return { id: o.id };
      return {
        id: o.id,
        error: mapDataverseError(a.status, a.headers, a.body, { entity: model.logicalName, id: o.id }),
      };
    });
  };
  const parallel = Math.max(1, Math.min(opts.parallel ?? 4, deps.maxParallel));
  let next = 0;
  const out: Awaited<ReturnType<typeof runChunk>>[] = new Array(chunks.length);
  await Promise.all(
    Array.from({ length: Math.min(parallel, chunks.length) }, async () => {
      while (next < chunks.length) {
        const i = next++;
        out[i] = await runChunk(chunks[i]!);
      }
    }),
  );
  chunks.forEach((c, ci) => {
    c.forEach((op, i) => {
      results[op.index] = out[ci]![i]!;
    });
  });
  return results;
}
