import type pg from 'pg';
import { PgwardenError } from '../../errors.js';
import { formatIp, parseCidr, parseIp } from '../../gateway/firewall/ip-address.js';
import { STATE_CHANNEL } from '../state/state-channel.js';

export interface FirewallRuleRow {
  readonly name: string;
  readonly startIpAddress: string;
  readonly endIpAddress: string;
  readonly hitCount: number;
  readonly lastHitAt: string | null;
  readonly createdAt: string;
}

export interface RuleInput {
  readonly name: string;
  /** Either a range… */
  readonly startIpAddress?: string | undefined;
  readonly endIpAddress?: string | undefined;
  /** …or a CIDR block. */
  readonly cidr?: string | undefined;
}

const NAME = /^[A-Za-z0-9][A-Za-z0-9_.-]{0,127}$/;
const SELECT = `SELECT name, host(start_ip) AS "startIpAddress", host(end_ip) AS "endIpAddress",
  hit_count::float8 AS "hitCount", last_hit_at AS "lastHitAt", created_at AS "createdAt"
  FROM pgwarden.firewall_rules`;

/** Firewall rules in the state database; every change is announced to the gateways. */
export async function listFirewallRules(client: pg.Client): Promise<FirewallRuleRow[]> {
  return (await client.query<FirewallRuleRow>(`${SELECT} ORDER BY name`)).rows.map(toJson);
}

export async function showFirewallRule(client: pg.Client, name: string): Promise<FirewallRuleRow> {
  const result = await client.query<FirewallRuleRow>(`${SELECT} WHERE name = $1`, [name]);
  const row = result.rows[0];
  if (row === undefined) throw notFound(name);
  return toJson(row);
}

export async function createFirewallRule(
  client: pg.Client,
  input: RuleInput,
): Promise<FirewallRuleRow> {
  const range = validateRule(input);
  await client.query('BEGIN');
  try {
    const exists = await client.query('SELECT 1 FROM pgwarden.firewall_rules WHERE name = $1', [
      input.name,
    ]);
    if (exists.rowCount !== 0) {
      throw new PgwardenError(
        'PGW_FIREWALL_RULE_EXISTS',
        `firewall rule "${input.name}" already exists`,
        {
          hint: 'choose another name, or change it with pgwarden firewall-rule update',
        },
      );
    }
    await client.query(
      'INSERT INTO pgwarden.firewall_rules (name, start_ip, end_ip) VALUES ($1, $2, $3)',
      [input.name, range.start, range.end],
    );
    await client.query(`SELECT pg_notify('${STATE_CHANNEL}', 'firewall')`);
    await client.query('COMMIT');
  } catch (error) {
    await client.query('ROLLBACK');
    throw error;
  }
  return showFirewallRule(client, input.name);
}

export async function updateFirewallRule(
  client: pg.Client,
  input: RuleInput,
): Promise<FirewallRuleRow> {
  const range = validateRule(input);
  const result = await client.query(
    `WITH changed AS (
       UPDATE pgwarden.firewall_rules SET start_ip = $2, end_ip = $3, updated_at = now() WHERE name = $1 RETURNING 1
     ) SELECT count(*)::int AS n, pg_notify('${STATE_CHANNEL}', 'firewall') FROM changed`,
    [input.name, range.start, range.end],
  );
  if ((result.rows[0] as { n: number }).n === 0) throw notFound(input.name);
  return showFirewallRule(client, input.name);
}

export async function deleteFirewallRule(client: pg.Client, name: string): Promise<void> {
  const result = await client.query(
    `WITH gone AS (DELETE FROM pgwarden.firewall_rules WHERE name = $1 RETURNING 1)
     SELECT count(*)::int AS n, pg_notify('${STATE_CHANNEL}', 'firewall') FROM gone`,
    [name],
  );
  if ((result.rows[0] as { n: number }).n === 0) throw notFound(name);
}

/** Warnings a rule deserves: it opens every address, or it is the 0.0.0.0 special rule. */
export function ruleWarnings(rule: { startIpAddress: string; endIpAddress: string }): string[] {
  const start = parseIp(rule.startIpAddress);
  const end = parseIp(rule.endIpAddress);
  if (start === undefined || end === undefined) return [];
  const all = start.family === 4 ? 0xffffffffn : (1n << 128n) - 1n;
  if (start.value === 0n && end.value === all) {
    return [
      `rule allows every ${start.family === 4 ? 'IPv4' : 'IPv6'} address: the server is open to the whole internet`,
    ];
  }
  if (start.family === 4 && start.value === 0n && end.value === 0n) {
    return [
      '0.0.0.0-0.0.0.0 is the cloud\'s "allow all Azure services" rule; here it allows nothing (no client has address 0.0.0.0)',
    ];
  }
  return [];
}

function validateRule(input: RuleInput): { start: string; end: string } {
  if (!NAME.test(input.name)) {
    throw invalid(
      `firewall rule name "${input.name}" is not valid`,
      'use 1-128 letters, digits, "_", "-" or "."',
    );
  }
  if (input.cidr !== undefined) {
    if (input.startIpAddress !== undefined || input.endIpAddress !== undefined) {
      throw invalid(
        'give either --cidr or --start-ip-address/--end-ip-address, not both',
        'drop one of them',
      );
    }
    const block = parseCidr(input.cidr);
    if (block === undefined)
      throw invalid(
        `"${input.cidr}" is not a CIDR block`,
        'write it like 10.0.0.0/8 or 2001:db8::/32',
      );
    return { start: formatIp(block.start), end: formatIp(block.end) };
  }
  if (input.startIpAddress === undefined || input.endIpAddress === undefined) {
    throw invalid(
      'a rule needs --start-ip-address and --end-ip-address, or --cidr',
      'give the range the rule allows',
    );
  }
  const start = parseIp(input.startIpAddress);
  const end = parseIp(input.endIpAddress);
  if (start === undefined)
    throw invalid(`"${input.startIpAddress}" is not an IP address`, 'give an IPv4 or IPv6 address');
  if (end === undefined)
    throw invalid(`"${input.endIpAddress}" is not an IP address`, 'give an IPv4 or IPv6 address');
  if (start.family !== end.family) {
    throw invalid(
      'the start and end addresses are of different families',
      'use two IPv4 or two IPv6 addresses',
    );
  }
  if (start.value > end.value)
    throw invalid('the start address is after the end address', 'swap them');
  return { start: formatIp(start), end: formatIp(end) };
}

function toJson(row: FirewallRuleRow): FirewallRuleRow {
  const date = (value: unknown): string | null =>
    value instanceof Date ? value.toISOString() : (value as string | null);
  return { ...row, lastHitAt: date(row.lastHitAt), createdAt: date(row.createdAt) ?? '' };
}

function invalid(message: string, hint: string): PgwardenError {
  return new PgwardenError('PGW_FIREWALL_RULE_INVALID', message, { hint });
}

function notFound(name: string): PgwardenError {
  return new PgwardenError('PGW_FIREWALL_RULE_NOT_FOUND', `no firewall rule named "${name}"`, {
    hint: 'pgwarden firewall-rule list shows the rules',
  });
}
