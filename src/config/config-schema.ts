import { z } from 'zod';

/**
 * The one schema of pgwarden.yaml. It is the source of the `Config` type, of
 * runtime validation and of the exported JSON Schema (`pgwarden config schema`).
 * Unknown keys are rejected everywhere (strict objects). Defaults are secure;
 * an option that weakens security says so in its name (`allow…`).
 */

/** PostgreSQL role names pgwarden creates: lower case, unquoted, not reserved. */
const roleName = z
  .string()
  .regex(
    /^[a-z_][a-z0-9_]{0,62}$/,
    'must be 1-63 characters of a-z, 0-9 and _, not starting with a digit',
  )
  .refine((name) => !name.startsWith('pg_'), 'must not start with "pg_" (reserved by PostgreSQL)')
  .refine(
    (name) => name !== 'pgwarden_su' && name !== 'pgwarden_admin' && name !== 'public',
    'must not be a role pgwarden reserves (pgwarden_su, pgwarden_admin, public)',
  );

const osUserName = z
  .string()
  .regex(
    /^[a-z_][a-z0-9_-]{0,31}$/,
    'must be a valid OS user name (a-z, 0-9, _ and -, at most 32)',
  );

export const ServerConfigSchema = z.strictObject({
  pgBin: z
    .string()
    .min(1)
    .default('auto')
    .describe(
      'Where the PostgreSQL binaries come from: "auto" (system, then embedded), "system", "embedded", or a directory holding initdb and postgres.',
    ),
  osUser: osUserName
    .default('pgwarden')
    .describe(
      'When pgwarden runs as root, PostgreSQL runs as this unprivileged OS user (created if missing).',
    ),
  adminUser: roleName
    .default('pgwarden')
    .describe('The administrator login role created at init, a member of pgwarden_admin.'),
  allowAdminReplication: z
    .boolean()
    .default(false)
    .describe(
      'Give pgwarden_admin the REPLICATION attribute (lets its members stream the whole cluster).',
    ),
  startTimeoutSeconds: z
    .number()
    .int()
    .min(1)
    .max(3600)
    .default(60)
    .describe('How long to wait for PostgreSQL to accept connections.'),
  stopTimeoutSeconds: z
    .number()
    .int()
    .min(1)
    .max(3600)
    .default(60)
    .describe('How long a fast shutdown may take before pgwarden escalates to an immediate one.'),
});

const seconds = (max: number) => z.number().int().min(0).max(max);

export const GatewayTlsConfigSchema = z.strictObject({
  certFile: z
    .string()
    .min(1)
    .optional()
    .describe(
      "Bring your own server certificate (PEM); with keyFile. Default: one issued by pgwarden's own CA.",
    ),
  keyFile: z.string().min(1).optional().describe('Private key (PEM) of certFile.'),
  clientCaFile: z
    .string()
    .min(1)
    .optional()
    .describe(
      'CA certificates (PEM) that client certificates must chain to. When set, the gateway asks clients for a certificate (optional); conditional access policies can require one.',
    ),
  extraNames: z
    .array(z.string().min(1))
    .default([])
    .describe(
      'More DNS names or IP addresses for the certificate pgwarden issues (besides localhost, 127.0.0.1, ::1, the host name).',
    ),
});

export const GatewayConfigSchema = z.strictObject({
  port: z
    .number()
    .int()
    .min(0)
    .max(65535)
    .default(5432)
    .describe('TCP port of the gateway (0: any free port).'),
  listenAddresses: z
    .array(z.string().min(1))
    .min(1)
    .default(['127.0.0.1', '::1'])
    .describe('Addresses to listen on while public access is disabled.'),
  maxMessageLength: z
    .number()
    .int()
    .min(1024)
    .max(1073741823)
    .default(1073741823)
    .describe(
      'Largest protocol message accepted after authentication, checked before buffering (bytes).',
    ),
  authenticationTimeoutSeconds: seconds(600)
    .min(1)
    .default(60)
    .describe('Time a client has to authenticate.'),
  maxConnections: z
    .number()
    .int()
    .min(1)
    .max(100000)
    .default(1000)
    .describe('Client sessions at once, in all.'),
  maxConnectionsPerRole: z
    .number()
    .int()
    .min(0)
    .default(0)
    .describe('Client sessions at once per role (0: no limit).'),
  maxConnectionsPerAddress: z
    .number()
    .int()
    .min(0)
    .default(0)
    .describe('Client sessions at once per source address (0: no limit).'),
  idleSessionTimeoutSeconds: seconds(86400 * 7)
    .default(0)
    .describe('Close sessions idle this long (0: never).'),
  shutdownTimeoutSeconds: seconds(3600)
    .default(30)
    .describe('On SIGTERM, how long sessions may finish before they are closed.'),
  tls: GatewayTlsConfigSchema.prefault({}),
});

/** pgaudit's classes (pgaudit.log), plus `connection` for connection events. */
export const AUDIT_CLASSES = [
  'connection',
  'read',
  'write',
  'function',
  'role',
  'ddl',
  'misc',
  'misc_set',
] as const;
/** `parameters` is not a class: it adds bound parameter values to the records (never part of `all`). */
const auditClassList = z.array(z.enum([...AUDIT_CLASSES, 'all', 'none', 'parameters']));

const httpSink = {
  url: z.string().url(),
  tokenFile: z.string().min(1).optional().describe('File holding a bearer token for the endpoint.'),
  allowPlaintextHttp: z
    .boolean()
    .default(false)
    .describe('Allow an http:// URL (audit records would cross the network unencrypted).'),
  maxQueue: z.number().int().min(1).max(1_000_000).default(10_000),
};

export const AuditSinkSchema = z.discriminatedUnion('type', [
  z.strictObject({ type: z.literal('webhook'), ...httpSink }),
  z.strictObject({ type: z.literal('otlp'), ...httpSink }),
  z.strictObject({
    type: z.literal('syslog'),
    host: z.string().min(1).default('127.0.0.1'),
    port: z.number().int().min(1).max(65535).default(514),
    protocol: z.enum(['udp', 'tcp']).default('udp'),
    maxQueue: z.number().int().min(1).max(1_000_000).default(10_000),
  }),
]);

export const AuditConfigSchema = z.strictObject({
  log: auditClassList
    .default(['connection', 'ddl', 'role', 'write'])
    .describe(
      'What is audited (like pgaudit.log): connection, read, write, function, role, ddl, misc, misc_set, all, none; add parameters to log bound parameter values (like pgaudit.log_parameter).',
    ),
  roles: z
    .record(z.string().min(1), auditClassList)
    .default({})
    .describe('Per-role classes, replacing `log` for sessions of that role (like pgaudit.role).'),
  databases: z
    .record(z.string().min(1), auditClassList)
    .default({})
    .describe(
      'Per-database classes, replacing `log` for sessions on that database (a role entry wins).',
    ),
  durable: z
    .boolean()
    .default(false)
    .describe(
      "Write and fsync each statement's record before its result reaches the client (costs latency).",
    ),
  maxFileMegabytes: z
    .number()
    .int()
    .min(1)
    .max(4096)
    .default(64)
    .describe('Rotate a log file at this size.'),
  rotateHours: z
    .number()
    .int()
    .min(1)
    .max(168)
    .default(24)
    .describe('Rotate a log file at this age.'),
  retentionDays: z
    .number()
    .int()
    .min(1)
    .max(3650)
    .default(30)
    .describe('Delete log files older than this.'),
  sinks: z
    .array(AuditSinkSchema)
    .default([])
    .describe(
      'Extra destinations (webhook, OTLP/HTTP logs, syslog); they never slow clients, and drop records when they cannot keep up.',
    ),
  maxStatementBytes: z
    .number()
    .int()
    .min(256)
    .max(16 * 1024 * 1024)
    .default(65536)
    .describe(
      'Longest statement text kept in a record; longer statements are cut (and classified as far as they parse).',
    ),
});

export const BackendConfigSchema = z.strictObject({
  host: z
    .string()
    .min(1)
    .describe(
      'Host of an external PostgreSQL the gateway sends sessions to (instead of the managed server).',
    ),
  port: z.number().int().min(1).max(65535).default(5432),
  tls: z
    .strictObject({
      mode: z
        .enum(['verify-full', 'require', 'disable'])
        .default('verify-full')
        .describe(
          'TLS to the backend: verify-full checks its certificate and name; disable is for a private network only.',
        ),
      caFile: z
        .string()
        .min(1)
        .optional()
        .describe('CA certificate (PEM) the backend certificate must chain to.'),
      serverName: z.string().min(1).optional().describe('Name to verify instead of host.'),
    })
    .prefault({}),
  authUser: z
    .string()
    .min(1)
    .describe(
      'Role the gateway uses to read SCRAM verifiers from the backend (a superuser, or one allowed to run authQuery).',
    ),
  authPasswordFile: z.string().min(1).describe("File (mode 0600) holding authUser's password."),
  authDatabase: z.string().min(1).default('postgres'),
  authQuery: z
    .string()
    .min(1)
    .default('SELECT rolpassword, rolsuper FROM pg_authid WHERE rolname = $1')
    .describe('Returns rolpassword and rolsuper for the role $1 (like PgBouncer auth_query).'),
});

export const PasswordsConfigSchema = z.strictObject({
  minLength: z
    .number()
    .int()
    .min(8)
    .max(256)
    .default(16)
    .describe('Fewest characters a password set with `pgwarden role password` may have.'),
  requireClasses: z
    .number()
    .int()
    .min(1)
    .max(4)
    .default(3)
    .describe(
      'How many of the four character classes (lower case, upper case, digit, symbol) a password must use.',
    ),
  forbidRoleName: z
    .boolean()
    .default(true)
    .describe('Refuse passwords that contain the role name (in any case; names of 3+ characters).'),
  expiryDays: z
    .number()
    .int()
    .min(0)
    .max(3650)
    .default(90)
    .describe('Days until a newly set password expires (sets VALID UNTIL); 0 = never.'),
  historySize: z
    .number()
    .int()
    .min(0)
    .max(24)
    .default(5)
    .describe(
      'How many previous passwords per role may not be reused; only their SCRAM verifiers are kept. 0 = no reuse check.',
    ),
});

export const GuardrailsConfigSchema = z.strictObject({
  privilegedRoles: z
    .array(z.string().min(1))
    .default([])
    .describe(
      'Roles that may be given SUPERUSER, BYPASSRLS, REPLICATION or the predefined roles that reach server files, programs or all data (pg_execute_server_program, pg_read_server_files, pg_write_server_files, pg_write_all_data, pg_read_all_data). Everyone else is refused, by the gateway and by `pgwarden access apply`.',
    ),
  checkPasswordStatements: z
    .boolean()
    .default(true)
    .describe(
      'Check CREATE/ALTER ROLE … PASSWORD sent through the gateway against the password policy before the server sees it.',
    ),
});

const secondsSetting = (min: number, max: number, fallback: number, what: string) =>
  z.number().int().min(min).max(max).default(fallback).describe(what);

export const DetectionConfigSchema = z.strictObject({
  enabled: z
    .boolean()
    .default(true)
    .describe('Run the threat detectors on what the gateway sees (docs/detection.md).'),
  throttle: z
    .strictObject({
      failures: z
        .number()
        .int()
        .min(1)
        .max(10_000)
        .default(10)
        .describe('Failed logins from one source address that start a block.'),
      windowSeconds: secondsSetting(1, 86_400, 60, 'Window the failures are counted in.'),
      blockSeconds: secondsSetting(1, 86_400, 300, 'How long a throttled source is refused.'),
      exemptRanges: z
        .array(z.string().min(1))
        .default([])
        .describe('CIDR ranges never throttled (monitoring, your office).'),
    })
    .prefault({})
    .describe('Refuse a source address for a while after repeated failed logins.'),
  bruteForce: z
    .strictObject({
      sourceFailures: z.number().int().min(2).default(10),
      userFailures: z.number().int().min(2).default(10),
      unknownUserFailures: z.number().int().min(2).default(10),
      distributedSources: z.number().int().min(2).default(5),
      successAfterFailures: z.number().int().min(1).default(5),
      windowSeconds: secondsSetting(10, 86_400, 300, 'Window failed logins are counted in.'),
    })
    .prefault({})
    .describe('Thresholds of the brute-force detectors.'),
  harmfulApplications: z
    .array(z.string().min(1))
    .default([])
    .describe('More application_name globs counted as attack tools, besides the built-in list.'),
  newPrincipalDays: z.number().int().min(1).max(3650).default(60),
  newNetworkDays: z.number().int().min(1).max(3650).default(60),
  networkPrefixIpv4: z.number().int().min(8).max(32).default(24),
  networkPrefixIpv6: z.number().int().min(16).max(128).default(48),
  blocklistFile: z
    .string()
    .min(1)
    .optional()
    .describe('Addresses and CIDR ranges, one per line (# comments); re-read when it changes.'),
  geoip: z
    .strictObject({
      countryFile: z
        .string()
        .min(1)
        .optional()
        .describe('A MaxMind GeoIP2/GeoLite2 Country or City database (.mmdb).'),
      asnFile: z.string().min(1).optional().describe('A MaxMind GeoLite2 ASN database (.mmdb).'),
    })
    .prefault({}),
  sensitiveTables: z
    .array(z.string().min(1))
    .default([])
    .describe('Tables (schema.table) where SELECT * raises an alert.'),
  exfiltration: z
    .strictObject({
      minRows: z
        .number()
        .int()
        .min(1)
        .default(10_000)
        .describe('Rows below this never count as exfiltration.'),
      factor: z
        .number()
        .min(1)
        .default(10)
        .describe("Times a role's usual rows per session that raise an alert."),
      copyRows: z
        .number()
        .int()
        .min(1)
        .default(100_000)
        .describe('Rows a COPY TO STDOUT must return to raise an alert.'),
    })
    .prefault({}),
  webhooks: z
    .array(
      z.strictObject({
        url: z
          .string()
          .url()
          .describe('https:// (or http:// to loopback) endpoint that receives alerts as JSON.'),
        secretFile: z
          .string()
          .min(1)
          .describe('File (mode 0600) with the HMAC-SHA256 key that signs each delivery.'),
        minSeverity: z.enum(['low', 'medium', 'high', 'critical']).default('low'),
      }),
    )
    .default([]),
  responses: z
    .record(
      z.string(),
      z.strictObject({
        terminateSession: z.boolean().default(false),
        blockSourceSeconds: z.number().int().min(1).max(604_800).optional(),
      }),
    )
    .default({})
    .describe('Actions per alert type id: end the session, block the source address for a while.'),
});

export const ConfigSchema = z.strictObject({
  server: ServerConfigSchema.prefault({}),
  gateway: GatewayConfigSchema.prefault({}),
  audit: AuditConfigSchema.prefault({}),
  passwords: PasswordsConfigSchema.prefault({}).describe(
    'Password policy of `pgwarden role password set|rotate`.',
  ),
  detection: DetectionConfigSchema.prefault({}).describe(
    'Threat detection, alerts and responses (docs/detection.md).',
  ),
  guardrails: GuardrailsConfigSchema.prefault({}).describe(
    'What nobody may gain through the gateway or an access spec: privileged attributes and roles, weak passwords.',
  ),
  backend: BackendConfigSchema.optional().describe(
    "An external PostgreSQL behind the gateway. The managed server then only keeps pgwarden's state.",
  ),
});

/** Configuration as written in pgwarden.yaml (every key optional). */
export type ConfigInput = z.input<typeof ConfigSchema>;
/** Configuration after validation and defaults: what the program is given. */
export type BackendConfig = Readonly<z.output<typeof BackendConfigSchema>>;
export type AuditConfig = Readonly<z.output<typeof AuditConfigSchema>>;
export type PasswordsConfig = Readonly<z.output<typeof PasswordsConfigSchema>>;
export type DetectionConfig = Readonly<z.output<typeof DetectionConfigSchema>>;
export type GuardrailsConfig = Readonly<{
  privilegedRoles: readonly string[];
  checkPasswordStatements: boolean;
}>;
export type Config = Readonly<{
  server: Readonly<z.output<typeof ServerConfigSchema>>;
  gateway: Readonly<z.output<typeof GatewayConfigSchema>>;
  audit: AuditConfig;
  passwords: PasswordsConfig;
  guardrails: GuardrailsConfig;
  detection: DetectionConfig;
  backend?: BackendConfig | undefined;
}>;

export function configJsonSchema(): Record<string, unknown> {
  return z.toJSONSchema(ConfigSchema, { io: 'input', target: 'draft-2020-12' }) as Record<
    string,
    unknown
  >;
}
