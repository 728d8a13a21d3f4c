/**
 * Which server parameters users may change, as a managed PostgreSQL service
 * allows, and which ones pgwarden keeps to itself. GUC names are
 * case-insensitive in PostgreSQL, so every lookup here lowercases first; the
 * keys below use the pg_settings spelling (TimeZone, DateStyle, IntervalStyle).
 * docs/parameters.md lists the same tables for users.
 */

export type ParameterCategory =
  | 'logging'
  | 'timeouts'
  | 'memory'
  | 'connections'
  | 'planner'
  | 'wal'
  | 'autovacuum'
  | 'locale'
  | 'statistics'
  | 'extensions'
  | 'other';

/** The allow-list: parameter name (pg_settings spelling) → category. */
export const ALLOWED_PARAMETERS: Readonly<Record<string, ParameterCategory>> = Object.freeze({
  log_statement: 'logging',
  log_min_duration_statement: 'logging',
  log_min_messages: 'logging',
  log_min_error_statement: 'logging',
  log_lock_waits: 'logging',
  log_temp_files: 'logging',
  log_autovacuum_min_duration: 'logging',
  log_line_prefix: 'logging',
  log_error_verbosity: 'logging',
  log_duration: 'logging',
  log_statement_sample_rate: 'logging',
  log_parameter_max_length: 'logging',
  log_parameter_max_length_on_error: 'logging',

  statement_timeout: 'timeouts',
  lock_timeout: 'timeouts',
  idle_in_transaction_session_timeout: 'timeouts',
  idle_session_timeout: 'timeouts',
  deadlock_timeout: 'timeouts',

  work_mem: 'memory',
  maintenance_work_mem: 'memory',
  shared_buffers: 'memory',
  temp_buffers: 'memory',
  hash_mem_multiplier: 'memory',
  temp_file_limit: 'memory',

  max_connections: 'connections',
  max_locks_per_transaction: 'connections',
  max_prepared_transactions: 'connections',
  max_worker_processes: 'connections',

  effective_cache_size: 'planner',
  random_page_cost: 'planner',
  seq_page_cost: 'planner',
  effective_io_concurrency: 'planner',
  default_statistics_target: 'planner',
  jit: 'planner',
  max_parallel_workers_per_gather: 'planner',
  max_parallel_workers: 'planner',
  max_parallel_maintenance_workers: 'planner',

  wal_buffers: 'wal',
  checkpoint_timeout: 'wal',
  max_wal_size: 'wal',
  min_wal_size: 'wal',
  checkpoint_completion_target: 'wal',
  wal_compression: 'wal',
  synchronous_commit: 'wal',

  autovacuum_work_mem: 'autovacuum',
  autovacuum_naptime: 'autovacuum',
  autovacuum_vacuum_scale_factor: 'autovacuum',
  autovacuum_analyze_scale_factor: 'autovacuum',
  autovacuum_vacuum_cost_limit: 'autovacuum',
  autovacuum_max_workers: 'autovacuum',

  TimeZone: 'locale',
  DateStyle: 'locale',
  IntervalStyle: 'locale',
  default_text_search_config: 'locale',

  track_io_timing: 'statistics',
  track_activity_query_size: 'statistics',
  track_functions: 'statistics',

  shared_preload_libraries: 'extensions',
  'pg_stat_statements.track': 'extensions',
  'pg_stat_statements.max': 'extensions',
  'pgaudit.log': 'extensions',
  'pgaudit.log_catalog': 'extensions',
  'pgaudit.log_relation': 'extensions',
  'pgaudit.log_parameter': 'extensions',
  'pgaudit.role': 'extensions',
  'auto_explain.log_min_duration': 'extensions',
  'auto_explain.log_analyze': 'extensions',

  default_transaction_isolation: 'other',
});

const LIBRARIES_REASON =
  'loading arbitrary libraries runs their code inside the server; add an allowed library to shared_preload_libraries instead.';
const FILE_LAYOUT_REASON = "file locations are fixed by pgwarden's data directory layout.";
const SOCKET_REASON = 'the private unix socket is how pgwarden alone reaches the server.';
const AUTH_REASON = 'client authentication is configured by pgwarden.';
const AUDIT_LOG_REASON = 'these log entries are part of the audit trail pgwarden keeps.';
const SERVER_LOG_REASON = 'pgwarden decides where and how the server log is written.';
const ARCHIVE_REASON =
  'archive and restore settings run shell commands or load code as the server.';
const CORRUPTION_REASON = 'turning it off risks unrecoverable data corruption after a crash.';

/** Parameters pgwarden manages, name → the reason shown to the user. */
export const PROTECTED_PARAMETERS: Readonly<Record<string, string>> = Object.freeze({
  listen_addresses:
    'pgwarden keeps PostgreSQL off the network; it listens only on a private socket.',
  port: 'the private unix socket is named after a port number pgwarden fixes.',
  unix_socket_directories: SOCKET_REASON,
  unix_socket_permissions: SOCKET_REASON,
  unix_socket_group: SOCKET_REASON,
  password_encryption: 'setting it to md5 would store new passwords as weak MD5 hashes.',
  hba_file: AUTH_REASON,
  ident_file: AUTH_REASON,
  krb_server_keyfile: AUTH_REASON,
  authentication_timeout: AUTH_REASON,
  data_directory: FILE_LAYOUT_REASON,
  config_file: FILE_LAYOUT_REASON,
  external_pid_file: FILE_LAYOUT_REASON,
  log_connections: AUDIT_LOG_REASON,
  log_disconnections: AUDIT_LOG_REASON,
  log_checkpoints: AUDIT_LOG_REASON,
  logging_collector: SERVER_LOG_REASON,
  log_destination: SERVER_LOG_REASON,
  log_directory: SERVER_LOG_REASON,
  log_filename: SERVER_LOG_REASON,
  archive_mode: ARCHIVE_REASON,
  archive_command: ARCHIVE_REASON,
  archive_library: ARCHIVE_REASON,
  restore_command: ARCHIVE_REASON,
  session_preload_libraries: LIBRARIES_REASON,
  local_preload_libraries: LIBRARIES_REASON,
  dynamic_library_path: LIBRARIES_REASON,
  jit_provider: 'it names a library that is loaded into every server process.',
  row_security: 'row-level security policies must always be enforced.',
  allow_system_table_mods:
    'changing system catalogs directly can corrupt the database and bypass security checks.',
  ignore_checksum_failure: 'it hides data corruption instead of reporting it.',
  zero_damaged_pages: 'it silently destroys damaged data instead of reporting it.',
  fsync: CORRUPTION_REASON,
  full_page_writes: CORRUPTION_REASON,
  wal_level:
    'lowering it breaks backups and replication; raising it exposes changes to logical decoding.',
  lo_compat_privileges: 'it turns off permission checks on large objects.',
});

/** Protected by prefix (matched against the lowercased name), prefix → reason. */
export const PROTECTED_PREFIXES: Readonly<Record<string, string>> = Object.freeze({
  ssl: 'TLS certificates, keys and protocol settings are managed by pgwarden.',
  debug_: 'developer options can crash the server or expose query internals.',
});

/** The only libraries shared_preload_libraries may name. */
export const SHARED_PRELOAD_ALLOWED: readonly string[] = Object.freeze([
  'pg_stat_statements',
  'pgaudit',
  'auto_explain',
  'pg_prewarm',
  'pg_cron',
  'pg_hint_plan',
]);

/**
 * What a GUC name may look like: an identifier, or a custom `class.name`. Only
 * names matching this are ever written into SQL (and then quoted anyway).
 */
export const PARAMETER_NAME_PATTERN = /^[a-z_][a-z0-9_]*(\.[a-z_][a-z0-9_]*)?$/i;

export type ParameterClassification =
  | { readonly kind: 'allowed'; readonly category: ParameterCategory }
  | { readonly kind: 'protected'; readonly reason: string }
  | { readonly kind: 'other' };

const ALLOWED_BY_LOWER_NAME: ReadonlyMap<string, ParameterCategory> = new Map(
  Object.entries(ALLOWED_PARAMETERS).map(([name, category]) => [name.toLowerCase(), category]),
);
const PROTECTED_BY_LOWER_NAME: ReadonlyMap<string, string> = new Map(
  Object.entries(PROTECTED_PARAMETERS).map(([name, reason]) => [name.toLowerCase(), reason]),
);

/** The reason a parameter is protected, or undefined when it is not. Case-insensitive. */
export function protectedReason(name: string): string | undefined {
  const lower = name.toLowerCase();
  const exact = PROTECTED_BY_LOWER_NAME.get(lower);
  if (exact !== undefined) return exact;
  for (const [prefix, reason] of Object.entries(PROTECTED_PREFIXES)) {
    if (lower.startsWith(prefix)) return reason;
  }
  return undefined;
}

/** Protected wins over allowed; names on neither list are 'other'. Case-insensitive. */
export function classifyParameter(name: string): ParameterClassification {
  const reason = protectedReason(name);
  if (reason !== undefined) return { kind: 'protected', reason };
  const category = ALLOWED_BY_LOWER_NAME.get(name.toLowerCase());
  if (category !== undefined) return { kind: 'allowed', category };
  return { kind: 'other' };
}

/** The allow-listed names, lowercased, for `WHERE lower(name) = ANY($1)`. */
export function allowedParameterNamesLower(): string[] {
  return [...ALLOWED_BY_LOWER_NAME.keys()];
}
