import { userInfo } from 'node:os';
import { STATE_DATABASE, withControl } from '../../control/control-client.js';
import {
  readGatewaySettings,
  setPublicNetworkAccess,
} from '../../control/gateway-settings/gateway-settings.js';
import { PgwardenError } from '../../errors.js';
import type { Command } from '../cli-io.js';
import { runningServerContext } from '../command-context.js';

const USAGE = 'pgwarden network public-access enable|disable|show';

export const networkCommand: Command = {
  name: 'network',
  summary:
    'Public network access: listen on every interface (enable) or on loopback only (disable, the default).',
  usage: USAGE,
  flags: [],
  async run(input) {
    const [topic, action, ...extra] = input.args;
    if (
      topic !== 'public-access' ||
      !['enable', 'disable', 'show'].includes(action ?? '') ||
      extra.length > 0
    ) {
      throw new PgwardenError('PGW_USAGE', 'network takes public-access enable, disable or show', {
        hint: `usage: ${USAGE}`,
      });
    }
    const ctx = await runningServerContext(input);
    await withControl(ctx.layout.socketDir, STATE_DATABASE, async (client) => {
      if (action !== 'show')
        await setPublicNetworkAccess(client, action === 'enable', userInfo().username);
      const settings = await readGatewaySettings(client);
      input.io.out(
        settings.publicNetworkAccess
          ? 'public access: enabled (the gateway listens on every IPv4 and IPv6 interface; firewall rules decide who gets in)'
          : `public access: disabled (the gateway listens on ${ctx.config.gateway.listenAddresses.join(', ')})`,
      );
    });
    return 0;
  },
};
