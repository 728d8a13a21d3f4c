import { userInfo } from 'node:os';
import type pg from 'pg';
import { readApproverRole, setApproverRole } from '../../control/access/jit-approver-role.js';
import { parseJitDuration } from '../../control/access/jit-duration.js';
import {
  type AccessGrant,
  type AccessRequest,
  listAccessRequests,
  listActiveGrants,
} from '../../control/access/jit-request-rows.js';
import {
  approveAccessRequest,
  createAccessRequest,
  denyAccessRequest,
} from '../../control/access/jit-requests.js';
import { STATE_DATABASE, withControl } from '../../control/control-client.js';
import { PgwardenError } from '../../errors.js';
import type { CliIo, CommandInput } from '../cli-io.js';
import { runningServerContext } from '../command-context.js';
import { requiredFlag, stringFlag } from '../command-flags.js';
import { loginThroughGateway } from '../gateway-login.js';
import { printTable } from '../print-table.js';
import { ACCESS_POLICY_FLAGS } from './access-policy.js';

/** Just-in-time access (issue 5, item 7; ADR 12): the `pgwarden access` subcommands besides `policy`. */
export const ACCESS_JIT_USAGE = [
  'pgwarden access request --user U --role R --for 2h --reason "..."   (U\'s password or token in PGPASSWORD)',
  'pgwarden access approve ID --user A | deny ID --user A [--reason "..."]   (A\'s password in PGPASSWORD)',
  'pgwarden access requests [--json] | grants [--json] | approvers [--role R | --reset] [--json]',
].join('\n       ');

/** Which flags each subcommand takes. */
const FLAGS: Record<string, readonly string[]> = {
  request: ['user', 'role', 'for', 'reason'],
  approve: ['user', 'id'],
  deny: ['user', 'id', 'reason'],
  requests: ['json'],
  grants: ['json'],
  approvers: ['role', 'reset', 'json'],
};

export const JIT_SUBCOMMANDS: readonly string[] = Object.keys(FLAGS);
export const ACCESS_JIT_FLAGS: readonly string[] = [...new Set(Object.values(FLAGS).flat())];

export async function accessJit(input: CommandInput): Promise<number> {
  const [sub = '', ...rest] = input.args;
  const allowed = FLAGS[sub];
  const takesId = sub === 'approve' || sub === 'deny';
  if (allowed === undefined || rest.length > (takesId ? 1 : 0)) {
    throw usage(`unexpected arguments to "pgwarden access ${sub}": ${rest.join(' ')}`);
  }
  for (const flag of new Set([...ACCESS_JIT_FLAGS, ...ACCESS_POLICY_FLAGS])) {
    if (input.flags[flag] !== undefined && !allowed.includes(flag)) {
      throw usage(`"pgwarden access ${sub}" does not take --${flag}`);
    }
  }
  const id = takesId ? requestId(input, rest[0]) : undefined;
  // Check what needs no server before asking for one.
  if (sub === 'request') {
    for (const flag of ['role', 'for', 'reason']) required(input, flag);
    parseJitDuration(required(input, 'for'));
  }
  const login = allowed.includes('user') ? loginFrom(input) : undefined;
  const ctx = await runningServerContext(input);
  if (login !== undefined && ctx.config.backend !== undefined) {
    throw new PgwardenError(
      'PGW_JIT_INVALID',
      'just-in-time access grants roles on the managed server, and this gateway fronts an external backend',
      { hint: 'grant roles on the external server with its own tools; see docs/identity.md' },
    );
  }
  // The person acting logs in as themselves first; only then does the CLI act for them.
  const user =
    login === undefined
      ? undefined
      : await loginThroughGateway(ctx.layout, {
          ...login,
          database: input.io.env.PGDATABASE || 'postgres',
          caFile: input.io.env.PGSSLROOTCERT || undefined,
        });
  const { io } = input;
  const json = input.flags.json === true;
  return withControl(ctx.layout.socketDir, STATE_DATABASE, async (client) => {
    switch (sub) {
      case 'request': {
        const request = await createAccessRequest(client, {
          requester: user as string,
          role: required(input, 'role'),
          duration: required(input, 'for'),
          reason: required(input, 'reason'),
        });
        const approvers = await readApproverRole(client);
        io.out(
          `access request ${request.id} created: ${request.requester} asks for role "${request.role}" for ${request.duration}`,
        );
        io.out(
          approvers === null
            ? 'no approver role is set yet: an administrator sets one with pgwarden access approvers --role R'
            : `a member of "${approvers}" approves it with: pgwarden access approve ${request.id} --user NAME`,
        );
        return 0;
      }
      case 'approve': {
        const request = await approveAccessRequest(client, id as number, user as string);
        io.out(
          request.preexisting === true
            ? `request ${request.id} approved: ${request.requester} already held role "${request.role}", so nothing was granted and nothing will be revoked`
            : `request ${request.id} approved: role "${request.role}" granted to ${request.requester} until ${request.expiresAt} (${request.duration})`,
        );
        return 0;
      }
      case 'deny': {
        const request = await denyAccessRequest(
          client,
          id as number,
          user as string,
          stringFlag(input, 'reason'),
        );
        io.out(
          `request ${request.id} denied: ${request.requester} does not get role "${request.role}"`,
        );
        return 0;
      }
      case 'requests': {
        const requests = await listAccessRequests(client);
        if (json) io.out(JSON.stringify(requests, null, 2));
        else printRequests(io, requests);
        return 0;
      }
      case 'grants': {
        const grants = await listActiveGrants(client);
        if (json) io.out(JSON.stringify(grants, null, 2));
        else printGrants(io, grants);
        return 0;
      }
      default:
        return approvers(input, client);
    }
  });
}

/** `access approvers`: shows, sets (--role) or unsets (--reset) the approver role. */
async function approvers(input: CommandInput, client: pg.ClientBase): Promise<number> {
  const role = stringFlag(input, 'role');
  const reset = input.flags.reset === true;
  if (role !== undefined && reset) throw usage('give --role or --reset, not both');
  const changing = role !== undefined || reset;
  const current = changing
    ? await setApproverRole(client, reset ? null : (role as string), userInfo().username)
    : await readApproverRole(client);
  if (input.flags.json === true) input.io.out(JSON.stringify({ approverRole: current }));
  else if (current === null)
    input.io.out(
      `${changing ? 'approver role unset' : 'approver role: none'}; nobody can approve requests`,
    );
  else input.io.out(changing ? `approver role set to "${current}"` : `approver role: ${current}`);
  return 0;
}

function printRequests(io: CliIo, requests: readonly AccessRequest[]): void {
  printTable(
    io,
    ['id', 'requester', 'role', 'for', 'status', 'requested at', 'decided by', 'reason'],
    requests.map((r) => [
      String(r.id),
      r.requester,
      r.role,
      r.duration,
      r.status,
      r.requestedAt,
      r.decidedBy ?? '-',
      r.reason,
    ]),
  );
}

function printGrants(io: CliIo, grants: readonly AccessGrant[]): void {
  printTable(
    io,
    ['id', 'user', 'role', 'approved by', 'expires at', 'left'],
    grants.map((g) => [
      String(g.id),
      g.user,
      g.role,
      g.approvedBy,
      g.expiresAt,
      timeLeft(g.secondsLeft),
    ]),
  );
}

/** `1h59m`, `4m`, `<1m`, or `expiring` once due (the sweeper revokes it within seconds). */
function timeLeft(seconds: number): string {
  if (seconds <= 0) return 'expiring';
  if (seconds < 60) return '<1m';
  const minutes = Math.floor(seconds / 60);
  const hours = Math.floor(minutes / 60);
  return hours > 0 ? `${hours}h${String(minutes % 60).padStart(2, '0')}m` : `${minutes}m`;
}

/** Who claims to act, and the secret that proves it: --user (or PGUSER), and PGPASSWORD only. */
function loginFrom(input: CommandInput): { user: string; password: string } {
  const user = stringFlag(input, 'user') ?? (input.io.env.PGUSER || undefined);
  if (user === undefined || user === '')
    throw usage('this command needs --user, the role you log in as');
  const password = input.io.env.PGPASSWORD;
  if (password === undefined || password === '') {
    throw usage(
      `set PGPASSWORD to the password (or access token) of "${user}"; it is never taken as a flag, so it stays out of the process list and shell history`,
    );
  }
  return { user, password };
}

function requestId(input: CommandInput, positional: string | undefined): number {
  const flag = stringFlag(input, 'id');
  if (flag !== undefined && positional !== undefined && flag !== positional) {
    throw usage('give the request id once: as an argument or with --id');
  }
  const raw = flag ?? positional;
  if (raw === undefined) throw usage('this command needs the request id');
  const id = Number(raw);
  if (!/^\d+$/.test(raw) || !Number.isSafeInteger(id) || id < 1) {
    throw usage(`"${raw}" is not a request id`);
  }
  return id;
}

function required(input: CommandInput, name: string): string {
  return requiredFlag(input, name, ACCESS_JIT_USAGE);
}

function usage(message: string): PgwardenError {
  return new PgwardenError('PGW_USAGE', message, { hint: `usage: ${ACCESS_JIT_USAGE}` });
}
