import { describe, expect, it } from 'vitest';
import {
  applyToOData,
  collectReferences,
  expandToOData,
  filterToOData,
  ODataSyntaxError,
  orderByToOData,
  parseApply,
  parseExpand,
  parseFilter,
  parseOrderBy,
  parseSelect,
} from '../../src/odata/index.js';

// The F/I cases come from shared/reference/odata-parsers.md §3 (the inputs every candidate parser was measured on).
const roundTrip = (text: string) => filterToOData(parseFilter(text));

describe('filter parsing (Dataverse dialect, FILTER + FUNC rules)', () => {
  it.each([
    ["name eq 'Contoso' and revenue gt 1000000", "name eq 'Contoso' and revenue gt 1000000"],
    [
      "contains(name,'soft') or startswith(emailaddress1,'j')",
      "contains(name,'soft') or startswith(emailaddress1,'j')",
    ],
    [
      '_parentaccountid_value eq 7C2A3C94-8b4a-ee11-be6f-000d3a5a3b2c',
      '_parentaccountid_value eq 7c2a3c94-8b4a-ee11-be6f-000d3a5a3b2c',
    ],
    ['statecode eq 0 and estimatedclosedate le 2026-12-31', 'statecode eq 0 and estimatedclosedate le 2026-12-31'],
    ['createdon ge 2026-01-01T00:00:00Z', 'createdon ge 2026-01-01T00:00:00Z'],
    ["name eq 'O''Brien'", "name eq 'O''Brien'"],
    [
      "Microsoft.Dynamics.CRM.LastXDays(PropertyName='createdon',PropertyValue=30)",
      "Microsoft.Dynamics.CRM.LastXDays(PropertyName='createdon',PropertyValue=30)",
    ],
    [
      "Microsoft.Dynamics.CRM.In(PropertyName='statuscode',PropertyValues=['1','2'])",
      'Microsoft.Dynamics.CRM.In(PropertyName=\'statuscode\',PropertyValues=["1","2"])',
    ],
    [
      'Microsoft.Dynamics.CRM.In(PropertyName=\'lastname\',PropertyValues=["O\'Brian","Smith"])',
      'Microsoft.Dynamics.CRM.In(PropertyName=\'lastname\',PropertyValues=["O\'Brian","Smith"])',
    ],
    ["contact_customer_accounts/any(c:c/fullname eq 'Jane')", "contact_customer_accounts/any(c:c/fullname eq 'Jane')"],
    ['not (prioritycode eq 1)', 'not (prioritycode eq 1)'],
    ['emailaddress1 ne null', 'emailaddress1 ne null'],
    [
      "primarycontactid/fullname eq 'Jane' and revenue gt 5.5",
      "primarycontactid/fullname eq 'Jane' and revenue gt 5.5",
    ],
    ['Account_Tasks/any()', 'Account_Tasks/any()'],
  ])('parses and re-serialises %s', (input, expected) => {
    expect(roundTrip(input)).toBe(expected);
  });

  it('gives and precedence over or (F12)', () => {
    const e = parseFilter('a eq 1 or b eq 2 and c eq 3');
    expect(e.kind).toBe('or');
    expect(filterToOData(e)).toBe('a eq 1 or (b eq 2 and c eq 3)');
  });

  it.each([
    ["name eq 'x') or (1 eq 1", 11],
    ["name eq 'O'Brien'", 16],
    ["name eq 'Contoso", 8],
    ["((name eq 'x')", 14],
    ["name eq 'x'&$select=*", 11],
    ['name%20eq%20%27x%27', 4],
    ["name eq 'x' foo bar", 12],
    ["tolower(name) eq 'x'", 0],
    ['name eq "x"', 8],
    ['revenue add 1 gt 2', 8],
    ['', 0],
  ])('rejects %j with a position', (input, pos) => {
    let err: unknown;
    try {
      parseFilter(input);
    } catch (e) {
      err = e;
    }
    expect(err).toBeInstanceOf(ODataSyntaxError);
    expect((err as ODataSyntaxError).position).toBe(pos);
    expect((err as ODataSyntaxError).message).toMatch(/position \d+/);
  });

  it('words an unterminated literal as Dataverse does (FILTER: "There is an unterminated literal at position …")', () => {
    expect(() => parseFilter("lastname eq 'O")).toThrow(
      "There is an unterminated literal at position 12 in 'lastname eq 'O'.",
    );
  });

  it("OData 4.01's in and SQL's like: refused as Dataverse refuses them, unless asked for, when they are what they mean", () => {
    expect(() => parseFilter("name in ('A','B')")).toThrow(
      /the 'in' operator is not supported by Dataverse at position 5/,
    );
    const listIn = (text: string) => filterToOData(parseFilter(text, { habits: true }));
    expect(listIn("name in ('A', 'O''Brien')")).toBe("name eq 'A' or name eq 'O''Brien'");
    expect(listIn("statecode eq 0 and parentaccountid/name in ('A','B')")).toBe(
      "statecode eq 0 and (parentaccountid/name eq 'A' or parentaccountid/name eq 'B')",
    );
    expect(listIn('not (industrycode in (1))')).toBe('not (industrycode eq 1)');
    expect(() => listIn("name in ('A', tolower(name))")).toThrow(
      /a value \(text in single quotes, a number, a date or an id\) expected in the list after 'in', found 'tolower' at position 14/,
    );
    // a word alone is a name, as after eq: the policy check reads it as a choice's label or says to quote it
    expect(listIn('prioritycode in (High, Normal)')).toBe('prioritycode eq High or prioritycode eq Normal');
    expect(() => listIn('name in ()')).toThrow(ODataSyntaxError);
    // SQL's like, its wildcards at the ends: the text function it means; inside, refused at like
    expect(listIn("name like '%energy%' and city LIKE 'Sea*'")).toBe(
      "contains(name,'energy') and startswith(city,'Sea')",
    );
    expect(listIn("name like '%Ltd'")).toBe("endswith(name,'Ltd')");
    expect(listIn("name like 'Contoso'")).toBe("name eq 'Contoso'");
    expect(() => listIn("name like 'Con%so'")).toThrow(/at position 5/);
    expect(() => parseFilter("name like '%x%'")).toThrow(ODataSyntaxError);
  });

  it("a glob's * in a text function's value is the function it means, or LIKE's % inside (Dataverse compares * as itself)", () => {
    const habit = (text: string) => filterToOData(parseFilter(text, { habits: true }));
    expect(habit("startswith(name,'Con*')")).toBe("startswith(name,'Con')");
    expect(habit("contains(name,'*energy*')")).toBe("contains(name,'energy')");
    expect(habit("endswith(name,'*Ltd')")).toBe("endswith(name,'Ltd')");
    expect(habit("startswith(name,'*Con')")).toBe("contains(name,'Con')");
    expect(habit("not contains(name,'Con*so')")).toBe("not contains(name,'Con%so')");
    // Dataverse's own wildcards, and the text Dataverse itself is given, are left as they are
    expect(habit("contains(name,'%energy%')")).toBe("contains(name,'%energy%')");
    expect(filterToOData(parseFilter("startswith(name,'Con*')"))).toBe("startswith(name,'Con*')");
  });

  it("a number with OData's type suffix is what Dataverse reads (1M: the decimal 1), refused in a model's text", () => {
    expect(filterToOData(parseFilter('revenue gt 1M'))).toBe('revenue gt 1');
    expect(() => parseFilter('revenue gt 1M', { habits: true })).toThrow(
      "Syntax error: '1M' is the number 1 in OData ('M' marks its type) at position 11 in 'revenue gt 1M'.",
    );
    expect(() => parseFilter('revenue gt 2.5d', { habits: true })).toThrow(/'2.5d' is the number 2.5 in OData/);
    expect(filterToOData(parseFilter('revenue gt 1000000', { habits: true }))).toBe('revenue gt 1000000');
  });

  it("OData 2's substringof, typed literals and functions compared with true are OData 4's in a model's text only", () => {
    const habit = (text: string) => filterToOData(parseFilter(text, { habits: true }));
    expect(habit("substringof('Contoso', name) and substringof('x',parentaccountid/name) eq false")).toBe(
      "contains(name,'Contoso') and not contains(parentaccountid/name,'x')",
    );
    expect(habit("startswith(name,'Con') eq true or endswith(name,'Ltd') ne true")).toBe(
      "startswith(name,'Con') or not endswith(name,'Ltd')",
    );
    expect(
      habit(
        "createdon ge datetime'2026-01-01T00:00:00Z' and modifiedon lt DateTimeOffset'2026-02-01' and accountid ne guid'37E21BA8-92F6-EE11-8F6E-000D3A5B1C2D'",
      ),
    ).toBe(
      'createdon ge 2026-01-01T00:00:00Z and modifiedon lt 2026-02-01 and accountid ne 37e21ba8-92f6-ee11-8f6e-000d3a5b1c2d',
    );
    // a date and time without its zone is refused inside the literal, where the hint finds it
    expect(() => habit("createdon ge datetime'2026-01-01T09:00:00'")).toThrow(
      /a date and time without its time zone at position 22/,
    );
    // a name before text, with a space, is no typed literal; neither is a function's own comparison of a column
    expect(() => habit("createdon ge datetime '2026-01-01T00:00:00Z'")).toThrow(ODataSyntaxError);
    expect(habit("name eq 'guid'")).toBe("name eq 'guid'");
    // Dataverse's own text is read as Dataverse reads it
    expect(() => parseFilter("substringof('x', name)")).toThrow(/unknown function 'substringof'/);
    expect(() => parseFilter("createdon ge datetime'2026-01-01T00:00:00Z'")).toThrow(ODataSyntaxError);
    expect(filterToOData(parseFilter("startswith(name,'C') eq true"))).toBe("startswith(name,'C') eq true");
  });

  it("SQL's and C's operators, capitals and double quotes are OData's in a model's text, and refused as Dataverse refuses them in its own", () => {
    const habit = (text: string) => filterToOData(parseFilter(text, { habits: true }));
    expect(habit("a = 1 AND b <> 'x' OR NOT c >= 2")).toBe("(a eq 1 and b ne 'x') or not (c ge 2)");
    expect(habit('a == 1 && (b != 2 || !(c < 3)) and d <= 4 and e > 5')).toBe(
      'a eq 1 and (b ne 2 or not (c lt 3)) and d le 4 and e gt 5',
    );
    expect(habit('a IS NULL and b is NOT null and c = NULL and d = TRUE')).toBe(
      'a eq null and b ne null and c eq null and d eq true',
    );
    expect(habit('name eq "O\'Brien"')).toBe("name eq 'O''Brien'");
    // a query function's parameters keep their = (and the JSON list form its values take)
    expect(habit('Microsoft.Dynamics.CRM.In(PropertyName=\'x\',PropertyValues=["a","b"]) AND y = 1')).toBe(
      'Microsoft.Dynamics.CRM.In(PropertyName=\'x\',PropertyValues=["a","b"]) and y eq 1',
    );
    expect(() => habit("name IS 'x'")).toThrow(/'is' compares with null alone .* at position 8/);
    // SQL's between (both ends in), NOT before in, like and between, and the clause or option written before it
    expect(habit('revenue BETWEEN 1000000 AND 5000000 and statecode = 0')).toBe(
      'revenue ge 1000000 and revenue le 5000000 and statecode eq 0',
    );
    expect(habit("WHERE name NOT LIKE '%a%' AND city NOT IN ('X', 'Y') or r not between 1 and 2")).toBe(
      "(not contains(name,'a') and not (city eq 'X' or city eq 'Y')) or not (r ge 1 and r le 2)",
    );
    expect(habit('$filter=statecode eq 0')).toBe('statecode eq 0');
    expect(habit('filter = statecode eq 0')).toBe('statecode eq 0');
    expect(() => habit('revenue between 1 or 2')).toThrow(/'and' expected between the two ends of 'between'/);
    for (const text of [
      'a > 1',
      "a = 'x'",
      'a eq 1 AND b eq 2',
      'a eq 1 && b eq 2',
      'a eq "x"',
      'a IS NULL',
      'where a eq 1',
      'a between 1 and 2',
    ])
      expect(() => parseFilter(text), text).toThrow(ODataSyntaxError);
  });

  it('parses a flat 5,000-term expression without recursion per term', () => {
    const text = Array.from({ length: 5000 }, (_, i) => `f${i} eq ${i}`).join(' or ');
    const e = parseFilter(text, { maxLength: 100_000 });
    expect(e.kind === 'or' && e.operands.length).toBe(5000);
  });

  it('turns excessive nesting into a clean error instead of a stack overflow', () => {
    const deep = `${'('.repeat(5000)}a eq 1${')'.repeat(5000)}`;
    expect(() => parseFilter(deep)).toThrow(/nested too deeply/);
    expect(() => parseFilter(`${'not ('.repeat(5000)}a eq 1`)).toThrow(/nested too deeply/);
    expect(() => parseFilter(`${'('.repeat(5000)}a eq 1`)).toThrow(ODataSyntaxError);
  });

  it('keeps a 1 MB string literal linear', () => {
    const e = parseFilter(`name eq '${'x'.repeat(1_000_000)}'`, { maxLength: 2_000_000 });
    expect(e.kind).toBe('compare');
  });
});

describe('query options', () => {
  it('parses $select, $orderby, nested $expand and $apply (O1–O5)', () => {
    expect(parseSelect('name,accountnumber,revenue,_parentaccountid_value')).toEqual([
      'name',
      'accountnumber',
      'revenue',
      '_parentaccountid_value',
    ]);
    expect(orderByToOData(parseOrderBy('createdon desc,name'))).toBe('createdon desc,name asc');
    expect(expandToOData(parseExpand('parentaccountid($select=name)'))).toBe('parentaccountid($select=name)');
    expect(
      expandToOData(
        parseExpand(
          'contact_customer_accounts($select=fullname;$filter=statecode eq 0;$orderby=fullname;$top=5),primarycontactid/$ref',
        ),
      ),
    ).toBe(
      'contact_customer_accounts($select=fullname;$filter=statecode eq 0;$orderby=fullname asc;$top=5),primarycontactid/$ref',
    );
    const apply =
      'filter(statecode eq 0)/groupby((stepname),aggregate(estimatedvalue with sum as total,$count as count))';
    expect(applyToOData(parseApply(apply))).toBe(apply);
    expect(applyToOData(parseApply('groupby((primarycontactid/fullname))'))).toBe(
      'groupby((primarycontactid/fullname))',
    );
  });

  it('rejects unsupported expand options such as $skip (JOIN)', () => {
    expect(() => parseExpand('Account_Tasks($skip=1)')).toThrow(/not supported inside \$expand/);
  });
});

describe('reference collection', () => {
  it('sees paths inside function arguments, query functions and lambdas', () => {
    const refs = collectReferences(
      parseFilter(
        "contains(secret,'x') or Microsoft.Dynamics.CRM.In(PropertyName='hidden',PropertyValues=['1']) or Account_Tasks/any(t:t/regardingobjectid/name eq 'a' and t/Task_Notes/all(n:n/body eq 'b'))",
      ),
    );
    const paths = refs.paths.map((p) => p.segments.join('/')).sort();
    expect(paths).toEqual(
      [
        'secret',
        'hidden',
        'Account_Tasks',
        'Account_Tasks/regardingobjectid/name',
        'Account_Tasks/Task_Notes',
        'Account_Tasks/Task_Notes/body',
      ].sort(),
    );
    expect(refs.functions.map((f) => f.name)).toEqual(['In']);
    const deepest = refs.paths.find((p) => p.segments.join('/') === 'Account_Tasks/Task_Notes/body')!;
    expect(deepest.lambdaSteps).toEqual([0, 1]);
  });
});
