// The least an MCP server can do over stdio for P1's call (P1m): answer initialize, and for tools/call make
// the one Web API request the bench names (its URL, headers and token in the environment), parse the answer,
// keep each row's id and the columns asked for (a choice as its label) and hand them back as structured
// content and as text. No schema checks, no policy, no cursor, no fencing, no secrets scan: what any server
// answering this call over stdio must at least do, so P1m shows the floor under P1's goal.
import { createInterface } from 'node:readline';
import { Agent, request } from 'undici';

const url = process.env.PASSTHROUGH_URL;
const headers = JSON.parse(process.env.PASSTHROUGH_HEADERS ?? '{}');
const columns = (process.env.PASSTHROUGH_COLUMNS ?? '').split(',');
const id = process.env.PASSTHROUGH_ID ?? 'id';
const dispatcher = new Agent({ connections: 4 });
const FORMATTED = '@OData.Community.Display.V1.FormattedValue';

const answer = (msg, result) => process.stdout.write(`${JSON.stringify({ jsonrpc: '2.0', id: msg.id, result })}\n`);

createInterface({ input: process.stdin }).on('line', async (line) => {
  const msg = JSON.parse(line);
  if (msg.method === 'initialize')
    return answer(msg, {
      protocolVersion: msg.params.protocolVersion,
      capabilities: { tools: {} },
      serverInfo: { name: 'passthrough', version: '1' },
    });
  if (msg.method !== 'tools/call') return msg.id === undefined ? undefined : answer(msg, {});
  const page = await (await request(url, { dispatcher, headers })).body.json();
  const records = page.value.map((row) => {
    const out = { id: row[id] };
    for (const c of columns)
      out[c] = row[`${c}${FORMATTED}`] !== undefined && c.endsWith('code') ? row[`${c}${FORMATTED}`] : row[c];
    return out;
  });
  const structured = { records, hasMore: !!page['@odata.nextLink'] };
  answer(msg, { structuredContent: structured, content: [{ type: 'text', text: JSON.stringify(structured) }] });
});
