import pg from 'pg';
import type { AccessPolicy } from '../access/conditional-access.js';
import { readAccessPolicies } from '../control/access/access-policy-store.js';
import { type PolicyRow, readPolicyRows } from '../control/audit/audit-policy-store.js';
import { INTERNAL_SUPERUSER, STATE_DATABASE } from '../control/control-client.js';
import {
  type GatewaySettings,
  readGatewaySettings,
} from '../control/gateway-settings/gateway-settings.js';
import {
  listPrincipals,
  listProviders,
  readIdentityMode,
} from '../control/identity/identity-store.js';
import { STATE_CHANNEL } from '../control/state/state-channel.js';
import { HoneytokenRegistry } from '../detect/honeytoken/honeytoken-registry.js';
import { readHoneytokens } from '../detect/honeytoken/honeytoken-store.js';
import { SOCKET_PORT } from '../server/data-dir-layout.js';
import { Firewall, type FirewallRule } from './firewall/firewall.js';
import { IdentityDirectory } from './identity/identity-directory.js';
import type { RoleDirectory } from './role-directory.js';

const FLUSH_MS = 1000;
const RECONNECT_MS = 500;

/**
 * The gateway's view of runtime state: firewall rules and gateway settings,
 * loaded from the state database and reloaded when the control plane
 * announces a change (LISTEN/NOTIFY), so every gateway applies a change
 * within a second, without a restart. Rule hit counters are batched and
 * written once a second, off the connection path.
 */
export class GatewayState {
  readonly firewall = new Firewall();
  settings: GatewaySettings = {
    requireSecureTransport: true,
    sslMinProtocolVersion: 'TLSv1.3',
    sslMaxProtocolVersion: null,
    publicNetworkAccess: false,
  };
  private listener: pg.Client | undefined;
  private readonly hits = new Map<string, number>();
  private flushTimer: NodeJS.Timeout | undefined;
  private stopped = false;

  /** Audit policy entries set with `pgwarden audit configure`. */
  auditPolicy: readonly PolicyRow[] = [];

  /** Identity providers, principals and the login mode (`pgwarden identity`). */
  identity: IdentityDirectory;

  /** Conditional access policies (`pgwarden access policy`), as stored. */
  accessPolicies: readonly AccessPolicy[] = [];

  /** Honeytokens (`pgwarden detect honeytoken`): what every session's results are searched for. */
  readonly honeytokens = new HoneytokenRegistry();

  constructor(
    private readonly socketDir: string,
    private readonly directory: RoleDirectory,
    private readonly onSettings: (settings: GatewaySettings) => void,
    private readonly onAuditPolicy: (rows: readonly PolicyRow[]) => void = () => undefined,
    private readonly onIdentity: (identity: IdentityDirectory) => void = () => undefined,
  ) {
    this.identity = IdentityDirectory.empty(this.isMember);
  }

  /** Whether role `member` is a member of role `group`, directly or through other roles. */
  private readonly isMember = async (member: string, group: string): Promise<boolean> => {
    const result = await this.directory.query<{ member: boolean }>(
      `SELECT EXISTS (
         SELECT 1 FROM pg_catalog.pg_roles m, pg_catalog.pg_roles g
          WHERE m.rolname = $1 AND g.rolname = $2 AND m.oid <> g.oid
            AND pg_catalog.pg_has_role(m.oid, g.oid, 'MEMBER')
       ) AS member`,
      [member, group],
    );
    return result.rows[0]?.member === true;
  };

  async start(): Promise<void> {
    await this.reload();
    await this.listen();
    this.flushTimer = setInterval(() => void this.flushHits(), FLUSH_MS);
    this.flushTimer.unref();
  }

  async reload(): Promise<void> {
    const rules = await this.directory.query<FirewallRule>(
      'SELECT name, host(start_ip) AS "startIp", host(end_ip) AS "endIp" FROM pgwarden.firewall_rules',
    );
    this.firewall.replace(rules.rows);
    this.settings = await readGatewaySettings(this.directory);
    this.onSettings(this.settings);
    this.auditPolicy = await readPolicyRows(this.directory);
    this.onAuditPolicy(this.auditPolicy);
    const [mode, providers, principals] = await Promise.all([
      readIdentityMode(this.directory),
      listProviders(this.directory),
      listPrincipals(this.directory),
    ]);
    this.identity = IdentityDirectory.build(
      mode,
      providers,
      principals,
      this.isMember,
      this.identity,
    );
    this.accessPolicies = await readAccessPolicies(this.directory);
    this.onIdentity(this.identity);
    this.honeytokens.replace(await readHoneytokens(this.directory));
  }

  recordHit(rule: string): void {
    this.hits.set(rule, (this.hits.get(rule) ?? 0) + 1);
  }

  async stop(): Promise<void> {
    this.stopped = true;
    if (this.flushTimer !== undefined) clearInterval(this.flushTimer);
    await this.flushHits();
    await this.listener?.end().catch(() => undefined);
  }

  private async listen(): Promise<void> {
    const client = new pg.Client({
      host: this.socketDir,
      port: SOCKET_PORT,
      user: INTERNAL_SUPERUSER,
      database: STATE_DATABASE,
      application_name: 'pgwarden-gateway-listener',
    });
    client.on('notification', () => {
      void this.reload().catch(() => undefined);
    });
    client.on('error', () => this.reconnect(client));
    client.on('end', () => this.reconnect(client));
    await client.connect();
    await client.query(`LISTEN ${STATE_CHANNEL}`);
    this.listener = client;
  }

  private reconnect(old: pg.Client): void {
    if (this.stopped || this.listener !== old) return;
    this.listener = undefined;
    setTimeout(() => {
      if (this.stopped) return;
      // Changes made while disconnected are picked up by the reload after LISTEN.
      this.listen()
        .then(() => this.reload())
        .catch(() => this.reconnect(old));
    }, RECONNECT_MS).unref();
  }

  private async flushHits(): Promise<void> {
    if (this.hits.size === 0) return;
    const batch = [...this.hits];
    this.hits.clear();
    await this.directory
      .query(
        `UPDATE pgwarden.firewall_rules r SET hit_count = r.hit_count + h.n, last_hit_at = now()
           FROM unnest($1::text[], $2::bigint[]) AS h(name, n) WHERE r.name = h.name`,
        [batch.map(([name]) => name), batch.map(([, n]) => n)],
      )
      .catch(() => undefined);
  }
}
