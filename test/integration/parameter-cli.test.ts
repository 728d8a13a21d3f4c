import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import {
  ALLOWED_PARAMETERS,
  PROTECTED_PARAMETERS,
  protectedReason,
} from '../../src/control/parameters/parameter-policy.js';
import type { CliResult } from '../helpers/pgwarden-cli.js';
import { TempServer } from '../helpers/temp-server.js';
import { testBinarySources } from '../helpers/test-binaries.js';

/**
 * `pgwarden parameter list|show|set|reset` end to end: the built CLI against a
 * server started with `pgwarden up --detach`, every change read back from a
 * new session as the administrator and from pgwarden.parameter_changes.
 */

const STACK_TRACE = /\n\s+at /;

/** A refusal: exit status 1, the stable code on stderr, no stack trace. */
function assertRefused(result: CliResult, code: string, exitCode = 1): void {
  const shown = `stdout:\n${result.stdout}\nstderr:\n${result.stderr}`;
  assert.equal(result.code, exitCode, shown);
  assert.ok(result.stderr.includes(`(${code})`), `expected ${code}\n${shown}`);
  assert.doesNotMatch(result.stderr, STACK_TRACE, shown);
}

function assertOk(result: CliResult): void {
  assert.equal(result.code, 0, `stdout:\n${result.stdout}\nstderr:\n${result.stderr}`);
  assert.equal(result.stderr, '');
}

type ChangeRow = {
  name: string;
  old_value: string | null;
  new_value: string | null;
  restart_required: boolean;
  changed_by: string;
};

for (const { pgBin, version } of await testBinarySources()) {
  describe(`parameter CLI (${pgBin} PostgreSQL ${version})`, () => {
    const server = TempServer.create(pgBin, (fn) => after(fn));
    before(async () => {
      await server.up();
    });

    /** One query as the internal superuser, on a connection of its own (servers restart here). */
    const su = async <R extends Record<string, unknown>>(
      sql: string,
      params: unknown[] = [],
      database = 'postgres',
    ): Promise<R[]> => {
      const client = await server.superuser(database);
      try {
        return (await client.query<R>(sql, params)).rows;
      } finally {
        await client.end();
      }
    };

    /** SHOW name from a brand-new session as the administrator. */
    const adminShow = async (name: string): Promise<string> => {
      const admin = await server.connectAs('pgwarden', server.adminPassword());
      try {
        const r = await admin.query<Record<string, string>>(`SHOW ${name}`);
        const value = r.rows[0]?.[name.toLowerCase()];
        assert.ok(value !== undefined, `SHOW ${name} returned a row`);
        return value;
      } finally {
        await admin.end();
      }
    };

    const changes = (name: string) =>
      su<ChangeRow & { id: string }>(
        `SELECT id, name, old_value, new_value, restart_required, changed_by
           FROM pgwarden.parameter_changes WHERE name = $1 ORDER BY id`,
        [name],
        'pgwarden',
      );
    const changeCount = async (): Promise<number> =>
      Number(
        (
          await su<{ n: string }>(
            'SELECT count(*) AS n FROM pgwarden.parameter_changes',
            [],
            'pgwarden',
          )
        )[0]?.n,
      );

    /** The value in effect and what postgresql.auto.conf holds for it. */
    const serverState = async (name: string) => {
      const [setting] = await su<{ setting: string; pending_restart: boolean }>(
        'SELECT setting, pending_restart FROM pg_settings WHERE lower(name) = lower($1)',
        [name],
      );
      const auto = await su<{ setting: string }>(
        `SELECT setting FROM pg_file_settings
          WHERE lower(name) = lower($1) AND sourcefile LIKE '%postgresql.auto.conf'`,
        [name],
      );
      return { setting, auto: auto.map((row) => row.setting) };
    };

    it('lists the allow-listed parameters with their current values', async () => {
      const list = await server.cli(['parameter', 'list']);
      assertOk(list);
      assert.match(list.stdout, /^work_mem\s+4096 kB\s+memory$/m);
      assert.match(list.stdout, /^log_statement\s+none\s+logging$/m);
      assert.doesNotMatch(list.stdout, /^listen_addresses\b/m);
      assert.doesNotMatch(list.stdout, /^password_encryption\b/m);
      assert.doesNotMatch(list.stdout, /restart required/);
    });

    it('lists as JSON only names on the allow-list, each that exists on this server', async () => {
      const list = await server.cli(['parameter', 'list', '--json']);
      assertOk(list);
      const { server: rows, gateway } = JSON.parse(list.stdout) as {
        server: {
          name: string;
          setting: string;
          unit: string | null;
          value: string;
          category: string;
          pending_restart: boolean;
        }[];
        gateway: { name: string; value: string; category: string }[];
      };
      assert.deepEqual(
        gateway.map((row) => [row.name, row.value]),
        [
          ['require_secure_transport', 'on'],
          ['ssl_min_protocol_version', 'TLSv1.3'],
          ['ssl_max_protocol_version', ''],
        ],
      );
      assert.ok(Array.isArray(rows) && rows.length > 0);
      for (const row of rows) {
        assert.ok(Object.hasOwn(ALLOWED_PARAMETERS, row.name), `${row.name} is allow-listed`);
        assert.equal(protectedReason(row.name), undefined, `${row.name} is not protected`);
        assert.equal(row.category, ALLOWED_PARAMETERS[row.name], row.name);
      }
      const names = rows.map((row) => row.name);
      assert.equal(new Set(names).size, names.length, 'no duplicates');
      const existing = await su<{ name: string }>(
        'SELECT name FROM pg_settings WHERE name = ANY($1::text[]) ORDER BY name',
        [Object.keys(ALLOWED_PARAMETERS)],
      );
      assert.deepEqual(
        [...names].sort(),
        existing.map((row) => row.name).sort(),
        'every allow-listed parameter the server has',
      );
      const workMem = rows.find((row) => row.name === 'work_mem');
      assert.deepEqual(
        workMem && {
          setting: workMem.setting,
          unit: workMem.unit,
          value: workMem.value,
          category: workMem.category,
          pending_restart: workMem.pending_restart,
        },
        { setting: '4096', unit: 'kB', value: '4MB', category: 'memory', pending_restart: false },
      );
      assert.equal(rows.find((row) => row.name === 'log_statement')?.value, 'none');
    });

    it('shows one parameter with its unit and range', async () => {
      const show = await server.cli(['parameter', 'show', 'work_mem']);
      assertOk(show);
      assert.match(show.stdout, /^name\s+work_mem$/m);
      assert.match(show.stdout, /^unit\s+kB$/m);
      assert.match(show.stdout, /^min_val\s+64$/m);
      assert.match(show.stdout, /^max_val\s+2147483647$/m);
      assert.match(show.stdout, /^value\s+4MB$/m);

      const json = await server.cli(['parameter', 'show', 'WORK_MEM', '--json']);
      assertOk(json);
      const row = JSON.parse(json.stdout) as Record<string, unknown>;
      assert.equal(row.name, 'work_mem');
      assert.equal(row.unit, 'kB');
      assert.equal(row.min_val, '64');
      assert.equal(row.max_val, '2147483647');
      assert.deepEqual(row.classification, { kind: 'allowed', category: 'memory' });

      const enumShow = await server.cli(['parameter', 'show', 'log_statement']);
      assertOk(enumShow);
      assert.match(enumShow.stdout, /^enumvals\s+none, ddl, mod, all$/m);
    });

    it('refuses to show a parameter that does not exist', async () => {
      const show = await server.cli(['parameter', 'show', 'no_such_param']);
      assertRefused(show, 'PGW_PARAMETER_UNKNOWN');
      assert.match(show.stderr, /no_such_param/);
      assert.equal(show.stdout, '');
    });

    it('sets work_mem, applied to new sessions and recorded', async () => {
      const set = await server.cli(['parameter', 'set', 'work_mem', '8MB']);
      assertOk(set);
      assert.match(set.stdout, /^work_mem: 4MB -> 8MB$/m);
      assert.match(set.stdout, /applied/);
      assert.doesNotMatch(set.stdout, /restart required/);
      assert.equal(await adminShow('work_mem'), '8MB');
      const state = await serverState('work_mem');
      assert.deepEqual(state.auto, ['8MB']);
      assert.equal(state.setting?.pending_restart, false);

      const recorded = await changes('work_mem');
      assert.equal(recorded.length, 1);
      const row = recorded[0];
      assert.ok(row !== undefined);
      assert.equal(row.name, 'work_mem');
      assert.equal(row.old_value, '4MB');
      assert.equal(row.new_value, '8MB');
      assert.equal(row.restart_required, false);
      assert.ok(row.changed_by.trim().length > 0, 'changed_by is filled in');
    });

    it('sets log_statement, seen by a new session', async () => {
      const set = await server.cli(['parameter', 'set', 'log_statement', 'DDL']);
      assertOk(set);
      assert.match(set.stdout, /^log_statement: none -> ddl$/m);
      assert.match(set.stdout, /applied/);
      assert.equal(await adminShow('log_statement'), 'ddl');
      const [row] = await changes('log_statement');
      assert.equal(row?.new_value, 'ddl');
      assert.equal(row?.restart_required, false);
    });

    it('resets work_mem to its default', async () => {
      const reset = await server.cli(['parameter', 'reset', 'work_mem']);
      assertOk(reset);
      assert.match(reset.stdout, /^work_mem: 8MB -> 4MB$/m);
      assert.match(reset.stdout, /applied/);
      assert.equal(await adminShow('work_mem'), '4MB');
      assert.deepEqual((await serverState('work_mem')).auto, [], 'gone from postgresql.auto.conf');
      const recorded = await changes('work_mem');
      assert.equal(recorded.length, 2);
      assert.equal(recorded[1]?.old_value, '8MB');
      assert.equal(recorded[1]?.new_value, '4MB');
      assert.equal(recorded[1]?.restart_required, false);
    });

    describe('refusals leave the server as it was', () => {
      // wal_sender_timeout must be a real parameter on no list at all.
      it('uses a parameter for NOT_ALLOWED that is on neither list', async () => {
        assert.equal(Object.hasOwn(ALLOWED_PARAMETERS, 'wal_sender_timeout'), false);
        assert.equal(Object.hasOwn(PROTECTED_PARAMETERS, 'wal_sender_timeout'), false);
        assert.equal(protectedReason('wal_sender_timeout'), undefined);
        const exists = await su('SELECT 1 FROM pg_settings WHERE name = $1', [
          'wal_sender_timeout',
        ]);
        assert.equal(exists.length, 1);
      });

      const cases: {
        args: [string, string];
        code: string;
        message?: RegExp;
      }[] = [
        { args: ['listen_addresses', '*'], code: 'PGW_PARAMETER_PROTECTED', message: /network/ },
        { args: ['password_encryption', 'md5'], code: 'PGW_PARAMETER_PROTECTED', message: /md5/i },
        // The gateway's TLS floor: TLS 1.0/1.1 are not offered at all (RFC 8996).
        {
          args: ['ssl_min_protocol_version', 'TLSv1'],
          code: 'PGW_PARAMETER_INVALID_VALUE',
          message: /TLSv1\.2, TLSv1\.3/,
        },
        { args: ['SSL_MIN_PROTOCOL_VERSION', 'TLSv1.1'], code: 'PGW_PARAMETER_INVALID_VALUE' },
        { args: ['ssl_ciphers', 'NULL'], code: 'PGW_PARAMETER_PROTECTED' },
        {
          args: ['shared_preload_libraries', 'evil_lib'],
          code: 'PGW_PARAMETER_PROTECTED',
          message: /evil_lib/,
        },
        {
          args: ['work_mem', '10B'],
          code: 'PGW_PARAMETER_INVALID_VALUE',
          message: /between 64kB and 2147483647kB/,
        },
        {
          args: ['work_mem', 'banana'],
          code: 'PGW_PARAMETER_INVALID_VALUE',
          message: /B, kB, MB, GB, TB/,
        },
        {
          args: ['log_statement', 'everything'],
          code: 'PGW_PARAMETER_INVALID_VALUE',
          message: /none, ddl, mod, all/,
        },
        {
          args: ['wal_sender_timeout', '1min'],
          code: 'PGW_PARAMETER_NOT_ALLOWED',
          message: /wal_sender_timeout/,
        },
      ];
      for (const { args, code, message } of cases) {
        it(`set ${args.join(' ')} → ${code}`, async () => {
          const [name] = args;
          const before_ = await serverState(name);
          const recordedBefore = await changeCount();
          const result = await server.cli(['parameter', 'set', ...args]);
          assertRefused(result, code);
          if (message !== undefined) assert.match(result.stderr, message);
          assert.doesNotMatch(result.stdout, /applied|restart required/);
          assert.deepEqual(await serverState(name), before_, `${name} unchanged`);
          assert.equal(await changeCount(), recordedBefore, 'nothing recorded');
        });
      }

      it('keeps the protected settings at their secure values', async () => {
        const rows = await su<{ name: string; setting: string }>(
          `SELECT name, setting FROM pg_settings
            WHERE name IN ('listen_addresses', 'password_encryption', 'ssl_min_protocol_version',
                           'shared_preload_libraries', 'work_mem', 'log_statement')
            ORDER BY name`,
        );
        const byName = Object.fromEntries(rows.map((row) => [row.name, row.setting]));
        assert.equal(byName.listen_addresses, '');
        assert.equal(byName.password_encryption, 'scram-sha-256');
        assert.notEqual(byName.ssl_min_protocol_version, 'TLSv1');
        assert.doesNotMatch(byName.shared_preload_libraries ?? '', /evil_lib/);
        assert.equal(byName.work_mem, '4096');
        assert.equal(byName.log_statement, 'ddl');
      });
    });

    it('rejects wrong arguments as usage errors', async () => {
      for (const args of [
        ['parameter', 'set', 'work_mem'],
        ['parameter'],
        ['parameter', 'frobnicate'],
        ['parameter', 'show'],
        ['parameter', 'reset', 'work_mem', 'extra'],
      ]) {
        const result = await server.cli(args);
        assertRefused(result, 'PGW_USAGE', 2);
        assert.match(result.stderr, /usage: pgwarden parameter/, args.join(' '));
      }
      assert.equal(await adminShow('work_mem'), '4MB');
    });

    it('sets max_connections, applied after a restart', async () => {
      const before_ = await adminShow('max_connections');
      assert.notEqual(before_, '150');
      const set = await server.cli(['parameter', 'set', 'max_connections', '150']);
      assertOk(set);
      assert.match(set.stdout, new RegExp(`^max_connections: ${before_} -> 150$`, 'm'));
      assert.match(set.stdout, /restart required/);
      assert.doesNotMatch(set.stdout, /applied/);
      const state = await serverState('max_connections');
      assert.equal(state.setting?.pending_restart, true);
      assert.equal(state.setting?.setting, before_, 'not in effect before the restart');
      const [row] = await changes('max_connections');
      assert.equal(row?.new_value, '150');
      assert.equal(row?.restart_required, true);

      const list = await server.cli(['parameter', 'list']);
      assertOk(list);
      assert.match(list.stdout, /^max_connections\s.*\(restart required\)$/m);

      assertOk(await server.cli(['down']));
      await server.up();
      assert.equal(await adminShow('max_connections'), '150');
      assert.equal((await serverState('max_connections')).setting?.pending_restart, false);
      // What was set before the restart is still in place.
      assert.equal(await adminShow('log_statement'), 'ddl');
      assert.equal(await adminShow('work_mem'), '4MB');
    });

    it('refuses when the server is not running', async () => {
      assertOk(await server.cli(['down']));
      for (const args of [
        ['parameter', 'list'],
        ['parameter', 'show', 'work_mem'],
        ['parameter', 'set', 'work_mem', '16MB'],
        ['parameter', 'reset', 'work_mem'],
      ]) {
        const result = await server.cli(args);
        assertRefused(result, 'PGW_SERVER_NOT_RUNNING');
        assert.equal(result.stdout, '', args.join(' '));
      }
    });
  });
}
