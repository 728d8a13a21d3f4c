/**
 * Every setting that can come from a flag or an environment variable, in one
 * table (after porsager/postgres). Precedence, highest first:
 * command-line flag > PGWARDEN_* environment variable > pgwarden.yaml > default.
 */

export type OptionType = 'string' | 'integer' | 'boolean';

export interface OptionSpec {
  /** Dotted path in pgwarden.yaml. */
  readonly key: string;
  readonly flag: string;
  readonly env: string;
  readonly type: OptionType;
}

export const OPTIONS: readonly OptionSpec[] = [
  { key: 'server.pgBin', flag: 'pg-bin', env: 'PGWARDEN_PG_BIN', type: 'string' },
  { key: 'server.osUser', flag: 'os-user', env: 'PGWARDEN_OS_USER', type: 'string' },
  { key: 'server.adminUser', flag: 'admin-user', env: 'PGWARDEN_ADMIN_USER', type: 'string' },
  {
    key: 'server.startTimeoutSeconds',
    flag: 'start-timeout',
    env: 'PGWARDEN_START_TIMEOUT',
    type: 'integer',
  },
  {
    key: 'server.stopTimeoutSeconds',
    flag: 'stop-timeout',
    env: 'PGWARDEN_STOP_TIMEOUT',
    type: 'integer',
  },
  { key: 'gateway.port', flag: 'port', env: 'PGWARDEN_PORT', type: 'integer' },
];

/** Where the data directory and the config file come from (not keys of the file). */
export const DATA_DIR_FLAG = 'data-dir';
export const DATA_DIR_ENV = 'PGWARDEN_DATA_DIR';
export const DATA_DIR_DEFAULT = '.pgwarden';
export const CONFIG_FLAG = 'config';
export const CONFIG_ENV = 'PGWARDEN_CONFIG';
export const CONFIG_FILE_NAME = 'pgwarden.yaml';
