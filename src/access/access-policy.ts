/**
 * The model of conditional access: policies the gateway evaluates after a
 * client authenticates and before the backend is touched. Plain data, so the
 * same values come from the config file, the state database and the REST API.
 */

export type PolicyEffect = 'allow' | 'deny';

/** Week days in week order, as policies spell them. */
export const WEEKDAYS = ['mon', 'tue', 'wed', 'thu', 'fri', 'sat', 'sun'] as const;
export type Weekday = (typeof WEEKDAYS)[number];

/**
 * A recurring window of local wall-clock time, start inclusive, end exclusive.
 * An end before the start wraps past midnight and belongs to the day it
 * starts on: `fri 22:00-06:00` holds Friday night and the small hours of Saturday.
 */
export interface TimeWindow {
  readonly days: readonly Weekday[];
  /** `HH:MM`, 00:00 to 23:59. */
  readonly start: string;
  /** `HH:MM`, 00:01 to 24:00 (end of the day); never equal to start. */
  readonly end: string;
  /** An IANA time zone such as `Europe/Berlin`. */
  readonly timeZone: string;
}

/** Who a policy is about; it applies when any list matches, to everyone when no list is given. */
export interface PolicySubjects {
  readonly roles?: readonly string[];
  /** Principal ids (a token's subject). */
  readonly principals?: readonly string[];
  /** Values of a token's group claim. */
  readonly groups?: readonly string[];
}

/** All conditions given must hold; each list holds when any entry does. */
export interface PolicyConditions {
  /** CIDR blocks or single addresses: `10.0.0.0/8`, `2001:db8::/32`, `192.0.2.7`. */
  readonly sourceRanges?: readonly string[];
  readonly timeWindows?: readonly TimeWindow[];
  /** Case-sensitive globs (`*`, `?`) over application_name; only `''` matches a client that sent none. */
  readonly applicationNames?: readonly string[];
  /** true: a verified TLS client certificate must be present; false: must be absent. */
  readonly clientCertificate?: boolean;
  /** true: the token shows multi-factor authentication; false: it does not (or there is no token). */
  readonly mfa?: boolean;
  /** The token's `acr` must be one of these. */
  readonly acrValues?: readonly string[];
}

export interface AccessPolicy {
  /** `^[A-Za-z0-9][A-Za-z0-9_.-]{0,62}$` */
  readonly name: string;
  /** 0 to 100000; lower runs first, ties broken by name. */
  readonly priority: number;
  readonly effect: PolicyEffect;
  readonly enabled: boolean;
  readonly subjects: PolicySubjects;
  readonly conditions: PolicyConditions;
}

/** What the gateway knows about a login once authentication succeeded. Holds no secrets. */
export interface LoginContext {
  readonly role: string;
  readonly principalId?: string;
  readonly groups?: readonly string[];
  /** The client's IP address as text; IPv4-mapped IPv6 counts as IPv4. */
  readonly address: string;
  readonly applicationName?: string;
  /** A TLS client certificate was presented and verified. */
  readonly clientCertificate: boolean;
  readonly method: 'password' | 'token';
  /** The token's `amr` claim (RFC 8176); ignored for password logins. */
  readonly amr?: readonly string[];
  /** The token's `acr` claim; ignored for password logins. */
  readonly acr?: string;
  readonly at: Date;
}
