import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import pg from 'pg';
import type { AuditedRole } from '../../src/control/roles/role-audit.js';
import type { Finding } from '../../src/control/roles/role-findings.js';
import { TempServer } from '../helpers/temp-server.js';
import { testBinarySources } from '../helpers/test-binaries.js';

/**
 * Issue 6, item 6: row- and column-level security proven per role. Every
 * assertion logs in through the gateway (TLS, SCRAM) as the role it is about:
 * two tenants isolated by a permissive policy with USING and WITH CHECK, a
 * restrictive policy narrowing it, a support role without the card number
 * column, and the table owner (the administrator) bypassing RLS until FORCE,
 * as `pgwarden role audit` reports.
 */

const ADMIN = 'pgwarden';
const TABLE = 'app.invoices';
const AUDITED_TABLE = 'postgres.app.invoices';
const RESTRICTIVE = 'invoices_not_archived';
/** Long, four classes, no role name in them: whatever password policy the gateway applies. */
const PASSWORDS = {
  tenant_a: 'Vq8#Lm3!Rx7$Tk2%Wz9&Hp4*Jd6',
  tenant_b: 'Gs5@Nc1^Yb8~Fe3+Qu7=Zo2;Mi9',
  support: 'Pk4)Dw9(Ah6]Et1[Cy8{Lr3}Xn5',
} as const;
type Login = keyof typeof PASSWORDS;

interface Invoice {
  id: number;
  tenant_id: string;
  amount: number;
  note: string;
  card_number: string;
  archived: boolean;
}

/** Per tenant: two live rows and one archived row (allowed by the tenant policy, not by the restrictive one). */
const SEED: readonly Invoice[] = [
  row(1, 'tenant_a', 100, 'a-1', '4111111111111111', false),
  row(2, 'tenant_a', 200, 'a-2', '4111111111112222', false),
  row(3, 'tenant_a', 300, 'a-archived', '4111111111113333', true),
  row(4, 'tenant_b', 400, 'b-1', '5500000000004444', false),
  row(5, 'tenant_b', 500, 'b-2', '5500000000005555', false),
  row(6, 'tenant_b', 600, 'b-archived', '5500000000006666', true),
];

function row(
  id: number,
  tenant_id: string,
  amount: number,
  note: string,
  card_number: string,
  archived: boolean,
): Invoice {
  return { id, tenant_id, amount, note, card_number, archived };
}

const ids = (result: pg.QueryResult<{ id: number }>): number[] => result.rows.map((r) => r.id);

interface AuditReport {
  roles: AuditedRole[];
  findings: Finding[];
}

for (const { pgBin, version } of await testBinarySources()) {
  describe(`row- and column-level security per role (${pgBin} ${version})`, () => {
    const clients: pg.Client[] = [];
    after(async () => {
      for (const client of clients) await client.end().catch(() => undefined);
    });
    const server = TempServer.create(pgBin, (fn) => after(fn));
    let admin: pg.Client;
    const as: Partial<Record<Login, pg.Client>> = {};

    /** A fresh login through the gateway, ended after the suite. */
    const login = async (user: string, password: string): Promise<pg.Client> => {
      const client = new pg.Client(server.gatewayClientConfig(user, password));
      client.on('error', () => undefined);
      clients.push(client);
      await client.connect();
      return client;
    };

    const session = (role: Login): pg.Client => {
      const client = as[role];
      assert.ok(client, `${role} is logged in`);
      return client;
    };

    /** Back to SEED, as the administrator (the table owner, exempt while RLS is not forced). */
    const seed = async (): Promise<void> => {
      await admin.query(`TRUNCATE ${TABLE}`);
      for (const r of SEED) {
        await admin.query(`INSERT INTO ${TABLE} VALUES ($1, $2, $3, $4, $5, $6)`, [
          r.id,
          r.tenant_id,
          r.amount,
          r.note,
          r.card_number,
          r.archived,
        ]);
      }
    };

    /** Every row, read by the internal superuser (never subject to RLS) over the private socket. */
    const allRows = async (): Promise<Invoice[]> => {
      const su = await server.superuser();
      try {
        return (await su.query<Invoice>(`SELECT * FROM ${TABLE} ORDER BY id`)).rows;
      } finally {
        await su.end();
      }
    };

    const audit = async (): Promise<AuditReport> => {
      const result = await server.cli(['role', 'audit', '--json']);
      assert.equal(result.code, 0, result.stdout + result.stderr);
      return JSON.parse(result.stdout) as AuditReport;
    };

    before(async () => {
      await server.up();
      admin = await login(ADMIN, server.adminPassword());
      for (const [role, password] of Object.entries(PASSWORDS))
        await admin.query(`CREATE ROLE ${role} LOGIN PASSWORD '${password}'`);
      await admin.query('CREATE SCHEMA app');
      await admin.query(
        `CREATE TABLE ${TABLE} (
           id integer PRIMARY KEY,
           tenant_id text NOT NULL,
           amount integer NOT NULL,
           note text NOT NULL,
           card_number text NOT NULL,
           archived boolean NOT NULL DEFAULT false)`,
      );
      await admin.query(`ALTER TABLE ${TABLE} ENABLE ROW LEVEL SECURITY`);
      await admin.query(
        `CREATE POLICY invoices_tenant ON ${TABLE} FOR ALL TO PUBLIC
           USING (tenant_id = current_user) WITH CHECK (tenant_id = current_user)`,
      );
      await admin.query(
        `CREATE POLICY ${RESTRICTIVE} ON ${TABLE} AS RESTRICTIVE FOR ALL TO PUBLIC USING (NOT archived)`,
      );
      await admin.query(
        `CREATE POLICY invoices_support_read ON ${TABLE} FOR SELECT TO support USING (true)`,
      );
      await admin.query('GRANT USAGE ON SCHEMA app TO tenant_a, tenant_b, support');
      await admin.query(`GRANT SELECT, INSERT, UPDATE, DELETE ON ${TABLE} TO tenant_a, tenant_b`);
      await admin.query(
        `GRANT SELECT (id, tenant_id, amount, note, archived) ON ${TABLE} TO support`,
      );
      await seed();
      for (const role of Object.keys(PASSWORDS) as Login[])
        as[role] = await login(role, PASSWORDS[role]);
    });

    it('logs each role in as itself, with a SCRAM verifier', async () => {
      const logins: [string, pg.Client][] = [[ADMIN, admin]];
      for (const role of Object.keys(PASSWORDS) as Login[]) logins.push([role, session(role)]);
      for (const [role, client] of logins) {
        const who = await client.query<{ user: string }>('SELECT current_user AS user');
        assert.equal(who.rows[0]?.user, role);
      }
      const report = await audit();
      for (const role of Object.keys(PASSWORDS)) {
        const audited = report.roles.find((r) => r.name === role);
        assert.equal(audited?.password.method, 'SCRAM-SHA-256', role);
        assert.equal(audited?.attributes.bypassRls, false, role);
      }
    });

    it('shows each tenant only its own rows (simple and extended protocol)', async () => {
      await seed();
      const a = session('tenant_a');
      const b = session('tenant_b');
      assert.deepEqual(ids(await a.query(`SELECT id FROM ${TABLE} ORDER BY id`)), [1, 2]);
      assert.deepEqual(ids(await b.query(`SELECT id FROM ${TABLE} ORDER BY id`)), [4, 5]);
      // Asking for tenant_b's rows by key, with parameters, finds nothing either.
      const probe = await a.query<{ id: number }>(
        `SELECT id FROM ${TABLE} WHERE id = ANY($1::int[]) ORDER BY id`,
        [[1, 4, 5, 6]],
      );
      assert.deepEqual(ids(probe), [1]);
      const tenants = await a.query<{ tenant_id: string }>(
        `SELECT DISTINCT tenant_id FROM ${TABLE} WHERE tenant_id <> $1`,
        ['tenant_a'],
      );
      assert.deepEqual(tenants.rows, []);
    });

    it("updates and deletes only the tenant's visible rows, leaving the other tenant's", async () => {
      await seed();
      const a = session('tenant_a');
      const visible = await a.query<{ n: number }>(`SELECT count(*)::int AS n FROM ${TABLE}`);
      assert.equal(visible.rows[0]?.n, 2);

      const updated = await a.query(`UPDATE ${TABLE} SET note = note || ' (paid)'`);
      assert.equal(updated.rowCount, visible.rows[0]?.n);
      const afterUpdate = await allRows();
      assert.deepEqual(
        afterUpdate.map((r) => r.note),
        ['a-1 (paid)', 'a-2 (paid)', 'a-archived', 'b-1', 'b-2', 'b-archived'],
      );
      assert.deepEqual(
        afterUpdate.filter((r) => r.tenant_id === 'tenant_b'),
        SEED.filter((r) => r.tenant_id === 'tenant_b'),
      );

      const deleted = await a.query(`DELETE FROM ${TABLE}`);
      assert.equal(deleted.rowCount, visible.rows[0]?.n);
      const afterDelete = await allRows();
      assert.deepEqual(
        afterDelete.map((r) => r.id),
        [3, 4, 5, 6],
      );
      assert.deepEqual(
        afterDelete.filter((r) => r.tenant_id === 'tenant_b'),
        SEED.filter((r) => r.tenant_id === 'tenant_b'),
      );
    });

    it('refuses a tenant writing a row for the other tenant (WITH CHECK, 42501)', async () => {
      await seed();
      const a = session('tenant_a');
      const insert = `INSERT INTO ${TABLE} (id, tenant_id, amount, note, card_number) VALUES ($1, $2, $3, $4, $5)`;
      // Extended protocol: a forged row for tenant_b.
      await assert.rejects(a.query(insert, [7, 'tenant_b', 1, 'forged', '4000000000000002']), {
        code: '42501',
        message: /^new row violates row-level security policy for table "invoices"$/,
      });
      // Simple protocol: moving its own row over to tenant_b.
      await assert.rejects(a.query(`UPDATE ${TABLE} SET tenant_id = 'tenant_b' WHERE id = 1`), {
        code: '42501',
        message: /^new row violates row-level security policy for table "invoices"$/,
      });
      // The same statement for its own tenant passes: the refusal is the policy, not a grant.
      const own = await a.query(insert, [8, 'tenant_a', 1, 'own', '4000000000000003']);
      assert.equal(own.rowCount, 1);

      const rows = await allRows();
      assert.ok(!rows.some((r) => r.id === 7), 'the forged row was not written');
      assert.equal(rows.find((r) => r.id === 1)?.tenant_id, 'tenant_a');
      assert.equal(rows.find((r) => r.id === 8)?.tenant_id, 'tenant_a');
      assert.deepEqual(
        ids(await session('tenant_b').query(`SELECT id FROM ${TABLE} ORDER BY id`)),
        [4, 5],
      );
    });

    it('narrows the tenant policy by the restrictive one', async () => {
      await seed();
      const a = session('tenant_a');
      const archived = (await allRows()).find((r) => r.id === 3);
      assert.equal(archived?.tenant_id, 'tenant_a', 'the tenant policy alone would allow row 3');
      assert.equal(archived?.archived, true);

      assert.deepEqual(ids(await a.query(`SELECT id FROM ${TABLE} WHERE id = 3`)), []);
      const update = await a.query(`UPDATE ${TABLE} SET amount = 0 WHERE id = $1`, [3]);
      assert.equal(update.rowCount, 0);
      const remove = await a.query(`DELETE FROM ${TABLE} WHERE id = 3`);
      assert.equal(remove.rowCount, 0);
      assert.deepEqual(
        (await allRows()).find((r) => r.id === 3),
        SEED.find((r) => r.id === 3),
      );
      // Nor may a tenant archive a row or insert an archived one: the
      // restrictive USING is also its WITH CHECK, and the error names it.
      const named = new RegExp(`^new row violates row-level security policy "${RESTRICTIVE}"`);
      await assert.rejects(a.query(`UPDATE ${TABLE} SET archived = true WHERE id = 1`), {
        code: '42501',
        message: named,
      });
      await assert.rejects(
        a.query(`INSERT INTO ${TABLE} VALUES ($1, $2, $3, $4, $5, $6)`, [
          9,
          'tenant_a',
          1,
          'x',
          '4000000000000004',
          true,
        ]),
        { code: '42501', message: named },
      );

      // Without the restriction the same tenant sees row 3: it is the restrictive
      // policy, nothing else, that hides it.
      await admin.query(`ALTER POLICY ${RESTRICTIVE} ON ${TABLE} USING (true)`);
      try {
        assert.deepEqual(ids(await a.query(`SELECT id FROM ${TABLE} ORDER BY id`)), [1, 2, 3]);
      } finally {
        await admin.query(`ALTER POLICY ${RESTRICTIVE} ON ${TABLE} USING (NOT archived)`);
      }
      assert.deepEqual(ids(await a.query(`SELECT id FROM ${TABLE} ORDER BY id`)), [1, 2]);
    });

    it('denies support the card number column, alone or through *, and allows the rest', async () => {
      await seed();
      const support = session('support');
      const denied = { code: '42501', message: /^permission denied for table invoices$/ };
      await assert.rejects(support.query(`SELECT card_number FROM ${TABLE}`), denied);
      await assert.rejects(support.query(`SELECT * FROM ${TABLE}`), denied);
      // Nor can it probe the column in a filter.
      await assert.rejects(
        support.query(`SELECT id FROM ${TABLE} WHERE card_number = $1`, ['4111111111111111']),
        denied,
      );

      const allowed = await support.query<Omit<Invoice, 'card_number'>>(
        `SELECT id, tenant_id, amount, note, archived FROM ${TABLE} ORDER BY id`,
      );
      assert.deepEqual(
        allowed.rows,
        SEED.filter((r) => !r.archived).map(({ card_number: _, ...rest }) => rest),
      );
      const one = await support.query<{ note: string }>(
        `SELECT note FROM ${TABLE} WHERE id = $1`,
        [4],
      );
      assert.deepEqual(one.rows, [{ note: 'b-1' }]);
      // The column exists and the owner reads it: the refusal is the grant.
      const owner = await admin.query<{ card_number: string }>(
        `SELECT card_number FROM ${TABLE} WHERE id = 1`,
      );
      assert.deepEqual(owner.rows, [{ card_number: '4111111111111111' }]);
    });

    it('lets the owner bypass RLS until FORCE, as role audit reports', async () => {
      await seed();
      const bypassFindings = (report: AuditReport) =>
        report.findings.filter((f) => f.id === 'rls-owner-bypass' && f.object === AUDITED_TABLE);

      // Not forced: the owner sees every row, archived ones and both tenants'.
      assert.deepEqual(
        ids(await admin.query(`SELECT id FROM ${TABLE} ORDER BY id`)),
        [1, 2, 3, 4, 5, 6],
      );
      const unforced = bypassFindings(await audit());
      assert.equal(unforced.length, 1, JSON.stringify(unforced));
      assert.equal(unforced[0]?.role, ADMIN);
      assert.equal(unforced[0]?.severity, 'medium');

      await admin.query(`ALTER TABLE ${TABLE} FORCE ROW LEVEL SECURITY`);
      // Forced: the owner is no tenant, so the policies leave it nothing to see,
      // change or write, while the rows are all still there.
      assert.deepEqual(ids(await admin.query(`SELECT id FROM ${TABLE}`)), []);
      const update = await admin.query(`UPDATE ${TABLE} SET amount = $1`, [0]);
      assert.equal(update.rowCount, 0);
      await assert.rejects(
        admin.query(`INSERT INTO ${TABLE} (id, tenant_id, amount, note, card_number)
                     VALUES (10, 'tenant_b', 1, 'owner', '4000000000000005')`),
        {
          code: '42501',
          message: /^new row violates row-level security policy for table "invoices"$/,
        },
      );
      assert.deepEqual(await allRows(), SEED);
      // The tenants are unaffected by FORCE.
      assert.deepEqual(
        ids(await session('tenant_b').query(`SELECT id FROM ${TABLE} ORDER BY id`)),
        [4, 5],
      );

      const afterForce = await audit();
      assert.deepEqual(bypassFindings(afterForce), []);
      const owner = afterForce.roles.find((r) => r.name === ADMIN);
      assert.ok(owner, 'the owner is listed');
      assert.ok(
        !owner.rlsBypass.tables.some((t) => t.schema === 'app' && t.table === 'invoices'),
        JSON.stringify(owner.rlsBypass),
      );
    });
  });
}
