import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { EmulatorHandle } from '../../src/emulator/index.js';
import { writesSince } from '../helpers/client.js';
import { startTestEmulator } from '../helpers/emulator.js';
import { connectInMemory, type McpHarness, textOf } from '../helpers/mcp.js';

// A model that asks a table for a column its related table has ("the deal's phone number", "average billable
// time per case") is told the way there, not only to read describe_entity: the path through a lookup, or the
// related list to expand or query. Only what the policy lets be followed and read is named.
describe('a column of a related table, asked of the wrong one', () => {
  let emu: EmulatorHandle;
  let h: McpHarness;
  beforeAll(async () => {
    emu = await startTestEmulator({ scale: 10 });
    h = await connectInMemory(emu, { env: { LOG_LEVEL: 'warn' } });
  });
  afterAll(async () => {
    await h.close();
    await emu.close();
  });

  it('through a lookup: the paths to it are named, and the one taken answers', async () => {
    const wrong = await h.call('query_entities', { entity: 'opportunity', select: ['name', 'telephone1'], top: 1 });
    expect(textOf(wrong)).toBe(
      "Error (unknown_column): 'telephone1' is not a column of opportunity.\nHow to fix: 'telephone1' is a column of the records an opportunity points at: 'customerid_account/telephone1' (account), 'customerid_contact/telephone1' (contact), 'parentaccountid/telephone1' (account), as a path in select or where. Call describe_entity('opportunity') for the columns you may use.",
    );
    const taken = await h.call('query_entities', {
      entity: 'opportunity',
      select: ['name', 'customerid_account/telephone1'],
      where: { 'customerid_account/telephone1': { ne: null } },
      top: 1,
    });
    expect(taken.isError, textOf(taken)).toBeFalsy();
    expect(taken.structuredContent.records).toHaveLength(1);
  });

  it('through a related list: the list to expand, or its table to ask, in aggregate_records too', async () => {
    const wrong = await h.call('aggregate_records', {
      entity: 'incident',
      measures: ['avg:timespent'],
      groupBy: ['prioritycode'],
    });
    expect(textOf(wrong)).toContain(
      "How to fix: 'timespent' is a column of an incident's related list Incident_IncidentResolutions (incidentresolution): expand it with select [\"timespent\"], or query that table itself.",
    );
    const asked = await h.call('aggregate_records', { entity: 'incidentresolution', measures: ['avg:timespent'] });
    expect(asked.isError, textOf(asked)).toBeFalsy();
    // a group by a column of the record a lookup points at: the path, for groupBy
    const grouped = await h.call('aggregate_records', { entity: 'contact', groupBy: ['industrycode'] });
    expect(textOf(grouped)).toContain(
      "How to fix: 'industrycode' is a column of the records a contact points at: 'parentcustomerid_account/industrycode' (account), as a path in groupBy or where.",
    );
    const taken = await h.call('aggregate_records', {
      entity: 'contact',
      groupBy: ['parentcustomerid_account/industrycode'],
    });
    expect(taken.isError, textOf(taken)).toBeFalsy();
  });

  it('a value for a column of the record it belongs to is sent there: that record is the one to change, nothing is written', async () => {
    const contact = emu.rows('contact').find((c) => c.parentcustomerid)!;
    const before = emu.requests().length;
    const wrong = await h.call('update_record', {
      entity: 'contact',
      id: String(contact.contactid),
      values: { industrycode: 'Retail' },
    });
    expect(textOf(wrong)).toContain(
      "How to fix: 'industrycode' is a column of an account, which its parentcustomerid points at: write it there, with update_record on that record.",
    );
    // not its history: a contact's originating lead has the column too, and is not offered
    expect(textOf(wrong)).not.toContain('originatingleadid');
    expect(writesSince(emu, before)).toEqual([]);
  });

  it('a column no related table has, or one the policy keeps from the model there, is answered as before', async () => {
    expect(
      textOf(await h.call('query_entities', { entity: 'account', select: ['name', 'nonexistentcol'], top: 1 })),
    ).toBe(
      "Error (unknown_column): 'nonexistentcol' is not a column of account.\nHow to fix: Call describe_entity('account') for the columns you may use.",
    );
    // a contact's birthdate exists, but the built-in policy does not let it be read: not offered through
    // an account's primary contact
    const hidden = textOf(await h.call('query_entities', { entity: 'account', select: ['name', 'birthdate'], top: 1 }));
    expect(hidden).toContain("'birthdate' is not a column of account.");
    expect(hidden).not.toContain('primarycontactid/birthdate');
    expect(hidden).not.toContain('contact_customer_accounts');
  });
});
