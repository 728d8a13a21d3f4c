import { existsSync } from 'node:fs';
import { userInfo } from 'node:os';
import { messageOf } from '../../errors.js';
import { inspectDataDir } from '../../server/data-dir.js';
import { dataDirLayout } from '../../server/data-dir-layout.js';
import { isRoot } from '../../server/os-user.js';
import { findBinaries } from '../../server/pg-binaries.js';
import { runCommand } from '../../util/run-command.js';
import type { Command } from '../cli-io.js';
import { loadCommandConfig } from '../command-context.js';

export const doctorCommand: Command = {
  name: 'doctor',
  summary:
    'Explain which PostgreSQL binaries pgwarden would use and why, and check the environment.',
  usage: 'pgwarden doctor [--pg-bin DIR|system|embedded] [--data-dir DIR]',
  flags: [],
  async run(input) {
    const { io } = input;
    const loaded = loadCommandConfig(input);
    const { pgBin, osUser } = loaded.config.server;
    let healthy = true;

    io.out(
      `PostgreSQL binaries (pgBin = ${pgBin}, from ${loaded.sources['server.pgBin'] ?? 'default'})`,
    );
    const layout = dataDirLayout(loaded.dataDir);
    let clusterMajor: number | undefined;
    try {
      const state = inspectDataDir(layout);
      if (state.kind === 'ready') clusterMajor = state.pgMajor;
    } catch {
      // reported below
    }
    const search = await findBinaries(pgBin, clusterMajor);
    const chosen = search.chosen;
    for (const c of search.candidates) {
      const label = `${c.source} ${c.version ?? '?'}`.padEnd(16);
      if (chosen !== undefined && c.binDir === chosen.binDir) {
        io.out(`  chosen    ${label} ${c.binDir}`);
        io.out(`            why: ${chosen.reason}`);
      } else if (c.problem !== undefined) {
        io.out(`  unusable  ${label} ${c.binDir}: ${c.problem}`);
      } else {
        io.out(`  passed    ${label} ${c.binDir}: usable, not chosen`);
      }
    }
    if (chosen === undefined) {
      healthy = false;
      io.out(`  problem   ${search.failure.message}`);
      io.out(`  hint      ${search.failure.hint}`);
    }

    if (isRoot()) {
      const user = await runCommand('getent', ['passwd', osUser]);
      io.out(
        `OS user     running as root: PostgreSQL runs as "${osUser}" (${user.code === 0 ? 'exists' : 'created at init'})`,
      );
    } else {
      io.out(`OS user     PostgreSQL runs as you (${userInfo().username})`);
    }

    try {
      const state = inspectDataDir(layout);
      const described =
        state.kind === 'ready'
          ? `initialised, PostgreSQL ${state.pgMajor} cluster${chosen !== undefined && chosen.major !== state.pgMajor ? ` (MISMATCH: binaries are ${chosen.major})` : ''}`
          : state.kind === 'initialising'
            ? 'an init did not finish; the next init or up redoes it'
            : state.kind === 'empty'
              ? 'empty; init or up will initialise it'
              : 'does not exist yet; init or up will create it';
      if (state.kind === 'ready' && chosen !== undefined && chosen.major !== state.pgMajor)
        healthy = false;
      io.out(`data dir    ${layout.root}: ${described}`);
    } catch (error) {
      healthy = false;
      io.out(`data dir    ${layout.root}: ${messageOf(error)}`);
    }
    const socketBytes = Buffer.byteLength(layout.socketPath);
    io.out(`socket      ${layout.socketPath} (${socketBytes} of at most 107 bytes)`);
    if (socketBytes > 107) healthy = false;
    io.out(
      `config      ${loaded.configPath ?? `(none; defaults)`}${loaded.configPath !== undefined && !existsSync(loaded.configPath) ? ' MISSING' : ''}`,
    );
    return healthy ? 0 : 1;
  },
};
