import type { Auditor } from '../audit/auditor.js';
import type { Config } from '../config/config-schema.js';
import type { ThreatDetector } from '../detect/threat-detector.js';
import type { BackendTarget } from './backend/backend-connector.js';
import type { GatewayState } from './gateway-state.js';
import type { GuardCatalog } from './guard/guard-catalog.js';
import type { GuardSettings } from './guard/guard-policy.js';
import type { RoleDirectory, RoleSource } from './role-directory.js';
import type { SecurityEventSink } from './security-events.js';
import type { SessionRegistry } from './session-registry.js';
import type { LoginThrottle } from './throttle/login-throttle.js';
import type { TlsContext } from './tls-context.js';

/** What every client session of one gateway shares. */
export interface GatewayContext {
  /** Replaced as a whole when SIGHUP reloads pgwarden.yaml; each session reads it when it needs it. */
  config: Config['gateway'];
  readonly state: GatewayState;
  readonly registry: SessionRegistry;
  /** The managed server's directory: state queries, and verifiers when there is no external backend. */
  readonly directory: RoleDirectory;
  /** Where verifiers come from: the managed server, or the external backend. */
  readonly roles: RoleSource;
  readonly tls: TlsContext;
  readonly events: SecurityEventSink;
  readonly backend: BackendTarget;
  /** The statement and connection audit. */
  readonly auditor: Auditor;
  /** Keys mock SCRAM challenges for unknown roles; stable across restarts. */
  readonly mockSecret: Buffer;
  /** The statement guard's settings (guardrails, passwords); replaced on SIGHUP. */
  guard: GuardSettings;
  /** The catalog the guard checks role grants and password reuse in (managed server only). */
  readonly guardCatalog: GuardCatalog | undefined;
  /** Threat detection: sees every security event (through `events`) and every finished statement. */
  readonly detection: ThreatDetector;
  /** Refuses a source address for a while after repeated failed logins, or when a response blocks it. */
  readonly throttle: LoginThrottle;
}
