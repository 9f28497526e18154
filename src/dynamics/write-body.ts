import { aTable, badInput, DynamicsMcpError } from '../errors.js';
import { type EntityModel, isChoices, isLookupType, writtenColumn } from '../policy/model.js';
import type { Policy } from '../policy/policy.js';
import { closestColumns } from '../policy/suggest.js';
import type { Row } from './client.js';
import { guidValue, toWriteValue } from './coerce.js';
import type { MetadataCache } from './metadata.js';
import { isPartyList, partiesOf, partyRecords } from './party-lists.js';

/** Required levels Dynamics' forms insist on (the Web API itself enforces SystemRequired alone). */
export const REQUIRED: ReadonlySet<string> = new Set(['ApplicationRequired', 'SystemRequired']);

/** Column values for a create or update, by name (or label); a lookup as {entity, id}, or a bare id when it has one target. */
export type WriteValues = Record<string, unknown>;

/** Column values → a Web API body: names checked, values typed, lookups as @odata.bind. */
export async function writeBody(
  model: EntityModel,
  values: WriteValues,
  mode: 'create' | 'update',
  { policy, metadata }: { policy: Policy; metadata: MetadataCache },
): Promise<{ body: Row; columns: string[] }> {
  const body: Row = {};
  const columns: string[] = [];
  // the columns the policy keeps from the model are refused as such, all of them, before any value is read:
  // "needs a record id" for an owner the model may not set would send it to find one
  const named = Object.entries(values).flatMap(([key, given]) => {
    const { name } = fromBind(model, key, given);
    const col = writtenColumn(model, name);
    return col ? [col.logicalName] : [];
  });
  policy.assertWritable(
    model.logicalName,
    named,
    `${mode === 'create' ? 'Creating' : 'Updating'} a ${model.logicalName}`,
  );
  /** One value into the body (a lookup as its bind, people as activity parties), or why it cannot be. */
  async function writeOne(key: string, given: unknown): Promise<void> {
    const { name, value } = fromBind(model, key, given);
    const col = writtenColumn(model, name);
    if (!col) {
      const writable = [...model.columns.values()].filter((c) => policy.canWrite(model.logicalName, c.logicalName));
      const likely = closestColumns(name, writable);
      throw new DynamicsMcpError(
        'unknown_column',
        `'${name}' is not a column of ${model.logicalName}.`,
        likely.length
          ? `Did you mean: ${likely.join(', ')}? describe_entity('${model.logicalName}') lists every column you may write.`
          : `Writable columns: ${writable.map((c) => c.logicalName).join(', ')}. See describe_entity('${model.logicalName}').`,
        { suggestions: likely, unknownColumn: { entity: model.logicalName, column: name, write: true } },
      );
    }
    columns.push(col.logicalName);
    if (isPartyList(col)) {
      if (mode === 'update')
        throw badInput(
          `${model.logicalName}.${col.logicalName} (who was on it) is set when the ${model.logicalName} is logged; this server does not change it afterwards.`,
          `Leave ${col.logicalName} out; change it in Dynamics if it is wrong.`,
        );
      const records = await partyRecords(model, col, value, metadata);
      const nav = partiesOf(model)!;
      body[nav] = [...((body[nav] as Row[] | undefined) ?? []), ...records];
      return;
    }
    // a choices column takes several of its options (coerce.ts choicesValues); any other column one value
    if (Array.isArray(value) && !isChoices(col))
      throw badInput(
        `${model.logicalName}.${col.logicalName} takes one value, not a list.`,
        "Pass one value; lists are for people on an activity (a call's from or to) and for a choices column's options.",
      );
    if (mode === 'create' ? !col.validForCreate : !col.validForUpdate)
      throw badInput(
        `${model.logicalName}.${col.logicalName} cannot be set on ${mode}.`,
        // a new record starts in its first state: a closed or inactive one is made, then changed
        mode === 'create' && (col.type === 'State' || col.type === 'Status')
          ? 'Leave it out: a new record starts in its first state; change the state with update_record after it is made.'
          : 'Leave it out; Dynamics sets it.',
      );
    // a column Dynamics' forms require cannot be emptied by an update, as a new record cannot be made without
    // it (create_record asks for it): a case without its title or customer is no case a user can work
    if (
      mode === 'update' &&
      REQUIRED.has(col.requiredLevel) &&
      (value === null || (typeof value === 'string' && !value.trim()))
    )
      throw badInput(
        `${model.logicalName}.${col.logicalName} (${col.label}) is required in Dynamics: it cannot be emptied.`,
        'Give it a new value, or leave it out of "values".',
      );
    if (isLookupType(col.type)) {
      if (value === null) {
        body[col.logicalName] = null;
        return;
      }
      const ref = value as { entity?: string; id?: string } | string;
      const only = col.targets?.length === 1 ? col.targets[0] : undefined;
      const target = typeof ref === 'string' || !ref.entity ? only : ref.entity;
      if (!target)
        throw badInput(
          `${model.logicalName}.${col.logicalName} can point at ${col.targets?.join(' or ')}: say which.`,
          `Pass { "entity": "${col.targets?.[0]}", "id": "<guid>" }.`,
        );
      const targetName = (await metadata.resolveEntityName(target)) ?? target;
      if (col.targets && !col.targets.includes(targetName))
        throw badInput(
          `${model.logicalName}.${col.logicalName} cannot point at ${targetName === target ? aTable(targetName) : targetName}.`,
          `It points at ${col.targets.join(' or ')}.`,
        );
      // an owner, user or team, is set through its own relationship (ownerid@odata.bind: /teams(…)); those
      // a query follows to its name (owninguser, owningteam) are read-only
      const nav =
        col.type === 'Owner'
          ? { navigationProperty: col.logicalName }
          : [...model.singleNavs.values()].find((n) => n.attribute === col.logicalName && n.target === targetName);
      const targetModel = await metadata.entity(targetName);
      if (!nav)
        throw badInput(
          `No navigation property binds ${model.logicalName}.${col.logicalName} to ${targetName}.`,
          'Check describe_entity for its lookup targets.',
        );
      body[`${nav.navigationProperty}@odata.bind`] =
        `/${targetModel.entitySetName}(${guidValue(typeof ref === 'string' ? ref : (ref.id ?? ''), `${model.logicalName}.${col.logicalName}`)})`;
      return;
    }
    body[col.logicalName] = toWriteValue(col, value, model.logicalName);
  }
  // every value is read before any fault is answered: a model told of one fault at a time corrects one per
  // call ("1.2m" for revenue, then a misspelt choice, then "fifty" employees: three calls for one record)
  const faults: DynamicsMcpError[] = [];
  for (const [key, given] of Object.entries(values)) {
    try {
      await writeOne(key, given);
    } catch (err) {
      if (!isValueFault(err)) throw err;
      faults.push(err);
    }
  }
  if (faults.length) throw allFaults(model, faults);
  // reference §6.2 (UPDATE): "when you update statecode, always set the desired statuscode as well": a state
  // given alone goes with its default status reason, where the model may set one
  if (typeof body.statecode === 'number' && body.statuscode === undefined) {
    const status =
      model.columns.get('statecode')?.options?.find((o) => o.value === body.statecode)?.defaultStatus ??
      model.columns.get('statuscode')?.options?.find((o) => o.state === body.statecode)?.value;
    if (status !== undefined && policy.canWrite(model.logicalName, 'statuscode')) {
      body.statuscode = status;
      columns.push('statuscode');
    }
  }
  // and the other way: a status reason given alone on update goes with its state (a call "Received" is
  // Completed), which Dynamics otherwise refuses as not a reason of the record's current state
  if (mode === 'update' && typeof body.statuscode === 'number' && body.statecode === undefined) {
    const state = model.columns.get('statuscode')?.options?.find((o) => o.value === body.statuscode)?.state;
    if (state !== undefined && policy.canWrite(model.logicalName, 'statecode')) {
      body.statecode = state;
      columns.push('statecode');
    }
  }
  return { body, columns };
}

/** A value the model can correct (a wrong type, label, column or name), as against a failure of the call. */
export const isValueFault = (err: unknown): err is DynamicsMcpError =>
  err instanceof DynamicsMcpError &&
  (err.kind === 'bad_input' || err.kind === 'unknown_column' || err.kind === 'not_found');

/** Several values' faults as one error, which keeps each (faultsOf) for another check to add to. */
class ValueFaults extends DynamicsMcpError {
  constructor(
    model: EntityModel,
    readonly faults: DynamicsMcpError[],
  ) {
    super(
      new Set(faults.map((f) => f.kind)).size === 1 ? faults[0]!.kind : 'bad_input',
      `${faults.length} values for ${aTable(model.logicalName)} cannot be written:\n${faults.map((f) => `- ${f.message} ${f.hint}`).join('\n')}`,
      'Correct each of them and call again with all the values; nothing was written.',
      { retryable: false, suggestions: faults.flatMap((f) => f.details.suggestions ?? []) },
    );
  }
}

/** The faults an error stands for: those of several values, or itself. */
export const faultsOf = (err: DynamicsMcpError): DynamicsMcpError[] =>
  err instanceof ValueFaults ? err.faults : [err];

/** The faults of several values as one answer, each with its fix; one fault is answered as it is. */
export function allFaults(model: EntityModel, faults: DynamicsMcpError[]): DynamicsMcpError {
  const each = faults.flatMap(faultsOf);
  return each.length === 1 ? each[0]! : new ValueFaults(model, each);
}

/**
 * The Web API's own way to set a lookup, which models copy from its documentation:
 * "primarycontactid@odata.bind": "/contacts(<id>)" means primarycontactid = that contact. It is read back
 * into a column and a reference, so the same checks (column, policy, target) apply as to any lookup.
 */
function fromBind(model: EntityModel, key: string, value: unknown): { name: string; value: unknown } {
  const m = /^(.+)@odata\.bind$/i.exec(key);
  if (!m) return { name: key, value };
  const owner = model.columns.get(m[1]!.toLowerCase());
  const nav = owner?.type === 'Owner' ? { attribute: owner.logicalName } : model.singleNavs.get(m[1]!.toLowerCase());
  const ref = typeof value === 'string' ? /(?:^|\/)(\w+)\(\{?([0-9a-fA-F-]{36})\}?\)$/.exec(value.trim()) : null;
  if (!nav || !ref)
    throw badInput(
      `'${key}': ${nav ? `'${String(value)}' is not a reference such as /contacts(<GUID>)` : `${model.logicalName} has no lookup '${m[1]}'`}.`,
      'Set a lookup by its column name instead: {"primarycontactid": {"entity": "contact", "id": "<GUID>"}}.',
    );
  return { name: nav.attribute, value: { entity: ref[1], id: ref[2] } };
}

/**
 * DUP: Web API creates skip Dataverse's duplicate detection unless asked; asked, a record that the
 * organisation's published rules (same email, same account name, or the admin's own) match is refused with
 * 0x80040333 instead of made, as a user creating it in Dynamics would be warned. A user who says it is a
 * different one overrides them, as Dynamics' "Ignore and save" does.
 */
export function duplicateDetection(opts: { allowDuplicate?: boolean }): Record<string, string> {
  return opts.allowDuplicate ? {} : { 'mscrm.suppressduplicatedetection': 'false' };
}
