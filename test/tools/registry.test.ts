import { AjvJsonSchemaValidator } from '@modelcontextprotocol/sdk/validation/ajv';
import { Ajv2020 } from 'ajv/dist/2020.js';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { z } from 'zod';
import type { EmulatorHandle } from '../../src/emulator/index.js';
import { ALL_TOOLS } from '../../src/tools/index.js';
import { forValidation } from '../../src/tools/support/validation.js';
import { startTestEmulator } from '../helpers/emulator.js';
import { connectInMemory, type McpHarness, textOf } from '../helpers/mcp.js';

// Practice 1–2 of DESIGN.md: every tool has complete, consistent hints, a description that says when to use
// it, an object input schema (no top-level union), and a JSON-schema snapshot so any change to what the model
// sees shows up in review.
describe('tool registry', () => {
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

  it('lists exactly the contract tools', async () => {
    const { tools } = await h.client.listTools();
    expect(tools.map((t) => t.name).sort()).toEqual(
      [
        'add_note',
        'aggregate_records',
        'create_case',
        'create_lead',
        'create_record',
        'delete_record',
        'describe_entity',
        'get_record',
        'pipeline_summary',
        'query_entities',
        'resolve_case',
        'update_record',
      ].sort(),
    );
  });

  it.each(ALL_TOOLS.map((t) => [t.name, t] as const))('%s: hints, description and schema shape', async (name, def) => {
    const { tools } = await h.client.listTools();
    const t = tools.find((x) => x.name === name)!;
    const a = t.annotations!;
    for (const k of ['readOnlyHint', 'destructiveHint', 'idempotentHint', 'openWorldHint'] as const)
      expect(typeof a[k]).toBe('boolean');
    if (a.readOnlyHint) expect(a.destructiveHint).toBe(false);
    expect(a.readOnlyHint).toBe(!def.writes);
    expect(a.openWorldHint).toBe(true);
    expect(t.description!.length).toBeGreaterThan(80);
    expect(t.description!.length).toBeLessThan(600);
    expect(t.inputSchema.type).toBe('object');
    expect(t.inputSchema).not.toHaveProperty('anyOf');
    expect(t.outputSchema?.type).toBe('object');
    expect(t.title).toBeTruthy();
    await expect(
      JSON.stringify(
        {
          name: t.name,
          title: t.title,
          description: t.description,
          inputSchema: t.inputSchema,
          outputSchema: t.outputSchema,
          annotations: t.annotations,
        },
        null,
        2,
      ),
    ).toMatchFileSnapshot(`./__toolsnaps__/${name}.json`);
  });

  // Clients may check arguments against the listed JSON Schema before calling (the SDK's Client does for
  // results; agent frameworks do for arguments), so the schema must accept every shape the descriptions
  // teach. A nested group ({and: [...]}) or a null check has no "value": the schema once required one.
  it.each([
    ['query_entities', { entity: 'account', where: { column: 'revenue', op: 'gt', value: 1000000 } }],
    ['query_entities', { entity: 'account', where: { column: 'telephone1', op: 'null' } }],
    [
      'query_entities',
      {
        entity: 'account',
        where: {
          and: [
            { column: 'statecode', op: 'eq', value: 'Active' },
            { column: 'emailaddress1', op: 'notNull' },
            {
              or: [
                { column: 'address1_city', op: 'eq', value: 'Seattle' },
                { column: 'revenue', op: 'null' },
              ],
            },
          ],
        },
      },
    ],
    [
      'query_entities',
      { entity: 'account', where: { or: [{ and: [{ column: 'name', op: 'startswith', value: 'A' }] }] } },
    ],
    ['get_record', { entity: 'account', id: '8deb5b45-3f8b-cc07-94eb-00e8572e8bdc', expand: [{ relation: 'x' }] }],
    [
      'update_record',
      {
        entity: 'account',
        id: '8deb5b45-3f8b-cc07-94eb-00e8572e8bdc',
        values: { name: 'x', primarycontactid: { entity: 'contact', id: '8deb5b45-3f8b-cc07-94eb-00e8572e8bdc' } },
      },
    ],
    ['create_case', { title: 'Disk full', customer: { accountName: 'Contoso' }, externalRef: 'alert-1' }],
    // several records in one call: a list of ids for update_record, a list of leads for create_lead
    [
      'update_record',
      {
        entity: 'opportunity',
        id: ['8deb5b45-3f8b-cc07-94eb-00e8572e8bdc', '9deb5b45-3f8b-cc07-94eb-00e8572e8bdc'],
        values: { estimatedclosedate: '2027-01-29' },
      },
    ],
    [
      'create_lead',
      { source: 'Trade Show', leads: [{ lastName: 'Lee', email: 'ann.lee@example.com' }, { lastName: 'Chen' }] },
    ],
    ['create_record', { entity: 'task', values: [{ subject: 'Call back' }, { subject: 'Send the quote' }] }],
    [
      'delete_record',
      {
        entity: 'opportunityproduct',
        id: ['8deb5b45-3f8b-cc07-94eb-00e8572e8bdc', '9deb5b45-3f8b-cc07-94eb-00e8572e8bdc'],
      },
    ],
    ['pipeline_summary', {}],
  ])('%s: the listed input schema accepts %j', async (name, args) => {
    const { tools } = await h.client.listTools();
    const schema = tools.find((t) => t.name === name)!.inputSchema;
    const check = new AjvJsonSchemaValidator().getValidator(schema as never)(args);
    expect(check.errorMessage).toBeUndefined();
    expect(check.valid).toBe(true);
  });

  // MCP reads a schema that names no dialect as JSON Schema 2020-12 (SEP-1613); tools/list leaves the
  // draft-07 "$schema" out (tools/list-cache.ts), so each schema must mean the same under a strict 2020-12
  // validator: no draft-07-only forms (items as a list, definitions, dependencies) and no unknown keywords
  it('every listed schema is valid JSON Schema 2020-12, which MCP assumes when none is named', async () => {
    const { tools } = await h.client.listTools();
    const ajv = new Ajv2020({ strict: true, allErrors: true, validateFormats: false });
    for (const t of tools)
      for (const [which, schema] of [
        ['input', t.inputSchema],
        ['output', t.outputSchema],
      ] as const) {
        expect(schema, `${t.name} ${which}`).not.toHaveProperty('$schema');
        // some clients (and the model APIs behind them) want a type on every argument
        if (which === 'input')
          for (const [name, p] of Object.entries(schema.properties ?? {}) as [string, Record<string, unknown>][]) {
            const branches = (p.anyOf as { type?: string }[] | undefined) ?? [p];
            expect(
              branches.every((b) => b.type),
              `${t.name}.${name} has no type`,
            ).toBe(true);
          }
        expect(() => ajv.compile(schema as object), `${t.name} ${which}`).not.toThrow();
      }
    // no execution.taskSupport either: absent means forbidden, and the server offers no tasks
    expect(tools.filter((t) => 'execution' in t)).toEqual([]);
    expect(h.client.getServerCapabilities()).not.toHaveProperty('tasks');
    const query = tools.find((t) => t.name === 'query_entities')!.inputSchema;
    const valid = ajv.compile(query as object);
    expect(valid({ entity: 'account', where: { and: [{ column: 'name', op: 'eq', value: 'x' }] } })).toBe(true);
    expect(valid({ entity: 'account', limit: 3 })).toBe(false);
  });

  it('read-only mode lists no write tools', async () => {
    const ro = await connectInMemory(emu, { env: { DYNAMICS_MCP_READ_ONLY: 'true' } });
    const { tools } = await ro.client.listTools();
    expect(tools.map((t) => t.name).sort()).toEqual([
      'aggregate_records',
      'describe_entity',
      'get_record',
      'pipeline_summary',
      'query_entities',
    ]);
    expect(tools.every((t) => t.annotations?.readOnlyHint)).toBe(true);
    // the tables said to be read-only once, not after each of them
    const tables = await ro.call('describe_entity', {});
    expect(textOf(tables)).toMatch(/^Tables \(all read-only here\): account, contact, lead, [a-z, ]+\.$/);
    const r = await ro.call('create_lead', { lastName: 'x' });
    expect(r.isError).toBe(true);
    // said as read-only, not as a tool that does not exist (the model would look for another way to write)
    expect(textOf(r)).toBe(
      'Error (read_only): create_lead writes, and this server is read-only: nothing can be written here.\nHow to fix: Tell the user what you would have written; use describe_entity, query_entities, aggregate_records, get_record, pipeline_summary to read.',
    );
    await ro.close();
  });

  // the server hands the SDK a cheaper schema to check results with (tools/support/validation.ts): it must
  // accept and refuse exactly what the listed schema does, on real results and on every one-node change of them
  it('each tool result is checked by a schema that answers as the listed one does', async () => {
    const account = emu.rows('account')[0]!;
    // an open one: a won or lost deal is read-only in Dynamics until it is reopened
    const opportunity = emu.rows('opportunity').find((o) => o.statecode === 0)!;
    // a product on it for delete_record to remove (a won or lost deal's products are not removed)
    const line = await h.deps.client.create('opportunityproduct', {
      opportunityid: { entity: 'opportunity', id: String(opportunity.opportunityid) },
      productdescription: 'Schema check',
      isproductoverridden: true,
      priceperunit: 10,
    });
    const calls: Record<string, Record<string, unknown>> = {
      describe_entity: { entity: 'account' },
      query_entities: {
        entity: 'account',
        top: 2,
        select: ['name', 'revenue', 'primarycontactid'],
        expand: [{ relation: 'contact_customer_accounts', select: ['fullname'] }],
      },
      get_record: { entity: 'account', id: String(account.accountid) },
      aggregate_records: {
        entity: 'opportunity',
        groupBy: ['statecode', 'ownerid'],
        measures: [{ op: 'count' }, { op: 'sum', column: 'estimatedvalue' }],
      },
      pipeline_summary: {},
      create_lead: { lastName: 'Schema', email: 'schema@example.com' },
      create_case: { title: 'Schema', customer: { accountId: String(account.accountid) } },
      update_record: { entity: 'opportunity', id: String(opportunity.opportunityid), values: { closeprobability: 30 } },
      add_note: { entity: 'account', id: String(account.accountid), text: 'Schema check' },
      create_record: { entity: 'account', values: { name: 'Schema check Ltd' } },
      delete_record: { entity: 'opportunityproduct', id: line.id },
      // the case create_case opened just before (tools run in the listed order)
      get resolve_case() {
        const open = emu.rows('incident').find((c) => c.title === 'Schema' && c.statecode === 0)!;
        return { id: String(open.incidentid), resolution: 'Schema check' };
      },
    };
    // tools/list leaves additionalProperties: false out of output schemas (list-cache.ts): each result must
    // still hold no key its schema does not name, checked here with the schema as zod writes it, closed
    const ajv = new Ajv2020({ strict: false, allErrors: true, validateFormats: false });
    const closed = (tool: (typeof ALL_TOOLS)[number]) => {
      const { $schema: _dialect, ...schema } = z.toJSONSchema(tool.outputSchema, { target: 'draft-7', io: 'output' });
      return ajv.compile(schema);
    };
    const variants = (v: unknown): unknown[] => {
      const out: unknown[] = [];
      const at = (path: (string | number)[], replacement: unknown) => {
        const copy = structuredClone(v) as Record<string | number, unknown>;
        let node = copy;
        for (const k of path.slice(0, -1)) node = node[k] as Record<string | number, unknown>;
        node[path.at(-1)!] = replacement;
        out.push(copy);
      };
      const walk = (node: unknown, path: (string | number)[]) => {
        if (path.length) for (const r of [null, 'x', 1, [], {}, [1], { a: [] }]) at(path, r);
        if (Array.isArray(node)) for (const [i, c] of node.entries()) walk(c, [...path, i]);
        else if (node && typeof node === 'object') for (const [k, c] of Object.entries(node)) walk(c, [...path, k]);
      };
      walk(v, []);
      return [v, ...out];
    };
    let requiredChecked = 0;
    for (const tool of ALL_TOOLS) {
      const r = await h.call(tool.name, calls[tool.name]!);
      expect(r.isError, `${tool.name}: ${JSON.stringify(r.content)}`).toBeFalsy();
      const holds = closed(tool);
      expect(holds(r.structuredContent), `${tool.name}: ${JSON.stringify(holds.errors)}`).toBe(true);
      expect(holds({ ...r.structuredContent, unlisted: 1 }), `${tool.name} refuses a key it does not name`).toBe(false);
      // tools/list leaves out which keys are required too: each result still holds every one
      const { required = [] } = z.toJSONSchema(tool.outputSchema, { io: 'output' }) as { required?: string[] };
      requiredChecked += required.length;
      for (const key of required) {
        const { [key]: _left, ...without } = r.structuredContent as Record<string, unknown>;
        expect(holds(without), `${tool.name} without ${key}`).toBe(false);
      }
      const cheap = forValidation(tool.outputSchema);
      let refused = 0;
      for (const v of variants(r.structuredContent)) {
        const listed = tool.outputSchema.safeParse(v).success;
        expect(cheap.safeParse(v).success, `${tool.name}: ${JSON.stringify(v).slice(0, 200)}`).toBe(listed);
        if (!listed) refused++;
      }
      expect(refused, `${tool.name}: some changes must be refused`).toBeGreaterThan(0);
    }
    expect(requiredChecked).toBeGreaterThan(20);
  });

  // the SDK checks the arguments before the tool runs, outside the tool's error boundary: a check that throws
  // there (a bug, as "H1" once was in pipeline_summary's period words) came back as the bare exception text
  it("a failure where the tool's error boundary does not reach is answered as unexpected, with a logged reference", async () => {
    const tool = ALL_TOOLS.find((t) => t.name === 'describe_entity')! as unknown as { inputSchema: unknown };
    const schema = tool.inputSchema;
    tool.inputSchema = z.preprocess(() => {
      throw new TypeError("Cannot read properties of undefined (reading 'from')");
    }, z.object({}));
    const broken = await connectInMemory(emu);
    try {
      const r = await broken.call('describe_entity', { entity: 'account' });
      expect(r.isError).toBe(true);
      const text = textOf(r);
      expect(text).toMatch(
        /^Error \(internal\): dynamics-mcp failed unexpectedly \(reference (\w+)\)\. How to fix: try again; if it repeats, report the reference to the administrator\.$/,
      );
      const ref = /reference (\w+)/.exec(text)![1]!;
      const logged = broken.logs.find((l) => l.includes(ref));
      expect(logged).toContain('Cannot read properties of undefined');
    } finally {
      tool.inputSchema = schema;
      await broken.close();
    }
  });
});
