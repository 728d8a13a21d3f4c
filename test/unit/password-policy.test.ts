import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { scramSha256Verifier } from '../../src/auth/scram-secret.js';
import { matchesScramVerifier } from '../../src/auth/scram-verifier-match.js';
import { PasswordsConfigSchema } from '../../src/config/config-schema.js';
import {
  checkPassword,
  generatePolicyPassword,
  type PasswordPolicy,
} from '../../src/control/roles/password-policy.js';

const POLICY: PasswordPolicy = PasswordsConfigSchema.parse({});
const ids = (password: string, role = 'app', policy = POLICY): string[] =>
  checkPassword(password, role, policy).map((v) => v.id);

describe('checkPassword', () => {
  it('has the documented defaults', () => {
    assert.deepEqual(POLICY, {
      minLength: 16,
      requireClasses: 3,
      forbidRoleName: true,
      expiryDays: 90,
      historySize: 5,
    });
  });

  it('accepts a long password of three classes', () => {
    assert.deepEqual(ids('correct-horse-battery-9'), []);
  });

  it('refuses a short password, saying how long it is and must be', () => {
    const [v] = checkPassword('Short-1x', 'app', POLICY);
    assert.equal(v?.id, 'too-short');
    assert.match(v?.message ?? '', /8 characters; the policy needs at least 16/);
  });

  it('counts character classes', () => {
    assert.deepEqual(ids('onlylowercaseletters'), ['too-few-classes']);
    assert.deepEqual(ids('lowercaseand12345'), ['too-few-classes']);
    assert.deepEqual(ids('lowercase-and-12345'), []);
    assert.deepEqual(ids('lowercase-and-12345', 'app', { ...POLICY, requireClasses: 4 }), [
      'too-few-classes',
    ]);
    assert.deepEqual(ids('Lowercase-and-12345', 'app', { ...POLICY, requireClasses: 4 }), []);
  });

  it('refuses the role name in any case, unless switched off', () => {
    assert.deepEqual(ids('my-REPORTING-pw-2024', 'reporting'), ['contains-role-name']);
    assert.deepEqual(
      ids('my-REPORTING-pw-2024', 'reporting', { ...POLICY, forbidRoleName: false }),
      [],
    );
    assert.deepEqual(
      ids('ab-correct-horse-9', 'ab'),
      [],
      'names under 3 characters are not looked for',
    );
  });

  it('refuses non-ASCII and overlong passwords', () => {
    assert.deepEqual(ids('pässwörd-Correct-9'), ['invalid-characters']);
    assert.deepEqual(ids('tab\there-Correct-9'), ['invalid-characters']);
    assert.deepEqual(ids(`Aa1-${'x'.repeat(300)}`), ['too-long']);
  });

  it('reports every violation at once and never echoes the password', () => {
    const password = 'svc_app';
    const violations = checkPassword(password, 'svc_app', POLICY);
    assert.deepEqual(
      violations.map((v) => v.id),
      ['too-short', 'too-few-classes', 'contains-role-name'],
    );
    for (const v of checkPassword('Zq9-secret', 'app', POLICY))
      assert.ok(!v.message.includes('Zq9-secret'), v.message);
  });
});

describe('generatePolicyPassword', () => {
  it('meets strict policies', () => {
    const strict: PasswordPolicy = { ...POLICY, minLength: 64, requireClasses: 4 };
    for (let i = 0; i < 50; i++) {
      const password = generatePolicyPassword('app', strict);
      assert.equal(password.length, 64);
      assert.deepEqual(checkPassword(password, 'app', strict), []);
    }
    assert.equal(generatePolicyPassword('app', POLICY).length, 32);
  });
});

describe('matchesScramVerifier', () => {
  it('recognises the password behind a verifier, and nothing else', () => {
    const verifier = scramSha256Verifier('correct-horse-battery-9');
    assert.ok(matchesScramVerifier('correct-horse-battery-9', verifier));
    assert.ok(!matchesScramVerifier('correct-horse-battery-8', verifier));
    assert.ok(!matchesScramVerifier('x', 'md5abcdef'));
    assert.ok(!matchesScramVerifier('x', 'SCRAM-SHA-256$0:AAAA$AAAA:AAAA'));
  });
});
