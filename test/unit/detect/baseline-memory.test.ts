import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { BaselineMemory } from '../../../src/detect/baseline/baseline-memory.js';
import { loginFromAuditRecord, loginFromEvent } from '../../../src/detect/baseline/login.js';
import { networkOf } from '../../../src/detect/baseline/network-prefix.js';

describe('BaselineMemory', () => {
  it('widens first and last seen, lists recent values newest first', () => {
    const memory = new BaselineMemory();
    memory.record('role:app', '10.0.0.0/24', 500, 500);
    memory.record('role:app', '10.0.0.0/24', 100, 300);
    memory.record('role:app', '10.0.1.0/24', 700, 700);
    memory.record('role:app', '10.0.2.0/24', 50, 60);
    assert.deepEqual(memory.get('role:app', '10.0.0.0/24'), { firstSeen: 100, lastSeen: 500 });
    assert.equal(memory.startedAt, 50);
    assert.equal(memory.size, 3);
    assert.deepEqual(memory.recent('role:app', 0, 10), [
      '10.0.1.0/24',
      '10.0.0.0/24',
      '10.0.2.0/24',
    ]);
    assert.deepEqual(memory.recent('role:app', 400, 10), ['10.0.1.0/24', '10.0.0.0/24']);
    assert.deepEqual(memory.recent('role:app', 0, 1), ['10.0.1.0/24']);
    assert.deepEqual(memory.recent('role:other', 0, 10), []);
  });

  it('forgets the least recently used subject past its size, and old values past the per-subject cap', () => {
    const memory = new BaselineMemory(4, 2);
    memory.record('a', '1', 1, 1);
    memory.record('b', '1', 2, 2);
    memory.record('c', '1', 3, 3);
    memory.record('a', '2', 4, 4); // touches a: b is now the least recent
    memory.record('d', '1', 5, 5);
    assert.equal(memory.size, 4);
    assert.equal(memory.get('b', '1'), undefined);
    assert.ok(
      memory.get('a', '1') && memory.get('a', '2') && memory.get('c', '1') && memory.get('d', '1'),
    );
    memory.record('a', '3', 6, 6); // a holds at most 2 values: its oldest goes
    assert.equal(memory.get('a', '1'), undefined);
    assert.deepEqual(memory.recent('a', 0, 5), ['3', '2']);
    assert.equal(memory.size, 4);
    assert.deepEqual(
      [...memory.entries()].map((e) => `${e.subject}=${e.value}`),
      ['c=1', 'd=1', 'a=2', 'a=3'],
    );
  });
});

describe('logins and networks', () => {
  it('takes the network prefix of IPv4, IPv4-mapped and IPv6 addresses', () => {
    assert.equal(networkOf('203.0.113.77', 24, 48), '203.0.113.0/24');
    assert.equal(networkOf('::ffff:203.0.113.77', 24, 48), '203.0.113.0/24');
    assert.equal(networkOf('203.0.113.77', 16, 48), '203.0.0.0/16');
    assert.equal(networkOf('203.0.113.77', 32, 48), '203.0.113.77/32');
    assert.equal(networkOf('2001:db8:1:2:3::9', 24, 48), '2001:db8:1::/48');
    assert.equal(networkOf('2001:db8:1:2:3::9', 24, 64), '2001:db8:1:2::/64');
    assert.equal(networkOf('local', 24, 48), undefined);
  });

  it('reads a login from a live event and from an audit record alike; a token login is its principal', () => {
    const event = loginFromEvent(
      {
        event: 'auth.succeeded',
        address: '10.0.0.1',
        user: 'app',
        database: 'shop',
        principal: '12 (user 0f3c of corp)',
      },
      1000,
    );
    assert.deepEqual(event, {
      time: 1000,
      identity: 'principal:12',
      user: 'app',
      principal: '12 (user 0f3c of corp)',
      address: '10.0.0.1',
      database: 'shop',
      applicationName: undefined,
    });
    assert.equal(
      loginFromEvent({ event: 'auth.failed', address: '10.0.0.1', user: 'app' }, 1),
      undefined,
    );
    const record = loginFromAuditRecord({
      seq: 4,
      time: '2025-03-01T12:00:00.000Z',
      code: 3001,
      event: 'auth.succeeded',
      address: '10.0.0.1',
      user: 'app',
      applicationName: 'psql',
    });
    assert.equal(record?.identity, 'role:app');
    assert.equal(record?.time, Date.parse('2025-03-01T12:00:00.000Z'));
    assert.equal(record?.applicationName, 'psql');
    assert.equal(
      loginFromAuditRecord({
        event: 'auth.succeeded',
        time: 'yesterday',
        user: 'a',
        address: '1.2.3.4',
      }),
      undefined,
    );
    assert.equal(
      loginFromAuditRecord({
        event: 'statement',
        time: '2025-03-01T12:00:00Z',
        user: 'a',
        address: '1.2.3.4',
      }),
      undefined,
    );
  });
});
