import { userInfo } from 'node:os';
import { STATE_DATABASE, withControl } from '../../control/control-client.js';
import {
  isGatewayParameter,
  listGatewayParameters,
  setGatewayParameter,
} from '../../control/gateway-settings/gateway-settings.js';
import {
  listParameters,
  resetParameter,
  setParameter,
  showParameter,
} from '../../control/parameters/parameter-service.js';
import { PgwardenError } from '../../errors.js';
import type { Command } from '../cli-io.js';
import { runningServerContext } from '../command-context.js';

const USAGE = 'pgwarden parameter list [--json] | show NAME [--json] | set NAME VALUE | reset NAME';

export const parameterCommand: Command = {
  name: 'parameter',
  summary: 'List, show, set or reset the server parameters users may change.',
  usage: USAGE,
  flags: ['json'],
  async run(input) {
    const [sub, name, value, ...extra] = input.args;
    const expected = { list: 0, show: 1, set: 2, reset: 1 }[sub ?? ''];
    const given = [name, value].filter((v) => v !== undefined).length;
    if (expected === undefined || given !== expected || extra.length > 0) {
      throw new PgwardenError(
        'PGW_USAGE',
        sub === undefined
          ? 'parameter needs a subcommand'
          : `wrong arguments for "parameter ${sub}"`,
        {
          hint: `usage: ${USAGE}`,
        },
      );
    }
    const ctx = await runningServerContext(input);
    const socketDir = ctx.layout.socketDir;
    const json = input.flags.json === true;
    const { io } = input;
    const gateway = () => withControl(socketDir, STATE_DATABASE, listGatewayParameters);
    if (sub === 'list') {
      const rows = await listParameters(socketDir);
      const gatewayRows = await gateway();
      if (json) {
        io.out(JSON.stringify({ server: rows, gateway: gatewayRows }, null, 2));
        return 0;
      }
      const width = Math.max(
        ...rows.map((r) => r.name.length),
        ...gatewayRows.map((r) => r.name.length),
      );
      for (const r of rows) {
        const pending = r.pending_restart ? '  (restart required)' : '';
        io.out(
          `${r.name.padEnd(width)}  ${`${r.setting}${r.unit === null ? '' : ` ${r.unit}`}`.padEnd(16)}  ${r.category}${pending}`,
        );
      }
      for (const r of gatewayRows)
        io.out(`${r.name.padEnd(width)}  ${(r.value === '' ? "''" : r.value).padEnd(16)}  gateway`);
      return 0;
    }
    if (name !== undefined && isGatewayParameter(name)) {
      if (sub === 'show') {
        const row = (await gateway()).find((r) => r.name === name.toLowerCase());
        if (json) io.out(JSON.stringify(row, null, 2));
        else
          for (const [key, v] of Object.entries(row ?? {}))
            io.out(`${key.padEnd(16)} ${formatValue(v)}`);
        return 0;
      }
      const change = await withControl(socketDir, STATE_DATABASE, (client) =>
        setGatewayParameter(
          client,
          name,
          sub === 'set' ? (value as string) : null,
          userInfo().username,
        ),
      );
      io.out(`${change.name}: ${change.oldValue || "''"} -> ${change.newValue || "''"}`);
      io.out('applied: running gateways use it for new connections within a second');
      return 0;
    }
    if (sub === 'show') {
      const row = await showParameter(socketDir, name as string);
      if (json) {
        io.out(JSON.stringify(row, null, 2));
      } else {
        for (const [key, v] of Object.entries(row)) io.out(`${key.padEnd(16)} ${formatValue(v)}`);
      }
      return 0;
    }
    const options = { pkgLibDir: ctx.binaries.pkgLibDir, changedBy: userInfo().username };
    const change =
      sub === 'set'
        ? await setParameter(socketDir, name as string, value as string, options)
        : await resetParameter(socketDir, name as string, options);
    io.out(`${change.name}: ${change.oldValue ?? '(unset)'} -> ${change.newValue ?? '(default)'}`);
    io.out(
      change.restartRequired
        ? 'restart required: the new value takes effect after pgwarden down && pgwarden up'
        : 'applied (configuration reloaded)',
    );
    return 0;
  },
};

function formatValue(value: unknown): string {
  if (value === null || value === undefined) return '-';
  if (Array.isArray(value)) return value.join(', ');
  if (typeof value === 'object') return JSON.stringify(value);
  return String(value);
}
