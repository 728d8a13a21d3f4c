import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { HarmfulApplication } from '../../../src/detect/auth/harmful-application.js';
import { harmfulTool } from '../../../src/detect/auth/harmful-tools.js';
import type { SecurityEvent } from '../../../src/gateway/security-events.js';

/** Issue 7: login.harmful-application, application_name against the tool list and config globs. */

describe('harmfulTool', () => {
  it('knows attack tools by name, whatever the case and version', () => {
    assert.equal(harmfulTool('sqlmap/1.8.2#stable (https://sqlmap.org)'), 'sqlmap');
    assert.equal(harmfulTool('SQLMAP'), 'sqlmap');
    assert.equal(harmfulTool('Hydra v9.5'), 'hydra');
    assert.equal(harmfulTool('thc-hydra'), 'thc-hydra');
    assert.equal(harmfulTool('Nmap NSE pgsql-brute'), 'nmap');
    assert.equal(harmfulTool('scan with pgsql-brute'), 'pgsql-brute');
    assert.equal(harmfulTool('Metasploit Framework'), 'metasploit');
    assert.equal(harmfulTool('nxc postgres'), 'nxc');
    assert.equal(harmfulTool('patator'), 'patator');
    assert.equal(harmfulTool('medusa'), 'medusa');
  });

  it('does not take ordinary names that contain a tool word for the tool', () => {
    for (const name of [
      'psql',
      'pgbench',
      'ory-hydra',
      'hydration-worker',
      'PostgreSQL JDBC Driver',
      'sqlmapper',
      'my msf service',
      '',
    ])
      assert.equal(harmfulTool(name), undefined, name);
  });

  it('matches an ambiguous tool word only at the start (a known limit: medusa-backend is medusa)', () => {
    assert.equal(harmfulTool('medusa-backend'), 'medusa');
    assert.equal(harmfulTool('shop medusa'), undefined);
  });

  it('adds the configured globs, case-insensitively', () => {
    assert.equal(harmfulTool('Evil-Scanner 2.0', ['evil-scanner*']), 'config "evil-scanner*"');
    assert.equal(harmfulTool('good-app', ['evil-scanner*']), undefined);
    assert.equal(harmfulTool('x-EVIL', ['*evil']), 'config "*evil"');
  });
});

describe('login.harmful-application', () => {
  const login = (
    applicationName: string | undefined,
    event: SecurityEvent['event'] = 'auth.succeeded',
    address = '10.0.0.1',
  ): SecurityEvent => ({
    event,
    address,
    user: 'alice',
    session: 'feedbeef',
    applicationName,
    detail: event === 'auth.failed' ? 'proof mismatch' : undefined,
  });

  it('raises for a login attempt by a tool, with the session as subject', () => {
    const detector = new HarmfulApplication([]);
    const [alert, ...rest] = detector.observe({
      kind: 'event',
      time: 0,
      event: login('sqlmap/1.8'),
    });
    assert.equal(rest.length, 0);
    assert.equal(alert?.type, 'login.harmful-application');
    assert.equal(alert?.key, 'sqlmap@10.0.0.1');
    assert.deepEqual(alert?.subject, { address: '10.0.0.1', user: 'alice', session: 'feedbeef' });
    assert.deepEqual(
      alert?.evidence.map((e) => [e.event, e.applicationName, e.user]),
      [['auth.succeeded', 'sqlmap/1.8', 'alice']],
    );
    assert.match(alert?.summary ?? '', /^login by sqlmap/);
  });

  it('raises for failed logins too, once, then repeats at most once a minute', () => {
    const detector = new HarmfulApplication([]);
    const raised = [0, 1000, 30_000, 59_999, 60_000, 61_000].flatMap((time) =>
      detector.observe({ kind: 'event', time, event: login('hydra', 'auth.failed') }),
    );
    assert.equal(raised.length, 2);
    assert.match(raised[0]?.summary ?? '', /^failed login \(auth\.failed\) by hydra/);
  });

  it('keeps tools and addresses apart', () => {
    const detector = new HarmfulApplication([]);
    const raised = [
      login('hydra', 'auth.failed', '10.0.0.1'),
      login('hydra', 'auth.failed', '10.0.0.2'),
      login('medusa', 'auth.failed', '10.0.0.1'),
    ].flatMap((event) => detector.observe({ kind: 'event', time: 0, event }));
    assert.deepEqual(
      raised.map((a) => a.key),
      ['hydra@10.0.0.1', 'hydra@10.0.0.2', 'medusa@10.0.0.1'],
    );
  });

  it('ignores ordinary applications and events that are not logins', () => {
    const detector = new HarmfulApplication(['evil*']);
    const raised = [
      login('psql'),
      login(undefined),
      { ...login('sqlmap'), event: 'guard.escalation' as const },
      { ...login('sqlmap'), event: 'session.ended' as const },
    ].flatMap((event) => detector.observe({ kind: 'event', time: 0, event }));
    assert.deepEqual(raised, []);
  });
});
