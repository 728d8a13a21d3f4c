import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { alertToOcsf, OCSF_SEVERITY, OCSF_VERSION } from '../../../src/detect/sinks/alert-ocsf.js';
import { storedAlert } from './alert-fixture.js';

type Json = Record<string, unknown>;

describe('OCSF export', () => {
  it('is a Detection Finding of OCSF 1.3.0', () => {
    const finding = alertToOcsf(storedAlert(), '0.1.0');
    assert.equal(OCSF_VERSION, '1.3.0');
    assert.equal(finding.class_uid, 2004);
    assert.equal(finding.category_uid, 2);
    assert.equal(finding.class_name, 'Detection Finding');
    assert.equal(finding.activity_id, 1);
    assert.equal(finding.type_uid, 200401);
    assert.equal((finding.metadata as Json).version, '1.3.0');
    assert.deepEqual((finding.metadata as Json).product, {
      name: 'pgwarden',
      vendor_name: 'pgwarden',
      version: '0.1.0',
    });
    assert.equal(finding.time, Date.parse('2025-01-01T00:01:00.000Z'));
    assert.equal(finding.count, 12);
  });

  it('maps severities to severity_id 2 to 5', () => {
    assert.deepEqual(Object.fromEntries(Object.entries(OCSF_SEVERITY).map(([k, v]) => [k, v.id])), {
      low: 2,
      medium: 3,
      high: 4,
      critical: 5,
    });
    const finding = alertToOcsf(storedAlert({ severity: 'critical' }), '0.1.0');
    assert.equal(finding.severity_id, 5);
    assert.equal(finding.severity, 'Critical');
  });

  it('fills finding_info with uid, title, types and the seen times', () => {
    const info = alertToOcsf(storedAlert(), '0.1.0').finding_info as Json;
    assert.equal(info.uid, 'pgwarden-alert-42');
    assert.equal(info.title, '12 failed logins from 203.0.113.9 in 60 s');
    assert.deepEqual(info.types, ['brute-force.source']);
    assert.equal(info.first_seen_time, Date.parse('2025-01-01T00:00:01.000Z'));
    assert.equal(info.last_seen_time, Date.parse('2025-01-01T00:01:00.000Z'));
  });

  it('maps the ATT&CK tactic and technique, with their ids', () => {
    const finding = alertToOcsf(storedAlert(), '0.1.0');
    const expected = [
      {
        tactic: { name: 'Credential Access', uid: 'TA0006' },
        technique: { name: 'Password Guessing', uid: 'T1110.001' },
      },
    ];
    assert.deepEqual(finding.attacks, expected);
    assert.deepEqual((finding.finding_info as Json).attacks, expected);
  });

  it('maps status to status_id and the activity of a snapshot', () => {
    const of = (status: 'new' | 'acknowledged' | 'resolved') =>
      alertToOcsf(storedAlert({ status }), '0.1.0');
    assert.deepEqual(
      [of('new').status_id, of('acknowledged').status_id, of('resolved').status_id],
      [1, 2, 4],
    );
    assert.deepEqual(
      [of('new').activity_id, of('acknowledged').activity_id, of('resolved').activity_id],
      [1, 2, 3],
    );
    assert.equal(of('resolved').type_uid, 200403);
  });

  it('turns each evidence item into an evidence artifact', () => {
    const evidences = alertToOcsf(storedAlert(), '0.1.0').evidences as Json[];
    assert.deepEqual(evidences, [
      {
        data: {
          event: 'auth.failed',
          time: '2025-01-01T00:00:01.000Z',
          detail: 'password authentication failed',
        },
        src_endpoint: { ip: '203.0.113.9' },
        actor: { user: { name: 'app' }, app_name: 'psql' },
        database: { name: 'shop', type_id: 1, type: 'Relational' },
      },
    ]);
  });

  it('gives every artifact at least one field, and no endpoint for a non-IP address', () => {
    const evidences = alertToOcsf(
      storedAlert({
        evidence: [{ time: '2025-01-01T00:00:01.000Z', event: 'statement', address: 'local' }],
      }),
      '0.1.0',
    ).evidences as Json[];
    assert.deepEqual(evidences, [
      { data: { event: 'statement', time: '2025-01-01T00:00:01.000Z' } },
    ]);
  });

  it('serialises to one JSON line', () => {
    const line = JSON.stringify(alertToOcsf(storedAlert({ summary: 'a\nb' }), '0.1.0'));
    assert.ok(!line.includes('\n'));
    assert.equal((JSON.parse(line) as Json).message, 'a\nb');
  });
});
