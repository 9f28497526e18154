import { type McpServer, ResourceTemplate } from '@modelcontextprotocol/sdk/server/mcp.js';
import { all, type Completer } from '../prompts/completions.js';
import type { ServerDeps } from '../server.js';
import { describe } from '../tools/describe-entity.js';
import { toRpcError } from '../tools/support/result.js';

/** A resource's JSON, scrubbed like a tool result; a failure is a JSON-RPC error told like a tool's. */
async function answer(deps: ServerDeps, uri: string, load: () => Promise<unknown>) {
  try {
    const data = deps.scrubber.scrubResult(await load());
    return { contents: [{ uri, mimeType: 'application/json', text: JSON.stringify(data, null, 2) }] };
  } catch (err) {
    throw toRpcError(err, uri, deps.log, deps.scrubber);
  }
}

/** The template whose {entity} is completed by tablesStartingWith. */
export const ENTITY_TEMPLATE = 'dynamics://entities/{entity}';

// listing and completion are conveniences: when Dynamics cannot be reached they offer nothing rather than
// fail resources/list as a whole; reading dynamics://entities then says what is wrong
async function tableNames(deps: ServerDeps): Promise<string[]> {
  try {
    return (await describe(deps, undefined)).entities?.map((e) => e.name) ?? [];
  } catch (err) {
    deps.log.warn({ err }, 'table names unavailable for resource listing and completion');
    return [];
  }
}

/** The tables the policy offers whose name begins with what is typed: every one of them (a few dozen at most). */
export const tablesStartingWith =
  (deps: ServerDeps): Completer =>
  async (value) =>
    all((await tableNames(deps)).filter((n) => n.startsWith(value.toLowerCase())));

/**
 * Entity metadata as resources: dynamics://entities (the tables the policy allows) and
 * dynamics://entities/{entity} (one table's usable columns), with completion of table names.
 */
export function registerEntityResources(server: McpServer, deps: ServerDeps): void {
  const names = () => tableNames(deps);
  server.registerResource(
    'entities',
    'dynamics://entities',
    {
      title: 'Dynamics tables',
      description: 'The tables this server lets you use, with entity set names and whether they are writable.',
      mimeType: 'application/json',
    },
    (uri) => answer(deps, uri.href, () => describe(deps, undefined)),
  );
  server.registerResource(
    'entity-metadata',
    new ResourceTemplate(ENTITY_TEMPLATE, {
      list: async () => ({
        resources: (await names()).map((n) => ({
          uri: `dynamics://entities/${n}`,
          name: `${n} metadata`,
          mimeType: 'application/json',
        })),
      }),
    }),
    {
      title: 'Dynamics table metadata',
      description:
        'Columns (types, choice labels, lookup targets, required levels) and relationships of one table, as describe_entity returns them.',
      mimeType: 'application/json',
    },
    (uri, vars) => answer(deps, uri.href, () => describe(deps, String(vars.entity))),
  );
}
