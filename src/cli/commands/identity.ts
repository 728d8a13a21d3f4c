import { userInfo } from 'node:os';
import { STATE_DATABASE, withControl } from '../../control/control-client.js';
import {
  addProvider,
  createPrincipal,
  deletePrincipal,
  type IdentityPrincipal,
  type IdentityProvider,
  listPrincipals,
  listProviders,
  type PrincipalType,
  readIdentityMode,
  removeProvider,
  setIdentityMode,
} from '../../control/identity/identity-store.js';
import { PgwardenError } from '../../errors.js';
import type { CliIo, Command, CommandInput } from '../cli-io.js';
import { runningServerContext } from '../command-context.js';
import { requiredFlag, stringFlag } from '../command-flags.js';
import { printTable } from '../print-table.js';

const USAGE = [
  'pgwarden identity provider add --name N --issuer URL --audience A[,B] (--jwks-uri URL | --jwks-file F) [--subject-claim C] [--groups-claim C] [--required-claims C,..]',
  'pgwarden identity provider list [--json] | remove --name N',
  'pgwarden identity principal create --provider P --role R --subject ID [--type user|group|service] [--login-as role|member]',
  'pgwarden identity principal list [--json] | delete --id N',
  'pgwarden identity mode [password|token|both]',
].join('\n       ');

/** Which flags each subcommand takes. */
const FLAGS: Record<string, readonly string[]> = {
  'provider add': [
    'name',
    'issuer',
    'audience',
    'jwks-uri',
    'jwks-file',
    'subject-claim',
    'groups-claim',
    'required-claims',
  ],
  'provider list': ['json'],
  'provider remove': ['name'],
  'principal create': ['provider', 'role', 'subject', 'type', 'login-as'],
  'principal list': ['json'],
  'principal delete': ['id'],
  mode: ['json'],
};

export const identityCommand: Command = {
  name: 'identity',
  summary: 'OIDC identity providers, principals mapped to roles, and the login mode.',
  usage: `${USAGE}`,
  flags: [...new Set(Object.values(FLAGS).flat())],
  async run(input) {
    const [group, sub, ...extra] = input.args;
    const key = group === 'mode' ? 'mode' : `${group} ${sub}`;
    const allowed = FLAGS[key];
    const modeArgs = group === 'mode' ? [sub, ...extra].filter((a) => a !== undefined) : extra;
    if (allowed === undefined || (group === 'mode' ? modeArgs.length > 1 : extra.length > 0)) {
      throw usage(
        group === undefined
          ? 'identity needs a subcommand'
          : `unknown identity subcommand "${[group, sub].filter(Boolean).join(' ')}"`,
      );
    }
    for (const flag of identityCommand.flags) {
      if (input.flags[flag] !== undefined && !allowed.includes(flag)) {
        throw usage(`"pgwarden identity ${key}" does not take --${flag}`);
      }
    }
    const ctx = await runningServerContext(input);
    const who = userInfo().username;
    return withControl(ctx.layout.socketDir, STATE_DATABASE, async (client) => {
      const { io } = input;
      const json = input.flags.json === true;
      switch (key) {
        case 'provider add': {
          const jwksUri = stringFlag(input, 'jwks-uri');
          const jwksFile = stringFlag(input, 'jwks-file');
          const provider = await addProvider(
            client,
            {
              name: required(input, 'name'),
              issuer: required(input, 'issuer'),
              audiences: required(input, 'audience').split(','),
              jwksUri,
              jwksFile,
              subjectClaim: stringFlag(input, 'subject-claim'),
              groupsClaim: stringFlag(input, 'groups-claim'),
              requiredClaims: stringFlag(input, 'required-claims')?.split(','),
            },
            who,
          );
          io.out(`identity provider "${provider.name}" added: issuer ${provider.issuer}`);
          return 0;
        }
        case 'provider list': {
          const providers = await listProviders(client);
          if (json) io.out(JSON.stringify(providers, null, 2));
          else printProviders(io, providers);
          return 0;
        }
        case 'provider remove':
          await removeProvider(client, required(input, 'name'));
          io.out(`identity provider "${required(input, 'name')}" removed`);
          return 0;
        case 'principal create': {
          const loginAs = stringFlag(input, 'login-as');
          if (loginAs !== undefined && loginAs !== 'role' && loginAs !== 'member') {
            throw usage(`--login-as "${loginAs}" is not role or member`);
          }
          const principal = await createPrincipal(
            client,
            {
              provider: required(input, 'provider'),
              role: required(input, 'role'),
              subject: required(input, 'subject'),
              type: (stringFlag(input, 'type') ?? 'user') as PrincipalType,
              loginAs,
            },
            who,
          );
          io.out(
            `principal ${principal.id} created: ${principal.type} ${principal.subject} of ${principal.provider} logs in as role "${principal.role}"`,
          );
          return 0;
        }
        case 'principal list': {
          const principals = await listPrincipals(client);
          if (json) io.out(JSON.stringify(principals, null, 2));
          else printPrincipals(io, principals);
          return 0;
        }
        case 'principal delete': {
          const raw = required(input, 'id');
          const id = Number(raw);
          if (!Number.isSafeInteger(id) || id < 1)
            throw usage(`--id "${raw}" is not a principal id`);
          await deletePrincipal(client, id);
          io.out(`principal ${id} deleted; its live sessions end within seconds`);
          return 0;
        }
        default: {
          const [mode] = modeArgs;
          const current =
            mode === undefined
              ? await readIdentityMode(client)
              : await setIdentityMode(client, mode, who);
          if (json) io.out(JSON.stringify({ mode: current }));
          else
            io.out(
              mode === undefined ? `identity mode: ${current}` : `identity mode set to ${current}`,
            );
          return 0;
        }
      }
    });
  },
};

function printProviders(io: CliIo, providers: readonly IdentityProvider[]): void {
  printTable(
    io,
    ['name', 'issuer', 'audiences', 'keys from', 'subject claim'],
    providers.map((p) => [
      p.name,
      p.issuer,
      p.audiences.join(','),
      p.jwksUri ?? p.jwksFile ?? '-',
      p.subjectClaim,
    ]),
  );
}

function printPrincipals(io: CliIo, principals: readonly IdentityPrincipal[]): void {
  printTable(
    io,
    ['id', 'provider', 'type', 'subject', 'role', 'login as'],
    principals.map((p) => [String(p.id), p.provider, p.type, p.subject, p.role, p.loginAs]),
  );
}

function required(input: CommandInput, name: string): string {
  return requiredFlag(input, name, USAGE);
}

function usage(message: string): PgwardenError {
  return new PgwardenError('PGW_USAGE', message, { hint: `usage: ${USAGE}` });
}
