import assert from 'node:assert/strict';
import { mkdtempSync, rmSync, utimesSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, it } from 'node:test';
import type { Login } from '../../../src/detect/baseline/login.js';
import { countryFacet } from '../../../src/detect/geo/country-facet.js';
import { GeoDatabase } from '../../../src/detect/geo/geo-database.js';
import { mmdbPath } from '../../../src/detect/geo/mmdb-value.js';
import { providerFacet } from '../../../src/detect/geo/provider-facet.js';
import { mmdb, writeMmdb } from '../../helpers/mmdb-writer.js';

function tempDir(t: { after: (fn: () => void) => void }): string {
  const dir = mkdtempSync(join(tmpdir(), 'pgw-geo-'));
  t.after(() => rmSync(dir, { recursive: true, force: true }));
  return dir;
}

/** Writes a file and gives it a distinct mtime, so a change is seen whatever the clock's resolution. */
let tick = 1_700_000_000;
function write(path: string, content: Buffer | string): void {
  writeFileSync(path, content);
  tick += 10;
  utimesSync(path, tick, tick);
}

const countryDb = (code: string): Buffer =>
  writeMmdb([{ network: '127.0.0.0/24', data: { country: { iso_code: code } } }]);

const login = (address: string): Login => ({
  time: 0,
  identity: 'role:app',
  user: 'app',
  address,
});

describe('GeoDatabase', () => {
  it('re-opens the file when it changes, keeps the last good version when it breaks', async (t) => {
    const path = join(tempDir(t), 'country.mmdb');
    write(path, countryDb('DE'));
    const warnings: string[] = [];
    const geo = await GeoDatabase.open(path, (w) => warnings.push(w), 3_600_000);
    const code = (): unknown => mmdbPath(geo.lookup('127.0.0.1'), 'country', 'iso_code');
    assert.equal(code(), 'DE');

    write(path, countryDb('FR'));
    await geo.refresh();
    assert.equal(code(), 'FR');

    write(path, Buffer.from('a download that was cut short'));
    await geo.refresh();
    await geo.refresh();
    assert.equal(code(), 'FR', 'the last good version stays in use');
    assert.equal(warnings.length, 1, warnings.join('\n'));
    assert.match(
      warnings[0] ?? '',
      /country\.mmdb: the file is not a valid MaxMind DB: no metadata/,
    );
    assert.match(warnings[0] ?? '', /the last good version stays in use/);

    write(path, countryDb('NL'));
    await geo.refresh();
    assert.equal(code(), 'NL');
    assert.equal(warnings.length, 1);
  });

  it('starts without a missing file, reports it once, and uses it once it appears', async (t) => {
    const path = join(tempDir(t), 'later.mmdb');
    const warnings: string[] = [];
    const geo = await GeoDatabase.open(path, (w) => warnings.push(w), 3_600_000);
    assert.equal(geo.loaded, false);
    assert.equal(geo.lookup('127.0.0.1'), undefined);
    await geo.refresh();
    assert.equal(warnings.length, 1);
    assert.match(warnings[0] ?? '', /later\.mmdb: .*ENOENT/);
    write(path, countryDb('DE'));
    await geo.refresh();
    assert.equal(geo.loaded, true);
    assert.equal(mmdbPath(geo.lookup('127.0.0.1'), 'country', 'iso_code'), 'DE');
  });

  it('answers nothing, once warned, for a file whose tree is damaged past the metadata', async (t) => {
    const path = join(tempDir(t), 'damaged.mmdb');
    const good = countryDb('DE');
    const damaged = Buffer.from(good);
    // Every record of every node points past the data section (a 28-bit tree: 7-byte nodes).
    damaged.fill(0xff, 0, 7 * 10);
    write(path, damaged);
    const warnings: string[] = [];
    const geo = await GeoDatabase.open(path, (w) => warnings.push(w), 3_600_000);
    assert.equal(geo.lookup('127.0.0.1'), undefined);
    assert.equal(geo.lookup('127.0.0.2'), undefined);
    assert.equal(warnings.length, 1, warnings.join('\n'));
    assert.match(warnings[0] ?? '', /damaged\.mmdb: the file is not a valid MaxMind DB/);
  });
});

describe('GeoIP facets', () => {
  it('reads the country (or the registered country) and the autonomous system of a login', async (t) => {
    const dir = tempDir(t);
    const countries = join(dir, 'city.mmdb');
    const asns = join(dir, 'asn.mmdb');
    write(
      countries,
      writeMmdb([
        {
          network: '127.0.0.0/24',
          data: { city: { names: { en: 'Berlin' } }, country: { iso_code: 'DE' } },
        },
        { network: '127.0.1.0/24', data: { registered_country: { iso_code: 'FR' } } },
        { network: '127.0.2.0/24', data: { country: { iso_code: 'not a code' } } },
      ]),
    );
    write(
      asns,
      writeMmdb([
        {
          network: '127.0.0.0/24',
          data: {
            autonomous_system_number: mmdb.uint32(64_500),
            autonomous_system_organization: 'Example DC',
          },
        },
        { network: '127.0.1.0/24', data: { autonomous_system_number: mmdb.uint32(64_501) } },
      ]),
    );
    const country = countryFacet(60, await GeoDatabase.open(countries, () => undefined));
    const provider = providerFacet(60, await GeoDatabase.open(asns, () => undefined));
    assert.deepEqual(country.valueOf(login('127.0.0.9')), { value: 'DE', label: 'DE' });
    assert.deepEqual(country.valueOf(login('::ffff:127.0.1.9')), { value: 'FR', label: 'FR' });
    assert.equal(country.valueOf(login('127.0.2.9')), undefined);
    assert.equal(country.valueOf(login('10.0.0.1')), undefined);
    assert.deepEqual(provider.valueOf(login('127.0.0.9')), {
      value: '64500',
      label: 'AS64500 Example DC',
    });
    assert.deepEqual(provider.valueOf(login('127.0.1.9')), { value: '64501', label: 'AS64501' });
    assert.equal(provider.valueOf(login('127.0.2.9')), undefined);
    assert.equal(provider.labelOf('64500'), 'AS64500');
    assert.equal(country.kind, 'login.country');
    assert.equal(provider.kind, 'login.asn');
  });
});
