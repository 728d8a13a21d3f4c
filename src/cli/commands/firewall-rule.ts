import { STATE_DATABASE, withControl } from '../../control/control-client.js';
import {
  createFirewallRule,
  deleteFirewallRule,
  type FirewallRuleRow,
  listFirewallRules,
  ruleWarnings,
  showFirewallRule,
  updateFirewallRule,
} from '../../control/firewall/firewall-rules.js';
import { PgwardenError } from '../../errors.js';
import type { CliIo, Command } from '../cli-io.js';
import { runningServerContext } from '../command-context.js';
import { printTable } from '../print-table.js';

const USAGE =
  'pgwarden firewall-rule create|update --name N (--start-ip-address A --end-ip-address B | --cidr C) | list [--json] | show --name N [--json] | delete --name N';

export const firewallRuleCommand: Command = {
  name: 'firewall-rule',
  summary: 'Manage the gateway firewall: named IPv4/IPv6 ranges allowed to connect (default deny).',
  usage: USAGE,
  flags: ['json', 'name', 'start-ip-address', 'end-ip-address', 'cidr'],
  async run(input) {
    const [sub, ...extra] = input.args;
    if (
      sub === undefined ||
      !['create', 'update', 'list', 'show', 'delete'].includes(sub) ||
      extra.length > 0
    ) {
      throw new PgwardenError(
        'PGW_USAGE',
        sub === undefined
          ? 'firewall-rule needs a subcommand'
          : `unknown firewall-rule subcommand "${sub}"`,
        {
          hint: `usage: ${USAGE}`,
        },
      );
    }
    const flag = (name: string): string | undefined => {
      const value = input.flags[name];
      return typeof value === 'string' ? value : undefined;
    };
    const name = flag('name');
    if (sub !== 'list' && name === undefined) {
      throw new PgwardenError('PGW_USAGE', `firewall-rule ${sub} needs --name`, {
        hint: `usage: ${USAGE}`,
      });
    }
    const ctx = await runningServerContext(input);
    const { io } = input;
    const json = input.flags.json === true;
    await withControl(ctx.layout.socketDir, STATE_DATABASE, async (client) => {
      switch (sub) {
        case 'list': {
          const rules = await listFirewallRules(client);
          if (json) io.out(JSON.stringify(rules, null, 2));
          else printRules(rules, io);
          for (const rule of rules)
            for (const warning of ruleWarnings(rule))
              io.err(`pgwarden: warning: ${rule.name}: ${warning}`);
          return;
        }
        case 'show': {
          const rule = await showFirewallRule(client, name as string);
          print(rule, json, io);
          return;
        }
        case 'delete':
          await deleteFirewallRule(client, name as string);
          io.out(
            `pgwarden: deleted firewall rule "${name}"; running gateways apply it within a second`,
          );
          return;
        default: {
          const ruleInput = {
            name: name as string,
            startIpAddress: flag('start-ip-address'),
            endIpAddress: flag('end-ip-address'),
            cidr: flag('cidr'),
          };
          const rule =
            sub === 'create'
              ? await createFirewallRule(client, ruleInput)
              : await updateFirewallRule(client, ruleInput);
          print(rule, json, io);
          for (const warning of ruleWarnings(rule)) io.err(`pgwarden: warning: ${warning}`);
        }
      }
    });
    return 0;
  },
};

function print(rule: FirewallRuleRow, json: boolean, io: CliIo): void {
  if (json) io.out(JSON.stringify(rule, null, 2));
  else printRules([rule], io);
}

function printRules(rules: readonly FirewallRuleRow[], io: CliIo): void {
  printTable(
    io,
    ['name', 'start ip address', 'end ip address', 'hits', 'last hit'],
    rules.map((r) => [
      r.name,
      r.startIpAddress,
      r.endIpAddress,
      String(r.hitCount),
      r.lastHitAt ?? '-',
    ]),
  );
}
