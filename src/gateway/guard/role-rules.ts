import { isRecord, type PgNode } from '../../audit/classify/pg-parser.js';
import {
  isInternalRole,
  isPrivilegedPredefinedRole,
  type PrivilegedAttribute,
} from '../../control/roles/privileged-roles.js';
import type { Findings, Site } from './guard-findings.js';
import type { GuardContext } from './guard-policy.js';
import { ALLOW_LIST_HINT, displayRole, INTERNAL_HINT } from './guard-refusal.js';
import { checkPasswordOption } from './password-rules.js';

/**
 * The static rules on role statements (PostgreSQL docs 22.2 "Role
 * Attributes", 22.3 "Role Membership", 22.5 "Predefined Roles"). On
 * PostgreSQL 15 a CREATEROLE role may grant itself any predefined role, so
 * these rules, not the server, are what keeps the administrator below
 * superuser (see docs/guardrails.md).
 */

/** Why each privileged predefined role is privileged (docs 22.5). */
export const PRIVILEGED_ROLE_REASONS: Readonly<Record<string, string>> = {
  pg_execute_server_program: "it runs programs as the server's OS user",
  pg_read_server_files: "it reads any file the server's OS user can read",
  pg_write_server_files: "it writes any file the server's OS user can write",
  pg_write_all_data: 'it writes every table, whatever the grants',
  pg_read_all_data: 'it reads every table, whatever the grants',
};

const ATTRIBUTE_REASONS: Readonly<Record<PrivilegedAttribute, string>> = {
  SUPERUSER: 'it bypasses every permission check',
  BYPASSRLS: 'it bypasses every row-level security policy',
  REPLICATION: 'it streams a copy of every database out of the server',
};

/** DefElem names of the privileged attributes in CreateRoleStmt/AlterRoleStmt options. */
const ATTRIBUTE_OPTIONS: ReadonlyMap<string, PrivilegedAttribute> = new Map([
  ['superuser', 'SUPERUSER'],
  ['bypassrls', 'BYPASSRLS'],
  ['isreplication', 'REPLICATION'],
]);

/** Why each internal role is off limits. */
export const INTERNAL_REASONS: Readonly<Record<string, string>> = {
  pgwarden_su: "it is pgwarden's internal superuser, for the control plane only",
  pgwarden_admin: 'it is the administrator group; pgwarden manages its members and attributes',
  pgwarden_token_login:
    'its members log in on the private socket without a password; pgwarden manages its members',
};

/** A role as a statement names it. */
interface NamedRole {
  /** The role, when known before run time (not for CURRENT_USER, CURRENT_ROLE or PUBLIC). */
  readonly name: string | undefined;
  /** CURRENT_USER or CURRENT_ROLE: after SET ROLE it may be any role the session user may become. */
  readonly current: boolean;
  readonly shown: string;
}

/** The statement kinds the rules look at, as events and messages name them. */
export function roleStatementKind(type: string, body: PgNode): string | undefined {
  switch (type) {
    case 'GrantRoleStmt':
      return body.is_grant === true ? 'GRANT ROLE' : 'REVOKE ROLE';
    case 'CreateRoleStmt':
      return 'CREATE ROLE';
    case 'AlterRoleStmt':
      return 'ALTER ROLE';
    case 'AlterRoleSetStmt':
      return 'ALTER ROLE SET';
    case 'DropRoleStmt':
      return 'DROP ROLE';
    case 'RenameStmt':
      return body.renameType === 'OBJECT_ROLE' ? 'ALTER ROLE RENAME' : undefined;
    default:
      return undefined;
  }
}

/** Applies the rules to one role statement; `site.statement` is its roleStatementKind. */
export function checkRoleStatement(
  type: string,
  body: PgNode,
  context: GuardContext,
  findings: Findings,
  site: Site,
): void {
  const rules = new RoleRules(context, findings, site);
  switch (type) {
    case 'GrantRoleStmt':
      rules.grantRole(body);
      return;
    case 'CreateRoleStmt':
      rules.createRole(body);
      return;
    case 'AlterRoleStmt':
      rules.alterRole(body);
      return;
    case 'AlterRoleSetStmt':
      rules.alterRoleSet(body);
      return;
    case 'DropRoleStmt':
      for (const role of list(body.roles)) rules.internal('dropping', rules.named(role));
      return;
    case 'RenameStmt':
      for (const name of [body.subname, body.newname]) {
        if (typeof name === 'string') rules.internal('renaming', cstring(name));
      }
      return;
  }
}

class RoleRules {
  constructor(
    private readonly context: GuardContext,
    private readonly findings: Findings,
    private readonly site: Site,
  ) {}

  /** GRANT role TO grantee / REVOKE role FROM grantee (docs: GRANT, REVOKE). */
  grantRole(body: PgNode): void {
    const granting = body.is_grant === true;
    const grantees = list(body.grantee_roles).map((spec) => this.named(spec));
    for (const item of list(body.granted_roles)) {
      const priv = isRecord(item) && isRecord(item.AccessPriv) ? item.AccessPriv : undefined;
      if (typeof priv?.priv_name !== 'string') continue;
      const granted = cstring(priv.priv_name);
      this.internal(granting ? 'granting' : 'revoking', granted);
      for (const grantee of grantees) {
        const action = granting ? 'granting roles to' : 'revoking roles from';
        this.internal(action, grantee);
        this.currentUser(action, grantee);
        if (granting) this.membership(granted, grantee);
      }
    }
  }

  /** CREATE ROLE: attributes of the new role, and the IN ROLE / ROLE / ADMIN lists. */
  createRole(body: PgNode): void {
    if (typeof body.role !== 'string') return;
    const role = cstring(body.role);
    this.internal('creating', role);
    for (const option of options(body.options)) {
      const name = option.defname;
      if (name === 'addroleto') {
        // IN ROLE g: the new role becomes a member of g.
        for (const spec of list(listArg(option.arg))) this.membership(this.named(spec), role);
      } else if (name === 'rolemembers' || name === 'adminmembers') {
        // ROLE m / ADMIN m: m becomes a member of the new role.
        for (const spec of list(listArg(option.arg))) {
          const member = this.named(spec);
          this.internal('granting roles to', member);
          this.currentUser('granting roles to', member);
          this.privilegedInList(member, role);
        }
      } else if (name === 'password') {
        checkPasswordOption(
          option,
          { name: role.name ?? '', existing: false },
          this.context,
          this.findings,
          this.site,
        );
      } else {
        this.attribute(option, role);
      }
    }
  }

  /** ALTER ROLE / ALTER USER / ALTER GROUP … ADD|DROP USER (action 1 adds, -1 drops). */
  alterRole(body: PgNode): void {
    const target = this.named(body.role);
    this.internal('altering', target);
    this.currentUser('altering', target);
    for (const option of options(body.options)) {
      if (option.defname === 'rolemembers') {
        const adding = body.action !== -1;
        for (const spec of list(listArg(option.arg))) {
          const member = this.named(spec);
          const action = adding ? 'granting roles to' : 'revoking roles from';
          this.internal(action, member);
          this.currentUser(action, member);
          if (adding) this.membership(target, member);
        }
      } else if (option.defname === 'password') {
        checkPasswordOption(
          option,
          { name: target.name ?? this.context.sessionUser, existing: true },
          this.context,
          this.findings,
          this.site,
        );
      } else {
        this.attribute(option, target);
      }
    }
  }

  /** ALTER ROLE … [IN DATABASE …] SET|RESET; without a role it is ALTER ROLE ALL. */
  alterRoleSet(body: PgNode): void {
    if (body.role === undefined) {
      this.findings.refuse({
        reason: 'internal-role',
        sqlState: '42501',
        message:
          "pgwarden: ALTER ROLE ALL is refused: it changes the settings of pgwarden's internal roles too; name the roles to change",
        hint: INTERNAL_HINT,
        ...this.site,
      });
      return;
    }
    const target = this.named(body.role);
    this.internal('changing the settings of', target);
    this.currentUser('changing the settings of', target);
  }

  /** Refuses any change to pgwarden's own roles. */
  internal(action: string, role: NamedRole): void {
    if (role.name === undefined || !isInternalRole(role.name)) return;
    this.findings.refuse({
      reason: 'internal-role',
      sqlState: '42501',
      message: `pgwarden: ${action} ${role.name} is refused: ${INTERNAL_REASONS[role.name]}`,
      hint: INTERNAL_HINT,
      ...this.site,
    });
  }

  /** CURRENT_USER may be an internal role after SET ROLE: the catalog decides. */
  private currentUser(action: string, role: NamedRole): void {
    if (role.current) this.findings.catalog.push({ kind: 'current-user', action, site: this.site });
  }

  /** `member` becomes a member of `group`: refused if `group` carries privilege `member` may not have. */
  private membership(group: NamedRole, member: NamedRole): void {
    const name = group.name;
    if (name === undefined || isInternalRole(name)) {
      if (name !== undefined) this.internal('granting', group);
      return;
    }
    if (this.allowed(member)) return;
    const reason = PRIVILEGED_ROLE_REASONS[name];
    if (isPrivilegedPredefinedRole(name) && reason !== undefined) {
      this.refusePrivileged(`granting ${name} to ${member.shown}`, reason);
    } else if (this.context.policy.privilegedRoles.has(name)) {
      this.refusePrivileged(
        `granting ${group.shown} to ${member.shown}`,
        `${group.shown} is listed in guardrails.privilegedRoles, so it may hold privileged roles or attributes`,
      );
    } else if (!name.startsWith('pg_')) {
      // An ordinary role may still hold a privileged one (granted before, or by a superuser).
      this.findings.catalog.push({
        kind: 'grant',
        role: name,
        grantee: member.shown,
        site: this.site,
      });
    }
  }

  /** A privileged role in CREATE ROLE's ROLE or ADMIN list (it would become a member of the new role). */
  private privilegedInList(member: NamedRole, role: NamedRole): void {
    const name = member.name;
    if (name === undefined || !isPrivilegedPredefinedRole(name) || this.allowed(role)) return;
    this.refusePrivileged(
      `making ${name} a member of ${role.shown}`,
      'privileged roles take part in memberships only with roles listed in guardrails.privilegedRoles',
    );
  }

  /** SUPERUSER / BYPASSRLS / REPLICATION (the NO… forms are always fine). */
  private attribute(option: PgNode, role: NamedRole): void {
    const attribute =
      typeof option.defname === 'string' ? ATTRIBUTE_OPTIONS.get(option.defname) : undefined;
    if (attribute === undefined || !isTrue(option.arg) || this.allowed(role)) return;
    this.findings.refuse({
      reason: 'privileged-attribute',
      sqlState: '42501',
      message: `pgwarden: giving ${role.shown} ${attribute} is refused: ${ATTRIBUTE_REASONS[attribute]}; allowed only for roles listed in guardrails.privilegedRoles`,
      hint: ALLOW_LIST_HINT,
      ...this.site,
    });
  }

  private refusePrivileged(what: string, why: string): void {
    this.findings.refuse({
      reason: 'privileged-role',
      sqlState: '42501',
      message: `pgwarden: ${what} is refused: ${why}; allowed only for roles listed in guardrails.privilegedRoles`,
      hint: ALLOW_LIST_HINT,
      ...this.site,
    });
  }

  /** On the allow-list; CURRENT_USER and PUBLIC never are (write the role's name). */
  private allowed(role: NamedRole): boolean {
    return role.name !== undefined && this.context.policy.privilegedRoles.has(role.name);
  }

  /** A RoleSpec (wrapped in `{ RoleSpec: … }` in lists, bare in AlterRoleStmt.role). */
  named(spec: unknown): NamedRole {
    const body = isRecord(spec) && isRecord(spec.RoleSpec) ? spec.RoleSpec : spec;
    if (!isRecord(body)) return { name: undefined, current: false, shown: '(unknown role)' };
    switch (body.roletype) {
      case 'ROLESPEC_CSTRING':
        return cstring(typeof body.rolename === 'string' ? body.rolename : '');
      case 'ROLESPEC_SESSION_USER':
        // The session user cannot change: SET SESSION AUTHORIZATION needs a superuser.
        return { name: this.context.sessionUser, current: false, shown: 'session_user' };
      case 'ROLESPEC_CURRENT_USER':
      case 'ROLESPEC_CURRENT_ROLE':
        return { name: undefined, current: true, shown: 'current_user' };
      default:
        return { name: undefined, current: false, shown: 'public' };
    }
  }
}

function cstring(name: string): NamedRole {
  return { name, current: false, shown: displayRole(name) };
}

function list(value: unknown): readonly unknown[] {
  return Array.isArray(value) ? value : [];
}

/** `{ List: { items: [...] } }` → the items. */
function listArg(arg: unknown): unknown {
  return isRecord(arg) && isRecord(arg.List) ? arg.List.items : undefined;
}

/** The DefElem bodies of an options list. */
function options(value: unknown): PgNode[] {
  return list(value).flatMap((item) =>
    isRecord(item) && isRecord(item.DefElem) ? [item.DefElem] : [],
  );
}

/** `{ Boolean: { boolval: true } }`; false may be sent as `{ Boolean: {} }`. */
function isTrue(arg: unknown): boolean {
  return isRecord(arg) && isRecord(arg.Boolean) && arg.Boolean.boolval === true;
}
