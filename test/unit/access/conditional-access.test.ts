import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import {
  type AccessPolicy,
  type Decision,
  describeDecision,
  evaluateAccess,
  orderPolicies,
} from '../../../src/access/conditional-access.js';
import { login, policy, tokenLogin } from './access-test-helpers.js';

const OFFICE_HOURS = {
  days: ['mon', 'tue', 'wed', 'thu', 'fri'],
  start: '08:00',
  end: '18:00',
  timeZone: 'Europe/Berlin',
} as const;

/** The outcome of each policy in the explanation, in order. */
function outcomes(decision: Decision): string[] {
  return decision.explanation.map((s) => `${s.policy}:${s.outcome}`);
}

/** Whether the one policy applies to the login. */
function applies(p: AccessPolicy, context = login(), options = {}): boolean {
  return evaluateAccess([p], context, { defaultEffect: 'deny', ...options }).effect === 'allow';
}

describe('evaluateAccess: deciding', () => {
  it('without policies allows by default and explains nothing', () => {
    const decision = evaluateAccess([], login());
    assert.deepEqual(decision, { effect: 'allow', explanation: [] });
    assert.equal('policy' in decision, false);
    assert.equal(describeDecision(decision), 'allow by default (no enabled policy matched)');
  });

  it('takes the default effect when no policy matches', () => {
    const p = policy('admins', { subjects: { roles: ['admin'] } });
    assert.equal(evaluateAccess([p], login()).effect, 'allow');
    const denied = evaluateAccess([p], login(), { defaultEffect: 'deny' });
    assert.equal(denied.effect, 'deny');
    assert.equal(denied.policy, undefined);
    assert.deepEqual(outcomes(denied), ['admins:not-matched']);
    assert.equal(describeDecision(denied), 'deny by default (no enabled policy matched)');
    assert.equal(evaluateAccess([], login(), { defaultEffect: 'deny' }).effect, 'deny');
  });

  it('runs policies by priority, whatever their order in the list', () => {
    const policies = [
      policy('late-allow', { priority: 50 }),
      policy('early-deny', { priority: 10, effect: 'deny' }),
      policy('middle-allow', { priority: 20 }),
    ];
    const decision = evaluateAccess(policies, login());
    assert.equal(decision.effect, 'deny');
    assert.equal(decision.policy, 'early-deny');
    assert.deepEqual(outcomes(decision), ['early-deny:matched']);
    assert.deepEqual(
      policies.map((p) => p.name),
      ['late-allow', 'early-deny', 'middle-allow'],
      'the input is not reordered',
    );
  });

  it('breaks priority ties by name, by code unit rather than locale', () => {
    const policies = [
      policy('beta', { effect: 'deny' }),
      policy('alpha'),
      policy('Zulu', { effect: 'deny' }),
    ];
    assert.deepEqual(
      orderPolicies(policies).map((p) => p.name),
      ['Zulu', 'alpha', 'beta'],
    );
    assert.equal(evaluateAccess(policies, login()).policy, 'Zulu');
    assert.equal(evaluateAccess(policies.slice(0, 2), login()).policy, 'alpha');
    assert.equal(evaluateAccess(policies.slice(0, 2).reverse(), login()).policy, 'alpha');
  });

  it('lets a deny win over a later allow, and an earlier allow over a deny', () => {
    const deny = policy('deny-office', { priority: 10, effect: 'deny' });
    const allow = policy('allow-all', { priority: 20 });
    assert.equal(evaluateAccess([allow, deny], login()).effect, 'deny');
    const earlyAllow = { ...allow, priority: 5 };
    const decision = evaluateAccess([deny, earlyAllow], login());
    assert.equal(decision.effect, 'allow');
    assert.equal(decision.policy, 'allow-all');
    assert.equal(describeDecision(decision), 'allow by policy allow-all');
  });

  it('skips disabled policies, and says so', () => {
    const policies = [
      policy('off', { priority: 1, effect: 'deny', enabled: false }),
      policy('on', { priority: 2 }),
    ];
    const decision = evaluateAccess(policies, login(), { defaultEffect: 'deny' });
    assert.equal(decision.effect, 'allow');
    assert.equal(decision.policy, 'on');
    assert.deepEqual(outcomes(decision), ['off:disabled', 'on:matched']);
    assert.equal(decision.explanation[0]?.text, 'off (deny, priority 1): skipped, disabled');
    assert.deepEqual(decision.explanation[0]?.checks, []);
  });

  it('falls through non-matching policies to the first that matches', () => {
    const policies = [
      policy('admins-only', { priority: 1, effect: 'deny', subjects: { roles: ['admin'] } }),
      policy('office', { priority: 2, conditions: { sourceRanges: ['192.168.0.0/16'] } }),
      policy('vpn', { priority: 3, conditions: { sourceRanges: ['10.0.0.0/8'] } }),
      policy('never-reached', { priority: 4, effect: 'deny' }),
    ];
    const decision = evaluateAccess(policies, login());
    assert.equal(decision.policy, 'vpn');
    assert.deepEqual(outcomes(decision), [
      'admins-only:not-matched',
      'office:not-matched',
      'vpn:matched',
    ]);
  });
});

describe('evaluateAccess: subjects', () => {
  it('applies to everyone when no subject list is given', () => {
    assert.equal(applies(policy('p')), true);
    assert.equal(applies(policy('p', { subjects: {} })), true);
    const decision = evaluateAccess([policy('p')], login());
    assert.equal(
      decision.explanation[0]?.text,
      'p (allow, priority 100): matched: everyone (no subjects given)',
    );
  });

  it('matches by role', () => {
    const p = policy('p', { subjects: { roles: ['app_ro', 'app_rw'] } });
    assert.equal(applies(p), true);
    assert.equal(applies(p, login({ role: 'APP_RW' })), false, 'role names are case-sensitive');
    assert.equal(
      evaluateAccess([p], login()).explanation[0]?.checks[0]?.detail,
      'role "app_rw" in roles ["app_ro", "app_rw"]',
    );
  });

  it('matches by principal id', () => {
    const p = policy('p', { subjects: { principals: ['u-1001'] } });
    assert.equal(applies(p, tokenLogin()), true);
    assert.equal(applies(p, tokenLogin({ principalId: 'u-1002' })), false);
    assert.equal(applies(p, login()), false, 'a password login has no principal');
  });

  it('matches by group claim', () => {
    const p = policy('p', { subjects: { groups: ['dba', 'oncall'] } });
    assert.equal(applies(p, tokenLogin({ groups: ['dev', 'oncall'] })), true);
    assert.equal(applies(p, tokenLogin({ groups: ['dev'] })), false);
    assert.equal(applies(p, tokenLogin({ groups: [] })), false);
    assert.equal(applies(p, tokenLogin()), false);
    const step = evaluateAccess([p], tokenLogin({ groups: ['dev', 'oncall'] })).explanation[0];
    assert.equal(step?.checks[0]?.detail, 'group "oncall" in groups ["dba", "oncall"]');
  });

  it('applies when any subject list matches', () => {
    const p = policy('p', { subjects: { roles: ['admin'], principals: ['u-7'], groups: ['dba'] } });
    assert.equal(applies(p, login({ role: 'admin' })), true);
    assert.equal(applies(p, tokenLogin({ principalId: 'u-7' })), true);
    assert.equal(applies(p, tokenLogin({ groups: ['dba'] })), true);
    assert.equal(applies(p, tokenLogin({ groups: ['dev'] })), false);
  });

  it('explains a subject mismatch with who logged in and who was wanted, and skips the conditions', () => {
    const p = policy('dbas', {
      subjects: { roles: ['admin'], groups: ['dba'] },
      conditions: { sourceRanges: ['192.168.0.0/16'] },
    });
    const step = evaluateAccess([p], tokenLogin({ groups: ['dev'] })).explanation[0];
    assert.equal(step?.outcome, 'not-matched');
    assert.equal(step?.checks.length, 1, 'conditions of a policy that does not apply are not run');
    assert.equal(
      step?.text,
      'dbas (allow, priority 100): not matched: role "app_rw", principal "u-1001", groups ["dev"] match none of roles ["admin"], groups ["dba"]',
    );
  });

  it('treats an empty list (which validation rejects) as matching nobody, not everyone', () => {
    assert.equal(applies(policy('p', { subjects: { roles: [] } })), false);
  });
});

describe('evaluateAccess: source ranges', () => {
  const lan = policy('lan', { conditions: { sourceRanges: ['10.0.0.0/8', '2001:db8::/32'] } });

  it('matches IPv4 and IPv6 addresses inside a range, and not outside', () => {
    assert.equal(applies(lan, login({ address: '10.255.0.1' })), true);
    assert.equal(applies(lan, login({ address: '2001:db8:1::5' })), true);
    assert.equal(applies(lan, login({ address: '11.0.0.1' })), false);
    assert.equal(applies(lan, login({ address: '2001:db9::1' })), false);
  });

  it('matches a single address', () => {
    const one = policy('one', { conditions: { sourceRanges: ['192.0.2.7', '2001:db8::1'] } });
    assert.equal(applies(one, login({ address: '192.0.2.7' })), true);
    assert.equal(applies(one, login({ address: '192.0.2.8' })), false);
    assert.equal(applies(one, login({ address: '2001:0db8:0:0:0:0:0:1' })), true);
  });

  it('takes an IPv4-mapped IPv6 address as IPv4, and shows it as such', () => {
    const decision = evaluateAccess([lan], login({ address: '::ffff:10.1.2.3' }));
    assert.equal(decision.effect, 'allow');
    assert.equal(decision.explanation[0]?.checks[0]?.detail, 'everyone (no subjects given)');
    assert.equal(decision.explanation[0]?.checks[1]?.detail, 'source 10.1.2.3 in 10.0.0.0/8');
    const outside = evaluateAccess([lan], login({ address: '::ffff:203.0.113.9' }), {
      defaultEffect: 'deny',
    });
    assert.match(
      outside.explanation[0]?.text ?? '',
      /source 203\.0\.113\.9 not in \[10\.0\.0\.0\/8, 2001:db8::\/32\]/,
    );
  });

  it('never matches an IPv4 address against an IPv6 range', () => {
    const v6 = policy('v6', { conditions: { sourceRanges: ['::/0'] } });
    assert.equal(applies(v6, login({ address: '10.1.2.3' })), false);
    const v4 = policy('v4', { conditions: { sourceRanges: ['0.0.0.0/0'] } });
    assert.equal(applies(v4, login({ address: '2001:db8::1' })), false);
    assert.equal(applies(v4, login({ address: '::ffff:192.0.2.1' })), true);
  });

  it('names the policy and the failing source in a denial', () => {
    const policies = [
      policy('vpn-only', { priority: 10, conditions: { sourceRanges: ['10.0.0.0/8'] } }),
    ];
    const decision = evaluateAccess(policies, login({ address: '203.0.113.9' }), {
      defaultEffect: 'deny',
    });
    assert.equal(decision.effect, 'deny');
    assert.equal(
      decision.explanation[0]?.text,
      'vpn-only (allow, priority 10): not matched: source 203.0.113.9 not in 10.0.0.0/8',
    );
  });

  it('denies, fail closed, when the client address cannot be read', () => {
    // A deny policy on a range must not be skipped because the address is garbage.
    const policies = [
      policy('block-range', {
        priority: 1,
        effect: 'deny',
        conditions: { sourceRanges: ['203.0.113.0/24'] },
      }),
      policy('allow-all', { priority: 2 }),
    ];
    const decision = evaluateAccess(policies, login({ address: 'not-an-ip' }));
    assert.equal(decision.effect, 'deny');
    assert.equal(decision.policy, 'block-range');
    assert.deepEqual(outcomes(decision), ['block-range:invalid']);
    assert.equal(
      decision.explanation[0]?.text,
      'block-range (deny, priority 1): cannot be evaluated, denying: cannot evaluate sourceRanges: source "not-an-ip" is not an IP address',
    );
    assert.equal(describeDecision(decision), 'deny: policy block-range cannot be evaluated');
  });
});

describe('evaluateAccess: time windows', () => {
  const office = policy('office-hours', { conditions: { timeWindows: [OFFICE_HOURS] } });

  it('matches inside the window and not outside', () => {
    // 2025-03-04 is a Tuesday; Berlin is UTC+1 in March before the change.
    assert.equal(applies(office, login({ at: new Date('2025-03-04T07:00:00Z') })), true, '08:00');
    assert.equal(applies(office, login({ at: new Date('2025-03-04T16:59:00Z') })), true, '17:59');
    assert.equal(applies(office, login({ at: new Date('2025-03-04T17:00:00Z') })), false, '18:00');
    assert.equal(applies(office, login({ at: new Date('2025-03-04T06:59:00Z') })), false, '07:59');
    assert.equal(
      applies(office, login({ at: new Date('2025-03-08T09:00:00Z') })),
      false,
      'Saturday',
    );
  });

  it('explains a denial with the local time, zone and window', () => {
    const policies = [
      policy('office-hours', { priority: 10, conditions: { timeWindows: [OFFICE_HOURS] } }),
    ];
    const decision = evaluateAccess(policies, login({ at: new Date('2025-03-04T21:15:00Z') }), {
      defaultEffect: 'deny',
    });
    assert.equal(
      decision.explanation[0]?.text,
      'office-hours (allow, priority 10): not matched: Tuesday 22:15 Europe/Berlin outside mon-fri 08:00-18:00',
    );
    const matched = evaluateAccess(policies, login({ at: new Date('2025-03-04T09:15:00Z') }));
    assert.equal(
      matched.explanation[0]?.text,
      'office-hours (allow, priority 10): matched: everyone (no subjects given); Tuesday 10:15 Europe/Berlin in mon-fri 08:00-18:00',
    );
  });

  it('holds when any of several windows holds, each in its own zone', () => {
    const p = policy('follow-the-sun', {
      conditions: {
        timeWindows: [
          OFFICE_HOURS,
          {
            days: ['mon', 'tue', 'wed', 'thu', 'fri'],
            start: '08:00',
            end: '18:00',
            timeZone: 'America/New_York',
          },
        ],
      },
    });
    // 21:15 UTC: 22:15 in Berlin, 16:15 in New York (EST).
    const decision = evaluateAccess([p], login({ at: new Date('2025-03-04T21:15:00Z') }));
    assert.equal(decision.effect, 'allow');
    assert.match(
      decision.explanation[0]?.text ?? '',
      /Tuesday 16:15 America\/New_York in mon-fri 08:00-18:00$/,
    );
    // 03:00 UTC: 04:00 in Berlin, 22:00 the evening before in New York.
    const night = evaluateAccess([p], login({ at: new Date('2025-03-05T03:00:00Z') }), {
      defaultEffect: 'deny',
    });
    assert.equal(
      night.explanation[0]?.checks[1]?.detail,
      'Wednesday 04:00 Europe/Berlin outside mon-fri 08:00-18:00; Tuesday 22:00 America/New_York outside mon-fri 08:00-18:00',
    );
  });

  it('handles a window that wraps past midnight', () => {
    const night = policy('night-batch', {
      conditions: {
        timeWindows: [{ days: ['fri'], start: '22:00', end: '06:00', timeZone: 'UTC' }],
      },
    });
    assert.equal(
      applies(night, login({ at: new Date('2025-03-07T23:30:00Z') })),
      true,
      'Fri 23:30',
    );
    assert.equal(
      applies(night, login({ at: new Date('2025-03-08T05:59:00Z') })),
      true,
      'Sat 05:59',
    );
    assert.equal(
      applies(night, login({ at: new Date('2025-03-08T06:00:00Z') })),
      false,
      'Sat 06:00',
    );
    assert.equal(
      applies(night, login({ at: new Date('2025-03-07T03:00:00Z') })),
      false,
      'Fri 03:00',
    );
    assert.equal(
      applies(night, login({ at: new Date('2025-03-08T23:00:00Z') })),
      false,
      'Sat 23:00',
    );
  });

  it('follows the March DST change in America/New_York', () => {
    // Clocks went from 02:00 EST to 03:00 EDT on Sunday 2025-03-09: 08:00 local
    // is 13:00 UTC on the Friday before and 12:00 UTC on the Monday after.
    const ny = policy('ny-office', {
      conditions: {
        timeWindows: [{ ...OFFICE_HOURS, timeZone: 'America/New_York' }],
      },
    });
    assert.equal(
      applies(ny, login({ at: new Date('2025-03-07T12:30:00Z') })),
      false,
      'Fri 07:30 EST',
    );
    assert.equal(
      applies(ny, login({ at: new Date('2025-03-07T13:00:00Z') })),
      true,
      'Fri 08:00 EST',
    );
    assert.equal(
      applies(ny, login({ at: new Date('2025-03-10T12:30:00Z') })),
      true,
      'Mon 08:30 EDT',
    );
    assert.equal(
      applies(ny, login({ at: new Date('2025-03-10T22:00:00Z') })),
      false,
      'Mon 18:00 EDT',
    );
    const decision = evaluateAccess([ny], login({ at: new Date('2025-03-10T11:45:00Z') }), {
      defaultEffect: 'deny',
    });
    assert.equal(
      decision.explanation[0]?.checks[1]?.detail,
      'Monday 07:45 America/New_York outside mon-fri 08:00-18:00',
    );
  });

  it('denies, fail closed, when the login time is not a valid date', () => {
    const decision = evaluateAccess([office], login({ at: new Date(Number.NaN) }));
    assert.equal(decision.effect, 'deny');
    assert.deepEqual(outcomes(decision), ['office-hours:invalid']);
  });
});

describe('evaluateAccess: application names', () => {
  const tools = policy('tools', {
    conditions: { applicationNames: ['psql', 'pgAdmin*', 'etl-job-?'] },
  });

  it('matches globs with * and ?, case-sensitively', () => {
    assert.equal(applies(tools, login({ applicationName: 'psql' })), true);
    assert.equal(applies(tools, login({ applicationName: 'pgAdmin 4' })), true);
    assert.equal(applies(tools, login({ applicationName: 'etl-job-7' })), true);
    assert.equal(applies(tools, login({ applicationName: 'etl-job-17' })), false);
    assert.equal(applies(tools, login({ applicationName: 'PSQL' })), false);
    assert.equal(applies(tools, login({ applicationName: 'pgadmin 4' })), false);
    assert.equal(applies(tools, login({ applicationName: 'psql2' })), false);
  });

  it('matches an absent application_name only with the pattern ""', () => {
    const any = policy('any', { conditions: { applicationNames: ['*'] } });
    assert.equal(applies(any, login()), false, '* wants some application name');
    assert.equal(
      applies(any, login({ applicationName: '' })),
      true,
      'an empty name sent is a name',
    );
    const none = policy('none', { conditions: { applicationNames: [''] } });
    assert.equal(applies(none, login()), true);
    assert.equal(applies(none, login({ applicationName: '' })), true);
    assert.equal(applies(none, login({ applicationName: 'psql' })), false);
    const step = evaluateAccess([tools], login(), { defaultEffect: 'deny' }).explanation[0];
    assert.equal(
      step?.checks[1]?.detail,
      'application (none sent) matches none of ["psql", "pgAdmin*", "etl-job-?"]',
    );
  });

  it('escapes control characters and cuts long names in the explanation', () => {
    const sneaky = 'x\n2025-01-01 allow-all (allow): matched\u202e';
    const step = evaluateAccess([tools], login({ applicationName: sneaky })).explanation[0];
    assert.equal(step?.text.includes('\n'), false);
    assert.equal(step?.text.includes('\u202e'), false);
    assert.match(
      step?.text ?? '',
      /application "x\\u000a2025-01-01 allow-all \(allow\): matched\\u202e"/,
    );
    const long = evaluateAccess([tools], login({ applicationName: 'a'.repeat(500) }))
      .explanation[0];
    assert.match(long?.text ?? '', /application "a{64}…" matches none of/);
  });
});

describe('evaluateAccess: client certificate', () => {
  it('true requires a verified certificate', () => {
    const p = policy('p', { conditions: { clientCertificate: true } });
    assert.equal(applies(p, login({ clientCertificate: true })), true);
    assert.equal(applies(p, login({ clientCertificate: false })), false);
    assert.equal(
      evaluateAccess([p], login(), { defaultEffect: 'deny' }).explanation[0]?.text,
      'p (allow, priority 100): not matched: no verified client certificate',
    );
  });

  it('false requires its absence', () => {
    const p = policy('p', { conditions: { clientCertificate: false } });
    assert.equal(applies(p, login({ clientCertificate: false })), true);
    assert.equal(applies(p, login({ clientCertificate: true })), false);
  });
});

describe('evaluateAccess: MFA and acr', () => {
  const mfa = policy('mfa', { conditions: { mfa: true } });

  it('is satisfied by an RFC 8176 multi-factor amr value', () => {
    for (const method of ['mfa', 'otp', 'hwk', 'swk', 'fido', 'sc', 'mca']) {
      assert.equal(applies(mfa, tokenLogin({ amr: ['pwd', method] })), true, method);
    }
    assert.equal(applies(mfa, tokenLogin({ amr: ['pwd'] })), false);
    assert.equal(
      applies(mfa, tokenLogin({ amr: ['pwd', 'sms'] })),
      false,
      'sms is not MFA by default',
    );
    assert.equal(
      applies(mfa, tokenLogin({ amr: ['OTP'] })),
      false,
      'amr values are case-sensitive',
    );
    assert.equal(applies(mfa, tokenLogin()), false);
  });

  it('is never satisfied by a password login, whatever claims the context carries', () => {
    assert.equal(
      applies(mfa, login({ amr: ['mfa'], acr: 'gold' }), { mfaAcrValues: ['gold'] }),
      false,
    );
    const decision = evaluateAccess([mfa], login(), { defaultEffect: 'deny' });
    assert.equal(
      decision.explanation[0]?.text,
      'mfa (allow, priority 100): not matched: no MFA: password login (no token)',
    );
  });

  it('is satisfied by an acr in the configured set', () => {
    const context = tokenLogin({ amr: ['pwd'], acr: 'urn:example:loa:3' });
    assert.equal(applies(mfa, context), false, 'no acr counts without configuration');
    assert.equal(applies(mfa, context, { mfaAcrValues: ['urn:example:loa:3'] }), true);
    const step = evaluateAccess([mfa], context, { mfaAcrValues: ['urn:example:loa:3'] })
      .explanation[0];
    assert.equal(step?.checks[1]?.detail, 'MFA: acr "urn:example:loa:3" is an MFA level');
  });

  it('takes a configured amr set instead of the default', () => {
    assert.equal(applies(mfa, tokenLogin({ amr: ['sms'] }), { mfaAmrValues: ['sms'] }), true);
    assert.equal(applies(mfa, tokenLogin({ amr: ['otp'] }), { mfaAmrValues: ['sms'] }), false);
  });

  it('false matches logins without MFA, so a deny can refuse them', () => {
    const policies = [
      policy('require-mfa', { priority: 1, effect: 'deny', conditions: { mfa: false } }),
      policy('allow-all', { priority: 2 }),
    ];
    const passwordLogin = evaluateAccess(policies, login());
    assert.equal(passwordLogin.effect, 'deny');
    assert.equal(
      passwordLogin.explanation[0]?.text,
      'require-mfa (deny, priority 1): matched: everyone (no subjects given); no MFA: password login (no token)',
    );
    const weakToken = evaluateAccess(policies, tokenLogin({ amr: ['pwd'], acr: 'basic' }));
    assert.equal(weakToken.effect, 'deny');
    assert.equal(
      weakToken.explanation[0]?.checks[1]?.detail,
      'no MFA: token has amr ["pwd"], acr "basic"',
    );
    const strongToken = evaluateAccess(policies, tokenLogin({ amr: ['pwd', 'otp'] }));
    assert.equal(strongToken.effect, 'allow');
    assert.equal(
      strongToken.explanation[0]?.checks[1]?.detail,
      'MFA present (amr includes "otp"), policy requires none',
    );
  });

  it('acrValues needs a token whose acr is listed', () => {
    const p = policy('gold', { conditions: { acrValues: ['gold', 'platinum'] } });
    assert.equal(applies(p, tokenLogin({ acr: 'gold' })), true);
    assert.equal(applies(p, tokenLogin({ acr: 'silver' })), false);
    assert.equal(applies(p, tokenLogin()), false);
    assert.equal(applies(p, login({ acr: 'gold' })), false, 'a password login has no acr');
    const step = evaluateAccess([p], tokenLogin({ acr: 'silver' })).explanation[0];
    assert.equal(step?.checks[1]?.detail, 'acr "silver" not in ["gold", "platinum"]');
  });
});

describe('evaluateAccess: combined conditions', () => {
  const strict = policy('strict-admin', {
    priority: 5,
    subjects: { groups: ['dba'] },
    conditions: {
      sourceRanges: ['10.0.0.0/8'],
      timeWindows: [OFFICE_HOURS],
      applicationNames: ['psql'],
      clientCertificate: true,
      mfa: true,
      acrValues: ['gold'],
    },
  });
  const good = tokenLogin({
    groups: ['dba'],
    applicationName: 'psql',
    clientCertificate: true,
    amr: ['hwk'],
    acr: 'gold',
  });

  it('matches only when every condition holds, and lists them all', () => {
    const decision = evaluateAccess([strict], good, { defaultEffect: 'deny' });
    assert.equal(decision.effect, 'allow');
    assert.deepEqual(
      decision.explanation[0]?.checks.map((c) => `${c.check}:${c.status}`),
      [
        'subjects:pass',
        'sourceRanges:pass',
        'timeWindows:pass',
        'applicationNames:pass',
        'clientCertificate:pass',
        'mfa:pass',
        'acrValues:pass',
      ],
    );
  });

  it('fails when any one condition fails, naming only the failing ones', () => {
    const variants: Array<[Partial<typeof good>, string]> = [
      [{ address: '192.0.2.1' }, 'source 192.0.2.1 not in 10.0.0.0/8'],
      [
        { at: new Date('2025-03-04T20:00:00Z') },
        'Tuesday 21:00 Europe/Berlin outside mon-fri 08:00-18:00',
      ],
      [{ applicationName: 'DBeaver' }, 'application "DBeaver" matches none of "psql"'],
      [{ clientCertificate: false }, 'no verified client certificate'],
      [{ amr: ['pwd'] }, 'no MFA: token has amr ["pwd"], acr "gold"'],
      [{ acr: 'silver' }, 'acr "silver" not in ["gold"]'],
    ];
    for (const [change, detail] of variants) {
      const decision = evaluateAccess([strict], { ...good, ...change }, { defaultEffect: 'deny' });
      assert.equal(decision.effect, 'deny', detail);
      assert.equal(
        decision.explanation[0]?.text,
        `strict-admin (allow, priority 5): not matched: ${detail}`,
      );
    }
    const twoFailures = evaluateAccess([strict], { ...good, address: '192.0.2.1', acr: 'silver' });
    assert.equal(
      twoFailures.explanation[0]?.text,
      'strict-admin (allow, priority 5): not matched: source 192.0.2.1 not in 10.0.0.0/8; acr "silver" not in ["gold"]',
    );
  });

  it('is not matched, rather than invalid, when a condition fails beside one that cannot be evaluated', () => {
    // Unvalidated input: a bad range next to a certificate requirement that fails anyway.
    const broken = policy('broken', {
      effect: 'deny',
      conditions: { sourceRanges: ['10.0.0.0/33'], clientCertificate: true },
    });
    const decision = evaluateAccess([broken], login());
    assert.deepEqual(outcomes(decision), ['broken:not-matched']);
    assert.equal(decision.effect, 'allow');
    const failClosed = evaluateAccess([broken], login({ clientCertificate: true }));
    assert.deepEqual(outcomes(failClosed), ['broken:invalid']);
    assert.equal(failClosed.effect, 'deny');
    assert.match(
      failClosed.explanation[0]?.text ?? '',
      /cannot evaluate sourceRanges: "10\.0\.0\.0\/33" is not an address range$/,
    );
  });

  it('denies, fail closed, for an allow policy with an unknown time zone', () => {
    const broken = policy('broken', {
      conditions: { timeWindows: [{ ...OFFICE_HOURS, timeZone: 'Mars/Olympus_Mons' }] },
    });
    const decision = evaluateAccess([broken, policy('later-allow', { priority: 200 })], login());
    assert.equal(decision.effect, 'deny');
    assert.equal(decision.policy, 'broken');
    assert.match(
      decision.explanation[0]?.text ?? '',
      /cannot evaluate timeWindows: Invalid time zone/,
    );
  });
});
