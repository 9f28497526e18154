import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type ContractTarget, targets } from './target.js';

const ANNOTATIONS = { prefer: 'odata.include-annotations="*"' };

describe.each(targets)('query contract: $name', ({ open, skip }) => {
  let t: ContractTarget;
  beforeAll(async () => {
    if (!skip) t = await open();
  });
  afterAll(async () => t?.close());

  it.skipIf(skip)('SELECT: the primary key is always returned and null columns come back as null', async () => {
    const r = await t.api('GET', 'accounts?$select=name,description&$top=2');
    expect(r.status).toBe(200);
    const body = r.json();
    expect(body['@odata.context']).toBe(`${t.dynamicsUrl}/api/data/v9.2/$metadata#accounts(name,description)`);
    expect(body.value).toHaveLength(2);
    for (const row of body.value) {
      expect(Object.keys(row)).toEqual(['@odata.etag', 'name', 'description', 'accountid']);
      expect(row['@odata.etag']).toMatch(/^W\/"\d+"$/);
    }
  });

  it.skipIf(skip)(
    'SELECT: a money column also returns _transactioncurrencyid_value; formatted values precede raw ones',
    async () => {
      const r = await t.api('GET', 'accounts?$select=name,revenue,_primarycontactid_value&$top=1', {
        headers: ANNOTATIONS,
      });
      const row = r.json().value[0];
      const keys = Object.keys(row);
      expect(keys).toContain('_transactioncurrencyid_value');
      expect(keys.indexOf('revenue@OData.Community.Display.V1.FormattedValue')).toBe(keys.indexOf('revenue') - 1);
      expect(row['revenue@OData.Community.Display.V1.FormattedValue']).toMatch(/^\$[\d,]+\.\d{2}$/);
      // SELECT / BASICSAMPLE emission order: FormattedValue, associatednavigationproperty, lookuplogicalname, value
      const base = '_primarycontactid_value';
      expect(
        keys.slice(keys.indexOf(`${base}@OData.Community.Display.V1.FormattedValue`), keys.indexOf(base) + 1),
      ).toEqual([
        `${base}@OData.Community.Display.V1.FormattedValue`,
        `${base}@Microsoft.Dynamics.CRM.associatednavigationproperty`,
        `${base}@Microsoft.Dynamics.CRM.lookuplogicalname`,
        base,
      ]);
      expect(row[`${base}@Microsoft.Dynamics.CRM.lookuplogicalname`]).toBe('contact');
    },
  );

  it.skipIf(skip)(
    'SELECT: a navigation property or unknown column cannot be selected (observed error wording)',
    async () => {
      for (const col of ['primarycontactid', 'nosuchcolumn']) {
        const r = await t.api('GET', `accounts?$select=name,${col}`);
        expect(r.status).toBe(400);
        expect(r.json().error.message).toBe(
          `Could not find a property named '${col}' on type 'Microsoft.Dynamics.CRM.account'.`,
        );
      }
    },
  );

  it.skipIf(skip)(
    'ORG: one organization row holds the fiscal year settings the quarters are counted by (org-calendar.ts)',
    async () => {
      const r = await t.api('GET', 'organizations?$select=fiscalcalendarstart,fiscalyeardisplaycode,weekstartdaycode');
      expect(r.status).toBe(200);
      const rows = r.json().value;
      expect(rows).toHaveLength(1);
      // a date and time (midnight where it was entered, in UTC) and 1 or 2 (named by the start or end year)
      expect(rows[0].fiscalcalendarstart).toMatch(/^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}Z$/);
      expect([1, 2]).toContain(rows[0].fiscalyeardisplaycode);
      // the first day of the week, 0 (Sunday) to 6, which the week functions count from
      expect([0, 1, 2, 3, 4, 5, 6]).toContain(rows[0].weekstartdaycode);
      expect(Object.keys(rows[0])).toEqual(
        expect.arrayContaining(['@odata.etag', 'fiscalcalendarstart', 'fiscalyeardisplaycode', 'organizationid']),
      );
    },
  );

  it.skipIf(skip)('FILTER: string functions are case-insensitive and honour LIKE wildcards', async () => {
    const all = (await t.api('GET', 'accounts?$select=name')).json().value as { name: string }[];
    const sample = all[0]!.name;
    const word = sample.split(' ')[0]!;
    const r = await t.api(
      'GET',
      `accounts?$select=name&$filter=${encodeURIComponent(`contains(name,'${word.toUpperCase()}')`)}`,
    );
    const names = r.json().value.map((x: { name: string }) => x.name);
    expect(names).toEqual(all.filter((a) => a.name.toLowerCase().includes(word.toLowerCase())).map((a) => a.name));
    const wild = await t.api(
      'GET',
      `accounts?$select=name&$filter=${encodeURIComponent(`startswith(name,'${word.slice(0, 1)}_${word.slice(2, 3)}')`)}`,
    );
    expect(wild.json().value.map((x: { name: string }) => x.name)).toContain(sample);
  });

  it.skipIf(skip)('FILTER: equality on text is case-insensitive and quotes are escaped by doubling', async () => {
    const r = await t.api('GET', `contacts?$select=lastname&$filter=${encodeURIComponent("lastname eq 'o''brien'")}`);
    expect(r.status).toBe(200);
    for (const row of r.json().value) expect(row.lastname).toBe("O'Brien");
  });

  it.skipIf(skip)('FILTER: lookup paths filter on the related row (primarycontactid/fullname)', async () => {
    const acc = (
      await t.api('GET', 'accounts?$select=name,_primarycontactid_value&$top=1', { headers: ANNOTATIONS })
    ).json().value[0];
    const contactName = acc['_primarycontactid_value@OData.Community.Display.V1.FormattedValue'];
    const filter = encodeURIComponent(`primarycontactid/fullname eq '${contactName.replace(/'/g, "''")}'`);
    const r = await t.api('GET', `accounts?$select=name&$filter=${filter}`);
    expect(r.json().value.map((x: { accountid: string }) => x.accountid)).toContain(acc.accountid);
  });

  it.skipIf(skip)(
    "FILTER: an owner's name is read through owninguser or owningteam; ownerid leads to principal, which has none",
    async () => {
      // principal EntityType (Web API reference): "Group of undeleted system users and undeleted teams", whose
      // only property is ownerid; a record's owning user and team are the single-valued owninguser / owningteam
      const refused = await t.api(
        'GET',
        `incidents?$select=title&$filter=${encodeURIComponent("ownerid/fullname eq 'x'")}`,
      );
      expect(refused.status).toBe(400);
      expect(refused.json().error.message).toBe(
        "Could not find a property named 'fullname' on type 'Microsoft.Dynamics.CRM.principal'.",
      );
      const row = (
        await t.api('GET', 'incidents?$select=title,_ownerid_value,_owninguser_value&$top=1', { headers: ANNOTATIONS })
      ).json().value[0];
      const owner = row['_ownerid_value@OData.Community.Display.V1.FormattedValue'];
      const through =
        row['_ownerid_value@Microsoft.Dynamics.CRM.lookuplogicalname'] === 'team'
          ? 'owningteam/name'
          : 'owninguser/fullname';
      const filter = encodeURIComponent(`${through} eq '${owner.replace(/'/g, "''")}'`);
      const r = await t.api('GET', `incidents?$select=title&$filter=${filter}&$top=5000`);
      expect(r.status).toBe(200);
      expect(r.json().value.map((x: { incidentid: string }) => x.incidentid)).toContain(row.incidentid);
    },
  );

  it.skipIf(skip)('FILTER: any() and all() over a collection-valued navigation property', async () => {
    const any = await t.api(
      'GET',
      `accounts?$select=name&$filter=${encodeURIComponent('opportunity_customer_accounts/any(o:o/statecode eq 1)')}`,
    );
    expect(any.status).toBe(200);
    const ids: string[] = any.json().value.map((x: { accountid: string }) => x.accountid);
    expect(ids.length).toBeGreaterThan(0);
    const won = (await t.api('GET', `opportunities?$select=_customerid_value&$filter=statecode eq 1`)).json().value;
    const expected = new Set(won.map((o: { _customerid_value: string }) => o._customerid_value));
    expect(new Set(ids)).toEqual(expected);
    const none = await t.api(
      'GET',
      `accounts?$select=name&$filter=${encodeURIComponent('opportunity_customer_accounts/all(o:o/estimatedvalue lt 0)')}`,
    );
    // all() is true for accounts without opportunities and false for the rest
    const withOpps = new Set(
      (await t.api('GET', 'opportunities?$select=_customerid_value'))
        .json()
        .value.map((o: { _customerid_value: string }) => o._customerid_value),
    );
    for (const row of none.json().value) expect(withOpps.has(row.accountid)).toBe(false);
  });

  it.skipIf(skip)('FUNC: Microsoft.Dynamics.CRM.In and Between, and their refusal under not', async () => {
    const inR = await t.api(
      'GET',
      `incidents?$select=prioritycode&$filter=${encodeURIComponent("Microsoft.Dynamics.CRM.In(PropertyName='prioritycode',PropertyValues=['1','3'])")}`,
    );
    expect(inR.status).toBe(200);
    const values = new Set(inR.json().value.map((x: { prioritycode: number }) => x.prioritycode));
    expect([...values].every((v) => v === 1 || v === 3)).toBe(true);
    const between = await t.api(
      'GET',
      `opportunities?$select=closeprobability&$filter=${encodeURIComponent('Microsoft.Dynamics.CRM.Between(PropertyName=\'closeprobability\',PropertyValues=["20","50"])')}`,
    );
    for (const row of between.json().value) expect(row.closeprobability).toBeGreaterThanOrEqual(20);
    const neg = await t.api(
      'GET',
      `incidents?$filter=${encodeURIComponent("not Microsoft.Dynamics.CRM.In(PropertyName='prioritycode',PropertyValues=['1'])")}`,
    );
    expect(neg.status).toBe(400);
    expect(neg.json().error.message).toBe(
      'Not operator along with the Custom Named Condition operators is not allowed',
    );
  });

  it.skipIf(skip)(
    'FUNC: a lookup is named by its logical name in PropertyName (parentaccountid, ownerid), not as _<name>_value',
    async () => {
      const opps = (
        await t.api('GET', 'opportunities?$select=_parentaccountid_value&$filter=_parentaccountid_value ne null&$top=2')
      ).json().value as { _parentaccountid_value: string }[];
      const ids = [...new Set(opps.map((o) => o._parentaccountid_value))];
      const inR = await t.api(
        'GET',
        `opportunities?$select=_parentaccountid_value&$filter=${encodeURIComponent(`Microsoft.Dynamics.CRM.In(PropertyName='parentaccountid',PropertyValues=[${ids.map((i) => `"${i}"`).join(',')}])`)}`,
      );
      expect(inR.status).toBe(200);
      const got = inR.json().value as { _parentaccountid_value: string }[];
      expect(got.length).toBeGreaterThanOrEqual(opps.length);
      for (const o of got) expect(ids).toContain(o._parentaccountid_value);
      // the records the caller owns (the application user owns none of the sample data)
      const mine = await t.api(
        'GET',
        `opportunities?$select=_ownerid_value&$filter=${encodeURIComponent("Microsoft.Dynamics.CRM.EqualUserId(PropertyName='ownerid')")}`,
      );
      expect(mine.status).toBe(200);
      const me = (await t.api('GET', 'WhoAmI()')).json().UserId;
      for (const o of mine.json().value as { _ownerid_value: string }[]) expect(o._ownerid_value).toBe(me);
    },
  );

  it.skipIf(skip)('FILTER: malformed text is a 400 that names the position', async () => {
    const r = await t.api('GET', `accounts?$filter=${encodeURIComponent("name eq 'Contoso")}`);
    expect(r.status).toBe(400);
    expect(r.json().error.message).toContain('There is an unterminated literal at position 8');
    const unknown = await t.api('GET', `accounts?$filter=${encodeURIComponent("secret eq 'x'")}`);
    expect(unknown.json().error.message).toBe(
      "Could not find a property named 'secret' on type 'Microsoft.Dynamics.CRM.account'.",
    );
  });

  it.skipIf(skip)('ORDER: a lookup sorts by the related primary name, a choice by its value', async () => {
    const r = await t.api('GET', 'accounts?$select=name,_primarycontactid_value&$orderby=_primarycontactid_value asc', {
      headers: ANNOTATIONS,
    });
    const names = r
      .json()
      .value.map((x: Record<string, string>) =>
        x['_primarycontactid_value@OData.Community.Display.V1.FormattedValue']!.toLowerCase(),
      );
    expect(names).toEqual([...names].sort());
    const byStage = (await t.api('GET', 'opportunities?$select=salesstage&$orderby=salesstage desc'))
      .json()
      .value.map((x: { salesstage: number }) => x.salesstage);
    expect(byStage).toEqual([...byStage].sort((a: number, b: number) => b - a));
  });

  it.skipIf(skip)('PAGE: odata.maxpagesize pages with @odata.nextLink until every row was seen once', async () => {
    const all = (await t.api('GET', 'contacts?$select=contactid'))
      .json()
      .value.map((x: { contactid: string }) => x.contactid);
    const seen: string[] = [];
    let url: string | undefined = 'contacts?$select=fullname&$orderby=fullname desc&$count=true';
    let pages = 0;
    while (url) {
      const r = await t.api('GET', url, { headers: { prefer: 'odata.maxpagesize=7' } });
      expect(r.status).toBe(200);
      expect(r.headers['preference-applied']).toBe('odata.maxpagesize=7');
      const body = r.json();
      if (pages === 0) expect(body['@odata.count']).toBe(all.length);
      else expect(body['@odata.count']).toBeUndefined(); // COUNT: $count=true is dropped from the nextLink
      seen.push(...body.value.map((x: { contactid: string }) => x.contactid));
      expect(body.value.length).toBeLessThanOrEqual(7);
      url = body['@odata.nextLink'];
      if (url) expect(Object.keys(body).at(-1)).toBe('@odata.nextLink');
      pages++;
    }
    expect(pages).toBe(Math.ceil(all.length / 7));
    expect(new Set(seen).size).toBe(seen.length);
    expect(new Set(seen)).toEqual(new Set(all));
  });

  it.skipIf(skip)(
    'PAGE: ordered by the primary key, descending pages are the default (key) order reversed, with $count and $top',
    async () => {
      const all = (await t.api('GET', 'accounts?$select=accountid'))
        .json()
        .value.map((x: { accountid: string }) => x.accountid);
      const seen: string[] = [];
      let url: string | undefined = 'accounts?$select=accountid&$orderby=accountid desc&$count=true';
      while (url) {
        const body = (await t.api('GET', url, { headers: { prefer: 'odata.maxpagesize=7' } })).json();
        if (!seen.length) expect(body['@odata.count']).toBe(all.length);
        seen.push(...body.value.map((x: { accountid: string }) => x.accountid));
        url = body['@odata.nextLink'];
      }
      expect(seen).toEqual([...all].reverse());
      const last = (await t.api('GET', 'accounts?$select=accountid&$orderby=accountid desc&$top=1')).json().value;
      expect(last.map((x: { accountid: string }) => x.accountid)).toEqual([all.at(-1)]);
      const first = (await t.api('GET', 'accounts?$select=accountid&$orderby=accountid asc&$top=2')).json().value;
      expect(first.map((x: { accountid: string }) => x.accountid)).toEqual(all.slice(0, 2));
    },
  );

  it.skipIf(skip)(
    'FILTER: key ranges (ge/lt on the primary key) in uniqueidentifier order partition a table, paged or not',
    async () => {
      // the default order is the key order (as below); ids the platform assigns are sequential in it, and
      // compared as text they are not (the first group varies most), so text order would not give these slices
      const all = (await t.api('GET', 'accounts?$select=accountid'))
        .json()
        .value.map((x: { accountid: string }) => x.accountid);
      const third = Math.floor(all.length / 3);
      const bounds = [all[third]!, all[2 * third]!];
      const ranges = [
        `accountid lt ${bounds[0]}`,
        `accountid ge ${bounds[0]} and accountid lt ${bounds[1]}`,
        `accountid ge ${bounds[1]}`,
      ];
      const parts: string[][] = [];
      for (const range of ranges) {
        const seen: string[] = [];
        let url: string | undefined = `accounts?$select=accountid&$filter=${encodeURIComponent(range)}`;
        while (url) {
          const body = (await t.api('GET', url, { headers: { prefer: 'odata.maxpagesize=7' } })).json();
          seen.push(...body.value.map((x: { accountid: string }) => x.accountid));
          url = body['@odata.nextLink'];
        }
        parts.push(seen);
      }
      expect(parts[0]).toEqual(all.slice(0, third));
      expect(parts[1]).toEqual(all.slice(third, 2 * third));
      expect(parts[2]).toEqual(all.slice(2 * third));
    },
  );

  it.skipIf(skip)(
    'FILTER: primary-key bounds are exact at their ends (gt/ge/le/lt/eq, any case), and other conditions beside them still apply',
    async () => {
      const rows = (await t.api('GET', 'accounts?$select=accountid,statecode')).json().value as {
        accountid: string;
        statecode: number;
      }[];
      const ids = rows.map((r) => r.accountid);
      const [a, b] = [ids[3]!, ids[9]!]; // default order is the key order: a sorts before b
      const get = async (filter: string) =>
        (await t.api('GET', `accounts?$select=accountid,statecode&$filter=${encodeURIComponent(filter)}`))
          .json()
          .value.map((x: { accountid: string }) => x.accountid);
      expect(await get(`accountid gt ${a} and accountid le ${b}`)).toEqual(ids.slice(4, 10));
      expect(await get(`accountid ge ${a} and accountid lt ${b}`)).toEqual(ids.slice(3, 9));
      expect(await get(`${b} ge accountid and ${a} lt accountid`)).toEqual(ids.slice(4, 10));
      expect(await get(`accountid eq ${b.toUpperCase()}`)).toEqual([b]);
      expect(await get(`accountid ge ${a} and accountid le ${a}`)).toEqual([a]);
      const inactive = rows
        .slice(3, 10)
        .filter((r) => r.statecode === 1)
        .map((r) => r.accountid);
      expect(await get(`accountid ge ${a} and accountid le ${b} and statecode eq 1`)).toEqual(inactive);
      expect(await get(`accountid ge ${a} and accountid le ${b} and accountid ne ${b}`)).toEqual(ids.slice(3, 9));
    },
  );

  it.skipIf(skip)('PAGE: paging a column with many equal values still returns every row once, in order', async () => {
    // salesstage has four values over every opportunity: page boundaries fall inside runs of equal
    // values, where only the paging cookie's primary key tells the service where to go on
    const all = (await t.api('GET', 'opportunities?$select=opportunityid'))
      .json()
      .value.map((x: { opportunityid: string }) => x.opportunityid);
    const seen: { id: string; stage: number }[] = [];
    let url: string | undefined = 'opportunities?$select=salesstage&$orderby=salesstage desc';
    while (url) {
      const body = (await t.api('GET', url, { headers: { prefer: 'odata.maxpagesize=9' } })).json();
      seen.push(
        ...body.value.map((x: { opportunityid: string; salesstage: number }) => ({
          id: x.opportunityid,
          stage: x.salesstage,
        })),
      );
      url = body['@odata.nextLink'];
    }
    expect(seen.map((x) => x.id).sort()).toEqual([...all].sort());
    const stages = seen.map((x) => x.stage);
    expect(stages).toEqual([...stages].sort((a, b) => b - a));
  });

  it.skipIf(skip)(
    'PAGE: the nextLink is the original URL plus a $skiptoken paging cookie in the documented format',
    async () => {
      const r = await t.api('GET', 'accounts?$select=name', { headers: { prefer: 'odata.maxpagesize=2' } });
      const link: string = r.json()['@odata.nextLink'];
      expect(
        link.startsWith(
          `${t.dynamicsUrl}/api/data/v9.2/accounts?$select=name&$skiptoken=%3Ccookie%20pagenumber=%222%22%20pagingcookie=%22%253ccookie%2520page%253d%25221%2522%253e%253caccountid%2520last%253d%2522%257b`,
        ),
      ).toBe(true);
      const token = decodeURIComponent(link.split('$skiptoken=')[1]!);
      expect(token).toMatch(
        /^<cookie pagenumber="2" pagingcookie="%3ccookie%20page%3d%221%22%3e%3caccountid%20last%3d%22%7b[0-9A-F-]{36}%7d%22%20first%3d%22%7b[0-9A-F-]{36}%7d%22%20%2f%3e%3c%2fcookie%3e" istracking="False" \/>$/,
      );
    },
  );

  it.skipIf(skip)('PAGE: $top is ignored when odata.maxpagesize is sent', async () => {
    const r = await t.api('GET', 'accounts?$select=name&$top=1', { headers: { prefer: 'odata.maxpagesize=3' } });
    expect(r.json().value).toHaveLength(3);
    const top = await t.api('GET', 'accounts?$select=name&$top=2');
    expect(top.json().value).toHaveLength(2);
    expect(top.json()['@odata.nextLink']).toBeUndefined();
  });

  it.skipIf(skip)('COUNT: /$count is plain text; totalrecordcount annotations', async () => {
    const r = await t.api('GET', 'accounts/$count');
    expect(r.headers['content-type']).toMatch(/^text\/plain/);
    const n = Number(r.text);
    const c = await t.api('GET', 'accounts?$select=accountid&$count=true', {
      headers: {
        prefer:
          'odata.include-annotations="Microsoft.Dynamics.CRM.totalrecordcount,Microsoft.Dynamics.CRM.totalrecordcountlimitexceeded"',
      },
    });
    const body = c.json();
    expect(Object.keys(body).slice(0, 4)).toEqual([
      '@odata.context',
      '@odata.count',
      '@Microsoft.Dynamics.CRM.totalrecordcount',
      '@Microsoft.Dynamics.CRM.totalrecordcountlimitexceeded',
    ]);
    expect(body['@odata.count']).toBe(n);
    expect(body['@Microsoft.Dynamics.CRM.totalrecordcountlimitexceeded']).toBe(false);
  });

  it.skipIf(skip)('COMPOSE: $skip and $search are not supported', async () => {
    for (const q of ['$skip=1', '$search=x']) {
      const r = await t.api('GET', `accounts?${q}`);
      expect(r.status).toBe(400);
    }
  });

  it.skipIf(skip)(
    'JOIN: single-valued expand with nested $select; /$ref; and collection expand with its nextLink',
    async () => {
      const r = await t.api(
        'GET',
        'accounts?$select=name&$expand=primarycontactid($select=fullname),contact_customer_accounts($select=fullname)&$top=1',
      );
      const body = r.json();
      expect(body['@odata.context']).toBe(
        `${t.dynamicsUrl}/api/data/v9.2/$metadata#accounts(name,primarycontactid(fullname),contact_customer_accounts(fullname))`,
      );
      const row = body.value[0];
      expect(Object.keys(row.primarycontactid)).toEqual(['fullname', 'contactid']);
      expect(row.contact_customer_accounts.length).toBeGreaterThan(0);
      expect(row['contact_customer_accounts@odata.nextLink']).toBe(
        `${t.dynamicsUrl}/api/data/v9.2/accounts(${row.accountid})/contact_customer_accounts?$select=fullname`,
      );
      const ref = (await t.api('GET', 'accounts?$select=name&$expand=primarycontactid/$ref&$top=1')).json().value[0];
      expect(ref.primarycontactid['@odata.id']).toBe(
        `${t.dynamicsUrl}/api/data/v9.2/contacts(${ref._primarycontactid_value})`,
      );
      const refMany = await t.api('GET', 'accounts?$expand=contact_customer_accounts/$ref');
      expect(refMany.json().error).toEqual({
        code: '0x80060888',
        message: 'Expand with $ref is only supported on lookup type navigation property.',
      });
      const nestedTop = await t.api(
        'GET',
        'accounts?$expand=contact_customer_accounts($top=1;$expand=parentcustomerid_account($select=name))',
      );
      expect(nestedTop.json().error.code).toBe('0x80060888');
    },
  );

  it.skipIf(skip)(
    'AGG: aggregate, groupby with aggregates, lookup-path grouping and null groups left out',
    async () => {
      const sum = (
        await t.api(
          'GET',
          `opportunities?$apply=${encodeURIComponent('aggregate(estimatedvalue with sum as total,$count as n)')}`,
        )
      ).json();
      expect(sum['@odata.context']).toBe(`${t.dynamicsUrl}/api/data/v9.2/$metadata#opportunities`);
      const rows = (await t.api('GET', 'opportunities?$select=estimatedvalue')).json().value;
      expect(sum.value[0].total).toBe(
        rows.reduce((s: number, r: { estimatedvalue: number }) => s + r.estimatedvalue, 0),
      );
      expect(sum.value[0].n).toBe(rows.length);
      const grouped = (
        await t.api('GET', `opportunities?$apply=${encodeURIComponent('groupby((statecode),aggregate($count as n))')}`)
      ).json().value;
      expect(grouped.reduce((s: number, g: { n: number }) => s + g.n, 0)).toBe(rows.length);
      const byContact = (
        await t.api('GET', `accounts?$apply=${encodeURIComponent('groupby((primarycontactid/fullname))')}`)
      ).json().value;
      expect(Object.keys(byContact[0])).toEqual(['contact_fullname']);
      const byParent = (
        await t.api('GET', `accounts?$apply=${encodeURIComponent('groupby((_parentaccountid_value))')}`)
      ).json().value;
      expect(byParent.some((g: object) => Object.keys(g).length === 0)).toBe(true);
    },
  );

  // aggregate_records sends a where through a related list as filter(<collection>/any(...)) before the
  // aggregation: the AGG page shows filter() before groupby, not with a lambda inside. Run against a real
  // organisation (test/contract/target.ts), this says whether Dataverse takes it
  it.skipIf(skip)('AGG: filter() with any() over a collection-valued navigation property, then aggregate', async () => {
    const r = await t.api(
      'GET',
      `accounts?$apply=${encodeURIComponent('filter(opportunity_customer_accounts/any(o:o/statecode eq 1))/aggregate($count as n)')}`,
    );
    expect(r.status).toBe(200);
    const rows = await t.api(
      'GET',
      `accounts?$select=name&$filter=${encodeURIComponent('opportunity_customer_accounts/any(o:o/statecode eq 1)')}`,
    );
    expect(r.json().value[0].n).toBe(rows.json().value.length);
    expect(rows.json().value.length).toBeGreaterThan(0);
  });

  // aggregate_records groups a date by period with one aggregation per period, bounded by the query functions
  // a bare date in where becomes (FUNC: OnOrAfter, OnOrBefore) inside filter(): the AGG page shows filter()
  // with comparisons only. Run against a real organisation, this says whether Dataverse takes them there
  it.skipIf(skip)('AGG: filter() with the day functions OnOrAfter and OnOrBefore, then aggregate', async () => {
    const days =
      "Microsoft.Dynamics.CRM.OnOrAfter(PropertyName='createdon',PropertyValue=2000-01-01) and Microsoft.Dynamics.CRM.OnOrBefore(PropertyName='createdon',PropertyValue=2100-12-31)";
    const r = await t.api('GET', `accounts?$apply=${encodeURIComponent(`filter(${days})/aggregate($count as n)`)}`);
    expect(r.status).toBe(200);
    // every account was created in that span: the bounded count is the whole table's
    const all = await t.api('GET', `accounts?$apply=${encodeURIComponent('aggregate($count as n)')}`);
    expect(r.json().value[0].n).toBe(all.json().value[0].n);
    expect(r.json().value[0].n).toBeGreaterThan(0);
    const none = await t.api(
      'GET',
      `accounts?$apply=${encodeURIComponent(`filter(${days.replace('2000-01-01', '2100-01-01')})/aggregate($count as n)`)}`,
    );
    expect(none.json().value[0]?.n ?? 0).toBe(0);
  });

  it.skipIf(skip)('AGG: sum, average, min and max per group agree with the rows they come from', async () => {
    const rows: { statecode: number; estimatedvalue: number | null }[] = (
      await t.api('GET', 'opportunities?$select=statecode,estimatedvalue')
    ).json().value;
    const apply =
      'groupby((statecode),aggregate(estimatedvalue with sum as total,estimatedvalue with average as mean,' +
      'estimatedvalue with min as low,estimatedvalue with max as high,$count as n))';
    const groups: { statecode: number; total: number; mean: number; low: number; high: number; n: number }[] = (
      await t.api('GET', `opportunities?$apply=${encodeURIComponent(apply)}`)
    ).json().value;
    expect(groups.map((g) => g.statecode).sort()).toEqual([...new Set(rows.map((r) => r.statecode))].sort());
    for (const g of groups) {
      const values = rows
        .filter((r) => r.statecode === g.statecode)
        .map((r) => r.estimatedvalue)
        .filter((v): v is number => v !== null);
      const total = values.reduce((a, b) => a + b, 0);
      expect(g.total).toBeCloseTo(total, 2);
      expect(g.mean).toBeCloseTo(total / values.length, 2);
      expect(g.low).toBe(Math.min(...values));
      expect(g.high).toBe(Math.max(...values));
      expect(g.n).toBe(rows.filter((r) => r.statecode === g.statecode).length);
    }
    // a sum over text is refused before anything is read
    const text = await t.api('GET', `opportunities?$apply=${encodeURIComponent('aggregate(name with sum as x)')}`);
    expect(text.status).toBe(400);
  });

  it.skipIf(skip)(
    'GET by id returns the record with an ETag header equal to @odata.etag; a missing id is a 404',
    async () => {
      const first = (await t.api('GET', 'accounts?$select=name&$top=1')).json().value[0];
      const r = await t.api('GET', `accounts(${first.accountid})?$select=name`);
      expect(r.status).toBe(200);
      expect(r.json()['@odata.context']).toBe(`${t.dynamicsUrl}/api/data/v9.2/$metadata#accounts(name)/$entity`);
      expect(r.headers.etag).toBe(r.json()['@odata.etag']);
      const missing = await t.api('GET', 'accounts(00000000-0000-0000-0000-000000000001)');
      expect(missing.status).toBe(404);
      expect(missing.json().error.message).toBe(
        'account With Id = 00000000-0000-0000-0000-000000000001 Does Not Exist',
      );
    },
  );
});
