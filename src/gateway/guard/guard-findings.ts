import type { GuardRefusal } from './guard-refusal.js';

/** Where a statement was found: its kind and the bodies around it. */
export interface Site {
  readonly statement: string;
  readonly within: string;
}

/**
 * A check that needs the catalog, done after the static rules passed:
 * - `grant`: the granted role may itself hold a privileged or internal role
 *   (or BYPASSRLS, which SET ROLE hands on);
 * - `current-user`: CURRENT_USER / CURRENT_ROLE may name an internal role
 *   after SET ROLE, if the session user is a member of one.
 */
export type CatalogCheck =
  | { readonly kind: 'grant'; readonly role: string; readonly grantee: string; readonly site: Site }
  | { readonly kind: 'current-user'; readonly action: string; readonly site: Site };

/** A cleartext password that passed the policy, to compare with the role's previous ones. */
export interface ReuseCheck {
  readonly role: string;
  /** Kept in memory only for the comparison; never logged, never in an event. */
  readonly password: string;
  readonly site: Site;
}

/** What the static inspection of one message found. */
export class Findings {
  refusal: GuardRefusal | undefined;
  readonly catalog: CatalogCheck[] = [];
  readonly reuse: ReuseCheck[] = [];

  /** Keeps the first refusal: it is the one the client is told about. */
  refuse(refusal: GuardRefusal): void {
    this.refusal ??= refusal;
  }

  get needsCatalog(): boolean {
    return this.catalog.length > 0 || this.reuse.length > 0;
  }
}

/** The `within` of statements found inside `parent` (and, e.g., an EXECUTE in it). */
export function inside(parent: Site, step?: string): string {
  const path = parent.within === '' ? parent.statement : `${parent.within} > ${parent.statement}`;
  return step === undefined ? path : `${path} > ${step}`;
}
