import { describe, expect, it } from 'vitest';
import type { EmulatorHandle } from '../../src/emulator/index.js';
import { apiRequests } from '../helpers/client.js';
import {
  auditLog,
  builtInPolicyWith,
  connectAsking,
  connectInMemory,
  type McpHarness,
  serveWithAuditLog,
  textOf,
} from '../helpers/mcp.js';

// A lead is qualified by Dynamics' QualifyLead action ("QualifyLead Action": CreateAccount, CreateContact,
// CreateOpportunity, Status), which makes those records linked to the originating lead: update_record sends it
// when a lead's statecode is set to Qualified
describe('update_record qualifying a lead', () => {
  let emu: EmulatorHandle;
  let h: McpHarness;
  const audit = auditLog('qualify');
  serveWithAuditLog(audit, (e, harness) => {
    emu = e;
    h = harness;
  });

  let made = 0;
  /** a new open lead, as a user would file it (create_lead), so that each test has its own */
  const newLead = async (fields: Record<string, unknown> = {}) => {
    const r = await h.call('create_lead', {
      firstName: 'Ada',
      lastName: `Qualify${++made}`,
      company: `Qualify Test ${made} Ltd`,
      subject: `Fleet tracking ${made}`,
      email: `ada.qualify${made}@example.com`,
      ...fields,
    });
    expect(r.isError, textOf(r)).toBeFalsy();
    return emu.rows('lead').find((l) => l.leadid === r.structuredContent.id)!;
  };
  const lead = (id: unknown) => emu.rows('lead').find((l) => l.leadid === id)!;
  const from = (table: string, id: unknown) =>
    emu.rows(table).filter((r) => (r.originatingleadid as { id: string } | null)?.id === id);
  const qualifies = (since: number) =>
    apiRequests(emu, since).filter((q) => q.url.endsWith('/Microsoft.Dynamics.CRM.QualifyLead'));
  const qualify = (id: unknown, values: Record<string, unknown> = { statecode: 'Qualified' }, on = h) =>
    on.call('update_record', { entity: 'lead', id: String(id), values });

  it('statecode "Qualified": one QualifyLead; an account, a contact and an opportunity, and the lead naming them', async () => {
    const l = await newLead();
    const since = emu.requests().length;
    const r = await qualify(l.leadid);
    expect(r.isError, textOf(r)).toBeFalsy();
    expect(qualifies(since).map((q) => q.method)).toEqual(['POST']);
    const [account] = from('account', l.leadid);
    const [contact] = from('contact', l.leadid);
    const [opportunity] = from('opportunity', l.leadid);
    expect(account).toMatchObject({ name: l.companyname });
    expect(contact).toMatchObject({ lastname: l.lastname, parentcustomerid: { id: account!.accountid } });
    expect(opportunity).toMatchObject({ name: l.subject, customerid: { id: account!.accountid, entity: 'account' } });
    expect(lead(l.leadid)).toMatchObject({
      statecode: 1,
      statuscode: 3,
      parentaccountid: { id: account!.accountid },
      parentcontactid: { id: contact!.contactid },
      qualifyingopportunityid: { id: opportunity!.opportunityid },
    });
    expect(r.structuredContent).toEqual({
      entity: 'lead',
      id: l.leadid,
      updated: true,
      changed: {
        statecode: 'Qualified (1)',
        statuscode: 'Qualified (3)',
        parentaccountid: { id: account!.accountid, name: l.companyname },
        parentcontactid: { id: contact!.contactid, name: l.fullname },
        qualifyingopportunityid: { id: opportunity!.opportunityid, name: l.subject },
      },
      etag: expect.stringMatching(/^W\/"\d+"$/),
      url: expect.stringContaining(`etn=lead&id=${l.leadid}`),
    });
    expect(textOf(r)).toContain(
      `Qualified lead "${l.fullname}" (Qualified (3)), making account ${account!.accountid}, contact ${contact!.contactid}, opportunity ${opportunity!.opportunityid}`,
    );
    const last = await audit.last();
    expect(last).toMatchObject({
      tool: 'update_record',
      entity: 'lead',
      id: l.leadid,
      action: 'qualify',
      columns: { statuscode: 3 },
    });
    expect(last.columns.made).toHaveLength(3);
  });

  it('a lead that has an account already gets no second one: its opportunity is for that account', async () => {
    const existing = emu.rows('account')[0]!;
    const l = await newLead();
    const linked = await h.call('update_record', {
      entity: 'lead',
      id: String(l.leadid),
      values: { parentaccountid: { entity: 'account', id: String(existing.accountid) } },
    });
    expect(linked.isError, textOf(linked)).toBeFalsy();
    const r = await qualify(l.leadid);
    expect(r.isError, textOf(r)).toBeFalsy();
    expect(from('account', l.leadid)).toEqual([]);
    expect(from('opportunity', l.leadid)).toEqual([
      expect.objectContaining({ customerid: { id: existing.accountid, entity: 'account' } }),
    ]);
    expect(from('contact', l.leadid)).toEqual([
      expect.objectContaining({ parentcustomerid: { id: existing.accountid, entity: 'account' } }),
    ]);
  });

  it('a lead whose company has an account is linked to it, not given a second one of the same name', async () => {
    const company = emu.rows('account').find((a) => emu.rows('account').filter((o) => o.name === a.name).length === 1)!;
    const l = await newLead({ company: company.name });
    const accounts = emu.rows('account').length;
    const r = await qualify(l.leadid);
    expect(r.isError, textOf(r)).toBeFalsy();
    expect(textOf(r)).toContain(`for the existing account "${company.name}" (${company.accountid})`);
    expect(emu.rows('account')).toHaveLength(accounts);
    expect(lead(l.leadid).parentaccountid).toMatchObject({ id: company.accountid });
    expect(from('opportunity', l.leadid)).toEqual([
      expect.objectContaining({ customerid: { id: company.accountid, entity: 'account' } }),
    ]);
    expect(from('contact', l.leadid)).toEqual([
      expect.objectContaining({ parentcustomerid: { id: company.accountid, entity: 'account' } }),
    ]);
    // a policy that does not let the lead be linked: the opportunity alone is for the account
    const unlinked = await connectInMemory(emu, {
      env: {
        DYNAMICS_MCP_POLICY: builtInPolicyWith('no-lead-parent', (e) => ({
          ...e,
          lead: { ...e.lead!, write: e.lead!.write!.filter((c) => c !== 'parentaccountid') },
        })),
      },
    });
    try {
      const other = await newLead({ company: company.name });
      const q = await qualify(other.leadid, { statecode: 'Qualified' }, unlinked);
      expect(q.isError, textOf(q)).toBeFalsy();
      expect(emu.rows('account')).toHaveLength(accounts);
      expect(lead(other.leadid).parentaccountid ?? null).toBeNull();
      expect(from('opportunity', other.leadid)).toEqual([
        expect.objectContaining({ customerid: { id: company.accountid, entity: 'account' } }),
      ]);
    } finally {
      await unlinked.close();
    }
  });

  it("a lead whose email is a contact's uses that contact: no second contact is made", async () => {
    const person = emu
      .rows('contact')
      .find(
        (c) => c.emailaddress1 && emu.rows('contact').filter((o) => o.emailaddress1 === c.emailaddress1).length === 1,
      )!;
    const l = await newLead({ email: person.emailaddress1 });
    const contacts = emu.rows('contact').length;
    const r = await qualify(l.leadid);
    expect(r.isError, textOf(r)).toBeFalsy();
    expect(textOf(r)).toContain(`for the existing contact "${person.fullname}" (${person.contactid})`);
    expect(emu.rows('contact')).toHaveLength(contacts);
    // the built-in policy does not let the model set a lead's contact: the contact is used, not linked, and
    // the opportunity is for the account made for the company
    const [account] = from('account', l.leadid);
    expect(from('opportunity', l.leadid)).toEqual([
      expect.objectContaining({ customerid: { id: account!.accountid, entity: 'account' } }),
    ]);
  });

  it('a company name several accounts share is refused, listing them: nothing is made or changed', async () => {
    const twin = emu.rows('account')[4]!;
    // an organisation where a second account with the name was made past the duplicate rules
    await h.deps.client.create('account', { name: twin.name, address1_city: 'Reykjavik' }, { allowDuplicate: true });
    const l = await newLead({ company: twin.name });
    const since = emu.requests().length;
    const r = await qualify(l.leadid);
    expect(r.isError).toBe(true);
    expect(textOf(r)).toContain(`2 accounts are named "${twin.name}" (`);
    expect(textOf(r)).toContain('qualifying the lead would make one more.');
    expect(textOf(r)).toContain('{"parentaccountid": "<account id>"}');
    expect(qualifies(since)).toEqual([]);
    expect(lead(l.leadid).statecode).toBe(0);
  });

  it('a lead without a company gets no account: its opportunity is for the new contact', async () => {
    const l = await newLead({ company: undefined });
    const r = await qualify(l.leadid, { statuscode: 'Qualified' });
    expect(r.isError, textOf(r)).toBeFalsy();
    expect(from('account', l.leadid)).toEqual([]);
    const [contact] = from('contact', l.leadid);
    expect(from('opportunity', l.leadid)).toEqual([
      expect.objectContaining({ customerid: { id: contact!.contactid, entity: 'contact' } }),
    ]);
  });

  it('a qualified lead is answered as it is; a disqualified one is refused; nothing is sent for either', async () => {
    const l = await newLead();
    await qualify(l.leadid);
    const out = await newLead();
    const dropped = await h.call('update_record', {
      entity: 'lead',
      id: String(out.leadid),
      values: { statecode: 'Disqualified', statuscode: 'No Longer Interested' },
    });
    expect(dropped.isError, textOf(dropped)).toBeFalsy();
    expect(lead(out.leadid)).toMatchObject({ statecode: 2, statuscode: 6 });
    const since = emu.requests().length;
    const again = await qualify(l.leadid);
    expect(again.isError, textOf(again)).toBeFalsy();
    expect(again.structuredContent).toMatchObject({ updated: false, changed: { statecode: 'Qualified (1)' } });
    expect(textOf(again)).toMatch(new RegExp(`^The lead "${l.fullname}" was already qualified; nothing was changed`));
    const refused = await qualify(out.leadid);
    expect(textOf(refused)).toBe(
      `Error (bad_input): The lead "${out.fullname}" is disqualified (No Longer Interested (6)): a disqualified lead cannot be qualified.\nHow to fix: Reactivate it first (statecode "Open"), then qualify it.`,
    );
    expect(qualifies(since)).toEqual([]);
    expect(from('opportunity', l.leadid)).toHaveLength(1);
  });

  it('ten clients qualifying one lead at once: one account, contact and opportunity, and every call says qualified', async () => {
    const l = await newLead();
    const all = await Promise.all(Array.from({ length: 10 }, () => qualify(l.leadid)));
    for (const r of all) expect(r.isError, textOf(r)).toBeFalsy();
    expect(new Set(all.map((r) => r.structuredContent.changed.statecode))).toEqual(new Set(['Qualified (1)']));
    for (const table of ['account', 'contact', 'opportunity']) expect(from(table, l.leadid)).toHaveLength(1);
  });

  it('an answer lost after Dynamics qualified the lead: read from the lead, not sent again', async () => {
    const l = await newLead();
    emu.addFault({
      match: { method: 'POST', path: `/api/data/v9.2/leads(${l.leadid})/Microsoft.Dynamics.CRM.QualifyLead` },
      action: 'reset-after',
    });
    const since = emu.requests().length;
    const r = await qualify(l.leadid);
    expect(r.isError, textOf(r)).toBeFalsy();
    expect(qualifies(since)).toHaveLength(1);
    // what was made is named by the lead, though the answer listing it was lost
    const [opportunity] = from('opportunity', l.leadid);
    expect(r.structuredContent.changed.qualifyingopportunityid).toEqual({
      id: opportunity!.opportunityid,
      name: l.subject,
    });
    const last = await audit.last();
    expect(last.outcome).toMatch(/^qualified when read after the action failed \(.+\): its answer was lost/);
  });

  it('other columns beside the state, or a reason of another state, are refused before anything is read', async () => {
    const l = await newLead();
    const since = emu.requests().length;
    const renamed = await qualify(l.leadid, { statecode: 'Qualified', subject: 'Renamed' });
    expect(textOf(renamed)).toBe(
      'Error (bad_input): Qualifying a lead sets only statecode and statuscode, not subject.\nHow to fix: Update subject in a call of its own first (a qualified lead is read-only), then qualify it.',
    );
    const reason = await qualify(l.leadid, { statecode: 'Qualified', statuscode: 'Contacted' });
    expect(textOf(reason)).toBe(
      "Error (bad_input): 'Contacted' is not a status reason of a qualified lead: it is one of Open (statecode 0).\nHow to fix: Use one of: 3 (Qualified).",
    );
    expect(apiRequests(emu, since).filter((q) => q.url.includes('leads('))).toEqual([]);
    expect(lead(l.leadid).statecode).toBe(0);
  });

  it("a policy without lead's statecode refuses it before anything is sent; one without opportunities makes none", async () => {
    const noState = await connectInMemory(emu, {
      env: {
        DYNAMICS_MCP_POLICY: builtInPolicyWith('no-lead-state', (e) => ({
          ...e,
          lead: { ...e.lead!, write: e.lead!.write!.filter((c) => c !== 'statecode' && c !== 'statuscode') },
        })),
      },
    });
    const noDeals = await connectInMemory(emu, {
      env: { DYNAMICS_MCP_POLICY: builtInPolicyWith('no-deals', ({ opportunity: _o, ...e }) => e) },
    });
    try {
      const l = await newLead();
      const since = emu.requests().length;
      const r = await qualify(l.leadid, { statecode: 'Qualified' }, noState);
      expect(textOf(r)).toMatch(
        /^Error \(policy\): Column 'statecode' of 'lead' cannot be written under this server's policy\.\nHow to fix: statecode "Qualified" qualifies a lead/,
      );
      expect(qualifies(since)).toEqual([]);
      const without = await qualify(l.leadid, { statecode: 'Qualified' }, noDeals);
      expect(without.isError, textOf(without)).toBeFalsy();
      expect(from('opportunity', l.leadid)).toEqual([]);
      expect(from('account', l.leadid)).toHaveLength(1);
      expect(lead(l.leadid).statecode).toBe(1);
    } finally {
      await noState.close();
      await noDeals.close();
    }
  });

  it('asks the user once, saying what will be made, where writes to leads are confirmed; declined, nothing is sent', async () => {
    const policy = builtInPolicyWith('confirm-qualify', (e) => ({ ...e, lead: { ...e.lead, confirmWrites: true } }));
    const { h: c, asked, user } = await connectAsking(emu, { DYNAMICS_MCP_POLICY: policy });
    try {
      const l = await newLead();
      const since = emu.requests().length;
      const declined = await qualify(l.leadid, { statecode: 'Qualified' }, c);
      expect(declined.structuredContent).toMatchObject({ updated: false, changed: {} });
      expect(asked).toEqual([
        `Qualify lead "${l.fullname}", making an account "${l.companyname}", a contact, an opportunity "${l.subject}"?`,
      ]);
      expect(qualifies(since)).toEqual([]);
      user.choice = 'accept';
      const accepted = await qualify(l.leadid, { statecode: 'Qualified' }, c);
      expect(accepted.structuredContent).toMatchObject({ updated: true });
      expect(asked).toHaveLength(2);
    } finally {
      await c.close();
    }
  });
});
