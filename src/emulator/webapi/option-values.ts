import type { Schema } from '../schema/index.js';
import { badRequest, DataverseError, payloadError } from './errors.js';

/**
 * The first value of an option an organisation adds without giving one: the default publisher's option value
 * prefix (10000) times 10,000 ("Customization prefix and option value prefix", solution publisher docs), then
 * counting up.
 */
const FIRST_ADDED_VALUE = 100_000_000;

/**
 * InsertOptionValue ("InsertOptionValue Action", Web API reference): POST [org]/api/data/v9.2/InsertOptionValue,
 * unbound, with EntityLogicalName and AttributeLogicalName (a local choice or choices column), Label (a Label:
 * LocalizedLabels [{Label, LanguageCode}]) and optionally Value; answers InsertOptionValueResponse
 * {NewOptionValue}. How an organisation's admin adds a priority, a source, an industry of its own. A state or a
 * status reason is added with InsertStatusValue, which the emulator does not have. The emulator's roles hold
 * table privileges only; the customiser's privilege this needs is not checked. The messages of its refusals
 * are not documented: these say what was wrong.
 */
export function insertOptionValue(schema: Schema, raw: string): { NewOptionValue: number } {
  let params: Record<string, unknown>;
  try {
    params = JSON.parse(raw || '{}');
  } catch (err) {
    throw badRequest(`The request body is not valid JSON: ${(err as Error).message}`, '0x80048d19');
  }
  const entityName = params.EntityLogicalName;
  const attributeName = params.AttributeLogicalName;
  if (typeof entityName !== 'string' || typeof attributeName !== 'string')
    throw payloadError('InsertOptionValue', 'EntityLogicalName and AttributeLogicalName are required (Edm.String).');
  const entity = schema.entity(entityName.toLowerCase());
  const attribute = entity && schema.attribute(entity, attributeName.toLowerCase());
  if (!entity || !attribute)
    throw new DataverseError(404, '0x80040217', `Could not find attribute '${attributeName}' of '${entityName}'.`);
  if (attribute.type !== 'Picklist' && attribute.type !== 'MultiSelectPicklist')
    throw badRequest(
      `${entityName}.${attributeName} is a ${attribute.type} column: InsertOptionValue adds options to choice columns${attribute.type === 'Status' || attribute.type === 'State' ? '; a status reason is added with InsertStatusValue' : ''}.`,
    );
  const label = labelText(params.Label);
  if (!label)
    throw payloadError(
      'InsertOptionValue',
      'Label is required: {"LocalizedLabels":[{"Label":"…","LanguageCode":1033}]}.',
    );
  const options = attribute.options!;
  const given = params.Value;
  if (given !== undefined && given !== null && !Number.isInteger(given))
    throw payloadError('InsertOptionValue', 'Value must be an Edm.Int32.');
  const value =
    typeof given === 'number'
      ? given
      : Math.max(FIRST_ADDED_VALUE - 1, ...options.map((o) => o.value).filter((v) => v >= FIRST_ADDED_VALUE)) + 1;
  if (options.some((o) => o.value === value))
    throw badRequest(`${entityName}.${attributeName} already has an option with the value ${value}.`);
  schema.insertOption(attribute, { value, label });
  return { NewOptionValue: value };
}

/** The label in the user's language: the first LocalizedLabel (the emulator's organisation speaks English). */
function labelText(v: unknown): string | undefined {
  const labels = (v as { LocalizedLabels?: unknown } | null)?.LocalizedLabels;
  if (!Array.isArray(labels)) return undefined;
  const first = labels.find((l) => typeof l?.Label === 'string' && l.Label.trim() !== '');
  return first ? String(first.Label).trim() : undefined;
}
