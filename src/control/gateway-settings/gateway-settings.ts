import type pg from 'pg';
import { PgwardenError } from '../../errors.js';
import { STATE_CHANNEL } from '../state/state-channel.js';

/**
 * Gateway parameters: set with `pgwarden parameter set` like server
 * parameters (as the clouds present them), stored in the state database and
 * applied by every running gateway to new connections without a restart.
 */
export const GATEWAY_PARAMETERS = {
  require_secure_transport: {
    values: ['on', 'off'],
    default: 'on',
    description: 'Refuse clients that do not use TLS.',
  },
  ssl_min_protocol_version: {
    values: ['TLSv1.2', 'TLSv1.3'],
    default: 'TLSv1.3',
    description: 'Lowest TLS version the gateway accepts.',
  },
  ssl_max_protocol_version: {
    values: ['', 'TLSv1.2', 'TLSv1.3'],
    default: '',
    description: 'Highest TLS version the gateway accepts (empty: no limit).',
  },
} as const;

export type GatewayParameterName = keyof typeof GATEWAY_PARAMETERS;
export type TlsVersion = 'TLSv1.2' | 'TLSv1.3';

export interface GatewaySettings {
  readonly requireSecureTransport: boolean;
  readonly sslMinProtocolVersion: TlsVersion;
  readonly sslMaxProtocolVersion: TlsVersion | null;
  readonly publicNetworkAccess: boolean;
}

const PUBLIC_ACCESS = 'public_network_access';

export function isGatewayParameter(name: string): name is GatewayParameterName {
  return Object.hasOwn(GATEWAY_PARAMETERS, name.toLowerCase());
}

/** Anything that runs a query: a client, a pool, or the gateway's role directory. */
export interface Queryable {
  query<R extends pg.QueryResultRow>(sql: string, params?: unknown[]): Promise<pg.QueryResult<R>>;
}

export async function readGatewaySettings(client: Queryable): Promise<GatewaySettings> {
  const rows = (
    await client.query<{ name: string; value: string }>(
      'SELECT name, value FROM pgwarden.gateway_settings',
    )
  ).rows;
  const value = (name: string, fallback: string): string =>
    rows.find((r) => r.name === name)?.value ?? fallback;
  const max = value(
    'ssl_max_protocol_version',
    GATEWAY_PARAMETERS.ssl_max_protocol_version.default,
  );
  return {
    requireSecureTransport: value('require_secure_transport', 'on') === 'on',
    sslMinProtocolVersion: value('ssl_min_protocol_version', 'TLSv1.3') as TlsVersion,
    sslMaxProtocolVersion: max === '' ? null : (max as TlsVersion),
    publicNetworkAccess: value(PUBLIC_ACCESS, 'off') === 'on',
  };
}

export interface GatewayParameterRow {
  readonly name: GatewayParameterName;
  readonly value: string;
  readonly default: string;
  readonly allowedValues: readonly string[];
  readonly description: string;
  readonly category: 'gateway';
}

export async function listGatewayParameters(client: pg.Client): Promise<GatewayParameterRow[]> {
  const settings = await client.query<{ name: string; value: string }>(
    'SELECT name, value FROM pgwarden.gateway_settings',
  );
  return (Object.keys(GATEWAY_PARAMETERS) as GatewayParameterName[]).map((name) => {
    const spec = GATEWAY_PARAMETERS[name];
    return {
      name,
      value: settings.rows.find((r) => r.name === name)?.value ?? spec.default,
      default: spec.default,
      allowedValues: spec.values,
      description: spec.description,
      category: 'gateway',
    };
  });
}

/** Sets (or, with `value` null, resets) a gateway parameter; returns old and new values. */
export async function setGatewayParameter(
  client: pg.Client,
  rawName: string,
  rawValue: string | null,
  changedBy: string,
): Promise<{ name: string; oldValue: string; newValue: string }> {
  const name = rawName.toLowerCase() as GatewayParameterName;
  const spec = GATEWAY_PARAMETERS[name];
  const value = rawValue === null ? spec.default : canonical(name, rawValue);
  const current = await readGatewaySettings(client);
  const min = name === 'ssl_min_protocol_version' ? value : current.sslMinProtocolVersion;
  const max = name === 'ssl_max_protocol_version' ? value : (current.sslMaxProtocolVersion ?? '');
  if (max !== '' && min === 'TLSv1.3' && max === 'TLSv1.2') {
    throw new PgwardenError(
      'PGW_PARAMETER_INVALID_VALUE',
      `ssl_min_protocol_version ${min} is above ssl_max_protocol_version ${max}`,
      {
        hint: 'raise ssl_max_protocol_version first, or lower ssl_min_protocol_version',
      },
    );
  }
  const old =
    (await listGatewayParameters(client)).find((r) => r.name === name)?.value ?? spec.default;
  await writeSetting(client, name, value, changedBy);
  return { name, oldValue: old, newValue: value };
}

/** `pgwarden network public-access enable|disable`. */
export async function setPublicNetworkAccess(
  client: pg.Client,
  enabled: boolean,
  changedBy: string,
): Promise<void> {
  await writeSetting(client, PUBLIC_ACCESS, enabled ? 'on' : 'off', changedBy);
}

async function writeSetting(
  client: pg.Client,
  name: string,
  value: string,
  changedBy: string,
): Promise<void> {
  await client.query(
    `WITH w AS (
       INSERT INTO pgwarden.gateway_settings (name, value, updated_by) VALUES ($1, $2, $3)
       ON CONFLICT (name) DO UPDATE SET value = EXCLUDED.value, updated_at = now(), updated_by = EXCLUDED.updated_by
       RETURNING 1
     ) SELECT pg_notify('${STATE_CHANNEL}', 'gateway-settings') FROM w`,
    [name, value, changedBy],
  );
}

function canonical(name: GatewayParameterName, raw: string): string {
  const spec = GATEWAY_PARAMETERS[name];
  let value = raw.trim();
  if (name === 'require_secure_transport') {
    const v = value.toLowerCase();
    if (['on', 'true', 'yes', '1'].includes(v)) value = 'on';
    else if (['off', 'false', 'no', '0'].includes(v)) value = 'off';
  } else {
    value = spec.values.find((allowed) => allowed.toLowerCase() === value.toLowerCase()) ?? value;
  }
  if (!(spec.values as readonly string[]).includes(value)) {
    const shown = spec.values.map((v) => (v === '' ? "'' (none)" : v)).join(', ');
    throw new PgwardenError(
      'PGW_PARAMETER_INVALID_VALUE',
      `${name} must be one of ${shown}; got "${raw}"`,
      {
        hint:
          name === 'require_secure_transport'
            ? 'turning it off lets clients send passwords and data in plaintext; keep it on'
            : 'TLS 1.0 and 1.1 are not offered: they are deprecated (RFC 8996)',
      },
    );
  }
  return value;
}
