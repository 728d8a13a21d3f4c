import { AUDIT_CLASSES, type AuditConfig } from '../config/config-schema.js';

export type AuditClassName = (typeof AUDIT_CLASSES)[number];

/**
 * Which classes are audited for a session: the role's list if it has one,
 * else the database's, else the default (pgaudit.role / pgaudit.log
 * semantics). Resolved once per session, so each statement costs a set lookup.
 */
export function classesFor(
  config: AuditConfig,
  user: string | undefined,
  database: string | undefined,
): ReadonlySet<string> {
  const list =
    (user !== undefined ? config.roles[user] : undefined) ??
    (database !== undefined ? config.databases[database] : undefined) ??
    config.log;
  const classes = new Set<string>();
  for (const entry of list) {
    if (entry === 'none') classes.clear();
    else if (entry === 'all') for (const c of AUDIT_CLASSES) classes.add(c);
    else classes.add(entry);
  }
  return classes;
}

/** The classifier's class (READ, MISC_SET, UNKNOWN, …) as a policy name; UNKNOWN is always audited. */
export function isAudited(classes: ReadonlySet<string>, statementClass: string): boolean {
  if (statementClass === 'UNKNOWN') return classes.size > 0;
  return classes.has(statementClass.toLowerCase());
}
