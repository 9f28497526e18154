import type { Expr, FunctionCall, Literal } from '../../odata/ast.js';
import type { Row, Value } from '../store/store.js';
import type { QueryEnv } from './env.js';
import { badRequest, notSupported } from './errors.js';
import type { Operand } from './filter.js';
import { type Getter, normalise } from './filter-values.js';

const DAY = 86_400_000;
const startOfDay = (ms: number) => Math.floor(ms / DAY) * DAY;

/**
 * Dataverse's query functions (Microsoft.Dynamics.CRM.In, Between, LastXDays, ThisWeek, EqualUserId …) on a
 * resolved column: what each holds of a row, with Dataverse's refusals for a missing or wrong parameter.
 * `param` reads a parameter, parameter aliases (@p1) resolved.
 */
export function queryFunctionGetter(e: FunctionCall, op: Operand, param: (name: string) => Expr | undefined): Getter {
  const family = op.family;
  const coerce = (l: Literal): Value => {
    if (family === 'number') return Number(l.value);
    if (family === 'boolean') return l.value === true || l.value === 'true' || l.value === '1';
    return l.value as Value;
  };
  const single = (): Literal => {
    const v = param('PropertyValue');
    if (v?.kind !== 'literal') throw badRequest(`Microsoft.Dynamics.CRM.${e.name} needs PropertyValue.`);
    return v;
  };
  const list = (): Literal[] => {
    const v = param('PropertyValues');
    if (v?.kind !== 'list') throw badRequest(`Microsoft.Dynamics.CRM.${e.name} needs PropertyValues=[…].`);
    return v.items;
  };
  const get = op.get;
  const value = (row: Row, env: QueryEnv, vars: Row[]) => normalise(get(row, env, vars), family);
  const dateRange = (
    from: (now: number, env: QueryEnv) => number,
    to: (now: number, env: QueryEnv) => number,
  ): Getter => {
    if (family !== 'date') throw badRequest(`Microsoft.Dynamics.CRM.${e.name} needs a date column.`);
    return (row, env, vars) => {
      const v = value(row, env, vars);
      const now = env.now.getTime();
      return typeof v === 'number' && v >= from(now, env) && v < to(now, env);
    };
  };
  const count = () => {
    const n = Number(single().value);
    if (!Number.isInteger(n) || n < 0) throw badRequest(`PropertyValue of ${e.name} must be a whole number.`);
    return n;
  };
  const month = (now: number, add: number) => {
    const d = new Date(now);
    return Date.UTC(d.getUTCFullYear(), d.getUTCMonth() + add, 1);
  };
  const year = (now: number, add: number) => Date.UTC(new Date(now).getUTCFullYear() + add, 0, 1);
  // weeks start on the organisation's first day of the week (organization.weekstartdaycode), as Dataverse's
  // own week functions count them (its SQL week functions read OrganizationBase.WeekStartDayCode)
  const week = (now: number, add: number, env: QueryEnv) => {
    const sod = startOfDay(now);
    return sod - ((new Date(sod).getUTCDay() - env.weekStart + 7) % 7) * DAY + add * 7 * DAY;
  };
  switch (e.name) {
    case 'ContainValues':
    case 'DoesNotContainValues': {
      // "Choices columns": whether the chosen options include any of the values (FetchXML's contain-values, which
      // finds a record with either of two values), or none of them
      if (op.attr?.type !== 'MultiSelectPicklist')
        throw badRequest(`Microsoft.Dynamics.CRM.${e.name} needs a choices column.`);
      const wanted = new Set(list().map((l) => String(l.value).trim()));
      const contains = e.name === 'ContainValues';
      return (row, env, vars) => {
        const v = get(row, env, vars);
        // GUESS: a record with no option chosen contains none of them (undocumented)
        if (v === null || v === undefined) return !contains;
        return (
          String(v)
            .split(',')
            .some((n) => wanted.has(n)) === contains
        );
      };
    }
    case 'In':
    case 'NotIn': {
      const set = new Set(list().map((l) => normalise(coerce(l), family)));
      const negate = e.name === 'NotIn';
      return (row, env, vars) => {
        const v = value(row, env, vars);
        if (v === null) return false;
        return set.has(v) !== negate;
      };
    }
    case 'Between':
    case 'NotBetween': {
      const items = list();
      if (items.length !== 2) throw badRequest(`${e.name} needs exactly two PropertyValues.`);
      const lo = normalise(coerce(items[0]!), family)!;
      const hi = normalise(coerce(items[1]!), family)!;
      const negate = e.name === 'NotBetween';
      return (row, env, vars) => {
        const v = value(row, env, vars);
        if (v === null) return false;
        return (v >= lo && v <= hi) !== negate;
      };
    }
    case 'On':
    case 'OnOrAfter':
    case 'OnOrBefore': {
      const day = startOfDay(normalise(single().value as Value, 'date') as number);
      if (e.name === 'On')
        return dateRange(
          () => day,
          () => day + DAY,
        );
      if (e.name === 'OnOrAfter')
        return dateRange(
          () => day,
          () => Number.POSITIVE_INFINITY,
        );
      return dateRange(
        () => Number.NEGATIVE_INFINITY,
        () => day + DAY,
      );
    }
    case 'Today':
      return dateRange(startOfDay, (n) => startOfDay(n) + DAY);
    case 'Yesterday':
      return dateRange((n) => startOfDay(n) - DAY, startOfDay);
    case 'Tomorrow':
      return dateRange(
        (n) => startOfDay(n) + DAY,
        (n) => startOfDay(n) + 2 * DAY,
      );
    case 'Last7Days':
      return dateRange(
        (n) => startOfDay(n) - 7 * DAY,
        (n) => n,
      );
    case 'Next7Days':
      return dateRange(
        (n) => n,
        (n) => startOfDay(n) + 8 * DAY,
      );
    case 'LastXDays': {
      const x = count();
      return dateRange(
        (n) => startOfDay(n) - x * DAY,
        (n) => n,
      );
    }
    case 'NextXDays': {
      const x = count();
      return dateRange(
        (n) => n,
        (n) => startOfDay(n) + (x + 1) * DAY,
      );
    }
    case 'LastXHours': {
      const x = count();
      return dateRange(
        (n) => n - x * 3_600_000,
        (n) => n,
      );
    }
    case 'NextXHours': {
      const x = count();
      return dateRange(
        (n) => n,
        (n) => n + x * 3_600_000,
      );
    }
    case 'OlderThanXDays': {
      const x = count();
      return dateRange(
        () => Number.NEGATIVE_INFINITY,
        (n) => startOfDay(n) - x * DAY,
      );
    }
    case 'ThisWeek':
      return dateRange(
        (n, env) => week(n, 0, env),
        (n, env) => week(n, 1, env),
      );
    case 'LastWeek':
      return dateRange(
        (n, env) => week(n, -1, env),
        (n, env) => week(n, 0, env),
      );
    case 'NextWeek':
      return dateRange(
        (n, env) => week(n, 1, env),
        (n, env) => week(n, 2, env),
      );
    case 'ThisMonth':
      return dateRange(
        (n) => month(n, 0),
        (n) => month(n, 1),
      );
    case 'LastMonth':
      return dateRange(
        (n) => month(n, -1),
        (n) => month(n, 0),
      );
    case 'NextMonth':
      return dateRange(
        (n) => month(n, 1),
        (n) => month(n, 2),
      );
    case 'ThisYear':
      return dateRange(
        (n) => year(n, 0),
        (n) => year(n, 1),
      );
    case 'LastYear':
      return dateRange(
        (n) => year(n, -1),
        (n) => year(n, 0),
      );
    case 'NextYear':
      return dateRange(
        (n) => year(n, 1),
        (n) => year(n, 2),
      );
    case 'EqualUserId':
    case 'NotEqualUserId': {
      const negate = e.name === 'NotEqualUserId';
      return (row, env, vars) => {
        const v = value(row, env, vars);
        if (v === null) return negate;
        // the column's value is normalised to its GUID key, as the caller's id is here
        return (v === normalise(env.callerId, 'guid')) !== negate;
      };
    }
    case 'EqualUserTeams':
    case 'EqualUserOrUserTeams': {
      // the teams the caller is a member of (teammembership); with "OrUser", the caller too
      const orUser = e.name === 'EqualUserOrUserTeams';
      return (row, env, vars) => {
        const v = value(row, env, vars);
        if (v === null) return false;
        if (orUser && v === normalise(env.callerId, 'guid')) return true;
        return env.callerTeams().has(v as string);
      };
    }
    default:
      throw notSupported(`The query function Microsoft.Dynamics.CRM.${e.name}`);
  }
}
