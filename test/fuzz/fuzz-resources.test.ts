import { ErrorCode, McpError } from '@modelcontextprotocol/sdk/types.js';
import fc from 'fast-check';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { EmulatorHandle } from '../../src/emulator/index.js';
import { startTestEmulator } from '../helpers/emulator.js';
import { connectInMemory, type McpHarness } from '../helpers/mcp.js';

// Resource reads and completions with generated and hostile table names, in-process through a real MCP
// client: an allowed table answers with its metadata, anything else is Invalid Params (SEP-2164's code
// for a resource not found) with the tables to use; never an internal error, a stack trace, or a
// metadata request for a table the policy does not offer.

const ALLOWED = [
  'account',
  'competitor',
  'product',
  'uom',
  'pricelevel',
  'opportunityproduct',
  'opportunitysalesprocess',
  'leadtoopportunitysalesprocess',
  'processstage',
  'contact',
  'lead',
  'opportunity',
  'incident',
  'slakpiinstance',
  'queue',
  'queueitem',
  'knowledgearticle',
  'knowledgearticleincident',
  'annotation',
  'activitymimeattachment',
  'incidentresolution',
  'opportunityclose',
  'task',
  'phonecall',
  'email',
  'appointment',
  'activityparty',
  'activitypointer',
  'duplicaterule',
  'duplicaterulecondition',
  'systemuser',
  'team',
  'territory',
  'transactioncurrency',
  'organization',
];
const HOSTILE = [
  'systemuserroles',
  'businessunit',
  'Account',
  'accounts',
  "account')/Attributes",
  "account'",
  '../account',
  '..%2F..%2Fapi%2Fdata',
  '%00',
  'account%20',
  '\u202e',
  '😀',
  'x'.repeat(3000),
  "account' or LogicalName eq 'systemuser",
];
const RUNS = 600;
const SEED = Number(process.env.FUZZ_SEED) || 20261130; // as in fuzz-tools.test.ts

describe('fuzz: resources and completion', () => {
  let emu: EmulatorHandle;
  let h: McpHarness;
  beforeAll(async () => {
    emu = await startTestEmulator({ scale: 5 });
    h = await connectInMemory(emu);
  });
  afterAll(async () => {
    await h.close();
    await emu.close();
  });

  it('every read answers with the metadata of an allowed table or Invalid Params; nothing else is looked up', async () => {
    const name = fc.oneof(
      fc.constantFrom(...ALLOWED, ...HOSTILE),
      fc.string({ maxLength: 40 }),
      fc.string({ maxLength: 12, unit: 'grapheme' }),
      fc.stringMatching(/^[a-z_]{1,30}$/),
    );
    const looked: string[] = [];
    const metadata = h.deps.client.metadata;
    const entity = metadata.entity.bind(metadata);
    metadata.entity = (logicalName: string, ...rest: unknown[]) => {
      looked.push(logicalName);
      return (entity as (...a: unknown[]) => ReturnType<typeof entity>)(logicalName, ...rest);
    };
    let found = 0;
    let refused = 0;
    await fc.assert(
      fc.asyncProperty(name, async (n) => {
        const uri = `dynamics://entities/${encodeURIComponent(n)}`;
        const r = await h.client.readResource({ uri }).catch((e: unknown) => e);
        if (r instanceof McpError) {
          refused++;
          expect(r.code).toBe(ErrorCode.InvalidParams);
          expect(r.message).not.toMatch(/\n\s+at \S+ \(|\[object Object\]/);
          // ours say what kind of failure and how to fix it (a URI no template matches is the SDK's answer: an
          // empty name, or '.' and '..', which URL parsing removes as dot segments, leaving the name empty)
          if (new URL(uri).pathname.length > 1)
            expect(r.message).toMatch(/^MCP error -32602: Error \((policy|bad_input|not_found)\): .*How to fix: /s);
          expect(r.message.length).toBeLessThan(4000);
          return;
        }
        found++;
        const body = JSON.parse((r as { contents: { text: string }[] }).contents[0]!.text);
        expect(ALLOWED).toContain(body.entity.name);
      }),
      { numRuns: RUNS, seed: SEED, endOnFailure: true },
    );
    expect(found).toBeGreaterThan(20);
    expect(refused).toBeGreaterThan(100);
    // metadata is read in $batch requests: the names are checked where the client asks for them
    expect(looked.length).toBeGreaterThan(0);
    expect(looked.filter((l) => !ALLOWED.includes(l))).toEqual([]);
  });

  it('completion offers only allowed tables, whatever is typed', async () => {
    await fc.assert(
      fc.asyncProperty(
        fc.oneof(fc.string({ maxLength: 20 }), fc.constantFrom('', 'a', 'co', 'sys', ...HOSTILE)),
        async (typed) => {
          const done = await h.client.complete({
            ref: { type: 'ref/resource', uri: 'dynamics://entities/{entity}' },
            argument: { name: 'entity', value: typed },
          });
          for (const v of done.completion.values) expect(ALLOWED).toContain(v);
        },
      ),
      { numRuns: 200, seed: SEED, endOnFailure: true },
    );
  });
});
