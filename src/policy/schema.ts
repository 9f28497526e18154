import { z } from 'zod';

const columns = z.array(z.string().trim().min(1)).default([]);

/**
 * A key the schema does not have is refused, naming the ones it has: a misspelt switch ("readonly",
 * "confirmwrites") silently dropped would leave the server less safe than its policy file says.
 */
const onlyKeys = (what: string, keys: string[]) => ({
  error: (issue: { code?: string; keys?: string[] }) =>
    issue.code === 'unrecognized_keys'
      ? `${what} has no ${(issue.keys ?? []).map((k) => `"${k}"`).join(', ')}; it takes ${keys.map((k) => `"${k}"`).join(', ')} (names are case-sensitive)`
      : undefined,
});

/** One table's rules. Names are Dataverse logical names (columns) and navigation property names (expand). */
export const entityRuleSchema = z.strictObject(
  {
    /** columns the model may read (select, filter, order by, group by) */
    read: columns,
    /** columns the model may write (create, update); lookups by their column name, e.g. parentaccountid */
    write: columns,
    /** navigation properties the model may follow (expand, lookup paths in filters, any/all) */
    expand: columns,
    /**
     * create_record may make new records of this table (accounts, contacts …): off unless said, so a write list
     * given for updates does not let the model create records too. Leads, cases and notes have their own tools.
     */
    create: z.boolean().default(false),
    /**
     * delete_record may delete records of this table: off unless said, as a delete cannot be undone (and
     * Dataverse deletes or unlinks a parent's related records as each relationship's cascade says).
     */
    delete: z.boolean().default(false),
    /** ask the user (MCP elicitation) before a write, when the client supports it */
    confirmWrites: z.boolean().default(false),
    /** columns whose values never go to the audit log */
    sensitive: columns,
  },
  onlyKeys('an entity entry', ['read', 'write', 'expand', 'create', 'delete', 'confirmWrites', 'sensitive']),
);

export const policySchema = z.strictObject(
  {
    readOnly: z.boolean().default(false),
    /** keyed by logical name in any casing; another name of a table (contacts, Case) matches none (table-keys.ts) */
    entities: z.record(z.string(), entityRuleSchema),
    /** the most rows one tool call may return to the model */
    maxRows: z.number().int().min(1).max(5000).default(200),
    /** the most bytes of records one tool result may carry */
    maxResultBytes: z.number().int().min(4096).max(10_000_000).default(200_000),
  },
  onlyKeys('the policy', ['readOnly', 'entities', 'maxRows', 'maxResultBytes']),
);

export type EntityRule = z.infer<typeof entityRuleSchema>;
export type PolicyDocument = z.infer<typeof policySchema>;
export type PolicyInput = z.input<typeof policySchema>;
