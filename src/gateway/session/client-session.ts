import { randomBytes } from 'node:crypto';
import type net from 'node:net';
import type tls from 'node:tls';
import {
  type AccessPolicy,
  describeDecision,
  evaluateAccess,
  type LoginContext,
} from '../../access/conditional-access.js';
import type { SessionAuditContext } from '../../audit/auditor.js';
import { TokenError } from '../../auth/oidc/token-error.js';
import { verifierKeys } from '../../auth/scram-verifier-match.js';
import { statementFeed } from '../../detect/statement/statement-feed.js';
import {
  AUTHENTICATION_CLEARTEXT_PASSWORD,
  AUTHENTICATION_OK,
  serializeAuthenticationSasl,
  serializeAuthenticationSaslContinue,
  serializeAuthenticationSaslFinal,
} from '../../protocol/backend/authentication.js';
import { serializeBackendKeyData } from '../../protocol/backend/backend-key-data.js';
import { fatal } from '../../protocol/backend/error-response.js';
import { serializeNegotiateProtocolVersion } from '../../protocol/backend/negotiate-protocol-version.js';
import type { Frame } from '../../protocol/framer.js';
import { FramingError } from '../../protocol/framing-error.js';
import { parsePasswordMessage } from '../../protocol/frontend/password-message.js';
import { parseSaslInitialResponse } from '../../protocol/frontend/sasl-initial-response.js';
import { parseSaslResponse } from '../../protocol/frontend/sasl-response.js';
import {
  parseStartupPacket,
  type StartupMessage,
  serializeCancelRequest,
} from '../../protocol/frontend/startup-packet.js';
import { MalformedMessageError } from '../../protocol/malformed-message-error.js';
import { FrontendMessageType } from '../../protocol/message-types.js';
import { SQLSTATE, type SqlState } from '../../protocol/sqlstate.js';
import { ScramError } from '../auth/scram-error.js';
import { ScramServerSession } from '../auth/scram-server.js';
import {
  mockScramVerifier,
  parseScramVerifier,
  type ScramVerifier,
} from '../auth/scram-verifier.js';
import { type BackendLogin, forwardCancel, PendingBackend } from '../backend/backend-connector.js';
import type { GatewayContext } from '../gateway-context.js';
import { refusalEvent } from '../guard/guard-refusal.js';
import { GUARDED_MESSAGES, StatementGuard } from '../guard/statement-guard.js';
import {
  type IdentityDirectory,
  looksLikeToken,
  NoPrincipalError,
  type TokenLogin,
} from '../identity/identity-directory.js';
import { Relay, type RelayEnd } from '../relay/relay.js';
import type { SecurityEvent, SecurityEventName } from '../security-events.js';
import type { SessionEntry } from '../session-registry.js';
import { ConnectionClosedError, PacketReader } from './packet-reader.js';
import { upgradeToTls } from './tls-upgrade.js';

const SSL_ACCEPT = Buffer.from('S');
const SSL_OR_GSS_REFUSE = Buffer.from('N');
const BACKEND_LOGIN_TIMEOUT_MS = 30_000;

/** A refusal: what the client is told (vague for authentication) and what the event log keeps (precise). */
class Refusal extends Error {
  constructor(
    readonly code: SqlState,
    message: string,
    readonly event: SecurityEventName,
    readonly detail?: string,
    readonly hint?: string,
  ) {
    super(message);
  }
}

/**
 * One client connection, in the order DESIGN.md gives: firewall → TLS →
 * startup → authentication → backend connection → relay. Every refusal is
 * an ErrorResponse with the right SQLSTATE, then a closed connection, and a
 * security event.
 */
export class ClientSession {
  private stream: net.Socket | tls.TLSSocket;
  private tlsSocket: tls.TLSSocket | undefined;
  private readonly address: string;
  private user: string | undefined;
  private database: string | undefined;
  private applicationName: string | undefined;
  private entry: SessionEntry | undefined;
  private relay: Relay | undefined;
  private authTimer: NodeJS.Timeout | undefined;
  /** Names this session in audit records. */
  private readonly sessionId = randomBytes(6).toString('hex');
  private channelBound = false;
  /** A verified TLS client certificate was presented (gateway.tls.clientCaFile). */
  private clientCertificate = false;
  private finished = false;
  /** The SASL mechanism the client chose, once it chose one (for authentication events). */
  private authMethod: string | undefined;
  /** What conditional access evaluates, kept to re-evaluate the live session when policies change. */
  private accessContext: Omit<LoginContext, 'at'> | undefined;
  /** The verified token, for a token login: its principal and expiry bound the session. */
  private tokenLogin: TokenLogin | undefined;
  private expiryTimer: NodeJS.Timeout | undefined;

  constructor(
    private readonly socket: net.Socket,
    private readonly gateway: GatewayContext,
    private readonly onFinished: () => void = () => undefined,
  ) {
    this.stream = socket;
    this.address = gateway.state.firewall.check(socket.remoteAddress).address;
    socket.on('error', () => undefined); // reported through the reader or relay
  }

  async run(): Promise<void> {
    try {
      await this.admit();
    } catch (error) {
      this.handleFailure(error);
    }
  }

  /** Ends the session on shutdown: during relay through it, before that at once. */
  terminate(): void {
    if (this.relay !== undefined) this.relay.terminate('shutdown');
    else
      this.refuseNow(
        SQLSTATE.ADMIN_SHUTDOWN,
        'terminating connection due to administrator command',
      );
  }

  private async admit(): Promise<void> {
    const { state, registry } = this.gateway;
    this.record({ event: 'connection.received', address: this.address });
    // Firewall: decided on accept, before a byte is read.
    const decision = state.firewall.check(this.socket.remoteAddress);
    if (!decision.allowed) {
      throw new Refusal(
        SQLSTATE.INVALID_AUTHORIZATION_SPECIFICATION,
        `no firewall rule allows host "${decision.address}"`,
        'firewall.denied',
      );
    }
    state.recordHit(decision.rule);
    const entry = registry.open(this.address);
    if (entry === 'max-connections')
      throw new Refusal(
        SQLSTATE.TOO_MANY_CONNECTIONS,
        'sorry, too many clients already',
        'session.limit',
      );
    if (entry === 'per-address') {
      throw new Refusal(
        SQLSTATE.TOO_MANY_CONNECTIONS,
        `too many connections from host "${this.address}"`,
        'session.limit',
      );
    }
    this.entry = entry;
    const timeoutMs = this.gateway.config.authenticationTimeoutSeconds * 1000;
    this.authTimer = setTimeout(() => {
      this.record({ event: 'auth.timeout', address: this.address, user: this.user });
      this.refuseNow(SQLSTATE.QUERY_CANCELED, 'canceling authentication due to timeout');
    }, timeoutMs);
    this.authTimer.unref();

    const { reader, startup } = await this.negotiate();
    if (this.tlsSocket === undefined && state.settings.requireSecureTransport) {
      throw new Refusal(
        SQLSTATE.INVALID_AUTHORIZATION_SPECIFICATION,
        'SSL connection is required; connect with sslmode=require or verify-full',
        'tls.required',
        undefined,
        'the server has require_secure_transport on',
      );
    }
    await this.authenticateAndConnect(reader, startup);
  }

  /** SSLRequest / GSSENCRequest / direct TLS / CancelRequest, up to the StartupMessage. */
  private async negotiate(): Promise<{ reader: PacketReader; startup: StartupMessage }> {
    let reader = new PacketReader(this.socket, { detectDirectTls: true });
    for (;;) {
      const frame = await reader.next();
      if (reader.directTls !== undefined) {
        reader = await this.startTls(reader.directTls);
        continue;
      }
      const packet = parseStartupPacket(frame.body);
      switch (packet.kind) {
        case 'ssl-request':
          if (this.tlsSocket !== undefined) throw violation('SSLRequest received over TLS');
          if (reader.hasBuffered()) throw violation('received unencrypted data after SSL request');
          reader.detach();
          this.socket.write(SSL_ACCEPT);
          reader = await this.startTls(undefined);
          break;
        case 'gssenc-request':
          if (reader.hasBuffered())
            throw violation('received unencrypted data after GSSAPI encryption request');
          this.stream.write(SSL_OR_GSS_REFUSE);
          break;
        case 'cancel-request':
          this.cancel(packet.processId, packet.secretKey);
          throw new ConnectionClosedError('cancel request handled');
        case 'startup':
          reader.setTyped();
          return { reader, startup: packet };
      }
    }
  }

  private async startTls(direct: Buffer | undefined): Promise<PacketReader> {
    const upgraded = await upgradeToTls(this.socket, this.gateway.tls.secureContext, {
      direct,
      requestCert: this.gateway.tls.requestsClientCertificates,
    });
    if (!upgraded.ok) {
      const alpn = upgraded.socket !== undefined;
      this.record({
        event: alpn ? 'tls.alpn-missing' : 'tls.handshake-failed',
        address: this.address,
        detail: upgraded.reason,
      });
      if (upgraded.socket === undefined) throw new ConnectionClosedError(upgraded.reason);
      // TLS is up: the refusal must travel over it (PostgreSQL 17 does the same).
      this.stream = upgraded.socket;
      this.stream.on('error', () => undefined);
      throw violation(
        'received direct SSL connection request without ALPN protocol negotiation extension',
      );
    }
    this.tlsSocket = upgraded.socket;
    this.clientCertificate = upgraded.clientCertificate;
    this.stream = upgraded.socket;
    this.stream.on('error', () => undefined);
    return new PacketReader(upgraded.socket);
  }

  private async authenticateAndConnect(
    reader: PacketReader,
    startup: StartupMessage,
  ): Promise<void> {
    const { registry, roles } = this.gateway;
    const parameters = new Map(startup.parameters);
    const protocolOptions = [...parameters.keys()].filter((name) => name.startsWith('_pq_.'));
    for (const option of protocolOptions) parameters.delete(option);
    // The gateway speaks protocol 3.0; newer minors and _pq_ options are declined (docs 55.2.1).
    if (startup.minor > 0 || protocolOptions.length > 0)
      this.stream.write(serializeNegotiateProtocolVersion(0, protocolOptions));
    const user = parameters.get('user') as string;
    this.user = user;
    this.database = parameters.get('database') ?? user;
    this.applicationName = parameters.get('application_name');
    // The throttle answers after the startup packet, so the client shows its message (not a failed TLS
    // negotiation), and before anything is looked up or the backend is touched.
    const blocked = this.gateway.throttle.blocked(this.address);
    if (blocked !== undefined)
      throw new Refusal(
        SQLSTATE.TOO_MANY_CONNECTIONS,
        blocked.message,
        'connection.throttled',
        blocked.detail,
      );

    let role: Awaited<ReturnType<typeof roles.lookup>>;
    try {
      role = await roles.lookup(user);
    } catch (error) {
      throw new Refusal(
        SQLSTATE.CONNECTION_FAILURE,
        'could not connect to the server',
        'auth.backend-refused',
        `role lookup failed: ${(error as Error).message}`,
      );
    }
    const real = role.kind === 'scram' ? parseScramVerifier(role.verifier) : undefined;
    const identity = this.gateway.state.identity;
    // Mode token: every login gives a token; mode both: the roles a principal maps to do.
    const tokenLogin =
      identity.mode === 'token' || (identity.mode === 'both' && (await identity.mapsRole(user)));
    if (role.kind === 'no-scram-secret' && !tokenLogin) {
      throw new Refusal(
        SQLSTATE.INVALID_PASSWORD,
        `password authentication failed for user "${user}"`,
        'auth.no-scram-secret',
        'role has an MD5 password or none; the gateway accepts SCRAM-SHA-256 only',
        "an administrator must set this role's password again (ALTER ROLE ... PASSWORD) so it is stored as SCRAM-SHA-256",
      );
    }
    // For a real role, PostgreSQL starts the backend while the client does its SCRAM round trips;
    // not when access policies exist, which must decide before the backend is touched.
    const early =
      real !== undefined &&
      !tokenLogin &&
      this.gateway.state.accessPolicies.length === 0 &&
      registry.reserveEarlyBackend()
        ? PendingBackend.start(this.gateway.backend, parameters, BACKEND_LOGIN_TIMEOUT_MS)
        : undefined;
    let login: BackendLogin;
    try {
      const credentials = tokenLogin
        ? await this.authenticateWithToken(reader, user, identity, real)
        : role.kind === 'no-scram-secret'
          ? undefined // not reached: refused above unless a token is asked for
          : await this.authenticate(reader, user, role.kind, real);
      if (this.entry !== undefined && !registry.assignUser(this.entry, user)) {
        throw new Refusal(
          SQLSTATE.TOO_MANY_CONNECTIONS,
          `too many connections for role "${user}"`,
          'session.limit',
        );
      }
      this.accessContext = this.loginContext(user);
      this.decideAccess(this.gateway.state.accessPolicies, 'login');
      if (credentials?.serverFinal !== undefined) {
        this.stream.write(serializeAuthenticationSaslFinal(credentials.serverFinal));
      }
      const backend =
        early ?? PendingBackend.start(this.gateway.backend, parameters, BACKEND_LOGIN_TIMEOUT_MS);
      login = await backend.authenticate(credentials);
    } catch (error) {
      early?.abort();
      throw error;
    } finally {
      if (early !== undefined) registry.releaseEarlyBackend();
    }
    if (!login.ok) {
      this.record({
        event: 'auth.backend-refused',
        address: this.address,
        user,
        database: this.database,
        detail: login.reason,
      });
      if (login.errorMessage !== undefined) this.stream.end(login.errorMessage);
      else this.refuseNow(SQLSTATE.CONNECTION_FAILURE, 'could not connect to the server');
      this.finish();
      return;
    }
    if (this.finished || this.entry === undefined) {
      login.socket.destroy();
      return;
    }
    const token = this.tokenLogin;
    if (token !== undefined && !this.gateway.state.identity.hasPrincipal(token.principalId)) {
      // Deleted while the backend session was opening.
      login.socket.destroy();
      throw new Refusal(
        SQLSTATE.INVALID_PASSWORD,
        `token authentication failed for user "${user}"`,
        'auth.token-failed',
        'no-principal: the principal was removed during the login',
      );
    }
    const clientKey = registry.issueKey(this.entry, login.backendKey);
    const ready = login.startupMessages[login.startupMessages.length - 1] as Buffer;
    this.stream.write(
      Buffer.concat([
        AUTHENTICATION_OK,
        ...login.startupMessages.slice(0, -1),
        serializeBackendKeyData(clientKey.processId, clientKey.secretKey),
        ready,
      ]),
    );
    if (this.authTimer !== undefined) clearTimeout(this.authTimer);
    this.record({
      event: 'auth.succeeded',
      address: this.address,
      user,
      database: this.database,
      applicationName: this.applicationName,
      method: this.authMethod,
      ...(token === undefined
        ? {}
        : {
            principal: `${token.principalId} (${token.principalType} ${token.subject} of ${token.provider})`,
          }),
      detail:
        this.tlsSocket === undefined
          ? 'plaintext'
          : `${this.tlsSocket.getProtocol() ?? 'TLS'}${this.channelBound ? ', channel binding' : ''}`,
    });

    const pending = reader.drain().map((frame) => frame.raw);
    if (reader.hasBuffered()) throw violation('message received before authentication completed');
    reader.detach();
    const backendKey = login.backendKey;
    const auditContext: SessionAuditContext = {
      session: this.sessionId,
      address: this.address,
      port: this.socket.remotePort,
      tls: this.tlsSocket?.getProtocol() ?? 'none',
      database: this.database ?? user,
      user,
      applicationName: this.applicationName,
    };
    // Threat detection sees every finished statement through the audit's tracker.
    const feed = statementFeed(this.gateway.detection, auditContext);
    const audit = this.gateway.auditor.session(auditContext, feed?.onStatement);
    const guard = new StatementGuard(
      () => this.gateway.guard,
      user,
      this.gateway.guardCatalog,
      (refusal, protocol) =>
        this.record({
          event: refusalEvent(refusal.reason),
          address: this.address,
          user,
          database: this.database,
          applicationName: this.applicationName,
          detail: refusal.message,
          guard: {
            reason: refusal.reason,
            statement: refusal.statement,
            within: refusal.within,
            protocol,
          },
        }),
    );
    const startedAt = Date.now();
    this.relay = new Relay(this.stream, login.socket, {
      clientTap: audit?.clientTap,
      backendTap: audit?.backendTap,
      // Idle (never called) while there are no honeytokens.
      backendWatch: this.gateway.state.honeytokens.watch(
        {
          session: this.sessionId,
          address: this.address,
          user,
          database: auditContext.database,
          applicationName: this.applicationName,
        },
        (alert) => this.gateway.detection.alert(alert),
      ),
      durableWait: audit?.takeDurableWait,
      guard: { holds: GUARDED_MESSAGES, check: guard.check },
      maxMessageLength: this.gateway.config.maxMessageLength,
      idleTimeoutMs: this.gateway.config.idleSessionTimeoutSeconds * 1000,
      initialTransactionStatus: ready[ready.length - 1] as number,
      // A client that leaves mid-query must not leave its query running (docs 55.2.8).
      onAbandoned: () =>
        forwardCancel(
          this.gateway.backend,
          serializeCancelRequest(backendKey.processId, backendKey.secretKey),
        ),
      onEnd: (reason, detail) => {
        feed?.end();
        this.gateway.auditor.sessionClosed(auditContext, {
          durationMs: Date.now() - startedAt,
          bytesIn: this.relay?.bytesFromClient ?? 0,
          bytesOut: this.relay?.bytesFromBackend ?? 0,
          statements: audit?.totals.statements ?? 0,
          rows: audit?.totals.rows ?? 0,
          reason,
        });
        this.relayEnded(reason, detail);
      },
    });
    this.relay.start(pending, login.leftover);
    if (token !== undefined) this.endAtExpiry(token);
  }

  /** A token session lasts as long as its token: then it ends with a FATAL that says why. */
  private endAtExpiry(token: TokenLogin): void {
    const end = (): void => {
      this.relay?.terminateWith(
        'token-expired',
        SQLSTATE.INVALID_AUTHORIZATION_SPECIFICATION,
        `terminating connection: the access token expired at ${new Date(token.expiresAt).toISOString()}; reconnect with a new token`,
      );
    };
    // setTimeout holds at most 2^31-1 ms; a longer token is re-armed.
    const arm = (): void => {
      const left = token.expiresAt - Date.now();
      if (left <= 0) {
        end();
        return;
      }
      this.expiryTimer = setTimeout(arm, Math.min(left, 0x7fffffff));
      this.expiryTimer.unref();
    };
    arm();
  }

  /**
   * A login that gives an access token as its password (docs 55.3.2:
   * AuthenticationCleartextPassword, asked for only over TLS). In mode `both`
   * a text that is not a token is checked as the role's password against its
   * SCRAM verifier instead. Returns the SCRAM keys of a password login, or
   * undefined for a token login (the backend admits the role without a
   * password, ADR 11).
   */
  private async authenticateWithToken(
    reader: PacketReader,
    user: string,
    identity: IdentityDirectory,
    real: ScramVerifier | undefined,
  ): Promise<{ clientKey: Buffer; serverKey: Buffer; serverFinal?: Buffer } | undefined> {
    if (this.tlsSocket === undefined) {
      throw new Refusal(
        SQLSTATE.INVALID_AUTHORIZATION_SPECIFICATION,
        'token authentication requires an encrypted connection',
        'auth.token-needs-tls',
        undefined,
        'connect with sslmode=verify-full; a token is never sent in the clear',
      );
    }
    this.stream.write(AUTHENTICATION_CLEARTEXT_PASSWORD);
    const secret = parsePasswordMessage(expectPassword(await reader.next()));
    if (!looksLikeToken(secret)) {
      this.authMethod = 'password';
      if (identity.mode === 'token') {
        throw new Refusal(
          SQLSTATE.INVALID_PASSWORD,
          'password logins are disabled: sign in with an access token from your identity provider',
          'auth.password-disabled',
          'identity mode is token',
        );
      }
      const keys = real === undefined ? undefined : verifierKeys(secret, real);
      if (keys === undefined) {
        throw new Refusal(
          SQLSTATE.INVALID_PASSWORD,
          `password authentication failed for user "${user}"`,
          'auth.failed',
          'wrong password (given where a token was also accepted)',
        );
      }
      return keys;
    }
    this.authMethod = 'oidc';
    try {
      this.tokenLogin = await identity.authenticate(secret, user);
    } catch (error) {
      if (!(error instanceof TokenError) && !(error instanceof NoPrincipalError)) throw error;
      throw new Refusal(
        SQLSTATE.INVALID_PASSWORD,
        `token authentication failed for user "${user}"`,
        'auth.token-failed',
        `${error.reason}: ${error.message}`,
      );
    }
    return undefined;
  }

  /**
   * Ends the session if its principal was deleted, or if the access policies
   * no longer allow it; called whenever the state changes.
   */
  checkPrincipal(identity: IdentityDirectory): void {
    if (this.relay === undefined) return; // still logging in: the login checks again
    const login = this.tokenLogin;
    if (login !== undefined && !identity.hasPrincipal(login.principalId)) {
      this.relay.terminateWith(
        'revoked',
        SQLSTATE.INVALID_AUTHORIZATION_SPECIFICATION,
        'terminating connection: the identity principal of this session was removed',
      );
      return;
    }
    try {
      this.decideAccess(this.gateway.state.accessPolicies, 'session');
    } catch {
      this.relay.terminateWith(
        'revoked',
        SQLSTATE.INVALID_AUTHORIZATION_SPECIFICATION,
        'terminating connection: the access policy no longer allows this session',
      );
    }
  }

  /** The gateway's id of this session (in audit records and alerts). */
  get id(): string {
    return this.sessionId;
  }

  /** The client's address, after the firewall's normalisation. */
  get clientAddress(): string {
    return this.address;
  }

  /**
   * Ends the session because of an alert's response action: FATAL 57P01
   * between two backend messages, or at once if still logging in.
   */
  endForAlert(message: string): void {
    if (this.relay === undefined) {
      this.refuseNow(SQLSTATE.ADMIN_SHUTDOWN, message);
      return;
    }
    this.relay.terminateWith('revoked', SQLSTATE.ADMIN_SHUTDOWN, message);
  }

  /** What conditional access knows of this login (all but the time). */
  private loginContext(user: string): Omit<LoginContext, 'at'> {
    const token = this.tokenLogin;
    return {
      role: user,
      address: this.address,
      ...(this.applicationName === undefined ? {} : { applicationName: this.applicationName }),
      // Presented and verified against gateway.tls.clientCaFile (RFC 8446 section 4.4.2).
      clientCertificate: this.clientCertificate,
      method: token === undefined ? 'password' : 'token',
      ...(token === undefined
        ? {}
        : {
            principalId: token.subject,
            groups: token.groups,
            ...(token.amr === undefined ? {} : { amr: token.amr }),
            ...(token.acr === undefined ? {} : { acr: token.acr }),
          }),
    };
  }

  /**
   * Conditional access (evaluated after authentication, before the backend is
   * touched): throws a Refusal (28000) naming nothing; the deciding policy and
   * why go to the audit event only.
   */
  private decideAccess(policies: readonly AccessPolicy[], when: 'login' | 'session'): void {
    const context = this.accessContext;
    if (context === undefined || policies.length === 0) return;
    const decision = evaluateAccess(policies, { ...context, at: new Date() });
    if (decision.effect === 'allow') return;
    const why = decision.explanation.find((step) => step.policy === decision.policy)?.text;
    const refusal = new Refusal(
      SQLSTATE.INVALID_AUTHORIZATION_SPECIFICATION,
      `access denied for user "${context.role}" by the server's access policy`,
      'access.denied',
      `${describeDecision(decision)}${why === undefined ? '' : `: ${why}`}`,
    );
    if (when === 'session') {
      this.record({
        event: 'access.denied',
        address: this.address,
        user: context.role,
        database: this.database,
        detail: `${refusal.detail} (live session ended)`,
      });
    }
    throw refusal;
  }

  /**
   * The SCRAM exchange (docs 55.3.1). Unknown and internal roles go through
   * the same exchange against a mock verifier and fail exactly like a wrong
   * password, so nothing tells an attacker which roles exist.
   */
  private async authenticate(
    reader: PacketReader,
    user: string,
    kind: 'scram' | 'unknown' | 'internal',
    real: ScramVerifier | undefined,
  ): Promise<{ clientKey: Buffer; serverKey: Buffer; serverFinal: Buffer }> {
    const verifier = real ?? mockScramVerifier(user, this.gateway.mockSecret);
    const server = new ScramServerSession({
      verifier,
      channelBinding:
        this.tlsSocket === undefined
          ? null
          : { type: 'tls-server-end-point', data: this.gateway.tls.endPoint },
    });
    this.stream.write(
      serializeAuthenticationSasl(ScramServerSession.mechanisms(this.tlsSocket !== undefined)),
    );
    const initial = parseSaslInitialResponse(expectPassword(await reader.next()));
    const challenge = server.clientFirst(initial.mechanism, initial.data ?? Buffer.alloc(0));
    this.authMethod = initial.mechanism; // one the gateway offered, or clientFirst threw
    this.stream.write(serializeAuthenticationSaslContinue(challenge));
    const response = parseSaslResponse(expectPassword(await reader.next()));
    const failed = (detail: string): Refusal =>
      new Refusal(
        SQLSTATE.INVALID_PASSWORD,
        `password authentication failed for user "${user}"`,
        kind === 'internal' ? 'auth.internal-role' : 'auth.failed',
        detail,
      );
    let result: ReturnType<ScramServerSession['clientFinal']>;
    try {
      result = server.clientFinal(response);
    } catch (error) {
      if (error instanceof ScramError && error.kind === 'rejected')
        throw failed(real === undefined ? `role ${kind}` : error.message);
      throw error;
    }
    if (real === undefined) throw failed(`role ${kind}`);
    this.channelBound = server.channelBound;
    return {
      clientKey: result.clientKey,
      serverKey: verifier.serverKey,
      serverFinal: result.serverFinal,
    };
  }

  private cancel(processId: number, secretKey: Buffer): void {
    const backendKey = this.gateway.registry.resolveCancel(processId, secretKey);
    if (backendKey === undefined) {
      this.record({ event: 'cancel.unknown-key', address: this.address });
    } else {
      forwardCancel(
        this.gateway.backend,
        serializeCancelRequest(backendKey.processId, backendKey.secretKey),
      );
      this.record({ event: 'cancel.forwarded', address: this.address });
    }
  }

  private relayEnded(reason: RelayEnd, detail: string | undefined): void {
    const event: SecurityEventName =
      reason === 'message-too-large'
        ? 'session.message-too-large'
        : reason === 'protocol-violation'
          ? 'session.protocol-violation'
          : reason === 'idle-timeout'
            ? 'session.idle-timeout'
            : reason === 'token-expired'
              ? 'session.token-expired'
              : reason === 'revoked'
                ? 'session.revoked'
                : 'session.ended';
    this.record({
      event,
      address: this.address,
      user: this.user,
      database: this.database,
      detail: detail ?? reason,
    });
    this.finish();
  }

  private handleFailure(error: unknown): void {
    if (error instanceof Refusal) {
      this.record({
        event: error.event,
        address: this.address,
        user: this.user,
        database: this.database,
        applicationName: this.applicationName,
        ...(error.event.startsWith('auth.') && this.authMethod !== undefined
          ? { method: this.authMethod }
          : {}),
        detail: error.detail,
      });
      this.refuseNow(error.code, error.message, error.hint);
    } else if (error instanceof FramingError) {
      this.record({
        event:
          error.kind === 'too-large' ? 'session.message-too-large' : 'session.protocol-violation',
        address: this.address,
        user: this.user,
        detail: error.message,
      });
      this.refuseNow(
        error.sqlState,
        error.kind === 'too-large'
          ? 'startup message is too large'
          : 'invalid startup packet layout',
      );
    } else if (
      error instanceof MalformedMessageError ||
      (error instanceof ScramError && error.kind === 'malformed')
    ) {
      this.record({
        event: 'session.protocol-violation',
        address: this.address,
        user: this.user,
        detail: error.message,
      });
      // The codec knows the precise SQLSTATE (e.g. 0A000 for an unsupported protocol version).
      this.refuseNow(
        error instanceof MalformedMessageError ? error.sqlState : SQLSTATE.PROTOCOL_VIOLATION,
        error instanceof ScramError ? 'malformed SCRAM message' : error.message,
      );
    } else if (error instanceof ConnectionClosedError) {
      this.close();
    } else {
      this.record({
        event: 'session.protocol-violation',
        address: this.address,
        user: this.user,
        detail: `internal: ${(error as Error).message}`,
      });
      this.refuseNow(SQLSTATE.INTERNAL_ERROR, 'internal error in the gateway');
    }
    this.finish();
  }

  /** A security event of this connection: the client's port and TLS version go with every one. */
  private record(event: SecurityEvent): void {
    this.gateway.events.record({
      ...event,
      session: this.sessionId,
      port: this.socket.remotePort,
      tls: this.tlsSocket?.getProtocol() ?? 'none',
    });
  }

  /** Sends a FATAL and closes (only before the relay: the stream is at a message boundary). */
  private refuseNow(code: SqlState, message: string, hint?: string): void {
    if (!this.stream.destroyed && this.stream.writable) {
      this.stream.end(fatal(code, message, hint === undefined ? {} : { hint }));
    }
    this.close();
  }

  private close(): void {
    setTimeout(() => {
      this.stream.destroy();
      this.socket.destroy();
    }, 1000).unref();
    if (this.stream.destroyed) this.socket.destroy();
  }

  private finish(): void {
    if (this.finished) return;
    this.finished = true;
    this.onFinished();
    if (this.authTimer !== undefined) clearTimeout(this.authTimer);
    if (this.expiryTimer !== undefined) clearTimeout(this.expiryTimer);
    if (this.entry !== undefined) this.gateway.registry.close(this.entry);
  }
}

function violation(message: string): Refusal {
  return new Refusal(SQLSTATE.PROTOCOL_VIOLATION, message, 'session.protocol-violation');
}

function expectPassword(frame: Frame): Buffer {
  if (frame.type !== FrontendMessageType.PASSWORD_MESSAGE) {
    throw violation(
      `expected SASL response, got message type "${String.fromCharCode(frame.type ?? 63)}"`,
    );
  }
  return frame.body;
}
