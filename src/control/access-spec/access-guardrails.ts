import { isInternalRole, isPrivilegedPredefinedRole } from '../roles/privileged-roles.js';
import { PUBLIC_GRANTEE } from './access-spec-schema.js';
import type { CatalogState } from './catalog-state.js';
import type { DesiredAccess } from './desired-access.js';

export interface GuardrailOptions {
  /** The administrator login made at init: pgwarden manages it, a spec does not. */
  readonly adminUser: string;
  /** `guardrails.privilegedRoles` from pgwarden.yaml: not from the spec, which could allow itself. */
  readonly privilegedRoles: readonly string[];
}

/**
 * What `access apply` refuses (issue 6, item 3), as one sentence each. The
 * spec is an input anyone with write access to a repository can change, so
 * the allow-list lives in the operator's pgwarden.yaml, not in the spec.
 */
export function guardrailViolations(
  desired: DesiredAccess,
  live: CatalogState,
  options: GuardrailOptions,
): string[] {
  const allowed = new Set(options.privilegedRoles);
  const violations: string[] = [];
  const superuser = (name: string) => live.roles.get(name)?.superuser === true;
  const untouchable = (name: string) =>
    isInternalRole(name) ? `"${name}" is internal to pgwarden` : undefined;

  for (const role of desired.roles) {
    const where = `${role.origin}:`;
    const internal = untouchable(role.name);
    if (internal !== undefined)
      violations.push(`${where} ${internal} and cannot be managed by a spec`);
    else if (role.name.startsWith('pg_')) {
      violations.push(
        `${where} "${role.name}": names beginning with pg_ are reserved for PostgreSQL`,
      );
    } else if (role.name === options.adminUser) {
      violations.push(
        `${where} "${role.name}" is the administrator, which pgwarden manages itself`,
      );
    } else if (role.name === PUBLIC_GRANTEE) {
      violations.push(`${where} "PUBLIC" stands for every role in a spec and cannot be a role`);
    }
    if (!allowed.has(role.name)) {
      for (const attribute of ['superuser', 'bypassrls', 'replication', 'createrole'] as const) {
        if (role[attribute]) {
          violations.push(
            `${where} ${attribute.toUpperCase()} for "${role.name}" is refused: it is not in guardrails.privilegedRoles${
              attribute === 'createrole'
                ? ' (on PostgreSQL 15 a CREATEROLE role can grant itself pg_execute_server_program)'
                : ''
            }`,
          );
        }
      }
    }
    for (const parent of role.memberOf) {
      const internalParent = untouchable(parent);
      if (internalParent !== undefined) {
        violations.push(`${where} membership of "${role.name}" in ${internalParent}: refused`);
      } else if (!allowed.has(role.name) && isPrivilegedPredefinedRole(parent)) {
        violations.push(
          `${where} membership of "${role.name}" in "${parent}" is refused: it reaches server files, programs or all data, and "${role.name}" is not in guardrails.privilegedRoles`,
        );
      } else if (!allowed.has(role.name) && superuser(parent)) {
        violations.push(
          `${where} membership of "${role.name}" in "${parent}" is refused: "${parent}" is a superuser, and members may SET ROLE to it`,
        );
      }
    }
  }
  for (const target of desired.targets) {
    for (const grantee of target.desired.keys()) {
      const internal = untouchable(grantee);
      if (internal !== undefined) {
        violations.push(
          `grant on ${target.label} to ${internal}: refused, a spec does not give internal roles more power`,
        );
      }
    }
  }
  const owners = [
    ...desired.owners.map((o) => [o.label, o.owner] as const),
    ...[...desired.createSchemas].map(([schema, owner]) => [`schema "${schema}"`, owner] as const),
  ];
  for (const [label, owner] of owners) {
    const internal = untouchable(owner);
    if (internal !== undefined || superuser(owner)) {
      violations.push(
        `owner of ${label}: "${owner}" is ${internal === undefined ? 'a superuser' : 'internal to pgwarden'}; objects owned by it would run SECURITY DEFINER code and triggers with its power`,
      );
    }
  }
  return violations;
}
