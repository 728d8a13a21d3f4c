import { JwksSource } from '../../auth/oidc/jwks.js';
import { TokenError } from '../../auth/oidc/token-error.js';
import { verifyAccessToken } from '../../auth/oidc/verify-token.js';
import type {
  IdentityMode,
  IdentityPrincipal,
  IdentityProvider,
} from '../../control/identity/identity-store.js';

/** A verified token login: who, as which role, until when. */
export interface TokenLogin {
  readonly principalId: number;
  readonly provider: string;
  readonly principalType: IdentityPrincipal['type'];
  /** The immutable id the principal matched (a subject, or a group id). */
  readonly subject: string;
  readonly expiresAt: number;
  readonly groups: readonly string[];
  readonly amr: readonly string[] | undefined;
  readonly acr: string | undefined;
}

/** A valid token that maps to no principal for the requested role. */
export class NoPrincipalError extends Error {
  readonly reason = 'no-principal';
}

/** Whether `member` is a member of `group` (through any chain of grants). */
export type MemberCheck = (member: string, group: string) => Promise<boolean>;

/**
 * The gateway's view of identity providers and principals: which logins take
 * a token, and what a token is worth. Replaced as a whole when the state
 * changes; key sets are carried over for providers whose keys come from the
 * same place, so their cache survives.
 */
export class IdentityDirectory {
  private constructor(
    readonly mode: IdentityMode,
    private readonly providers: ReadonlyMap<
      string,
      { provider: IdentityProvider; keys: JwksSource }
    >,
    readonly principals: readonly IdentityPrincipal[],
    private readonly isMember: MemberCheck,
  ) {}

  static empty(isMember: MemberCheck): IdentityDirectory {
    return new IdentityDirectory('password', new Map(), [], isMember);
  }

  /** A directory for new state, reusing the key sets of `previous` where the source is the same. */
  static build(
    mode: IdentityMode,
    providers: readonly IdentityProvider[],
    principals: readonly IdentityPrincipal[],
    isMember: MemberCheck,
    previous?: IdentityDirectory,
  ): IdentityDirectory {
    const byIssuer = new Map<string, { provider: IdentityProvider; keys: JwksSource }>();
    for (const provider of providers) {
      const old = previous?.providers.get(provider.issuer);
      const sameKeys =
        old !== undefined &&
        old.provider.jwksUri === provider.jwksUri &&
        old.provider.jwksFile === provider.jwksFile;
      const keys = sameKeys
        ? old.keys
        : provider.jwksUri !== null
          ? JwksSource.fromUrl(provider.jwksUri, { allowInsecureLoopbackHttp: true })
          : JwksSource.fromFile(provider.jwksFile as string);
      byIssuer.set(provider.issuer, { provider, keys });
    }
    return new IdentityDirectory(mode, byIssuer, principals, isMember);
  }

  /** Whether some principal could log in as `role` (directly, or as a member of a group's role). */
  async mapsRole(role: string): Promise<boolean> {
    for (const principal of this.principals) {
      if (principal.role === role && principal.loginAs === 'role') return true;
    }
    for (const principal of this.principals) {
      if (principal.loginAs === 'member' && (await this.isMember(role, principal.role)))
        return true;
    }
    return false;
  }

  /** Whether a principal of this id still exists (revocation ends sessions). */
  hasPrincipal(id: number): boolean {
    return this.principals.some((p) => p.id === id);
  }

  /**
   * Verifies `token` for a login as `role`: the provider is the one whose
   * issuer the token names (checked again, with its signature), then a
   * principal must map the token's immutable id, or one of its groups, to the
   * role. Throws TokenError or NoPrincipalError.
   */
  async authenticate(token: string, role: string): Promise<TokenLogin> {
    const entry = this.providers.get(unverifiedIssuer(token));
    if (entry === undefined) {
      throw new TokenError('wrong-issuer', 'the token names no configured identity provider');
    }
    const { provider, keys } = entry;
    const verified = await verifyAccessToken(token, {
      issuer: provider.issuer,
      audience: provider.audiences,
      keys,
      // The subject claim too: a token without the id the principals are keyed on maps to nothing.
      requiredClaims: [...new Set([...provider.requiredClaims, provider.subjectClaim])],
    });
    const { claims } = verified;
    const subject = claims[provider.subjectClaim];
    const groups = stringList(claims[provider.groupsClaim]);
    const base = {
      provider: provider.name,
      expiresAt: verified.expiresAt,
      groups,
      amr: claims.amr === undefined ? undefined : stringList(claims.amr),
      acr: typeof claims.acr === 'string' ? claims.acr : undefined,
    };
    for (const principal of this.principals) {
      if (principal.provider !== provider.name || principal.type === 'group') continue;
      if (principal.subject === subject && principal.role === role) {
        return { ...base, principalId: principal.id, principalType: principal.type, subject };
      }
    }
    for (const principal of this.principals) {
      if (principal.provider !== provider.name || principal.type !== 'group') continue;
      if (!groups.includes(principal.subject)) continue;
      const fits =
        principal.loginAs === 'role'
          ? principal.role === role
          : await this.isMember(role, principal.role);
      if (fits) {
        return {
          ...base,
          principalId: principal.id,
          principalType: 'group',
          subject: principal.subject,
        };
      }
    }
    throw new NoPrincipalError(
      `no principal of provider ${provider.name} maps this token to role ${JSON.stringify(role)}`,
    );
  }
}

/**
 * The `iss` a token claims, read before verification only to choose which
 * provider's keys verify it; verification checks it again.
 */
function unverifiedIssuer(token: string): string {
  try {
    const payload = token.split('.')[1] ?? '';
    const claims = JSON.parse(Buffer.from(payload, 'base64url').toString('utf8')) as unknown;
    const iss = (claims as { iss?: unknown } | null)?.iss;
    return typeof iss === 'string' ? iss : '';
  } catch {
    return '';
  }
}

function stringList(value: unknown): string[] {
  if (typeof value === 'string') return [value];
  return Array.isArray(value) ? value.filter((v): v is string => typeof v === 'string') : [];
}

/** Whether a password looks like a JWS compact serialization (three base64url parts). */
export function looksLikeToken(password: string): boolean {
  return /^[A-Za-z0-9_-]+\.[A-Za-z0-9_-]+\.[A-Za-z0-9_-]*$/.test(password);
}
