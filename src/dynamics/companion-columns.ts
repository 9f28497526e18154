import type { EntityModel } from '../policy/model.js';
import type { Policy } from '../policy/policy.js';

/**
 * Columns read beside a column asked for, because without them its rows can say nothing: a deal's product
 * line is a catalogue product (productid) or a write-in, whose name is in productdescription alone (Dynamics'
 * Add Product form offers both; the seed's travel lines are write-ins). Asked for "productid, quantity,
 * extendedamount", a write-in came back as an amount with no name. Only a column the policy lets the model read
 * is added, and compaction leaves out the one that is empty on each row. A note's file is read with its MIME
 * type, which names a file that is not text (file-columns.ts).
 */
const COMPANIONS: Readonly<Record<string, string>> = {
  'opportunityproduct.productid': 'productdescription',
  'annotation.documentbody': 'mimetype',
  'activitymimeattachment.body': 'mimetype',
};

/** `select` with each companion of a column in it added, where the table has it and the model may read it. */
export function withCompanions(policy: Policy, model: EntityModel, select: string[]): string[] {
  const asked = new Set(select.map((c) => c.toLowerCase()));
  const added = select.flatMap((c) => {
    const companion = COMPANIONS[`${model.logicalName}.${c.toLowerCase()}`];
    return companion &&
      !asked.has(companion) &&
      model.columns.has(companion) &&
      policy.canRead(model.logicalName, companion)
      ? [companion]
      : [];
  });
  return added.length ? [...select, ...new Set(added)] : select;
}
