import { existsSync, readFileSync, writeFileSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { PgwardenError } from '../../errors.js';
import { dataDirLayout } from '../../server/data-dir-layout.js';
import type { Command } from '../cli-io.js';
import { loadCommandConfig } from '../command-context.js';

const USAGE = 'pgwarden ca export [--out FILE]';

export const caCommand: Command = {
  name: 'ca',
  summary: "Export pgwarden's root CA certificate, so clients can use sslmode=verify-full.",
  usage: USAGE,
  flags: ['out'],
  async run(input) {
    const [sub, ...extra] = input.args;
    if (sub !== 'export' || extra.length > 0) {
      throw new PgwardenError('PGW_USAGE', 'ca takes the subcommand export', {
        hint: `usage: ${USAGE}`,
      });
    }
    const loaded = loadCommandConfig(input);
    const file = join(dataDirLayout(loaded.dataDir).tlsDir, 'ca.crt');
    if (!existsSync(file)) {
      throw new PgwardenError('PGW_DATA_DIR_NOT_INITIALISED', `${file} does not exist yet`, {
        hint: 'the CA is created the first time pgwarden up starts the gateway',
      });
    }
    const pem = readFileSync(file, 'utf8');
    const out = input.flags.out;
    if (typeof out === 'string') {
      const target = resolve(input.io.cwd, out);
      writeFileSync(target, pem, { mode: 0o644 });
      input.io.out(
        `pgwarden: wrote the root CA to ${target}; use it with sslrootcert=${target} sslmode=verify-full`,
      );
    } else {
      input.io.out(pem.trimEnd());
    }
    return 0;
  },
};
