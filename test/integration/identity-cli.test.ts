import assert from 'node:assert/strict';
import { generateKeyPairSync } from 'node:crypto';
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { TempServer } from '../helpers/temp-server.js';
import { testBinarySources } from '../helpers/test-binaries.js';

/** Issue 5, items 1, 2 and 4: identity providers, principals and the login mode, through the CLI. */
const [source] = await testBinarySources();
const pgBin = source?.pgBin ?? 'embedded';

describe(`pgwarden identity (${pgBin})`, () => {
  const server = TempServer.create(pgBin, (fn) => after(fn));
  let jwksFile: string;

  before(async () => {
    await server.up();
    const { publicKey } = generateKeyPairSync('ec', { namedCurve: 'P-256' });
    jwksFile = join(server.dataDir, '..', 'jwks.json');
    writeFileSync(
      jwksFile,
      JSON.stringify({ keys: [{ ...publicKey.export({ format: 'jwk' }), kid: 'k1', use: 'sig' }] }),
    );
    const admin = await server.superuser();
    try {
      await admin.query('CREATE ROLE "App Reader" LOGIN');
      await admin.query('CREATE ROLE readers NOLOGIN');
    } finally {
      await admin.end();
    }
  });

  /** The roles in pgwarden_token_login, whose sessions the gateway may open after a token. */
  const tokenLoginRoles = async (): Promise<string[]> => {
    const admin = await server.superuser();
    try {
      const result = await admin.query<{ rolname: string }>(
        `SELECT r.rolname FROM pg_auth_members m
           JOIN pg_roles g ON g.oid = m.roleid AND g.rolname = 'pgwarden_token_login'
           JOIN pg_roles r ON r.oid = m.member ORDER BY 1`,
      );
      return result.rows.map((row) => row.rolname);
    } finally {
      await admin.end();
    }
  };

  const cli = async (...args: string[]): Promise<{ code: number; out: string }> => {
    const result = await server.cli(['identity', ...args]);
    return { code: result.code ?? -1, out: result.stdout + result.stderr };
  };

  it('adds, lists and refuses a duplicate or invalid provider', async () => {
    const added = await cli(
      'provider',
      'add',
      '--name',
      'corp',
      '--issuer',
      'https://idp.example.com/tenant',
      '--audience',
      'api://pgwarden,pgwarden',
      '--jwks-file',
      jwksFile,
      '--subject-claim',
      'oid',
    );
    assert.equal(added.code, 0, added.out);
    const listed = await cli('provider', 'list', '--json');
    const [provider] = JSON.parse(listed.out) as Array<Record<string, unknown>>;
    assert.equal(provider?.name, 'corp');
    assert.deepEqual(provider?.audiences, ['api://pgwarden', 'pgwarden']);
    assert.equal(provider?.subjectClaim, 'oid');
    assert.equal(provider?.jwksFile, jwksFile);

    const again = await cli(
      'provider',
      'add',
      '--name',
      'corp',
      '--issuer',
      'https://other.example',
      '--audience',
      'x',
      '--jwks-file',
      jwksFile,
    );
    assert.equal(again.code, 1);
    assert.match(again.out, /already exists \(PGW_IDENTITY_EXISTS\)/);
    const plain = await cli(
      'provider',
      'add',
      '--name',
      'bad',
      '--issuer',
      'http://idp.example.com',
      '--audience',
      'x',
      '--jwks-file',
      jwksFile,
    );
    assert.equal(plain.code, 1);
    assert.match(plain.out, /is not https \(PGW_IDENTITY_INVALID\)/);
    const both = await cli(
      'provider',
      'add',
      '--name',
      'bad',
      '--issuer',
      'https://b.example',
      '--audience',
      'x',
    );
    assert.match(both.out, /exactly one of --jwks-uri and --jwks-file/);
    const noKeys = join(server.dataDir, '..', 'empty.json');
    writeFileSync(noKeys, '{"keys": []}');
    const empty = await cli(
      'provider',
      'add',
      '--name',
      'bad',
      '--issuer',
      'https://b.example',
      '--audience',
      'x',
      '--jwks-file',
      noKeys,
    );
    assert.match(empty.out, /holds no keys/);
    assert.doesNotMatch(added.out + again.out + plain.out, /at .*\.js:\d+/, 'no stack traces');
  });

  it('maps principals by id to existing, ordinary roles only', async () => {
    const user = await cli(
      'principal',
      'create',
      '--provider',
      'corp',
      '--role',
      'App Reader',
      '--subject',
      '6f1c7c2e-0000-4000-8000-000000000001',
    );
    assert.equal(user.code, 0, user.out);
    const group = await cli(
      'principal',
      'create',
      '--provider',
      'corp',
      '--role',
      'readers',
      '--subject',
      'grp-42',
      '--type',
      'group',
      '--login-as',
      'member',
    );
    assert.equal(group.code, 0, group.out);
    const listed = JSON.parse((await cli('principal', 'list', '--json')).out) as Array<
      Record<string, unknown>
    >;
    assert.deepEqual(
      listed.map((p) => [p.type, p.subject, p.role, p.loginAs]),
      [
        ['user', '6f1c7c2e-0000-4000-8000-000000000001', 'App Reader', 'role'],
        ['group', 'grp-42', 'readers', 'member'],
      ],
    );
    assert.deepEqual(await tokenLoginRoles(), ['App Reader', 'readers']);
    const missing = await cli(
      'principal',
      'create',
      '--provider',
      'corp',
      '--role',
      'nobody_here',
      '--subject',
      's',
    );
    assert.match(missing.out, /role "nobody_here" does not exist \(PGW_IDENTITY_INVALID\)/);
    const internal = await cli(
      'principal',
      'create',
      '--provider',
      'corp',
      '--role',
      'pgwarden_su',
      '--subject',
      's',
    );
    assert.match(internal.out, /superuser or an internal role/);
    const nologin = await cli(
      'principal',
      'create',
      '--provider',
      'corp',
      '--role',
      'readers',
      '--subject',
      's',
    );
    assert.match(nologin.out, /cannot log in/);
    const unknown = await cli(
      'principal',
      'create',
      '--provider',
      'nope',
      '--role',
      'App Reader',
      '--subject',
      's',
    );
    assert.match(unknown.out, /PGW_IDENTITY_NOT_FOUND/);
    const removeBusy = await cli('provider', 'remove', '--name', 'corp');
    assert.match(removeBusy.out, /still has 2 principals/);
    for (const p of listed)
      assert.equal((await cli('principal', 'delete', '--id', String(p.id))).code, 0);
    assert.deepEqual(
      await tokenLoginRoles(),
      [],
      'no principal left: no role may skip the password',
    );
    assert.equal((await cli('provider', 'remove', '--name', 'corp')).code, 0);
    assert.deepEqual(JSON.parse((await cli('provider', 'list', '--json')).out), []);
  });

  it('sets the login mode, password by default', async () => {
    assert.match((await cli('mode')).out, /identity mode: password/);
    assert.match((await cli('mode', 'both')).out, /set to both/);
    assert.deepEqual(JSON.parse((await cli('mode', '--json')).out), { mode: 'both' });
    const bad = await cli('mode', 'sometimes');
    assert.equal(bad.code, 2);
    assert.match(bad.out, /not one of password, token, both/);
    assert.equal((await cli('mode', 'password')).code, 0);
  });
});
