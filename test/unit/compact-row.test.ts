import { describe, expect, it } from 'vitest';
import type { ColumnModel, EntityModel } from '../../src/policy/model.js';
import { compactRow } from '../../src/tools/support/shape.js';

const F = '@OData.Community.Display.V1.FormattedValue';
const L = '@Microsoft.Dynamics.CRM.lookuplogicalname';

const col = (logicalName: string, type: string, extra: Partial<ColumnModel> = {}): [string, ColumnModel] => [
  logicalName,
  {
    logicalName,
    type,
    label: logicalName,
    requiredLevel: 'None',
    validForCreate: true,
    validForUpdate: true,
    validForRead: true,
    ...extra,
  },
];

const contact: EntityModel = {
  logicalName: 'contact',
  entitySetName: 'contacts',
  primaryIdAttribute: 'contactid',
  primaryNameAttribute: 'fullname',
  displayName: 'Contact',
  columns: new Map([col('contactid', 'Uniqueidentifier'), col('fullname', 'String'), col('secret', 'String')]),
  singleNavs: new Map(),
  collectionNavs: new Map(),
};

const account: EntityModel = {
  logicalName: 'account',
  entitySetName: 'accounts',
  primaryIdAttribute: 'accountid',
  primaryNameAttribute: 'name',
  displayName: 'Account',
  columns: new Map([
    col('accountid', 'Uniqueidentifier'),
    col('name', 'String'),
    col('revenue', 'Money'),
    col('statecode', 'State'),
    col('industrycode', 'Picklist'),
    col('donotphone', 'Boolean'),
    col('parentaccountid', 'Lookup', { targets: ['account'] }),
    col('ownerid', 'Owner', { targets: ['systemuser', 'team'] }),
    col('primarycontactid', 'Lookup', { targets: ['contact'] }),
    col('hidden', 'String'),
  ]),
  singleNavs: new Map([
    ['primarycontactid', { navigationProperty: 'primarycontactid', attribute: 'primarycontactid', target: 'contact' }],
  ]),
  collectionNavs: new Map([
    [
      'contact_customer_accounts',
      {
        navigationProperty: 'contact_customer_accounts',
        referencingEntity: 'contact',
        referencingAttribute: 'parentcustomerid',
      },
    ],
  ]),
};

const models = (l: string) => (l === 'contact' ? contact : l === 'account' ? account : undefined);
const readable = (e: string, c: string) => !(e === 'account' && c === 'hidden') && !(e === 'contact' && c === 'secret');

const row = (i: number) => ({
  '@odata.etag': `W/"${i}"`,
  accountid: `0000000${i}-0000-0000-0000-000000000000`,
  name: `Account ${i}`,
  revenue: 1000 * i,
  [`revenue${F}`]: `$${1000 * i}.00`,
  statecode: 0,
  [`statecode${F}`]: 'Active',
  industrycode: null,
  donotphone: false,
  [`donotphone${F}`]: 'Allow',
  hidden: 'not for the model',
  _parentaccountid_value: `1000000${i}-0000-0000-0000-000000000000`,
  [`_parentaccountid_value${F}`]: 'Parent',
  [`_parentaccountid_value${L}`]: 'account',
  _ownerid_value: `2000000${i}-0000-0000-0000-000000000000`,
  [`_ownerid_value${F}`]: 'Team A',
  [`_ownerid_value${L}`]: 'team',
  _transactioncurrencyid_value: `3000000${i}-0000-0000-0000-000000000000`,
  primarycontactid: { '@odata.etag': 'W/"1"', contactid: 'c1', fullname: 'Ann', secret: 'x' },
  contact_customer_accounts: [{ contactid: 'c2', fullname: 'Bob', secret: 'y', nothing: null }],
});

const expected = (i: number) => ({
  id: `0000000${i}-0000-0000-0000-000000000000`,
  name: `Account ${i}`,
  revenue: 1000 * i,
  statecode: 'Active (0)',
  donotphone: false,
  parentaccountid: { id: `1000000${i}-0000-0000-0000-000000000000`, name: 'Parent' },
  ownerid: { id: `2000000${i}-0000-0000-0000-000000000000`, name: 'Team A', entity: 'team' },
  transactioncurrencyid: { id: `3000000${i}-0000-0000-0000-000000000000` },
  primarycontactid: { id: 'c1', fullname: 'Ann' },
  contact_customer_accounts: [{ id: 'c2', fullname: 'Bob' }],
});

describe('compactRow: a Web API row as the model sees it', () => {
  it('keeps id first, labels choices, names lookups (with the table only when polymorphic), drops annotations, nulls and unreadable columns, and compacts expanded records', () => {
    const out = compactRow(account, row(1), models, readable);
    expect(out).toEqual(expected(1));
    expect(Object.keys(out)[0]).toBe('id');
  });

  it('gives the same answer for every row of a page (what it learns about one row is not carried into the next)', () => {
    for (let i = 1; i <= 5; i++) expect(compactRow(account, row(i), models, readable)).toEqual(expected(i));
    // a row with other columns and different value types for the same names after the first ones
    const odd = compactRow(
      account,
      { accountid: 'a', name: 7, statecode: 1, donotphone: null, hidden: 'h' },
      models,
      readable,
    );
    expect(odd).toEqual({ id: 'a', name: 7, statecode: 1 });
    const noLabel = compactRow(account, { accountid: 'b', statecode: 1, [`statecode${F}`]: 5 }, models, readable);
    expect(noLabel).toEqual({ id: 'b', statecode: 1 });
  });

  it('without a readable check or models, keeps every column and leaves expanded records as they came', () => {
    const out = compactRow(account, {
      accountid: 'a',
      hidden: 'h',
      primarycontactid: { contactid: 'c1', secret: 's' },
    });
    expect(out).toEqual({ id: 'a', hidden: 'h', primarycontactid: { contactid: 'c1', secret: 's' } });
  });

  it('under a policy, drops objects and lists that are neither a known relationship nor a readable column', () => {
    // e.g. a proxy's wrapper or an expansion the request never asked for: nothing unchecked reaches the model
    const out = compactRow(
      account,
      { accountid: 'a', name: 'A', value: { secret: 's' }, stray: [{ secret: 's' }], hidden: { x: 1 } },
      models,
      readable,
    );
    expect(out).toEqual({ id: 'a', name: 'A' });
  });

  it('names the value of a yes/no column whose values have names ("Outgoing (true)"); Yes/No columns stay true/false', () => {
    const yesNo = [
      { value: 0, label: 'No' },
      { value: 1, label: 'Yes' },
    ];
    const call: EntityModel = {
      ...contact,
      logicalName: 'phonecall',
      primaryIdAttribute: 'activityid',
      columns: new Map([
        col('activityid', 'Uniqueidentifier'),
        col('directioncode', 'Boolean', {
          options: [
            { value: 0, label: 'Incoming' },
            { value: 1, label: 'Outgoing' },
          ],
        }),
        col('isbilled', 'Boolean', { options: yesNo }),
      ]),
    };
    const r = (direction: boolean) => ({
      activityid: 'p',
      directioncode: direction,
      [`directioncode${F}`]: direction ? 'Outgoing' : 'Incoming',
      isbilled: direction,
      [`isbilled${F}`]: direction ? 'Yes' : 'No',
    });
    expect(compactRow(call, r(true))).toEqual({ id: 'p', directioncode: 'Outgoing (true)', isbilled: true });
    expect(compactRow(call, r(false))).toEqual({ id: 'p', directioncode: 'Incoming (false)', isbilled: false });
  });

  it('applies the readable check the caller passes on this call, not one remembered from an earlier call', () => {
    expect(compactRow(account, row(1), models, () => true)).toHaveProperty('hidden', 'not for the model');
    expect(compactRow(account, row(1), models, readable)).not.toHaveProperty('hidden');
  });
});
