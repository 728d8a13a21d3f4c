import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { after, before, describe, it } from 'node:test';
import { setTimeout as sleep } from 'node:timers/promises';
import pg from 'pg';
import { TempServer } from '../helpers/temp-server.js';
import { testBinarySources } from '../helpers/test-binaries.js';

/**
 * Issue 5, item 7: just-in-time access. A user requests a role, an approver
 * approves, the user uses it, it expires and the user is refused; all as the
 * real users, logging in through the gateway, against a real server.
 */
const [source] = await testBinarySources();
const pgBin = source?.pgBin ?? 'embedded';

const PASSWORDS: Record<string, string> = {
  alice: 'alice-Secret-1',
  bob: 'bob-Secret-1',
  carol: 'carol-Secret-1',
  dave: 'dave-Secret-1',
};
const WRONG = 'not-Bobs-password-9';

describe(`just-in-time access (${pgBin})`, () => {
  const server = TempServer.create(pgBin, (fn) => after(fn));
  const ids = { alice: 0, dave: 0 };

  before(async () => {
    await server.up();
    const admin = await server.superuser();
    try {
      for (const [user, password] of Object.entries(PASSWORDS))
        await admin.query(`CREATE ROLE ${user} LOGIN PASSWORD '${password}'`);
      await admin.query('CREATE ROLE approvers NOLOGIN');
      await admin.query('GRANT approvers TO bob, dave');
      await admin.query('CREATE ROLE reporting NOLOGIN');
      await admin.query("CREATE TABLE secrets (v text); INSERT INTO secrets VALUES ('s3cret')");
      await admin.query('REVOKE ALL ON secrets FROM PUBLIC; GRANT SELECT ON secrets TO reporting');
      await admin.query('CREATE ROLE root_like NOLOGIN SUPERUSER');
      await admin.query('CREATE ROLE bypass NOLOGIN BYPASSRLS');
      await admin.query('CREATE ROLE sneaky NOLOGIN IN ROLE bypass');
    } finally {
      await admin.end();
    }
  });

  /** `pgwarden access ...` as `user` (password in PGPASSWORD), or without a user. */
  const access = async (
    user: string | undefined,
    args: readonly string[],
    password = user === undefined ? undefined : PASSWORDS[user],
  ): Promise<{ code: number; out: string }> => {
    const result = await server.cli(
      ['access', ...args, ...(user === undefined ? [] : ['--user', user])],
      { env: password === undefined ? {} : { PGPASSWORD: password } },
    );
    return { code: result.code ?? -1, out: result.stdout + result.stderr };
  };
  const ok = async (user: string | undefined, ...args: string[]): Promise<string> => {
    const result = await access(user, args);
    assert.equal(result.code, 0, `${args.join(' ')}: ${result.out}`);
    return result.out;
  };
  const request = async (user: string, role: string, duration = '1h'): Promise<number> => {
    const out = await ok(
      user,
      'request',
      '--role',
      role,
      '--for',
      duration,
      '--reason',
      `INC-42 ${user}`,
    );
    return Number(/access request (\d+) created/.exec(out)?.[1]);
  };
  const state = async <T extends pg.QueryResultRow>(sql: string, params: unknown[] = []) => {
    const client = await server.superuser('pgwarden');
    try {
      return (await client.query<T>(sql, params)).rows;
    } finally {
      await client.end();
    }
  };
  const statusOf = async (id: number): Promise<string | undefined> =>
    (
      await state<{ status: string }>('SELECT status FROM pgwarden.access_requests WHERE id = $1', [
        id,
      ])
    )[0]?.status;
  const member = async (user: string, role: string): Promise<boolean> =>
    (
      await state<{ m: boolean }>(
        `SELECT EXISTS (SELECT 1 FROM pg_auth_members m JOIN pg_roles r ON r.oid = m.roleid
                          JOIN pg_roles u ON u.oid = m.member
                         WHERE r.rolname = $2 AND u.rolname = $1) AS m`,
        [user, role],
      )
    )[0]?.m === true;
  /** Waits for the gateway's sweeper (every 2 s) to move request `id` to `status`. */
  const until = async (id: number, status: string): Promise<void> => {
    const deadline = Date.now() + 15_000;
    while ((await statusOf(id)) !== status) {
      if (Date.now() > deadline) assert.fail(`request ${id} did not become ${status}`);
      await sleep(250);
    }
  };
  const connect = async (user: string): Promise<pg.Client> => {
    const client = new pg.Client(server.gatewayClientConfig(user, PASSWORDS[user] as string));
    client.on('error', () => undefined);
    await client.connect();
    return client;
  };
  /** SET ROLE reporting and read the table only reporting may read, on a new session. */
  const readAsReporting = async (user: string): Promise<string | undefined> => {
    const client = await connect(user);
    try {
      await client.query('SET ROLE reporting');
      return (await client.query<{ v: string }>('SELECT v FROM secrets')).rows[0]?.v;
    } finally {
      await client.end();
    }
  };
  const events = (): Array<Record<string, unknown> & { access?: Record<string, unknown> }> =>
    readFileSync(server.layout.gatewayEvents, 'utf8')
      .split('\n')
      .filter((line) => line !== '')
      .map((line) => JSON.parse(line) as Record<string, unknown>)
      .filter((event) => String(event.event).startsWith('access.') && 'access' in event);

  it('refuses approvals while no approver role is set, then sets one', async () => {
    ids.alice = await request('alice', 'reporting');
    const early = await access('bob', ['approve', String(ids.alice)]);
    assert.equal(early.code, 1);
    assert.match(early.out, /no approver role is set.*\(PGW_JIT_APPROVAL_REFUSED\)/);
    assert.match(early.out, /hint: set one with pgwarden access approvers --role R/);

    assert.match(
      await ok(undefined, 'approvers', '--role', 'approvers'),
      /approver role set to "approvers"/,
    );
    assert.deepEqual(JSON.parse(await ok(undefined, 'approvers', '--json')), {
      approverRole: 'approvers',
    });
    const internal = await access(undefined, ['approvers', '--role', 'pgwarden_admin']);
    assert.match(internal.out, /internal role .*\(PGW_JIT_INVALID\)/);
  });

  it('refuses the requester, a non-approver and a wrong password', async () => {
    ids.dave = await request('dave', 'reporting');
    const self = await access('dave', ['approve', String(ids.dave)]);
    assert.equal(self.code, 1);
    assert.match(
      self.out,
      /"dave" made request \d+ and cannot decide it \(PGW_JIT_APPROVAL_REFUSED\)/,
    );
    const selfDeny = await access('dave', ['deny', '--id', String(ids.dave)]);
    assert.match(selfDeny.out, /cannot decide it/);

    const outsider = await access('carol', ['approve', String(ids.alice)]);
    assert.equal(outsider.code, 1);
    assert.match(outsider.out, /"carol" is not a member of the approver role "approvers"/);

    const wrong = await access('bob', ['approve', String(ids.alice)], WRONG);
    assert.equal(wrong.code, 1);
    assert.match(
      wrong.out,
      /password authentication failed for user "bob" \(PGW_JIT_LOGIN_FAILED\)/,
    );
    assert.equal(wrong.out.trim().split('\n').length, 2, `one error line and a hint: ${wrong.out}`);
    assert.doesNotMatch(wrong.out, /at .*\.js:\d+/, 'no stack trace');
    assert.ok(!wrong.out.includes(WRONG), 'the password is never printed');

    const none = await access('bob', ['approve', String(ids.alice)], '');
    assert.equal(none.code, 2);
    assert.match(none.out, /set PGPASSWORD .*\(PGW_USAGE\)/);
    const unknown = await access('nobody', ['approve', String(ids.alice)], 'x');
    assert.match(unknown.out, /PGW_JIT_LOGIN_FAILED/);

    assert.equal(await statusOf(ids.alice), 'pending');
    assert.equal(await statusOf(ids.dave), 'pending');
    assert.ok(!readFileSync(server.layout.gatewayEvents, 'utf8').includes(WRONG));
  });

  it('grant → use → expiry → refused', async () => {
    const id = ids.alice;
    await assert.rejects(readAsReporting('alice'), /permission denied to set role "reporting"/);

    const approved = await ok('bob', 'approve', String(id));
    assert.match(
      approved,
      /request \d+ approved: role "reporting" granted to alice until \S+ \(1h\)/,
    );
    const [grant] = JSON.parse(await ok(undefined, 'grants', '--json')) as Array<
      Record<string, unknown>
    >;
    assert.equal(grant?.id, id);
    assert.equal(grant?.user, 'alice');
    assert.equal(grant?.approvedBy, 'bob');
    assert.ok(Number(grant?.secondsLeft) > 3500 && Number(grant?.secondsLeft) <= 3600);
    assert.match(await ok(undefined, 'grants'), /alice\s+reporting\s+bob\s+\S+\s+(59m|1h00m)/);

    assert.equal(await readAsReporting('alice'), 's3cret');
    // A session that switched to the role before expiry: expiry ends it.
    const held = await connect('alice');
    await held.query('SET ROLE reporting');

    // Rather than wait an hour: move the expiry into the past, as time would.
    await state(
      "UPDATE pgwarden.access_requests SET expires_at = now() - interval '1 second' WHERE id = $1",
      [id],
    );
    await until(id, 'expired');
    assert.equal(await member('alice', 'reporting'), false);
    await assert.rejects(held.query('SELECT v FROM secrets'), /terminat|Connection/i);
    await held.end().catch(() => undefined);

    await assert.rejects(readAsReporting('alice'), /permission denied to set role "reporting"/);
    const plain = await connect('alice');
    try {
      await assert.rejects(
        plain.query('SELECT v FROM secrets'),
        /permission denied for table secrets/,
      );
    } finally {
      await plain.end();
    }
    assert.deepEqual(JSON.parse(await ok(undefined, 'grants', '--json')), []);
    const [row] = await state<{ revoked: boolean }>(
      'SELECT revoked_at IS NOT NULL AS revoked FROM pgwarden.access_requests WHERE id = $1',
      [id],
    );
    assert.equal(row?.revoked, true);
    const closed = await access('dave', ['approve', String(id)]);
    assert.match(closed.out, /request \d+ is already expired \(PGW_JIT_REQUEST_CLOSED\)/);
  });

  it('denies a request, with a reason', async () => {
    const denied = await ok('bob', 'deny', String(ids.dave), '--reason', 'not during the freeze');
    assert.match(denied, /request \d+ denied: dave does not get role "reporting"/);
    const requests = JSON.parse(await ok(undefined, 'requests', '--json')) as Array<
      Record<string, unknown>
    >;
    const row = requests.find((r) => r.id === ids.dave);
    assert.equal(row?.status, 'denied');
    assert.equal(row?.decidedBy, 'bob');
    assert.equal(row?.decisionReason, 'not during the freeze');
    assert.equal(await member('dave', 'reporting'), false);
    const again = await access('bob', ['approve', String(ids.dave)]);
    assert.match(again.out, /already denied \(PGW_JIT_REQUEST_CLOSED\)/);
    const missing = await access('bob', ['approve', '9999']);
    assert.match(missing.out, /no access request has id 9999 \(PGW_JIT_NOT_FOUND\)/);
    assert.match(await ok(undefined, 'requests'), /dave\s+reporting\s+1h\s+denied/);
  });

  it('leaves a membership alone that was held before the grant', async () => {
    await state('GRANT reporting TO carol');
    const id = await request('carol', 'reporting', '30m');
    assert.match(
      await ok('dave', 'approve', String(id)),
      /already held role "reporting", so nothing was granted/,
    );
    await state(
      "UPDATE pgwarden.access_requests SET expires_at = now() - interval '1 second' WHERE id = $1",
      [id],
    );
    await until(id, 'expired');
    assert.equal(await member('carol', 'reporting'), true);
    assert.equal(await readAsReporting('carol'), 's3cret');
  });

  it('skips a grant another transaction holds, and expires the rest', async () => {
    const held = await request('alice', 'reporting', '10m');
    await ok('bob', 'approve', String(held));
    const free = await request('dave', 'reporting', '10m');
    await ok('bob', 'approve', String(free));
    // Both due in 3 s, the held one first: a sweep that waited for its lock would stall on it.
    await state(
      `UPDATE pgwarden.access_requests
          SET expires_at = now() + CASE id WHEN $1 THEN interval '3 seconds' ELSE interval '3.1 seconds' END
        WHERE id IN ($1, $2)`,
      [held, free],
    );
    const locker = await server.superuser('pgwarden');
    try {
      await locker.query('BEGIN');
      await locker.query('SELECT 1 FROM pgwarden.access_requests WHERE id = $1 FOR UPDATE', [held]);
      await until(free, 'expired');
      assert.equal(await statusOf(held), 'granted');
      assert.equal(await member('alice', 'reporting'), true);
      assert.equal(await member('dave', 'reporting'), false);
      await locker.query('COMMIT');
    } finally {
      await locker.end();
    }
    await until(held, 'expired');
    assert.equal(await member('alice', 'reporting'), false);
  });

  it('revokes a grant that expired while pgwarden was down', async () => {
    const id = await request('alice', 'reporting', '15m');
    await ok('bob', 'approve', String(id));
    assert.equal(await member('alice', 'reporting'), true);
    // Due a few seconds from now: after `down` has stopped the sweeper, before `up`.
    const [due] = await state<{ at: Date }>(
      "UPDATE pgwarden.access_requests SET expires_at = now() + interval '8 seconds' WHERE id = $1 RETURNING expires_at AS at",
      [id],
    );
    const down = await server.cli(['down']);
    assert.equal(down.code, 0, down.stderr);
    const downAt = new Date();
    assert.ok(downAt < (due?.at as Date), 'down finished before the grant expired');
    await sleep(Math.max(0, (due?.at as Date).getTime() - Date.now() + 500));

    await server.up();
    // The sweep at start runs before the gateway listens: revoked by the time `up` returns.
    assert.equal(await member('alice', 'reporting'), false);
    const [row] = await state<{ status: string; revokedAt: Date }>(
      'SELECT status, revoked_at AS "revokedAt" FROM pgwarden.access_requests WHERE id = $1',
      [id],
    );
    assert.equal(row?.status, 'expired');
    assert.ok((row?.revokedAt as Date) > downAt, 'revoked after the restart');
    await assert.rejects(readAsReporting('alice'), /permission denied to set role "reporting"/);
  });

  it('records every step as a security event, in the events file and the audit log', async () => {
    const wanted = [
      ['access.requested', 3201, 'alice'],
      ['access.approved', 3202, 'bob'],
      ['access.denied-request', 3203, 'bob'],
      ['access.granted', 3204, 'alice'],
      ['access.expired', 3205, 'alice'],
      ['access.approver-role-set', 3206, undefined],
    ] as const;
    const deadline = Date.now() + 10_000;
    while (
      !wanted.every(([name]) => events().some((e) => e.event === name)) &&
      Date.now() < deadline
    )
      await sleep(250);
    const all = events();
    for (const [name, code, user] of wanted) {
      const event = all.find((e) => e.event === name && (user === undefined || e.user === user));
      assert.ok(event, `${name} recorded`);
      assert.equal(event.code, code);
    }
    const approved = all.find(
      (e) => e.event === 'access.approved' && e.access?.request === ids.alice,
    );
    assert.deepEqual(
      { ...approved?.access, occurredAt: undefined },
      {
        request: ids.alice,
        requester: 'alice',
        role: 'reporting',
        approver: 'bob',
        duration: '1h',
        reason: 'INC-42 alice',
        occurredAt: undefined,
      },
    );
    const expired = all.find(
      (e) => e.event === 'access.expired' && e.access?.request === ids.alice,
    );
    assert.equal(expired?.access?.revoked, true);
    assert.equal(expired?.access?.approver, 'bob');
    assert.ok(Number(expired?.access?.sessionsEnded) >= 1, 'the SET ROLE session was ended');
    assert.match(String(expired?.detail), /revoked; \d+ sessions? of alice ended/);
    const denied = all.find((e) => e.event === 'access.denied-request');
    assert.equal(denied?.access?.decisionReason, 'not during the freeze');

    const tail = await server.cli(['audit', 'tail', '-n', '2000', '--json']);
    assert.equal(tail.code, 0, tail.stderr);
    const audited = tail.stdout
      .split('\n')
      .filter((line) => line.startsWith('{'))
      .map((line) => JSON.parse(line) as { event: string; code: number });
    for (const [name, code] of wanted)
      assert.ok(
        audited.some((r) => r.event === name && r.code === code),
        `${name} in the audit log`,
      );
    const verify = await server.cli(['audit', 'verify']);
    assert.equal(verify.code, 0, verify.stdout + verify.stderr);
    const file = readFileSync(server.layout.gatewayEvents, 'utf8');
    for (const password of [...Object.values(PASSWORDS), WRONG])
      assert.ok(!file.includes(password));
  });

  it('gives clear errors for bad durations, reasons and roles', async () => {
    const refused = async (args: string[], pattern: RegExp, code = 1): Promise<void> => {
      const result = await access('alice', ['request', ...args]);
      assert.equal(result.code, code, result.out);
      assert.match(result.out, pattern);
      assert.doesNotMatch(result.out, /at .*\.js:\d+/, 'no stack trace');
    };
    const withRole = (role: string, duration = '1h', reason = 'ticket') => [
      '--role',
      role,
      '--for',
      duration,
      '--reason',
      reason,
    ];
    await refused(
      withRole('reporting', '30s'),
      /--for "30s" is not a duration \(PGW_JIT_INVALID\)/,
    );
    await refused(withRole('reporting', '0m'), /shorter than 1m/);
    await refused(withRole('reporting', '13h'), /longer than the maximum of 12h/);
    await refused(withRole('reporting', '2 hours'), /is not a duration/);
    await refused(
      withRole('reporting', '1h', 'x'.repeat(501)),
      /--reason needs 1 to 500 characters/,
    );
    await refused(
      ['--role', 'reporting', '--for', '1h'],
      /this command needs --reason \(PGW_USAGE\)/,
      2,
    );
    await refused(withRole('nosuch'), /role "nosuch" does not exist \(PGW_JIT_INVALID\)/);
    await refused(withRole('pg_read_all_data'), /internal role/);
    await refused(withRole('pgwarden_admin'), /internal role/);
    await refused(withRole('root_like'), /role "root_like" has SUPERUSER/);
    await refused(withRole('sneaky'), /role "sneaky" \(through "bypass"\) has BYPASSRLS/);
    await refused(withRole('alice'), /"alice" is your own role/);
    await refused(withRole('approvers'), /is the approver role "approvers"/);
    assert.equal(await member('alice', 'pg_read_all_data'), false);
  });
});
