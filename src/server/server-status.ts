import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { serverSideAudit } from '../control/audit/server-side-audit.js';
import { INTERNAL_SUPERUSER, STATE_DATABASE, withControl } from '../control/control-client.js';
import { readGatewaySettings } from '../control/gateway-settings/gateway-settings.js';
import { certificateInfo } from '../gateway/tls/certificate-store.js';
import { inspectDataDir } from './data-dir.js';
import { runningPostmaster } from './postgres-process.js';
import type { ServerContext } from './server-context.js';
import { liveSupervisor } from './supervisor.js';

export type ServerState =
  | 'not-initialised'
  | 'initialising'
  | 'stopped'
  | 'starting'
  | 'running'
  | 'unsupervised';

export interface ServerStatus {
  readonly state: ServerState;
  readonly dataDir: string;
  readonly socketPath: string;
  readonly configPath: string | null;
  readonly adminUser: string | null;
  readonly binaries: { readonly source: string; readonly binDir: string; readonly version: string };
  readonly postgres: {
    readonly pid: number;
    readonly version: string;
    readonly startedAt: string;
  } | null;
  readonly supervisor: { readonly pid: number; readonly state: string } | null;
  readonly gateway: GatewayStatus | null;
  /** pgaudit inside the server (statements in functions, internal roles). */
  readonly serverAudit: {
    readonly active: boolean;
    readonly configured: boolean;
    readonly log: string | null;
  } | null;
}

export interface GatewayStatus {
  readonly listening: readonly { readonly address: string; readonly port: number }[];
  readonly publicNetworkAccess: boolean;
  readonly tls: {
    readonly requireSecureTransport: boolean;
    readonly minProtocolVersion: string;
    readonly maxProtocolVersion: string | null;
    readonly certificate: {
      readonly file: string;
      readonly notAfter: string;
      readonly daysLeft: number;
    } | null;
  };
  /** Client sessions PostgreSQL holds for gateway clients. */
  readonly activeSessions: number;
  readonly firewallRules: number;
  readonly warnings: readonly string[];
}

const CERTIFICATE_WARNING_DAYS = 30;

async function gatewayStatus(
  ctx: ServerContext,
  listening: GatewayStatus['listening'],
): Promise<GatewayStatus | null> {
  const file = ctx.config.gateway.tls.certFile ?? join(ctx.layout.tlsDir, 'server.crt');
  const certificate = existsSync(file) ? certificateInfo(readFileSync(file, 'utf8')) : undefined;
  const warnings: string[] = [];
  if (certificate !== undefined && certificate.daysLeft <= CERTIFICATE_WARNING_DAYS) {
    warnings.push(
      certificate.daysLeft < 0
        ? `the gateway certificate ${file} has expired`
        : `the gateway certificate ${file} expires in ${certificate.daysLeft} days`,
    );
  }
  return withControl(ctx.layout.socketDir, STATE_DATABASE, async (client) => {
    const settings = await readGatewaySettings(client);
    const rules = await client.query<{ n: number }>(
      'SELECT count(*)::int AS n FROM pgwarden.firewall_rules',
    );
    const sessions = await client.query<{ n: number }>(
      `SELECT count(*)::int AS n FROM pg_stat_activity
        WHERE backend_type = 'client backend' AND usename IS DISTINCT FROM $1`,
      [INTERNAL_SUPERUSER],
    );
    return {
      listening,
      publicNetworkAccess: settings.publicNetworkAccess,
      tls: {
        requireSecureTransport: settings.requireSecureTransport,
        minProtocolVersion: settings.sslMinProtocolVersion,
        maxProtocolVersion: settings.sslMaxProtocolVersion,
        certificate:
          certificate === undefined
            ? null
            : {
                file,
                notAfter: certificate.notAfter.toISOString(),
                daysLeft: certificate.daysLeft,
              },
      },
      activeSessions: sessions.rows[0]?.n ?? 0,
      firewallRules: rules.rows[0]?.n ?? 0,
      warnings,
    };
  }).catch(() => null);
}

export async function serverStatus(ctx: ServerContext): Promise<ServerStatus> {
  const { layout, binaries } = ctx;
  const dir = inspectDataDir(layout);
  const base = {
    dataDir: layout.root,
    socketPath: layout.socketPath,
    configPath: ctx.configPath ?? null,
    adminUser: dir.kind === 'ready' || dir.kind === 'initialising' ? dir.meta.adminUser : null,
    binaries: { source: binaries.source, binDir: binaries.binDir, version: binaries.version },
    gateway: null,
    serverAudit: null,
  };
  if (dir.kind === 'absent' || dir.kind === 'empty') {
    return { ...base, state: 'not-initialised', postgres: null, supervisor: null };
  }
  if (dir.kind === 'initialising')
    return { ...base, state: 'initialising', postgres: null, supervisor: null };
  const sup = liveSupervisor(layout);
  const supervisor = sup === undefined ? null : { pid: sup.pid, state: sup.state };
  const postmaster = runningPostmaster(layout);
  if (postmaster === undefined) {
    return {
      ...base,
      state: supervisor === null ? 'stopped' : 'starting',
      postgres: null,
      supervisor,
    };
  }
  const version = await withControl(layout.socketDir, 'postgres', async (client) => {
    const result = await client.query<{ server_version: string }>('SHOW server_version');
    return result.rows[0]?.server_version ?? binaries.version;
  }).catch(() => binaries.version);
  const state: ServerState =
    supervisor === null ? 'unsupervised' : supervisor.state === 'ready' ? 'running' : 'starting';
  return {
    ...base,
    state,
    postgres: { pid: postmaster.pid, version, startedAt: postmaster.startedAt.toISOString() },
    supervisor,
    gateway: await gatewayStatus(ctx, sup?.gateway?.listening ?? []),
    serverAudit: await serverSideAudit(layout.socketDir).catch(() => null),
  };
}
