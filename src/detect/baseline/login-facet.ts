import type { AlertType } from '../alert-catalog.js';
import type { Login } from './login.js';

/** What a facet says about one login: the value it is stored under and how people read it. */
export interface FacetValue {
  /** detection_baselines.value: `203.0.113.0/24`, `DE`, `64500`, or '' for the principal itself. */
  readonly value: string;
  /** For alerts: `203.0.113.0/24`, `DE`, `AS64500 Example DC`. */
  readonly label: string;
}

/**
 * One thing about logins that has a usual set per role or principal (its
 * networks, countries, providers; or, for principals, whether it logs in at
 * all), with the alert raised when a login falls outside it.
 */
export interface LoginFacet {
  /** detection_baselines.kind. */
  readonly kind: string;
  readonly alert: AlertType;
  /** A value not seen for this many days is not usual any more. */
  readonly windowDays: number;
  /**
   * True: only a subject that already has usual values can be surprised (a
   * role's first network is not news, its second one is). False: any value
   * not seen in the window is news (a principal that never logged in).
   */
  readonly perSubject: boolean;
  /** Undefined when the facet has nothing to say (no GeoIP answer, not an IP address). */
  valueOf(login: Login): FacetValue | undefined;
  /** A stored value as people read it (for the usual ones listed in an alert). */
  labelOf(value: string): string;
  /** One line for people, and the evidence detail. */
  describe(
    login: Login,
    seen: FacetValue,
    usual: readonly string[],
    lastSeen: number | undefined,
  ): { summary: string; detail: string };
}
