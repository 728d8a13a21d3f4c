import { randomBytes } from 'node:crypto';
import { existsSync, mkdirSync, readFileSync } from 'node:fs';
import net from 'node:net';
import { setTimeout as sleep } from 'node:timers/promises';
import { Auditor } from '../audit/auditor.js';
import { loadSqlParser } from '../audit/classify/pg-parser.js';
import {
  type AuditConfig,
  type BackendConfig,
  type Config,
  type DetectionConfig,
  DetectionConfigSchema,
  GuardrailsConfigSchema,
  PasswordsConfigSchema,
} from '../config/config-schema.js';
import { JitSweeper } from '../control/access/jit-sweeper.js';
import { mergePolicy } from '../control/audit/audit-policy-store.js';
import type { GatewaySettings } from '../control/gateway-settings/gateway-settings.js';
import { startThreatDetection } from '../detect/threat-detection.js';
import { PgwardenError } from '../errors.js';
import { writeFileAtomic } from '../server/data-dir.js';
import type { DataDirLayout } from '../server/data-dir-layout.js';
import type { BackendTarget } from './backend/backend-connector.js';
import { backendTlsOptions } from './backend/backend-tls.js';
import { ExternalRoleSource } from './backend/external-role-source.js';
import type { GatewayContext } from './gateway-context.js';
import { GatewayState } from './gateway-state.js';
import { DirectoryGuardCatalog } from './guard/guard-catalog.js';
import type { GuardSettings } from './guard/guard-policy.js';
import type { IdentityDirectory } from './identity/identity-directory.js';
import { RoleDirectory, type RoleSource } from './role-directory.js';
import { JsonLinesEventSink, type SecurityEventSink } from './security-events.js';
import { ClientSession } from './session/client-session.js';
import { SessionRegistry } from './session-registry.js';
import { LoginThrottle } from './throttle/login-throttle.js';
import { TlsContext } from './tls-context.js';

export interface ListenAddress {
  readonly address: string;
  readonly port: number;
}

const PUBLIC_ADDRESSES = ['0.0.0.0', '::'];

/**
 * The PostgreSQL wire-protocol gateway: the only way into the managed
 * server. Listens on loopback (or every interface with public access on),
 * and hands each accepted connection to a ClientSession.
 */
export class Gateway {
  private servers: net.Server[] = [];
  private readonly sessions = new Set<ClientSession>();
  private boundPublic: boolean | undefined;
  private port: number;
  private accepting = true;
  private rebinding: Promise<void> = Promise.resolve();
  /** Revokes expired just-in-time grants and records their steps (ADR 12). */
  private jitSweeper: JitSweeper | undefined;

  private constructor(
    private readonly context: GatewayContext,
    private readonly onWarning: (message: string) => void,
    /** pgwarden.yaml's audit section; entries from `pgwarden audit configure` override it. */
    private fileAudit: AuditConfig,
  ) {
    this.port = context.config.port;
  }

  static async start(
    layout: DataDirLayout,
    config: Config['gateway'],
    auditConfig: AuditConfig,
    backendConfig: BackendConfig | undefined,
    onWarning: (message: string) => void,
    /** pgwarden.yaml's guardrails and passwords sections (the statement guard). */
    guard: GuardSettings = DEFAULT_GUARD_SETTINGS,
    /** pgwarden.yaml's detection section. */
    detectionConfig: DetectionConfig = DetectionConfigSchema.parse({}),
  ): Promise<Gateway> {
    const auditor = await Auditor.start(layout, auditConfig, (error) =>
      onWarning(`audit: ${error.message}`),
    );
    // The statement guard parses with it: loaded before the first session.
    await loadSqlParser();
    const directory = new RoleDirectory(layout.socketDir);
    const backendTls = backendConfig === undefined ? undefined : backendTlsOptions(backendConfig);
    const backend: BackendTarget =
      backendConfig === undefined || backendTls === undefined
        ? { kind: 'managed', socketPath: layout.socketPath }
        : { kind: 'external', host: backendConfig.host, port: backendConfig.port, tls: backendTls };
    const roles: RoleSource =
      backendConfig === undefined || backendTls === undefined
        ? directory
        : new ExternalRoleSource(backendConfig, backendTls);
    const tls = await TlsContext.create(layout, config.tls);
    let gateway: Gateway | undefined;
    const state = new GatewayState(
      layout.socketDir,
      directory,
      (settings) => {
        tls.applySettings(settings);
        gateway?.applySettings(settings);
      },
      (rows) => auditor.reconfigure(mergePolicy(gateway?.fileAudit ?? auditConfig, rows)),
      (identity) => gateway?.applyIdentity(identity),
    );
    const recordEvent = auditedEvents(new JsonLinesEventSink(layout.gatewayEvents), auditor);
    // Always on, like the cloud's: detection.enabled switches the detectors only.
    const throttle = new LoginThrottle(detectionConfig.throttle);
    for (const entry of throttle.exempt.invalid)
      onWarning(`detection.throttle.exemptRanges: "${entry}" is not an address or CIDR range`);
    const detection = await startThreatDetection({
      layout,
      config: detectionConfig,
      state: directory,
      recordEvent: (event) => recordEvent.record(event),
      sessions: {
        terminate: (id, message) => gateway?.endSessions((s) => s.id === id, message) === 1,
        terminateFrom: (address, message) =>
          gateway?.endSessions((s) => s.clientAddress === address, message) ?? 0,
      },
      onWarning,
      blocks: throttle,
    });
    const context: GatewayContext = {
      config,
      state,
      registry: new SessionRegistry(config),
      directory,
      roles,
      tls,
      // Every security event also goes through detection; alerts are recorded past it.
      events: {
        record(event) {
          recordEvent.record(event);
          throttle.record(event);
          detection.record(event);
        },
        flush: () => recordEvent.flush?.() ?? Promise.resolve(),
      },
      auditor,
      backend,
      mockSecret: mockSecret(layout),
      guard,
      // An external backend's roles are not in the managed server's catalog.
      guardCatalog: roles === directory ? new DirectoryGuardCatalog(directory) : undefined,
      detection,
      throttle,
    };
    gateway = new Gateway(context, onWarning, auditConfig);
    await state.start();
    // Before listening: grants that expired while pgwarden was down are revoked first.
    gateway.jitSweeper = await JitSweeper.start(
      layout.socketDir,
      (e) => context.events.record(e),
      onWarning,
    );
    tls.watch(onWarning);
    await gateway.bind(state.settings.publicNetworkAccess);
    return gateway;
  }

  /**
   * Ends the sessions whose principal no longer exists, or that the access
   * policies no longer allow: revocation takes effect at once.
   */
  applyIdentity(identity: IdentityDirectory): void {
    for (const session of this.sessions) session.checkPrincipal(identity);
  }

  /** Where the gateway listens now. */
  listening(): ListenAddress[] {
    return this.servers.flatMap((server) => {
      const address = server.address();
      return address !== null && typeof address === 'object'
        ? [{ address: address.address, port: address.port }]
        : [];
    });
  }

  /** Ends the live sessions `which` selects (a response action); returns how many. */
  endSessions(which: (session: ClientSession) => boolean, message: string): number {
    let ended = 0;
    for (const session of this.sessions) {
      if (!which(session)) continue;
      session.endForAlert(message);
      ended++;
    }
    return ended;
  }

  get activeSessions(): number {
    return this.sessions.size;
  }

  get tlsInfo(): TlsContext['info'] {
    return this.context.tls.info;
  }

  /**
   * SIGHUP: applies a reloaded pgwarden.yaml to new sessions (limits,
   * timeouts, message size) and reloads rules and settings (which also arrive
   * by LISTEN/NOTIFY). Returns the changed keys that only a restart applies.
   */
  async reload(
    config?: Config['gateway'],
    audit?: AuditConfig,
    guard?: GuardSettings,
  ): Promise<string[]> {
    const needsRestart: string[] = [];
    if (guard !== undefined) this.context.guard = guard; // live sessions read it at each check
    if (audit !== undefined) {
      this.fileAudit = audit;
      this.context.auditor.reconfigure(mergePolicy(audit, this.context.state.auditPolicy));
    }
    if (config !== undefined) {
      const current = this.context.config;
      for (const key of ['port', 'listenAddresses', 'tls'] as const) {
        if (JSON.stringify(current[key]) !== JSON.stringify(config[key]))
          needsRestart.push(`gateway.${key}`);
      }
      this.context.config = {
        ...config,
        port: current.port,
        listenAddresses: current.listenAddresses,
        tls: current.tls,
      };
      this.context.registry.setLimits(config);
    }
    await this.context.state.reload();
    return needsRestart;
  }

  /**
   * Stops accepting, lets sessions finish for up to `timeoutSeconds`, then
   * ends the rest with FATAL 57P01, as PostgreSQL's smart-then-fast shutdown.
   */
  async stop(timeoutSeconds: number): Promise<void> {
    this.accepting = false;
    await this.rebinding;
    // close() stops listening at once; its callback would wait for every session to end.
    for (const server of this.servers) server.close();
    this.servers = [];
    const deadline = Date.now() + timeoutSeconds * 1000;
    while (this.sessions.size > 0 && Date.now() < deadline) await sleep(50);
    for (const session of this.sessions) session.terminate();
    const grace = Date.now() + 2000;
    while (this.sessions.size > 0 && Date.now() < grace) await sleep(25);
    await this.jitSweeper?.stop();
    await this.context.state.stop();
    this.context.tls.stop();
    await this.context.detection.close();
    await this.context.events.flush?.();
    await this.context.auditor.close();
    await this.context.directory.end().catch(() => undefined);
    if (this.context.roles !== this.context.directory)
      await this.context.roles.end().catch(() => undefined);
  }

  private applySettings(settings: GatewaySettings): void {
    if (
      this.boundPublic === undefined ||
      settings.publicNetworkAccess === this.boundPublic ||
      !this.accepting
    )
      return;
    this.rebinding = this.rebinding
      .then(() => this.rebind(settings.publicNetworkAccess))
      .catch((error: unknown) =>
        this.onWarning(`could not change listeners: ${(error as Error).message}`),
      );
  }

  private async rebind(publicAccess: boolean): Promise<void> {
    const old = this.servers;
    this.servers = [];
    // Established sessions survive; only the listening sockets change.
    for (const server of old) server.close();
    await this.bind(publicAccess);
  }

  private async bind(publicAccess: boolean): Promise<void> {
    const addresses = publicAccess ? PUBLIC_ADDRESSES : this.context.config.listenAddresses;
    const errors: string[] = [];
    for (const address of addresses) {
      try {
        const server = await this.listen(address, this.port);
        if (this.port === 0) this.port = (server.address() as net.AddressInfo).port; // one port for every address
        this.servers.push(server);
      } catch (error) {
        errors.push(`${address}: ${(error as Error).message}`);
      }
    }
    this.boundPublic = publicAccess;
    if (this.servers.length === 0) {
      throw new PgwardenError(
        'PGW_GATEWAY_LISTEN_FAILED',
        `the gateway could not listen on port ${this.port} (${errors.join('; ')})`,
        {
          hint: 'choose another port with --port or gateway.port, or stop what is using it',
        },
      );
    }
    for (const error of errors) this.onWarning(`not listening on ${error}`);
  }

  private listen(address: string, port: number): Promise<net.Server> {
    return new Promise((resolve, reject) => {
      const server = net.createServer({ noDelay: true, pauseOnConnect: true }, (socket) =>
        this.accept(socket),
      );
      server.once('error', reject);
      server.listen(
        { host: address, port, ipv6Only: address.includes(':'), exclusive: true },
        () => {
          server.off('error', reject);
          server.on('error', (error) => this.onWarning(`listener ${address}: ${error.message}`));
          resolve(server);
        },
      );
    });
  }

  private accept(socket: net.Socket): void {
    socket.setNoDelay(true);
    socket.setKeepAlive(true, 60_000);
    // A session leaves the set when it finishes, not when the raw socket closes
    // (after a TLS upgrade the raw socket object no longer reports its end).
    const session = new ClientSession(socket, this.context, () => this.sessions.delete(session));
    this.sessions.add(session);
    socket.resume();
    void session.run();
  }
}

const DEFAULT_GUARD_SETTINGS: GuardSettings = {
  guardrails: GuardrailsConfigSchema.parse({}),
  passwords: PasswordsConfigSchema.parse({}),
};

/** A per-data-directory secret for mock SCRAM challenges, so an unknown role's salt stays the same across restarts. */
function mockSecret(layout: DataDirLayout): Buffer {
  mkdirSync(layout.tlsDir, { recursive: true, mode: 0o700 });
  const file = `${layout.tlsDir}/mock-secret`;
  if (existsSync(file)) return Buffer.from(readFileSync(file, 'utf8').trim(), 'base64');
  const secret = randomBytes(32);
  writeFileAtomic(file, `${secret.toString('base64')}\n`, 0o600);
  return secret;
}

/** Security events go to the events file and, when connections are audited, to the audit log. */
function auditedEvents(file: JsonLinesEventSink, auditor: Auditor): SecurityEventSink {
  return {
    record(event) {
      file.record(event);
      auditor.connectionEvent(event);
    },
    flush: () => file.flush(),
  };
}
