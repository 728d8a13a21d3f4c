import assert from 'node:assert/strict';
import { createHash } from 'node:crypto';
import { existsSync, mkdirSync, readdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { setTimeout as sleep } from 'node:timers/promises';
import pg from 'pg';
import { scramSha256Verifier } from '../../src/auth/scram-secret.js';
import { PRIVILEGED_PREDEFINED_ROLES } from '../../src/control/roles/privileged-roles.js';
import { TempServer } from '../helpers/temp-server.js';
import { testBinarySources } from '../helpers/test-binaries.js';

/**
 * Issue 6, items 3 and 5 (gateway part): the statement guard, through the
 * real gateway, logged in as the administrator. PostgreSQL 15 is preferred:
 * there CREATEROLE alone lets the administrator grant itself
 * pg_execute_server_program, so the guard is all that stands in the way.
 */
const sources = await testBinarySources();
const source =
  sources.find((s) => s.pgBin === 'system' && s.version.startsWith('15.')) ?? sources[0];
const pgBin = source?.pgBin ?? 'embedded';
const major = Number.parseInt(source?.version ?? '0', 10);
const ADMIN = 'pgwarden';

/** Every password a test sends, to look for in the logs at the end. */
const PASSWORDS = {
  weak: 'Tiny7x',
  weakExtended: 'Puny8y',
  weakInTransaction: 'Wee9zz',
  good: 'Guard-Rails-Horse-42',
  verifierOnly: 'Verifier-Only-Pass-7',
  md5Source: 'Md5-Source-Pass-99',
} as const;

type Rec = Record<string, unknown>;

interface PgError {
  code?: string;
  message: string;
  hint?: string;
}

describe(`statement guard through the gateway (${pgBin} ${source?.version ?? ''})`, () => {
  let admin: pg.Client;
  const clients: pg.Client[] = [];
  // Registered first, so it runs before the server is torn down.
  after(async () => {
    for (const client of clients) await client.end().catch(() => undefined);
  });
  const server = TempServer.create(pgBin, (fn) => after(fn));

  const connect = async (user = ADMIN, password = server.adminPassword()): Promise<pg.Client> => {
    const client = new pg.Client(server.gatewayClientConfig(user, password));
    client.on('error', () => undefined);
    await client.connect();
    clients.push(client);
    return client;
  };

  /** A statement that must fail with `code`; returns the error. */
  const fails = async (
    query: Promise<unknown>,
    code: string,
    message?: RegExp,
  ): Promise<PgError> => {
    const error = await query.then(
      () => assert.fail('expected an error'),
      (e: unknown) => e as PgError,
    );
    assert.equal(error.code, code, error.message);
    if (message !== undefined) assert.match(error.message, message);
    return error;
  };

  /** Asks the catalog, as the internal superuser (not through the gateway). */
  const catalog = async <R extends pg.QueryResultRow>(
    sql: string,
    values: unknown[] = [],
  ): Promise<R[]> => {
    const su = await server.superuser();
    try {
      return (await su.query<R>(sql, values)).rows;
    } finally {
      await su.end();
    }
  };

  const heldPrivilegedRoles = async (role: string): Promise<string[]> =>
    (
      await catalog<{ rolname: string }>(
        `SELECT g.rolname FROM pg_roles g, pg_roles m
          WHERE m.rolname = $1 AND g.rolname = ANY($2) AND pg_has_role(m.oid, g.oid, 'MEMBER')`,
        [role, PRIVILEGED_PREDEFINED_ROLES],
      )
    ).map((r) => r.rolname);

  const auditRecords = (): Rec[] => {
    const dir = join(server.dataDir, 'audit');
    return readdirSync(dir)
      .filter((f) => f.endsWith('.jsonl'))
      .sort()
      .flatMap((f) => readFileSync(join(dir, f), 'utf8').split('\n'))
      .filter((line) => line !== '')
      .map((line) => JSON.parse(line) as Rec);
  };

  /** Gateway events are appended off the session's path: wait until `predicate` holds. */
  const gatewayEvents = async (predicate: (events: Rec[]) => boolean): Promise<Rec[]> => {
    const file = server.layout.gatewayEvents;
    const read = (): Rec[] =>
      existsSync(file)
        ? readFileSync(file, 'utf8')
            .split('\n')
            .filter((line) => line !== '')
            .map((line) => JSON.parse(line) as Rec)
        : [];
    for (let i = 0; i < 100 && !predicate(read()); i++) await sleep(50);
    return read();
  };

  before(async () => {
    mkdirSync(server.dataDir, { recursive: true });
    writeFileSync(
      server.layout.configFile,
      [
        'guardrails:',
        '  privilegedRoles: [replicator]',
        'audit:',
        '  log: [all]',
        '  durable: true', // a statement's record is on disk when its result arrives
        '',
      ].join('\n'),
    );
    await server.up();
    admin = await connect();
    // Made by the administrator, who may then grant them (PostgreSQL 16+ asks for ADMIN OPTION).
    await admin.query('CREATE ROLE bob LOGIN');
    await admin.query('CREATE ROLE app_rw NOLOGIN');
    await admin.query('CREATE TABLE guard_t (line text)');
    // Holds a privileged role without being on the allow-list (made before the guard, or by hand).
    await catalog('CREATE ROLE legacy_reader NOLOGIN IN ROLE pg_read_all_data');
  });

  it('the threat is real on PostgreSQL 15: without the gateway, CREATEROLE grants itself pg_execute_server_program', async (t) => {
    if (major !== 15) {
      t.skip(`PostgreSQL ${major} refuses the grant itself`);
      return;
    }
    const password = 'Probe-Createrole-11';
    await catalog(`CREATE ROLE probe LOGIN CREATEROLE PASSWORD '${password}'`);
    const direct = await server.connectAs('probe', password); // the private socket, no gateway
    try {
      await direct.query('GRANT pg_execute_server_program TO probe');
      assert.deepEqual(await heldPrivilegedRoles('probe'), ['pg_execute_server_program']);
    } finally {
      await direct.end();
      await catalog('DROP ROLE probe');
    }
  });

  it('refuses each escalation with 42501 and a clear line (simple protocol)', async () => {
    const refused = /^pgwarden: .* is refused: /;
    const grant = await fails(
      admin.query(`GRANT pg_execute_server_program TO ${ADMIN}`),
      '42501',
      refused,
    );
    assert.equal(
      grant.message,
      `pgwarden: granting pg_execute_server_program to "${ADMIN}" is refused: it runs programs as the server's OS user; allowed only for roles listed in guardrails.privilegedRoles`,
    );
    assert.match(grant.hint ?? '', /guardrails\.privilegedRoles/);
    for (const sql of [
      'GRANT pg_execute_server_program TO current_user',
      `GRANT pg_read_server_files, pg_write_server_files TO "${ADMIN}" WITH ADMIN OPTION`,
      `GRANT pg_read_all_data TO bob`,
      'CREATE ROLE sneaky IN ROLE pg_execute_server_program',
      `ALTER GROUP pg_execute_server_program ADD USER ${ADMIN}`,
      `ALTER ROLE ${ADMIN} SUPERUSER`,
      'ALTER USER bob WITH BYPASSRLS',
      'CREATE ROLE boss SUPERUSER',
      'GRANT pgwarden_token_login TO bob',
      `REVOKE pgwarden_admin FROM ${ADMIN}`,
      'ALTER ROLE pgwarden_admin NOCREATEDB',
      'ALTER ROLE pgwarden_admin SET search_path = public',
      'ALTER ROLE pgwarden_token_login RENAME TO tl',
      'DROP ROLE pgwarden_token_login',
    ]) {
      await fails(admin.query(sql), '42501', refused);
    }
    assert.equal(
      (await catalog("SELECT 1 FROM pg_roles WHERE rolname IN ('sneaky', 'boss')")).length,
      0,
    );
    assert.equal(
      (await catalog("SELECT 1 FROM pg_roles WHERE rolname = 'pgwarden_token_login'")).length,
      1,
    );
  });

  it('refuses the whole of a multi-statement Query: nothing in it runs', async () => {
    await fails(
      admin.query(
        `CREATE TABLE not_created (x int); GRANT pg_execute_server_program TO ${ADMIN}; SELECT 1`,
      ),
      '42501',
      /pg_execute_server_program/,
    );
    assert.equal((await catalog("SELECT 1 FROM pg_class WHERE relname = 'not_created'")).length, 0);
  });

  it('refuses in the extended protocol, at Execute, for every execution of the statement', async () => {
    const query = { name: 'escalate', text: `GRANT pg_execute_server_program TO ${ADMIN}` };
    await fails(admin.query(query), '42501', /^pgwarden: granting pg_execute_server_program/);
    await fails(admin.query(query), '42501', /^pgwarden: granting pg_execute_server_program/);
    // A statement with parameters in the same session still works.
    const ok = await admin.query({ name: 'echo', text: 'SELECT $1::int AS n', values: [7] });
    assert.equal(ok.rows[0]?.n, 7);
  });

  it('inside an explicit transaction: the transaction is aborted, as for any failed statement', async () => {
    await admin.query('BEGIN');
    await admin.query("INSERT INTO guard_t VALUES ('in the aborted transaction')");
    await fails(admin.query(`GRANT pg_execute_server_program TO ${ADMIN}`), '42501');
    await fails(admin.query('SELECT 1'), '25P02');
    await admin.query('ROLLBACK');
    assert.equal((await admin.query('SELECT 1 AS one')).rows[0]?.one, 1);

    await admin.query('BEGIN');
    await fails(
      admin.query({ name: 'escalate_tx', text: 'ALTER ROLE bob BYPASSRLS' }),
      '42501',
      /giving "bob" BYPASSRLS/,
    );
    await fails(admin.query({ name: 'after', text: 'SELECT $1::int', values: [1] }), '25P02');
    await admin.query('ROLLBACK');
    assert.equal((await catalog('SELECT count(*)::int AS n FROM guard_t'))[0]?.n, 0);
  });

  it('refuses inside DO blocks and function bodies, and EXECUTE that names a privileged role', async () => {
    await fails(
      admin.query(`DO $$BEGIN GRANT pg_execute_server_program TO ${ADMIN}; END$$`),
      '42501',
      /^pgwarden: granting pg_execute_server_program/,
    );
    await fails(
      admin.query(
        "DO $$BEGIN EXECUTE 'GRANT pg_execute_server_program TO ' || quote_ident(current_user); END$$",
      ),
      '42501',
      /^pgwarden: EXECUTE of a string built at run time cannot be checked/,
    );
    await fails(
      admin.query(
        "CREATE FUNCTION esc() RETURNS void LANGUAGE sql AS 'GRANT pg_execute_server_program TO pgwarden'",
      ),
      '42501',
    );
    await fails(
      admin.query(
        'CREATE PROCEDURE esc2() LANGUAGE plpgsql AS $$BEGIN ALTER ROLE bob SUPERUSER; END$$',
      ),
      '42501',
    );
    assert.equal(
      (await catalog("SELECT 1 FROM pg_proc WHERE proname IN ('esc', 'esc2')")).length,
      0,
    );
    // Harmless DO blocks run.
    await admin.query("DO $$BEGIN EXECUTE 'SELECT 1'; END$$");
  });

  it('checks what an ordinary role holds before granting it (the catalog)', async () => {
    const error = await fails(admin.query(`GRANT legacy_reader TO ${ADMIN}`), '42501');
    assert.match(error.message, /"legacy_reader" holds pg_read_all_data/);
    await fails(admin.query({ name: 'legacy', text: 'GRANT legacy_reader TO bob' }), '42501');
    await admin.query('GRANT app_rw TO bob'); // holds nothing: granted
    const members = await catalog(
      "SELECT 1 FROM pg_auth_members WHERE roleid = 'app_rw'::regrole AND member = 'bob'::regrole",
    );
    assert.equal(members.length, 1);
    // After SET ROLE, current_user may be pgwarden_admin: the administrator must write names.
    await fails(
      admin.query('GRANT app_rw TO current_user'),
      '42501',
      /after SET ROLE current_user may be pgwarden_admin/,
    );
  });

  it('afterwards the administrator holds no privileged role, and COPY … PROGRAM fails', async () => {
    assert.deepEqual(await heldPrivilegedRoles(ADMIN), []);
    const memberships = await catalog<{ role: string }>(
      `SELECT m.roleid::regrole::text AS role FROM pg_auth_members m
        WHERE m.member = $1::regrole ORDER BY 1`,
      [ADMIN],
    );
    assert.deepEqual(
      memberships.map((m) => m.role),
      ['pgwarden_admin'],
    );
    await fails(
      admin.query("COPY guard_t FROM PROGRAM 'id'"),
      '42501',
      /permission denied|must be/,
    );
  });

  it('what PostgreSQL refuses itself stays refused, with its own SQLSTATE', async () => {
    const untrusted = await admin.query<{ name: string }>(
      `SELECT name FROM pg_available_extension_versions
        WHERE superuser AND NOT trusted AND name = ANY($1)
        ORDER BY array_position($1, name::text) LIMIT 1`,
      [['file_fdw', 'dblink', 'postgres_fdw', 'pageinspect', 'pg_buffercache']],
    );
    const extension = untrusted.rows[0]?.name;
    assert.ok(extension !== undefined, 'an untrusted contrib extension is installed');
    const created = await fails(admin.query(`CREATE EXTENSION ${extension}`), '42501');
    assert.doesNotMatch(created.message, /^pgwarden:/, "the server's own refusal");

    await admin.query(
      "CREATE FUNCTION definer() RETURNS int LANGUAGE sql SECURITY DEFINER AS 'SELECT 1'",
    );
    const owner = await fails(
      admin.query('ALTER FUNCTION definer() OWNER TO pgwarden_su'),
      '42501',
    );
    assert.doesNotMatch(owner.message, /^pgwarden:/);
  });

  it('lets roles on guardrails.privilegedRoles have privileged roles', async () => {
    await admin.query('CREATE ROLE replicator LOGIN');
    const granted = await admin.query('GRANT pg_read_all_data TO replicator').then(
      () => undefined,
      (e: PgError) => e,
    );
    if (major === 15) {
      assert.equal(granted, undefined, 'the guard let it through, and PostgreSQL 15 granted it');
      assert.deepEqual(await heldPrivilegedRoles('replicator'), ['pg_read_all_data']);
    } else {
      // 16+ needs ADMIN OPTION on pg_read_all_data: the server's refusal, not the guard's.
      assert.doesNotMatch(granted?.message ?? '', /^pgwarden:/);
    }
    // The guard lets REPLICATION through for it; PostgreSQL then decides (15 needs a superuser).
    const replication = await admin.query('ALTER ROLE replicator REPLICATION').then(
      () => undefined,
      (e: PgError) => e,
    );
    if (replication !== undefined) assert.doesNotMatch(replication.message, /^pgwarden:/);
    // …but does not let an allow-listed role be handed on to others.
    await fails(admin.query(`GRANT replicator TO ${ADMIN}`), '42501', /is listed in guardrails/);
  });

  describe('passwords', () => {
    it('refuses a weak password with 22023, naming the rule and not the password', async () => {
      const error = await fails(
        admin.query(`ALTER ROLE bob PASSWORD '${PASSWORDS.weak}'`),
        '22023',
        /^pgwarden: the new password of role "bob" breaks the password policy: too-short \(it has 6 characters; the policy needs at least 16\)/,
      );
      assert.doesNotMatch(`${error.message} ${error.hint}`, new RegExp(PASSWORDS.weak));
      await fails(
        admin.query({ name: 'weak', text: `ALTER ROLE bob PASSWORD '${PASSWORDS.weakExtended}'` }),
        '22023',
        /too-short/,
      );
      await admin.query('BEGIN');
      await fails(
        admin.query(`CREATE ROLE carol LOGIN PASSWORD '${PASSWORDS.weakInTransaction}'`),
        '22023',
      );
      await fails(admin.query('SELECT 1'), '25P02');
      await admin.query('ROLLBACK');
    });

    it('accepts a compliant password, and the role logs in with it', async () => {
      await admin.query(`ALTER ROLE bob PASSWORD '${PASSWORDS.good}'`);
      const bob = await connect('bob', PASSWORDS.good);
      assert.equal((await bob.query('SELECT current_user AS u')).rows[0]?.u, 'bob');
    });

    it('refuses setting the current password again (reuse)', async () => {
      await fails(
        admin.query(`ALTER ROLE bob PASSWORD '${PASSWORDS.good}'`),
        '22023',
        /reused \(it is the current password or one of the last 5\)/,
      );
    });

    it('refuses an md5 hash; accepts a SCRAM-SHA-256 verifier, which then logs in', async () => {
      const md5 = `md5${createHash('md5').update(`${PASSWORDS.md5Source}bob`).digest('hex')}`;
      await fails(admin.query(`ALTER ROLE bob PASSWORD '${md5}'`), '22023', /md5 password hash/);
      const verifier = scramSha256Verifier(PASSWORDS.verifierOnly);
      await admin.query(`ALTER USER bob PASSWORD '${verifier}'`); // what psql's \password sends
      const bob = await connect('bob', PASSWORDS.verifierOnly);
      assert.equal((await bob.query('SELECT 1 AS one')).rows[0]?.one, 1);
    });
  });

  describe('records', () => {
    it('the audit log holds the original statements with their failure, never the replacement', () => {
      const statements = auditRecords().filter((r) => r.event === 'statement');
      const grant = statements.find(
        (r) =>
          r.statement === `GRANT pg_execute_server_program TO ${ADMIN}` && r.protocol === 'simple',
      );
      assert.equal(grant?.outcome, '42501');
      assert.equal(grant?.error, true);
      const extended = statements.find(
        (r) => r.prepared === 'escalate' && r.protocol === 'extended',
      );
      assert.equal(extended?.statement, `GRANT pg_execute_server_program TO ${ADMIN}`);
      assert.equal(extended?.outcome, '42501');
      const weak = statements.find(
        (r) => typeof r.statement === 'string' && r.statement.startsWith('ALTER ROLE bob PASSWORD'),
      );
      assert.equal(weak?.statement, "ALTER ROLE bob PASSWORD '<redacted>'");
      assert.equal(weak?.outcome, '22023');
      assert.ok(
        statements.every((r) => !String(r.statement).includes('RAISE EXCEPTION')),
        'no replacement text in the audit log',
      );
    });

    it('each refusal is a gateway event with the reason and statement kind', async () => {
      const events = await gatewayEvents(
        (all) => all.filter((e) => String(e.event).startsWith('guard.')).length >= 20,
      );
      const guard = events.filter((e) => String(e.event).startsWith('guard.'));
      const escalation = guard.find(
        (e) => e.event === 'guard.escalation' && (e.guard as Rec).statement === 'GRANT ROLE',
      );
      assert.equal(escalation?.code, 4201);
      assert.equal(escalation?.user, ADMIN);
      assert.deepEqual(escalation?.guard, {
        reason: 'privileged-role',
        statement: 'GRANT ROLE',
        within: '',
        protocol: 'simple',
      });
      const internal = guard.find((e) => e.event === 'guard.internal-role');
      assert.equal(internal?.code, 4202);
      const password = guard.find((e) => e.event === 'guard.password');
      assert.equal(password?.code, 4203);
      assert.equal((password?.guard as Rec).reason, 'password-policy');
      assert.ok(
        guard.some(
          (e) => (e.guard as Rec).protocol === 'extended' && (e.guard as Rec).within === '',
        ),
      );
      assert.ok(guard.some((e) => (e.guard as Rec).within === 'DO'));
    });

    it('no test password is in the audit log or the gateway events', async () => {
      await gatewayEvents((all) => all.some((e) => e.event === 'guard.password'));
      const dir = join(server.dataDir, 'audit');
      const text = [
        ...readdirSync(dir).map((f) => readFileSync(join(dir, f), 'utf8')),
        readFileSync(server.layout.gatewayEvents, 'utf8'),
      ].join('\n');
      for (const password of Object.values(PASSWORDS)) {
        assert.equal(
          text.includes(password),
          false,
          `a password (${password.length} chars) leaked`,
        );
      }
    });
  });
});
