const PLAIN_IDENTIFIER = /^[A-Za-z_][A-Za-z0-9_]{0,62}$/;

/**
 * The SQL for a table name: `name` or `schema.name`, each part a plain
 * identifier (letters, digits, underscores), double-quoted so that a reserved
 * word works and case is kept. Anything else (quotes, semicolons, spaces) is a
 * `TypeError`: a table name never becomes SQL of its own.
 */
export function quoteTableName(table: unknown): string {
  if (typeof table !== 'string') throw new TypeError(`table must be a string, got ${typeof table}`);
  const parts = table.split('.');
  if (parts.length > 2 || !parts.every((part) => PLAIN_IDENTIFIER.test(part))) {
    throw new TypeError(`table must be a plain identifier (letters, digits, _), optionally schema-qualified; got ${JSON.stringify(table)}`);
  }
  return parts.map((part) => `"${part}"`).join('.');
}
