import type { Config } from '../config/config-schema.js';
import type { BackendTarget } from './backend/backend-connector.js';
import type { GatewayState } from './gateway-state.js';
import type { RoleDirectory } from './role-directory.js';
import type { SecurityEventSink } from './security-events.js';
import type { SessionRegistry } from './session-registry.js';
import type { TlsContext } from './tls-context.js';

/** What every client session of one gateway shares. */
export interface GatewayContext {
  readonly config: Config['gateway'];
  readonly state: GatewayState;
  readonly registry: SessionRegistry;
  readonly directory: RoleDirectory;
  readonly tls: TlsContext;
  readonly events: SecurityEventSink;
  readonly backend: BackendTarget;
  /** Keys mock SCRAM challenges for unknown roles; stable across restarts. */
  readonly mockSecret: Buffer;
}
