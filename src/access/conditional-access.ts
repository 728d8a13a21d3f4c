import type { AccessPolicy, LoginContext, PolicyEffect } from './access-policy.js';
import {
  type ConditionCheck,
  checkConditions,
  checkSubjects,
  DEFAULT_MFA_AMR_VALUES,
  type MfaSettings,
} from './policy-checks.js';

export type {
  AccessPolicy,
  LoginContext,
  PolicyConditions,
  PolicyEffect,
  PolicySubjects,
  TimeWindow,
  Weekday,
} from './access-policy.js';
export { WEEKDAYS } from './access-policy.js';
export type { CheckName, ConditionCheck } from './policy-checks.js';
export { DEFAULT_MFA_AMR_VALUES } from './policy-checks.js';
export { validatePolicy } from './validate-policy.js';

export interface AccessOptions {
  /** The effect when no enabled policy matches; default `allow`, so without policies the firewall and authentication alone decide. */
  readonly defaultEffect?: PolicyEffect;
  /** `amr` values that satisfy `mfa: true`; default DEFAULT_MFA_AMR_VALUES. */
  readonly mfaAmrValues?: readonly string[];
  /** `acr` values that satisfy `mfa: true` on their own; default none. */
  readonly mfaAcrValues?: readonly string[];
}

/**
 * - `matched`: subjects and all conditions hold; the policy decided.
 * - `not-matched`: the subjects or some condition failed.
 * - `invalid`: nothing failed, but some check could not be evaluated (a
 *   malformed policy or an unreadable address or time); the policy denies.
 * - `disabled`: skipped.
 */
export type PolicyOutcome = 'matched' | 'not-matched' | 'invalid' | 'disabled';

export interface ExplainStep {
  readonly policy: string;
  readonly priority: number;
  readonly effect: PolicyEffect;
  readonly outcome: PolicyOutcome;
  /** The subjects check, then (if the subjects matched) one check per condition given. */
  readonly checks: readonly ConditionCheck[];
  /** One line: `office-hours (allow, priority 10): not matched: Tuesday 22:15 Europe/Berlin outside mon-fri 08:00-18:00` */
  readonly text: string;
}

export interface Decision {
  readonly effect: PolicyEffect;
  /** The deciding policy; absent when the default effect decided. */
  readonly policy?: string;
  /** Each policy considered, in evaluation order, up to the deciding one. */
  readonly explanation: readonly ExplainStep[];
}

/**
 * Decides a login: enabled policies run by priority (then name), and the first
 * whose subjects and conditions all hold decides, so a deny placed before an
 * allow wins. Pure: the time is the context's `at`, nothing is read or logged.
 */
export function evaluateAccess(
  policies: readonly AccessPolicy[],
  context: LoginContext,
  options: AccessOptions = {},
): Decision {
  const mfa: MfaSettings = {
    amrValues: options.mfaAmrValues ?? DEFAULT_MFA_AMR_VALUES,
    acrValues: options.mfaAcrValues ?? [],
  };
  const explanation: ExplainStep[] = [];
  for (const policy of orderPolicies(policies)) {
    const step = evaluatePolicy(policy, context, mfa);
    explanation.push(step);
    if (step.outcome === 'matched')
      return { effect: policy.effect, policy: policy.name, explanation };
    // Fail closed: a policy that cannot be evaluated might have been a deny that applies.
    if (step.outcome === 'invalid') return { effect: 'deny', policy: policy.name, explanation };
  }
  return { effect: options.defaultEffect ?? 'allow', explanation };
}

/** Priority ascending, then name by code unit (not locale); the sort is stable for equal names. */
export function orderPolicies(policies: readonly AccessPolicy[]): AccessPolicy[] {
  return [...policies].sort(
    (a, b) => a.priority - b.priority || (a.name < b.name ? -1 : a.name > b.name ? 1 : 0),
  );
}

function evaluatePolicy(
  policy: AccessPolicy,
  context: LoginContext,
  mfa: MfaSettings,
): ExplainStep {
  if (!policy.enabled) return step(policy, 'disabled', []);
  const subjects = checkSubjects(policy.subjects, context);
  if (subjects.status !== 'pass') {
    return step(policy, subjects.status === 'fail' ? 'not-matched' : 'invalid', [subjects]);
  }
  const checks = [subjects, ...checkConditions(policy.conditions, context, mfa)];
  // AND over three values: one fail settles it, whatever could not be evaluated.
  if (checks.some((c) => c.status === 'fail')) return step(policy, 'not-matched', checks);
  if (checks.some((c) => c.status === 'error')) return step(policy, 'invalid', checks);
  return step(policy, 'matched', checks);
}

function step(
  policy: AccessPolicy,
  outcome: PolicyOutcome,
  checks: readonly ConditionCheck[],
): ExplainStep {
  const head = `${policy.name} (${policy.effect}, priority ${policy.priority})`;
  let text: string;
  if (outcome === 'disabled') text = `${head}: skipped, disabled`;
  else if (outcome === 'matched') text = `${head}: matched: ${details(checks, 'pass')}`;
  else if (outcome === 'not-matched') text = `${head}: not matched: ${details(checks, 'fail')}`;
  else text = `${head}: cannot be evaluated, denying: ${details(checks, 'error')}`;
  return {
    policy: policy.name,
    priority: policy.priority,
    effect: policy.effect,
    outcome,
    checks,
    text,
  };
}

function details(checks: readonly ConditionCheck[], status: ConditionCheck['status']): string {
  return checks
    .filter((c) => c.status === status)
    .map((c) => c.detail)
    .join('; ');
}

/** One line for an audit event or the CLI: `deny by policy night-block` or `allow by default (no enabled policy matched)`. */
export function describeDecision(decision: Decision): string {
  if (decision.policy === undefined) {
    return `${decision.effect} by default (no enabled policy matched)`;
  }
  const last = decision.explanation.at(-1);
  if (last?.outcome === 'invalid') return `deny: policy ${decision.policy} cannot be evaluated`;
  return `${decision.effect} by policy ${decision.policy}`;
}
