import { serverStatus } from '../../server/server-status.js';
import type { Command } from '../cli-io.js';
import { serverCommandContext } from '../command-context.js';

/** Exit status when the server is not running, as pg_ctl status and LSB init scripts use. */
export const NOT_RUNNING_EXIT = 3;

export const statusCommand: Command = {
  name: 'status',
  summary: 'Show whether the server runs, its version, pid, binaries, data directory and socket.',
  usage: 'pgwarden status [--json] [--data-dir DIR]',
  flags: ['json'],
  async run(input) {
    const ctx = await serverCommandContext(input, { createOsUser: false });
    const status = await serverStatus(ctx);
    if (input.flags.json === true) {
      input.io.out(JSON.stringify(status, null, 2));
    } else {
      const rows: [string, string][] = [
        ['state', status.state],
        [
          'postgresql',
          status.postgres === null
            ? `not running (binaries: ${status.binaries.version})`
            : `${status.postgres.version} (pid ${status.postgres.pid}, up since ${status.postgres.startedAt})`,
        ],
        [
          'supervisor',
          status.supervisor === null
            ? 'none'
            : `pid ${status.supervisor.pid} (${status.supervisor.state})`,
        ],
        ['binaries', `${status.binaries.source} ${status.binaries.binDir}`],
        ['data dir', status.dataDir],
        ['socket', status.socketPath],
        ['admin user', status.adminUser ?? '-'],
        ['config', status.configPath ?? '(defaults)'],
      ];
      const gw = status.gateway;
      if (gw !== null) {
        const where = gw.listening.map((l) =>
          l.address.includes(':') ? `[${l.address}]:${l.port}` : `${l.address}:${l.port}`,
        );
        rows.push(
          [
            'gateway',
            `${where.join(', ') || 'not listening'}${gw.publicNetworkAccess ? ' (public access enabled)' : ''}`,
          ],
          [
            'tls',
            `${gw.tls.requireSecureTransport ? 'required' : 'optional (require_secure_transport off)'}, ${gw.tls.minProtocolVersion}${gw.tls.maxProtocolVersion === null ? '+' : ` to ${gw.tls.maxProtocolVersion}`}`,
          ],
          [
            'certificate',
            gw.tls.certificate === null
              ? '-'
              : `${gw.tls.certificate.file} (expires ${gw.tls.certificate.notAfter}, ${gw.tls.certificate.daysLeft} days)`,
          ],
          ['sessions', String(gw.activeSessions)],
          [
            'firewall',
            `${gw.firewallRules} rule${gw.firewallRules === 1 ? '' : 's'} (default deny)`,
          ],
        );
      }
      if (status.serverAudit !== null) {
        const sa = status.serverAudit;
        const text = sa.active
          ? `active (pgaudit.log = ${sa.log ?? '?'})`
          : sa.configured
            ? 'configured, active after a restart'
            : 'off';
        rows.push(['pgaudit', text]);
      }
      for (const [key, value] of rows) input.io.out(`${key.padEnd(11)} ${value}`);
      for (const warning of gw?.warnings ?? []) input.io.err(`pgwarden: warning: ${warning}`);
    }
    return status.state === 'running' || status.state === 'unsupervised' ? 0 : NOT_RUNNING_EXIT;
  },
};
