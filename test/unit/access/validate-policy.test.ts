import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { validatePolicy } from '../../../src/access/conditional-access.js';
import { PgwardenError } from '../../../src/errors.js';

const WINDOW = { days: ['mon'], start: '08:00', end: '18:00', timeZone: 'Europe/Berlin' };

/** A valid policy input with `changes` merged into the top level or into `conditions`. */
function input(changes: Record<string, unknown> = {}, conditions: Record<string, unknown> = {}) {
  return { name: 'office', priority: 10, effect: 'allow', conditions, ...changes };
}

function rejects(value: unknown, message: RegExp): PgwardenError {
  let caught: unknown;
  try {
    validatePolicy(value);
  } catch (error) {
    caught = error;
  }
  assert.ok(
    caught instanceof PgwardenError,
    `expected a PgwardenError for ${JSON.stringify(value)}`,
  );
  assert.equal(caught.code, 'PGW_USAGE');
  assert.match(caught.message, message);
  assert.ok(caught.hint.length > 0);
  return caught;
}

describe('validatePolicy', () => {
  it('returns a full policy with defaults filled in', () => {
    assert.deepEqual(validatePolicy({ name: 'all', priority: 0, effect: 'deny' }), {
      name: 'all',
      priority: 0,
      effect: 'deny',
      enabled: true,
      subjects: {},
      conditions: {},
    });
  });

  it('keeps every field of a complete policy', () => {
    const full = {
      name: 'Ops_team.v2-night',
      priority: 100000,
      effect: 'allow',
      enabled: false,
      subjects: { roles: ['app_rw'], principals: ['u-1'], groups: ['ops'] },
      conditions: {
        sourceRanges: ['10.0.0.0/8', '2001:db8::/32', '192.0.2.7', '::ffff:10.0.0.0/104', '::/0'],
        timeWindows: [
          { days: ['fri'], start: '22:00', end: '06:00', timeZone: 'UTC' },
          { days: ['sat', 'sun'], start: '00:00', end: '24:00', timeZone: 'Australia/Lord_Howe' },
        ],
        applicationNames: ['', 'psql', 'etl-*'],
        clientCertificate: true,
        mfa: false,
        acrValues: ['urn:example:loa:3'],
      },
    };
    assert.deepEqual(validatePolicy(full), full);
    assert.notEqual(validatePolicy(full).conditions, full.conditions, 'a copy, not the input');
  });

  it('rejects what is not a policy object', () => {
    rejects(null, /^access policy: null is not an object$/);
    rejects([], /^access policy: a list is not an object$/);
    rejects('office', /^access policy: "office" is not an object$/);
  });

  it('rejects bad names', () => {
    rejects(input({ name: undefined }), /^access policy: name: missing, expected a string$/);
    rejects(input({ name: 7 }), /^access policy: name: 7 is not a string$/);
    for (const name of ['', '-office', '.hidden', 'with space', 'a'.repeat(64), 'naïve', 'a/b']) {
      rejects(input({ name }), /^access policy: name: ".*" is not a valid policy name$/);
    }
    assert.equal(validatePolicy(input({ name: 'a'.repeat(63) })).name.length, 63);
    assert.equal(validatePolicy(input({ name: '9' })).name, '9');
  });

  it('rejects priorities that are not integers from 0 to 100000', () => {
    rejects(
      input({ priority: undefined }),
      /^access policy "office": priority: missing, expected a whole number$/,
    );
    rejects(input({ priority: '10' }), /priority: "10" is not a whole number$/);
    rejects(input({ priority: 1.5 }), /priority: 1\.5 is not a whole number$/);
    rejects(input({ priority: Number.NaN }), /priority: NaN is not a whole number$/);
    rejects(input({ priority: -1 }), /priority: -1 is out of range$/);
    rejects(input({ priority: 100001 }), /priority: 100001 is out of range$/);
  });

  it('rejects bad effects and enabled flags', () => {
    rejects(
      input({ effect: 'permit' }),
      /^access policy "office": effect: "permit" is not an effect$/,
    );
    rejects(input({ effect: undefined }), /effect: missing, expected an effect$/);
    rejects(input({ enabled: 'yes' }), /enabled: "yes" is not true or false$/);
  });

  it('rejects unknown keys at every level', () => {
    rejects(input({ prio: 1 }), /^access policy "office": unknown key "prio"$/);
    rejects(
      input({ subjects: { users: ['x'] } }),
      /^access policy "office": subjects: unknown key "users"$/,
    );
    rejects(input({}, { ipRanges: [], tz: 'UTC' }), /conditions: unknown keys "ipRanges", "tz"$/);
    rejects(
      input({}, { timeWindows: [{ ...WINDOW, zone: 'UTC' }] }),
      /conditions\.timeWindows\[0\]: unknown key "zone"$/,
    );
  });

  it('rejects empty or malformed subject lists', () => {
    rejects(
      input({ subjects: { roles: [] } }),
      /subjects\.roles: the list is empty, so it could never match$/,
    );
    rejects(input({ subjects: { roles: 'admin' } }), /subjects\.roles: "admin" is not a list$/);
    rejects(
      input({ subjects: { groups: ['ops', ''] } }),
      /subjects\.groups\[1\]: the value is empty$/,
    );
    rejects(
      input({ subjects: { principals: [42] } }),
      /subjects\.principals\[0\]: 42 is not a string$/,
    );
    rejects(
      input({ subjects: { roles: ['ad\nmin'] } }),
      /subjects\.roles\[0\]: "ad\\u000amin" holds control characters$/,
    );
  });

  it('rejects bad CIDRs and addresses', () => {
    for (const bad of [
      '10.0.0.0/33',
      '2001:db8::/129',
      '300.1.1.1',
      '10.0.0.0/',
      '10.0.0/8',
      'fe80::1%eth0',
      ' 10.0.0.0/8',
      '10.0.0.0/8 ',
      'localhost',
      '',
      '::ffff:10.0.0.0/95',
    ]) {
      rejects(
        input({}, { sourceRanges: ['192.0.2.0/24', bad] }),
        /^access policy "office": conditions\.sourceRanges\[1\]: ".*" is not an IP address or CIDR block$/,
      );
    }
    rejects(input({}, { sourceRanges: [] }), /conditions\.sourceRanges: the list is empty/);
  });

  it('rejects a block with host bits set, and suggests the block meant', () => {
    const error = rejects(
      input({}, { sourceRanges: ['10.1.2.3/8'] }),
      /conditions\.sourceRanges\[0\]: "10\.1\.2\.3\/8" has bits set after the prefix$/,
    );
    assert.match(error.hint, /10\.0\.0\.0\/8/);
    const v6 = rejects(
      input({}, { sourceRanges: ['2001:db8::1/32'] }),
      /has bits set after the prefix$/,
    );
    assert.match(v6.hint, /2001:db8::\/32/);
  });

  it('rejects bad times', () => {
    const at = (window: Record<string, unknown>) =>
      input({}, { timeWindows: [WINDOW, { ...WINDOW, ...window }] });
    rejects(
      at({ start: '8:00' }),
      /conditions\.timeWindows\[1\]\.start: "8:00" is not a time of day$/,
    );
    rejects(at({ start: '24:00' }), /timeWindows\[1\]\.start: "24:00" is not a time of day$/);
    rejects(at({ end: '18:60' }), /timeWindows\[1\]\.end: "18:60" is not a time of day$/);
    rejects(at({ end: '25:00' }), /timeWindows\[1\]\.end: "25:00" is not a time of day$/);
    rejects(at({ end: 1800 }), /timeWindows\[1\]\.end: 1800 is not a string$/);
    rejects(at({ start: undefined }), /timeWindows\[1\]\.start: missing, expected a string$/);
    const empty = rejects(
      at({ start: '08:00', end: '08:00' }),
      /conditions\.timeWindows\[1\]: the window 08:00-08:00 is empty$/,
    );
    assert.match(empty.hint, /00:00-24:00/);
    rejects(input({}, { timeWindows: [] }), /conditions\.timeWindows: the list is empty/);
  });

  it('rejects unknown time zones', () => {
    const at = (timeZone: unknown) => input({}, { timeWindows: [{ ...WINDOW, timeZone }] });
    rejects(
      at('Europe/Berln'),
      /conditions\.timeWindows\[0\]\.timeZone: "Europe\/Berln" is not a known time zone$/,
    );
    rejects(at('CEST+2'), /timeZone: "CEST\+2" is not a known time zone$/);
    rejects(at(''), /timeZone: "" is not a known time zone$/);
    rejects(at(undefined), /timeZone: missing, expected a string$/);
  });

  it('rejects unknown or missing day names', () => {
    const at = (days: unknown) => input({}, { timeWindows: [{ ...WINDOW, days }] });
    rejects(
      at(['mon', 'monday']),
      /conditions\.timeWindows\[0\]\.days\[1\]: "monday" is not a day$/,
    );
    rejects(at(['Mon']), /days\[0\]: "Mon" is not a day$/);
    rejects(at([]), /timeWindows\[0\]\.days: the list is empty/);
    rejects(at('mon-fri'), /timeWindows\[0\]\.days: "mon-fri" is not a list$/);
  });

  it('rejects empty pattern lists and unprintable patterns, but accepts the pattern ""', () => {
    rejects(
      input({}, { applicationNames: [] }),
      /conditions\.applicationNames: the list is empty, so it could never match$/,
    );
    rejects(
      input({}, { applicationNames: ['psql', null] }),
      /applicationNames\[1\]: null is not a string$/,
    );
    rejects(
      input({}, { applicationNames: ['ps\u0000ql'] }),
      /applicationNames\[0\]: "ps\\u0000ql" holds control characters$/,
    );
    assert.deepEqual(validatePolicy(input({}, { applicationNames: [''] })).conditions, {
      applicationNames: [''],
    });
  });

  it('rejects non-boolean flags and bad acr lists', () => {
    rejects(input({}, { mfa: 'true' }), /conditions\.mfa: "true" is not true or false$/);
    rejects(
      input({}, { clientCertificate: 1 }),
      /conditions\.clientCertificate: 1 is not true or false$/,
    );
    rejects(input({}, { acrValues: [] }), /conditions\.acrValues: the list is empty/);
    rejects(input({}, { acrValues: [''] }), /conditions\.acrValues\[0\]: the value is empty$/);
  });
});
