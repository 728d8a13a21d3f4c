import { messageOf } from '../errors.js';
import { formatIp, parseIp } from '../gateway/firewall/ip-address.js';
import type {
  LoginContext,
  PolicyConditions,
  PolicySubjects,
  TimeWindow,
} from './access-policy.js';
import { inRange, parseAddressRange } from './address-range.js';
import { displayList, displayValue } from './display-value.js';
import { globMatch } from './glob-match.js';
import {
  describeLocalTime,
  describeWindow,
  inTimeWindow,
  type LocalTime,
  localTime,
} from './time-window.js';

export type CheckName =
  | 'subjects'
  | 'sourceRanges'
  | 'timeWindows'
  | 'applicationNames'
  | 'clientCertificate'
  | 'mfa'
  | 'acrValues';

/** One subject or condition test: it holds, it fails, or it cannot be evaluated. */
export interface ConditionCheck {
  readonly check: CheckName;
  readonly status: 'pass' | 'fail' | 'error';
  /** Why, in words: `source 203.0.113.9 not in 10.0.0.0/8`. */
  readonly detail: string;
}

/**
 * `amr` values (RFC 8176, plus `fido` that several IdPs send) that show more
 * than a password. `sms` and `tel` are left out: NIST SP 800-63B restricts
 * them; a deployment that accepts them lists them in `mfaAmrValues`.
 */
export const DEFAULT_MFA_AMR_VALUES: readonly string[] = [
  'mfa',
  'mca',
  'otp',
  'hwk',
  'swk',
  'sc',
  'fido',
];

export interface MfaSettings {
  readonly amrValues: readonly string[];
  /** `acr` values the IdP only issues after multi-factor authentication. */
  readonly acrValues: readonly string[];
}

type Verdict = Omit<ConditionCheck, 'check'>;

const pass = (detail: string): Verdict => ({ status: 'pass', detail });
const fail = (detail: string): Verdict => ({ status: 'fail', detail });

/** Runs one test; a throw (a malformed policy or context) becomes an `error` check. */
function run(check: CheckName, test: () => Verdict): ConditionCheck {
  try {
    return { check, ...test() };
  } catch (error) {
    return { check, status: 'error', detail: `cannot evaluate ${check}: ${messageOf(error)}` };
  }
}

export function checkSubjects(subjects: PolicySubjects, context: LoginContext): ConditionCheck {
  return run('subjects', () => subjectVerdict(subjects, context));
}

function subjectVerdict(subjects: PolicySubjects, context: LoginContext): Verdict {
  const { roles, principals, groups } = subjects;
  if (roles === undefined && principals === undefined && groups === undefined) {
    return pass('everyone (no subjects given)');
  }
  if (roles?.includes(context.role)) {
    return pass(`role ${displayValue(context.role)} in roles ${displayList(roles)}`);
  }
  const principal = context.principalId;
  if (principal !== undefined && principals?.includes(principal)) {
    return pass(`principal ${displayValue(principal)} in principals ${displayList(principals)}`);
  }
  const group = groups === undefined ? undefined : context.groups?.find((g) => groups.includes(g));
  if (group !== undefined && groups !== undefined) {
    return pass(`group ${displayValue(group)} in groups ${displayList(groups)}`);
  }
  const who = [`role ${displayValue(context.role)}`];
  if (principal !== undefined) who.push(`principal ${displayValue(principal)}`);
  if (context.groups !== undefined && context.groups.length > 0) {
    who.push(`groups ${displayList(context.groups)}`);
  }
  const wanted: string[] = [];
  if (roles !== undefined) wanted.push(`roles ${displayList(roles)}`);
  if (principals !== undefined) wanted.push(`principals ${displayList(principals)}`);
  if (groups !== undefined) wanted.push(`groups ${displayList(groups)}`);
  return fail(`${who.join(', ')} match none of ${wanted.join(', ')}`);
}

/** Every condition the policy gives, in a fixed order; absent conditions are not listed. */
export function checkConditions(
  conditions: PolicyConditions,
  context: LoginContext,
  mfa: MfaSettings,
): ConditionCheck[] {
  const checks: ConditionCheck[] = [];
  const { sourceRanges, timeWindows, applicationNames, clientCertificate, acrValues } = conditions;
  if (sourceRanges !== undefined) {
    checks.push(run('sourceRanges', () => sourceVerdict(sourceRanges, context.address)));
  }
  if (timeWindows !== undefined) {
    checks.push(run('timeWindows', () => timeVerdict(timeWindows, context.at)));
  }
  if (applicationNames !== undefined) {
    checks.push(
      run('applicationNames', () => applicationVerdict(applicationNames, context.applicationName)),
    );
  }
  if (clientCertificate !== undefined) {
    checks.push(
      run('clientCertificate', () =>
        certificateVerdict(clientCertificate, context.clientCertificate),
      ),
    );
  }
  if (conditions.mfa !== undefined) {
    const required = conditions.mfa;
    checks.push(run('mfa', () => mfaVerdict(required, context, mfa)));
  }
  if (acrValues !== undefined) {
    checks.push(run('acrValues', () => acrVerdict(acrValues, context)));
  }
  return checks;
}

function sourceVerdict(ranges: readonly string[], address: string): Verdict {
  const ip = parseIp(address);
  // Not a plain fail: a deny policy must not be skipped because the address is unreadable.
  if (ip === undefined) throw new Error(`source ${displayValue(address)} is not an IP address`);
  const source = formatIp(ip);
  for (const text of ranges) {
    const range = parseAddressRange(text);
    if (range === undefined) throw new Error(`${displayValue(text)} is not an address range`);
    if (inRange(ip, range)) return pass(`source ${source} in ${text}`);
  }
  return fail(
    `source ${source} not in ${ranges.length === 1 ? ranges[0] : displayList(ranges, false)}`,
  );
}

function timeVerdict(windows: readonly TimeWindow[], at: Date): Verdict {
  if (Number.isNaN(at.getTime())) throw new Error('the login time is not a valid date');
  const locals = new Map<string, LocalTime>();
  const misses: string[] = [];
  for (const window of windows) {
    let local = locals.get(window.timeZone);
    if (local === undefined) {
      local = localTime(at, window.timeZone);
      locals.set(window.timeZone, local);
    }
    const when = `${describeLocalTime(local)} ${window.timeZone}`;
    if (inTimeWindow(window, local)) return pass(`${when} in ${describeWindow(window)}`);
    misses.push(`${when} outside ${describeWindow(window)}`);
  }
  return fail(misses.join('; '));
}

function applicationVerdict(patterns: readonly string[], name: string | undefined): Verdict {
  const shown =
    name === undefined ? 'application (none sent)' : `application ${displayValue(name)}`;
  // A client that sent no application_name matches only the pattern '', never '*'.
  const hit = patterns.find((p) => (name === undefined ? p === '' : globMatch(p, name)));
  if (hit !== undefined) return pass(`${shown} matches ${displayValue(hit)}`);
  const list = patterns.length === 1 ? displayValue(patterns[0] as string) : displayList(patterns);
  return fail(`${shown} matches none of ${list}`);
}

function certificateVerdict(required: boolean, present: boolean): Verdict {
  if (required) {
    return present
      ? pass('verified client certificate present')
      : fail('no verified client certificate');
  }
  return present
    ? fail('client certificate present, policy requires none')
    : pass('no client certificate');
}

function mfaVerdict(required: boolean, context: LoginContext, settings: MfaSettings): Verdict {
  const evidence = mfaEvidence(context, settings);
  if (required)
    return evidence.shown ? pass(`MFA: ${evidence.why}`) : fail(`no MFA: ${evidence.why}`);
  return evidence.shown
    ? fail(`MFA present (${evidence.why}), policy requires none`)
    : pass(`no MFA: ${evidence.why}`);
}

/** Whether the login shows multi-factor authentication, and the claim that says so (or not). */
function mfaEvidence(
  context: LoginContext,
  settings: MfaSettings,
): { readonly shown: boolean; readonly why: string } {
  // A password login has no token; amr/acr on it would come from nowhere trustworthy.
  if (context.method !== 'token') return { shown: false, why: 'password login (no token)' };
  const amr = context.amr ?? [];
  const method = amr.find((m) => settings.amrValues.includes(m));
  if (method !== undefined) return { shown: true, why: `amr includes ${displayValue(method)}` };
  const acr = context.acr;
  if (acr !== undefined && settings.acrValues.includes(acr)) {
    return { shown: true, why: `acr ${displayValue(acr)} is an MFA level` };
  }
  const amrText = amr.length === 0 ? 'no amr' : `amr ${displayList(amr)}`;
  const acrText = acr === undefined ? 'no acr' : `acr ${displayValue(acr)}`;
  return { shown: false, why: `token has ${amrText}, ${acrText}` };
}

function acrVerdict(values: readonly string[], context: LoginContext): Verdict {
  if (context.method !== 'token') return fail('no acr: password login (no token)');
  const acr = context.acr;
  if (acr === undefined) return fail(`token has no acr, need one of ${displayList(values)}`);
  return values.includes(acr)
    ? pass(`acr ${displayValue(acr)} in ${displayList(values)}`)
    : fail(`acr ${displayValue(acr)} not in ${displayList(values)}`);
}
