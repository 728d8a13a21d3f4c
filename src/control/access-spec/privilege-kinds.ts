/** The privileges each kind of object takes (docs 5.7 "Privileges", Table 5.1). */
export type AclKind = 'database' | 'schema' | 'table' | 'column' | 'sequence' | 'function';

export const PRIVILEGES: Readonly<Record<AclKind, readonly string[]>> = {
  database: ['CREATE', 'CONNECT', 'TEMPORARY'],
  schema: ['CREATE', 'USAGE'],
  table: ['SELECT', 'INSERT', 'UPDATE', 'DELETE', 'TRUNCATE', 'REFERENCES', 'TRIGGER'],
  column: ['SELECT', 'INSERT', 'UPDATE', 'REFERENCES'],
  sequence: ['USAGE', 'SELECT', 'UPDATE'],
  function: ['EXECUTE'],
};

/**
 * Expands `ALL` and checks every name; returns the privileges in the order
 * of PRIVILEGES (so plans are stable), or the first unknown name.
 */
export function normalizePrivileges(
  kind: AclKind,
  names: readonly string[],
): { readonly privileges: readonly string[] } | { readonly unknown: string } {
  const allowed = PRIVILEGES[kind];
  const chosen = new Set<string>();
  for (const name of names) {
    if (name === 'ALL' || name === 'ALL PRIVILEGES') {
      for (const p of allowed) chosen.add(p);
    } else if (allowed.includes(name)) {
      chosen.add(name);
    } else {
      return { unknown: name };
    }
  }
  return { privileges: allowed.filter((p) => chosen.has(p)) };
}
