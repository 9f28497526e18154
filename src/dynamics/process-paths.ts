import type { Policy } from '../policy/policy.js';
import { pageOf } from './answers.js';
import type { CallOptions, Row } from './client.js';
import { guidValue } from './coerce.js';
import { API } from './metadata.js';
import { ANNOTATIONS } from './query-text.js';
import type { Transport } from './transport.js';

const STAGES = 'processstage';

/**
 * A business process flow run's stages in their order, with RetrieveActivePath ("Retrieves a collection of stages
 * currently in the active path for a business process flow instance"): the order the process's designer gives
 * them, which processstage has no column for, and only the stages the run's branch goes through. The function
 * answers whole rows (it takes no $select), so each is cut to what the policy lets be read of processstage, as a
 * query's $select would have asked: its id, and the readable columns with their annotations.
 */
export async function retrieveActivePath(
  deps: { transport: Transport; policy: Policy },
  instanceId: string,
  opts: CallOptions,
): Promise<Row[]> {
  deps.policy.assertEntityReadable(STAGES);
  const id = guidValue(instanceId, 'business process flow run id');
  const r = await deps.transport.send({
    method: 'GET',
    path: `${API}/RetrieveActivePath(ProcessInstanceId=@p)?@p=${id}`,
    headers: { prefer: ANNOTATIONS },
    idempotent: true,
    signal: opts.signal,
    context: { entity: STAGES },
  });
  const readable = (key: string) => {
    const column = key.split('@')[0]!.replace(/^_(.+)_value$/, '$1');
    return column === 'processstageid' || deps.policy.canRead(STAGES, column);
  };
  return pageOf(r, `the stages of process run ${id}`).rows.map((row) =>
    Object.fromEntries(Object.entries(row).filter(([key]) => readable(key))),
  );
}
