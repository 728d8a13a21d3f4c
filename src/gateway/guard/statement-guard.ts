import type { GuardCatalog } from './guard-catalog.js';
import { matchesVerifierAsync } from './guard-catalog.js';
import type { CatalogCheck, Findings, ReuseCheck } from './guard-findings.js';
import {
  type GuardContext,
  type GuardPolicy,
  type GuardSettings,
  guardPolicy,
} from './guard-policy.js';
import {
  ALLOW_LIST_HINT,
  displayRole,
  type GuardRefusal,
  INTERNAL_HINT,
  PASSWORD_HINT,
} from './guard-refusal.js';
import { refusalParse, refusalQuery } from './refusal-statement.js';
import { INTERNAL_REASONS, PRIVILEGED_ROLE_REASONS } from './role-rules.js';
import { inspectSql } from './statement-inspector.js';
import { mayNeedInspectionBytes } from './statement-prefilter.js';

const QUERY = 0x51; // 'Q'
const PARSE = 0x50; // 'P'

/** The frontend messages the gate holds for the guard: Query and Parse (docs 55.7). */
export const GUARDED_MESSAGES: Uint8Array = (() => {
  const table = new Uint8Array(256);
  table[QUERY] = 1;
  table[PARSE] = 1;
  return table;
})();

/**
 * Client-only encodings PostgreSQL accepts whose multibyte characters may end
 * in an ASCII byte (SJIS, BIG5, GBK, UHC, GB18030; docs 24.3.1 "Supported
 * Character Sets"): the server, converting from them, sees other tokens than
 * a UTF-8 reading of the same bytes would (a trailing 0x5C is part of a
 * character, not a backslash). A text with bytes above 0x7F is inspected in
 * each reading, so no client_encoding hides a statement. (The server checks
 * that JOHAB's trailing bytes are above 0x7F.)
 */
const CLIENT_ONLY_ENCODINGS = ['shift_jis', 'big5', 'gbk', 'gb18030', 'euc-kr'].map(
  (label) => new TextDecoder(label),
);

export type GuardProtocol = 'simple' | 'extended';

/**
 * The statement guard of one session: checks each Query and Parse before the
 * server sees it (the gate holds them), and replaces a refused one with a
 * statement that fails on the server with the refusal (refusal-statement.ts).
 * The audit's tap reads the client's stream before the gate, so the audit
 * records the original statement, with the refusal's SQLSTATE as outcome.
 */
export class StatementGuard {
  private settingsSeen: GuardSettings | undefined;
  private policy: GuardPolicy | undefined;

  constructor(
    /** Read at every check: SIGHUP's reload applies to live sessions too. */
    private readonly settings: () => GuardSettings,
    private readonly sessionUser: string,
    /** The managed server's catalog; undefined for an external backend (its checks are skipped). */
    private readonly catalog: GuardCatalog | undefined,
    private readonly onRefusal: (refusal: GuardRefusal, protocol: GuardProtocol) => void,
  ) {}

  /** For the gate: what to send instead of this message, if it is refused. */
  readonly check = (
    type: number,
    message: Buffer,
  ): Buffer | undefined | Promise<Buffer | undefined> => {
    const text = sqlText(type, message);
    if (text === undefined || !mayNeedInspectionBytes(text)) return undefined;
    const context: GuardContext = { policy: this.currentPolicy(), sessionUser: this.sessionUser };
    const readings = [text.toString('utf8')];
    if (text.some((byte) => byte > 0x7f)) {
      for (const decoder of CLIENT_ONLY_ENCODINGS) readings.push(decoder.decode(text));
    }
    const findings = readings.map((reading) => inspectSql(reading, context));
    const refused = findings.find((f) => f.refusal !== undefined)?.refusal;
    if (refused !== undefined) return this.refuse(refused, type, message);
    if (this.catalog === undefined || !findings.some((f) => f.needsCatalog)) return undefined;
    return catalogRefusal(timeLimited(this.catalog), findings, context).then((late) =>
      late === undefined ? undefined : this.refuse(late, type, message),
    );
  };

  private refuse(refusal: GuardRefusal, type: number, message: Buffer): Buffer {
    this.onRefusal(refusal, type === QUERY ? 'simple' : 'extended');
    return type === QUERY ? refusalQuery(refusal) : refusalParse(message, refusal);
  }

  private currentPolicy(): GuardPolicy {
    const settings = this.settings();
    if (settings !== this.settingsSeen || this.policy === undefined) {
      this.settingsSeen = settings;
      this.policy = guardPolicy(settings);
    }
    return this.policy;
  }
}

/** How long a catalog check may hold the session's statements back before it counts as failed. */
const CATALOG_TIMEOUT_MS = 10_000;

/** The catalog, with each answer bounded by CATALOG_TIMEOUT_MS. */
function timeLimited(catalog: GuardCatalog): GuardCatalog {
  const limit = <T>(answer: Promise<T>): Promise<T> => {
    let timer: NodeJS.Timeout | undefined;
    const timeout = new Promise<never>((_, reject) => {
      timer = setTimeout(() => reject(new Error('no answer in time')), CATALOG_TIMEOUT_MS);
    });
    return Promise.race([answer, timeout]).finally(() => clearTimeout(timer));
  };
  return {
    holdings: (roles) => limit(catalog.holdings(roles)),
    passwordVerifiers: (role, size) => limit(catalog.passwordVerifiers(role, size)),
  };
}

/** The SQL text bytes of a whole Query or Parse message, or undefined if malformed. */
function sqlText(type: number, message: Buffer): Buffer | undefined {
  let start = 5;
  if (type === PARSE) {
    const nameEnd = message.indexOf(0, start);
    if (nameEnd < 0) return undefined;
    start = nameEnd + 1;
  }
  const end = message.indexOf(0, start);
  return end < 0 ? undefined : message.subarray(start, end);
}

/**
 * The checks that need the catalog, after the static rules passed. Never
 * rejects: a catalog that cannot be read refuses a role grant (fail closed)
 * but skips the reuse check (the policy check of the password already ran).
 */
async function catalogRefusal(
  catalog: GuardCatalog,
  findings: readonly Findings[],
  context: GuardContext,
): Promise<GuardRefusal | undefined> {
  const checks = findings.flatMap((f) => f.catalog);
  if (checks.length > 0) {
    const roles = new Set(
      checks.map((check) => (check.kind === 'grant' ? check.role : context.sessionUser)),
    );
    try {
      const holdings = await catalog.holdings([...roles]);
      for (const check of checks) {
        const refusal = holdingRefusal(check, holdings, context);
        if (refusal !== undefined) return refusal;
      }
    } catch (error) {
      const site = (checks[0] as CatalogCheck).site;
      return {
        reason: 'catalog-unavailable',
        sqlState: '42501',
        message: `pgwarden: the role grant could not be checked against the catalog (${(error as Error).message}), so it is refused`,
        hint: 'try again; see the gateway events if it persists',
        ...site,
      };
    }
  }
  for (const reuse of findings.flatMap((f) => f.reuse)) {
    const refusal = await reuseRefusal(catalog, reuse, context).catch(() => undefined);
    if (refusal !== undefined) return refusal;
  }
  return undefined;
}

function holdingRefusal(
  check: CatalogCheck,
  holdings: ReadonlyMap<string, readonly string[]>,
  context: GuardContext,
): GuardRefusal | undefined {
  if (check.kind === 'current-user') {
    const internal = (holdings.get(context.sessionUser) ?? []).find((r) =>
      Object.hasOwn(INTERNAL_REASONS, r),
    );
    if (internal === undefined) return undefined;
    return {
      reason: 'internal-role',
      sqlState: '42501',
      message: `pgwarden: ${check.action} current_user is refused: ${displayRole(context.sessionUser)} is a member of ${internal}, so after SET ROLE current_user may be ${internal}; write the role's name`,
      hint: INTERNAL_HINT,
      ...check.site,
    };
  }
  const held = holdings.get(check.role) ?? [];
  const role = displayRole(check.role);
  const internal = held.find((r) => Object.hasOwn(INTERNAL_REASONS, r));
  if (internal !== undefined) {
    return {
      reason: 'internal-role',
      sqlState: '42501',
      message: `pgwarden: granting ${role} to ${check.grantee} is refused: ${role} is a member of ${internal}, and ${INTERNAL_REASONS[internal]}`,
      hint: INTERNAL_HINT,
      ...check.site,
    };
  }
  const privileged = held[0];
  if (privileged === undefined) return undefined;
  const why =
    PRIVILEGED_ROLE_REASONS[privileged] ??
    (privileged === 'BYPASSRLS'
      ? 'SET ROLE to it bypasses every row-level security policy'
      : 'it is a superuser');
  return {
    reason: 'privileged-role',
    sqlState: '42501',
    message: `pgwarden: granting ${role} to ${check.grantee} is refused: ${role} ${privileged === 'SUPERUSER' || privileged === 'BYPASSRLS' ? 'has' : 'holds'} ${privileged} (${why}); allowed only for roles listed in guardrails.privilegedRoles`,
    hint: ALLOW_LIST_HINT,
    ...check.site,
  };
}

async function reuseRefusal(
  catalog: GuardCatalog,
  reuse: ReuseCheck,
  context: GuardContext,
): Promise<GuardRefusal | undefined> {
  const size = context.policy.passwordPolicy.historySize;
  const verifiers = await catalog.passwordVerifiers(reuse.role, size);
  for (const verifier of verifiers) {
    if (await matchesVerifierAsync(reuse.password, verifier)) {
      return {
        reason: 'password-reused',
        sqlState: '22023',
        message: `pgwarden: the new password of role ${displayRole(reuse.role)} breaks the password policy: reused (it is the current password or one of the last ${size})`,
        hint: PASSWORD_HINT,
        ...reuse.site,
      };
    }
  }
  return undefined;
}
