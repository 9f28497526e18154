import { DynamicsMcpError } from '../errors.js';
import type { EntityModel } from '../policy/model.js';
import type { Policy } from '../policy/policy.js';
import { sendBatch } from './batch.js';
import type { CallOptions, Row } from './client.js';
import { mapDataverseError } from './errors.js';
import { type MetadataCache, OPTIONS_REREAD_AFTER_MS } from './metadata.js';
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
  const validate = async (table: EntityModel) => {
    const bodies: { body: Row; index: number }[] = [];
    const refused = new Map<number, DynamicsMcpError>();
    for (const [index, rec] of records.entries()) {
      try {
        const { body, columns } = await writeBody(table, rec, 'create', deps);
        deps.policy.assertWritable(table.logicalName, columns, `Creating a ${table.logicalName}`);
        bodies.push({ body, index });
      } catch (err) {
        if (!(err instanceof DynamicsMcpError)) throw err;
        refused.set(index, err);
      }
    }
    return { bodies, refused };
  };
  let { bodies, refused: invalid } = await validate(model);
  // an option added since the table's metadata was read (client.ts withNewOptions): all are checked again
  // against the table read anew, before anything is sent
  const unknown = [...invalid.values()].map((e) => e.details.unknownOption).find((t) => t !== undefined);
  if (unknown && (await deps.metadata.reread(unknown, OPTIONS_REREAD_AFTER_MS, opts.signal)))
    ({ bodies, refused: invalid } = await validate(await deps.metadata.entity(model.logicalName, opts.signal)));
  const ops = bodies.map((b) => ({ ...b, id: deps.nextId() }));
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
