import { ADMIN_GROUP } from '../../control/control-client.js';
import type { Queryable } from '../../control/gateway-settings/gateway-settings.js';

/** How long an answer is trusted: membership changes rarely, and a stale "admin" only costs an alert. */
const TTL_MS = 60_000;
const MAX_ENTRIES = 10_000;

/**
 * Whether a role is an administrator (a member of pgwarden_admin, directly
 * or not), from the managed server's catalog through the gateway's state
 * connection, cached for a minute. Detectors run synchronously: `known`
 * answers from the cache only and starts a lookup on a miss; logins
 * (auth.succeeded) prefetch, so the answer is usually there before the
 * session's first statement. No catalog (or a failed lookup): not an
 * administrator.
 */
export class AdminMembership {
  private readonly answers = new Map<string, { admin: boolean; at: number }>();
  private readonly asking = new Map<string, Promise<boolean>>();

  constructor(
    private readonly state: Queryable | undefined,
    private readonly now: () => number = Date.now,
  ) {}

  /** The cached answer, or undefined (and a lookup starts). */
  known(role: string): boolean | undefined {
    const answer = this.answers.get(role);
    if (answer !== undefined && this.now() - answer.at < TTL_MS) return answer.admin;
    void this.lookup(role);
    return undefined;
  }

  /** The answer, asking the catalog if it is not cached. */
  lookup(role: string): Promise<boolean> {
    const answer = this.answers.get(role);
    if (answer !== undefined && this.now() - answer.at < TTL_MS)
      return Promise.resolve(answer.admin);
    let asking = this.asking.get(role);
    if (asking === undefined) {
      asking = this.ask(role).then((admin) => {
        this.asking.delete(role);
        if (this.answers.size >= MAX_ENTRIES) this.answers.clear();
        this.answers.set(role, { admin, at: this.now() });
        return admin;
      });
      this.asking.set(role, asking);
    }
    return asking;
  }

  private async ask(role: string): Promise<boolean> {
    if (this.state === undefined) return false;
    try {
      const result = await this.state.query<{ admin: boolean }>(
        `SELECT EXISTS (SELECT 1 FROM pg_catalog.pg_roles r
                         WHERE r.rolname = $1 AND pg_catalog.pg_has_role(r.oid, $2, 'MEMBER')) AS admin`,
        [role, ADMIN_GROUP],
      );
      return result.rows[0]?.admin === true;
    } catch {
      return false;
    }
  }
}
