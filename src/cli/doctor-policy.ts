import type { Policy } from '../policy/policy.js';
import { closest } from '../policy/suggest.js';
import type { Check } from './doctor.js';
import { jsonReader, type TableDef, Unchecked, type WebApiGet } from './doctor-api.js';

type Rows<K extends string> = { value?: Record<K, string>[] };

/**
 * Every column and relationship the policy names, against the environment's metadata. A misspelt name
 * (emailadress1) is never matched by anything, so the column silently stays out of the model's reach; here
 * it is named, with the closest real names.
 */
export async function policyNameChecks(
  get: WebApiGet,
  policy: Policy,
  defs: readonly TableDef[],
  /** columns a feature uses when they exist (table → column → what their absence costs, and the way out) */
  optional: Record<string, Record<string, { cost: string; fix: string }>> = {},
): Promise<Check[]> {
  const answer = jsonReader(get);
  const checks: Check[] = [];
  try {
    for (const entity of policy.entities()) {
      if (!defs.some((d) => d.LogicalName === entity)) continue; // reported by the read check
      const rule = policy.rule(entity)!;
      const base = `/EntityDefinitions(LogicalName='${entity}')`;
      const [attributes, manyToOne, oneToMany, manyToMany] = await Promise.all([
        answer<Rows<'LogicalName'>>(`${base}/Attributes?$select=LogicalName`),
        answer<Rows<'ReferencingEntityNavigationPropertyName'>>(
          `${base}/ManyToOneRelationships?$select=ReferencingEntityNavigationPropertyName`,
        ),
        answer<Rows<'ReferencedEntityNavigationPropertyName'>>(
          `${base}/OneToManyRelationships?$select=ReferencedEntityNavigationPropertyName`,
        ),
        answer<
          Rows<
            | 'Entity1LogicalName'
            | 'Entity2LogicalName'
            | 'Entity1NavigationPropertyName'
            | 'Entity2NavigationPropertyName'
          >
        >(
          `${base}/ManyToManyRelationships?$select=Entity1LogicalName,Entity2LogicalName,Entity1NavigationPropertyName,Entity2NavigationPropertyName`,
        ),
      ]);
      // (a relationship may have no navigation property: its name is null)
      const names = (xs: unknown[]) => xs.filter((n): n is string => typeof n === 'string').map((n) => n.toLowerCase());
      const columns = names((attributes.value ?? []).map((a) => a.LogicalName));
      // a many-to-many relationship's list on this table: its side's navigation property (both, with itself)
      const manyToManyNavs = names(
        (manyToMany.value ?? []).flatMap((r) => [
          ...(r.Entity1LogicalName === entity ? [r.Entity1NavigationPropertyName] : []),
          ...(r.Entity2LogicalName === entity ? [r.Entity2NavigationPropertyName] : []),
        ]),
      );
      const navigations = [
        ...names([
          ...(manyToOne.value ?? []).map((r) => r.ReferencingEntityNavigationPropertyName),
          ...(oneToMany.value ?? []).map((r) => r.ReferencedEntityNavigationPropertyName),
        ]),
        ...manyToManyNavs,
      ];
      const unknown = (names: Iterable<string>, known: string[]) =>
        [...new Set(names)]
          .filter((n) => !known.includes(n))
          .map((n) => {
            const near = closest(n, known, 2);
            return near.length ? `${n} (did you mean ${near.join(' or ')}?)` : n;
          });
      // a many-to-many relationship in the write list lets its records be linked (update_record), not a column
      const named = [...rule.read, ...[...rule.write].filter((n) => !manyToManyNavs.includes(n)), ...rule.sensitive];
      // a missing optional column is a warning: the feature that uses it is off, the rest works
      const optionalHere = new Map(Object.entries(optional[entity] ?? {}).map(([c, v]) => [c.toLowerCase(), v]));
      for (const [column, { cost, fix }] of optionalHere)
        if (named.includes(column) && !columns.includes(column))
          checks.push({
            name: `Policy ${entity}`,
            ok: true,
            warning: true,
            detail: `${entity} has no column ${column}: ${cost}.`,
            fix,
          });
      const badColumns = unknown(
        named.filter((n) => !optionalHere.has(n)),
        columns,
      );
      const badRelations = unknown(rule.expand, navigations);
      if (!badColumns.length && !badRelations.length) continue;
      checks.push({
        name: `Policy ${entity}`,
        ok: false,
        detail: [
          badColumns.length ? `names columns ${entity} does not have: ${badColumns.join(', ')}` : '',
          badRelations.length ? `names relationships ${entity} does not have: ${badRelations.join(', ')}` : '',
        ]
          .filter(Boolean)
          .join('; '),
        fix: 'Correct or remove them in the policy file: a name that matches nothing keeps that column or relationship from the model.',
      });
    }
  } catch (err) {
    if (!(err instanceof Unchecked)) throw err;
    return [
      {
        name: 'Policy names',
        ok: true,
        warning: true,
        detail: `Not checked: ${err.message} when asked for table metadata.`,
        fix: 'Names in the policy that match nothing are left out of what the model can use.',
      },
    ];
  }
  return checks.length
    ? checks
    : [{ name: 'Policy names', ok: true, detail: 'Every column and relationship the policy names exists.' }];
}
