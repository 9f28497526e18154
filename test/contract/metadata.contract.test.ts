import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type ContractTarget, targets } from './target.js';

describe.each(targets)('metadata contract: $name', ({ open, skip }) => {
  let t: ContractTarget;
  beforeAll(async () => {
    if (!skip) t = await open();
  });
  afterAll(async () => t?.close());

  it.skipIf(skip)('QMETA: EntityDefinitions(LogicalName=…) with $select always returns MetadataId', async () => {
    const r = await t.api(
      'GET',
      "EntityDefinitions(LogicalName='account')?$select=DisplayName,EntitySetName,PrimaryIdAttribute",
    );
    expect(r.status).toBe(200);
    const e = r.json();
    expect(e).toMatchObject({ EntitySetName: 'accounts', PrimaryIdAttribute: 'accountid' });
    expect(e.MetadataId).toMatch(/^[0-9a-f-]{36}$/);
    expect(e.DisplayName.UserLocalizedLabel).toMatchObject({ Label: 'Account', LanguageCode: 1033 });
  });

  it.skipIf(skip)('QMETA: a $filter on LogicalName returns the matching entity, unpaged', async () => {
    const r = await t.api(
      'GET',
      "EntityDefinitions?$filter=LogicalName eq 'incident'&$select=EntitySetName,PrimaryNameAttribute",
    );
    expect(r.json().value).toEqual([
      expect.objectContaining({ EntitySetName: 'incidents', PrimaryNameAttribute: 'title' }),
    ]);
  });

  it.skipIf(skip)(
    'COLDEF/ATTRMETA: attributes carry @odata.type, AttributeTypeName, RequiredLevel and lookup Targets',
    async () => {
      const r = await t.api(
        'GET',
        "EntityDefinitions(LogicalName='incident')/Attributes?$select=LogicalName,AttributeTypeName,RequiredLevel,Targets",
      );
      const attrs = r.json().value as Record<string, any>[];
      const customer = attrs.find((a) => a.LogicalName === 'customerid')!;
      expect(customer['@odata.type']).toBe('#Microsoft.Dynamics.CRM.LookupAttributeMetadata');
      expect(customer.AttributeTypeName).toEqual({ Value: 'CustomerType' });
      expect(customer.RequiredLevel.Value).toBe('SystemRequired');
      expect(customer.Targets).toEqual(['account', 'contact']);
      const title = attrs.find((a) => a.LogicalName === 'title')!;
      expect(title.RequiredLevel.Value).toBe('ApplicationRequired');
    },
  );

  it.skipIf(skip)('COLDEF: a text column names its format (FormatName) through the string cast', async () => {
    const r = await t.api(
      'GET',
      "EntityDefinitions(LogicalName='contact')/Attributes/Microsoft.Dynamics.CRM.StringAttributeMetadata?$select=LogicalName,MaxLength,FormatName",
    );
    expect(r.status).toBe(200);
    const formats = new Map((r.json().value as any[]).map((a) => [a.LogicalName, a.FormatName]));
    expect(formats.get('emailaddress1')).toEqual({ Value: 'Email' });
    expect(formats.get('lastname')).toEqual({ Value: 'Text' });
  });

  it.skipIf(skip)(
    "IntegerAttributeMetadata.Format: a call's duration is a Duration (minutes); a count of employees is None",
    async () => {
      const formatsOf = async (entity: string) => {
        const r = await t.api(
          'GET',
          `EntityDefinitions(LogicalName='${entity}')/Attributes/Microsoft.Dynamics.CRM.IntegerAttributeMetadata?$select=LogicalName,MinValue,MaxValue,Format`,
        );
        expect(r.status).toBe(200);
        return new Map((r.json().value as any[]).map((a) => [a.LogicalName, a.Format]));
      };
      expect((await formatsOf('phonecall')).get('actualdurationminutes')).toBe('Duration');
      expect((await formatsOf('account')).get('numberofemployees')).toBe('None');
    },
  );

  // the Incident entity reference: Follow Up By is UserLocal shown as a date, Is Escalated a yes/no defaulting to
  // No, Satisfaction five options from Very Dissatisfied (1) to Very Satisfied (5)
  it.skipIf(skip)(
    "DateTimeAttributeMetadata: a case's Follow Up By is UserLocal with Format DateOnly; Is Escalated and Satisfaction as documented",
    async () => {
      const dates = await t.api(
        'GET',
        "EntityDefinitions(LogicalName='incident')/Attributes/Microsoft.Dynamics.CRM.DateTimeAttributeMetadata?$select=LogicalName,Format,DateTimeBehavior",
      );
      expect(dates.status).toBe(200);
      const followUp = (dates.json().value as any[]).find((a) => a.LogicalName === 'followupby');
      expect(followUp).toMatchObject({ Format: 'DateOnly', DateTimeBehavior: { Value: 'UserLocal' } });
      const flags = await t.api(
        'GET',
        "EntityDefinitions(LogicalName='incident')/Attributes/Microsoft.Dynamics.CRM.BooleanAttributeMetadata?$select=LogicalName,DefaultValue",
      );
      expect((flags.json().value as any[]).find((a) => a.LogicalName === 'isescalated')).toMatchObject({
        DefaultValue: false,
      });
      const picklists = await t.api(
        'GET',
        "EntityDefinitions(LogicalName='incident')/Attributes/Microsoft.Dynamics.CRM.PicklistAttributeMetadata?$select=LogicalName&$expand=OptionSet($select=Options)",
      );
      const satisfaction = (picklists.json().value as any[]).find((a) => a.LogicalName === 'customersatisfactioncode');
      expect(satisfaction.OptionSet.Options.map((o: any) => [o.Value, o.Label.UserLocalizedLabel.Label])).toEqual([
        [1, 'Very Dissatisfied'],
        [2, 'Dissatisfied'],
        [3, 'Neutral'],
        [4, 'Satisfied'],
        [5, 'Very Satisfied'],
      ]);
    },
  );

  it.skipIf(skip)(
    "RMETA: a team's members are a many-to-many relationship (teammembership_association, intersect teammembership), expanded as a list",
    async () => {
      const r = await t.api(
        'GET',
        "EntityDefinitions(LogicalName='team')/ManyToManyRelationships?$select=SchemaName,Entity1LogicalName,Entity2LogicalName,Entity1NavigationPropertyName,Entity2NavigationPropertyName,IntersectEntityName",
      );
      expect(r.status).toBe(200);
      const members = (r.json().value as any[]).find((x) => x.SchemaName === 'teammembership_association')!;
      expect(members).toMatchObject({ IntersectEntityName: 'teammembership' });
      expect([members.Entity1LogicalName, members.Entity2LogicalName].sort()).toEqual(['systemuser', 'team']);
      const teamSide =
        members.Entity1LogicalName === 'team'
          ? members.Entity1NavigationPropertyName
          : members.Entity2NavigationPropertyName;
      expect(teamSide).toBe('teammembership_association');
      // not a one-to-many relationship of either table
      const o2m = await t.api('GET', "EntityDefinitions(LogicalName='team')/OneToManyRelationships?$select=SchemaName");
      expect((o2m.json().value as any[]).some((x) => x.SchemaName === 'teammembership_association')).toBe(false);
      const teams = await t.api(
        'GET',
        'teams?$select=name&$top=1&$expand=teammembership_association($select=fullname)',
      );
      expect(teams.status).toBe(200);
      expect(Array.isArray(teams.json().value[0].teammembership_association)).toBe(true);
    },
  );

  it.skipIf(skip)('teammembership: an intersect table of two ids (plain GUIDs, not lookups)', async () => {
    const r = await t.api('GET', 'teammemberships?$select=teamid,systemuserid&$top=1');
    expect(r.status).toBe(200);
    const [m] = r.json().value;
    expect(m.teamid).toMatch(/^[0-9a-f-]{36}$/);
    expect(m.systemuserid).toMatch(/^[0-9a-f-]{36}$/);
    // the emulator's own modelling: no audit stamps or owner on an intersect row (GUESS beyond the ids)
    if (t.emulator) {
      const a = await t.api('GET', "EntityDefinitions(LogicalName='teammembership')/Attributes?$select=LogicalName");
      expect((a.json().value as any[]).map((x) => x.LogicalName).sort()).toEqual([
        'systemuserid',
        'teamid',
        'teammembershipid',
        'versionnumber',
      ]);
    }
  });

  it.skipIf(skip)('QMETA: option sets through the picklist cast, with labels', async () => {
    const r = await t.api(
      'GET',
      "EntityDefinitions(LogicalName='incident')/Attributes(LogicalName='prioritycode')/Microsoft.Dynamics.CRM.PicklistAttributeMetadata?$select=LogicalName&$expand=OptionSet",
    );
    const options = r.json().OptionSet.Options.map((o: any) => [o.Value, o.Label.UserLocalizedLabel.Label]);
    expect(options).toEqual([
      [1, 'High'],
      [2, 'Normal'],
      [3, 'Low'],
    ]);
    const all = await t.api(
      'GET',
      "EntityDefinitions(LogicalName='incident')/Attributes/Microsoft.Dynamics.CRM.PicklistAttributeMetadata?$select=LogicalName&$expand=OptionSet",
    );
    expect(
      all.json().value.every((a: any) => a['@odata.type'] === '#Microsoft.Dynamics.CRM.PicklistAttributeMetadata'),
    ).toBe(true);
  });

  it.skipIf(skip)('QMETA: relationships name the navigation properties used in $expand and @odata.bind', async () => {
    const r = await t.api('GET', "EntityDefinitions(LogicalName='opportunity')/ManyToOneRelationships");
    const navs = r.json().value.map((x: any) => x.ReferencingEntityNavigationPropertyName);
    expect(navs).toEqual(expect.arrayContaining(['customerid_account', 'customerid_contact', 'parentaccountid']));
  });

  it.skipIf(skip)(
    "QMETA: an owner's relationship leads to the owner table; owninguser and owningteam to a user's and a team's",
    async () => {
      const r = await t.api(
        'GET',
        "EntityDefinitions(LogicalName='account')/ManyToOneRelationships?$select=ReferencingAttribute,ReferencedEntity,ReferencingEntityNavigationPropertyName",
      );
      const by = new Map(r.json().value.map((x: any) => [x.ReferencingAttribute, x]));
      expect(by.get('ownerid')).toMatchObject({
        ReferencedEntity: 'owner',
        ReferencingEntityNavigationPropertyName: 'ownerid',
      });
      expect(by.get('owninguser')).toMatchObject({
        ReferencedEntity: 'systemuser',
        ReferencingEntityNavigationPropertyName: 'owninguser',
      });
      expect(by.get('owningteam')).toMatchObject({
        ReferencedEntity: 'team',
        ReferencingEntityNavigationPropertyName: 'owningteam',
      });
      const owner = await t.api(
        'GET',
        "EntityDefinitions(LogicalName='account')/Attributes/Microsoft.Dynamics.CRM.LookupAttributeMetadata?$select=LogicalName,Targets&$filter=LogicalName eq 'ownerid'",
      );
      expect([...owner.json().value[0].Targets].sort()).toEqual(['systemuser', 'team']);
    },
  );

  it.skipIf(skip)('FUNC: WhoAmI() returns the caller, its business unit and organisation', async () => {
    const r = await t.api('GET', 'WhoAmI()');
    expect(r.json()).toEqual({
      '@odata.context': `${t.dynamicsUrl}/api/data/v9.2/$metadata#Microsoft.Dynamics.CRM.WhoAmIResponse`,
      BusinessUnitId: expect.stringMatching(/^[0-9a-f-]{36}$/),
      UserId: expect.stringMatching(/^[0-9a-f-]{36}$/),
      OrganizationId: expect.stringMatching(/^[0-9a-f-]{36}$/),
    });
    if (t.emulator) expect(r.json().UserId).toBe(t.emulator.applicationUserId);
  });

  it.skipIf(skip)(
    "InsertOptionValue (Web API action reference) adds an organisation's own option to a choice column: its metadata and its writes take it",
    async () => {
      // it changes an organisation's customisations: run on the emulator only, and undone by its reset
      if (!t.emulator) return;
      const label = (text: string) => ({ LocalizedLabels: [{ Label: text, LanguageCode: 1033 }] });
      const add = await t.api('POST', 'InsertOptionValue', {
        body: { EntityLogicalName: 'incident', AttributeLogicalName: 'prioritycode', Label: label('Critical') },
      });
      expect(add.status).toBe(200);
      // the default publisher's option value prefix, 10000, numbers the first one added
      expect(add.json()).toMatchObject({ NewOptionValue: 100_000_000 });
      const next = await t.api('POST', 'InsertOptionValue', {
        body: { EntityLogicalName: 'incident', AttributeLogicalName: 'prioritycode', Label: label('Major') },
      });
      expect(next.json().NewOptionValue).toBe(100_000_001);
      const taken = await t.api('POST', 'InsertOptionValue', {
        body: { EntityLogicalName: 'incident', AttributeLogicalName: 'prioritycode', Value: 1, Label: label('Top') },
      });
      expect(taken.status).toBe(400);
      expect(taken.json().error.message).toContain('already has an option with the value 1');
      const status = await t.api('POST', 'InsertOptionValue', {
        body: { EntityLogicalName: 'incident', AttributeLogicalName: 'statuscode', Label: label('Waiting') },
      });
      expect(status.status).toBe(400);
      expect(status.json().error.message).toContain('InsertStatusValue');

      const meta = await t.api(
        'GET',
        "EntityDefinitions(LogicalName='incident')/Attributes/Microsoft.Dynamics.CRM.PicklistAttributeMetadata?$select=LogicalName&$filter=LogicalName eq 'prioritycode'&$expand=OptionSet($select=Options)",
      );
      const labels = (meta.json().value[0].OptionSet.Options as any[]).map((o) => [
        o.Value,
        o.Label.UserLocalizedLabel.Label,
      ]);
      expect(labels).toEqual([
        [1, 'High'],
        [2, 'Normal'],
        [3, 'Low'],
        [100_000_000, 'Critical'],
        [100_000_001, 'Major'],
      ]);
      const cases = await t.api('GET', 'incidents?$select=incidentid&$top=1');
      const id = cases.json().value[0].incidentid;
      const patch = await t.api('PATCH', `incidents(${id})`, { body: { prioritycode: 100_000_000 } });
      expect(patch.status).toBe(204);
      const read = await t.api('GET', `incidents(${id})?$select=prioritycode`, {
        headers: { Prefer: 'odata.include-annotations="OData.Community.Display.V1.FormattedValue"' },
      });
      expect(read.json()['prioritycode@OData.Community.Display.V1.FormattedValue']).toBe('Critical');

      // a reset organisation is the one the emulator started as
      await t.emulator.reset();
      const after = await t.api(
        'GET',
        "EntityDefinitions(LogicalName='incident')/Attributes/Microsoft.Dynamics.CRM.PicklistAttributeMetadata?$select=LogicalName&$filter=LogicalName eq 'prioritycode'&$expand=OptionSet($select=Options)",
      );
      expect((after.json().value[0].OptionSet.Options as any[]).map((o) => o.Value)).toEqual([1, 2, 3]);
    },
  );

  it.skipIf(skip)('service document lists the entity sets', async () => {
    const r = await t.api('GET', '');
    expect(r.json().value).toEqual(expect.arrayContaining([{ name: 'accounts', kind: 'EntitySet', url: 'accounts' }]));
  });
});
