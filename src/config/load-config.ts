import { existsSync, readFileSync, statSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { parseDocument } from 'yaml';
import type { z } from 'zod';
import { PgwardenError } from '../errors.js';
import { type Config, ConfigSchema } from './config-schema.js';
import {
  CONFIG_ENV,
  CONFIG_FILE_NAME,
  CONFIG_FLAG,
  DATA_DIR_DEFAULT,
  DATA_DIR_ENV,
  DATA_DIR_FLAG,
  OPTIONS,
  type OptionSpec,
} from './options.js';

export type OptionSource = 'flag' | 'env' | 'file' | 'default';

export interface LoadedConfig {
  readonly config: Config;
  /** Absolute path of the data directory. */
  readonly dataDir: string;
  /** The file the settings were read from, if any. */
  readonly configPath: string | undefined;
  /** Where each option of OPTIONS got its value from. */
  readonly sources: Readonly<Record<string, OptionSource>>;
}

export interface LoadConfigInput {
  /** Parsed command-line flags (only the ones given). */
  readonly flags: Readonly<Record<string, string | boolean | undefined>>;
  readonly env: Readonly<Record<string, string | undefined>>;
  readonly cwd: string;
}

type Tree = Record<string, unknown>;

const SCHEMA_HINT = 'see `pgwarden config schema` for the keys and values pgwarden.yaml accepts';
const OPTION_HINT = 'see `pgwarden --help` for the options and their values';

export function loadConfig({ flags, env, cwd }: LoadConfigInput): LoadedConfig {
  const dataDir = resolve(
    cwd,
    stringFlag(flags[DATA_DIR_FLAG]) ?? nonEmpty(env[DATA_DIR_ENV]) ?? DATA_DIR_DEFAULT,
  );
  const configPath = findConfigFile(flags, env, cwd, dataDir);
  const fileTree = configPath === undefined ? {} : readConfigFile(configPath);
  // Validate the file on its own first so its errors name the file.
  validate(fileTree, configPath ?? 'configuration');

  const merged = structuredClone(fileTree);
  const sources: Record<string, OptionSource> = {};
  for (const option of OPTIONS) {
    sources[option.key] = getPath(fileTree, option.key) === undefined ? 'default' : 'file';
    const fromEnv = nonEmpty(env[option.env]);
    if (fromEnv !== undefined) {
      setPath(merged, option.key, coerce(option, fromEnv, option.env));
      sources[option.key] = 'env';
    }
    const fromFlag = flags[option.flag];
    if (fromFlag !== undefined) {
      const value =
        typeof fromFlag === 'boolean' ? fromFlag : coerce(option, fromFlag, `--${option.flag}`);
      setPath(merged, option.key, value);
      sources[option.key] = 'flag';
    }
  }
  const config = deepFreeze(validate(merged, 'options'));
  return { config, dataDir, configPath, sources: Object.freeze(sources) };
}

function findConfigFile(
  flags: LoadConfigInput['flags'],
  env: LoadConfigInput['env'],
  cwd: string,
  dataDir: string,
): string | undefined {
  const explicit = stringFlag(flags[CONFIG_FLAG]) ?? nonEmpty(env[CONFIG_ENV]);
  if (explicit !== undefined) {
    const path = resolve(cwd, explicit);
    if (!existsSync(path)) {
      throw new PgwardenError('PGW_CONFIG_NOT_FOUND', `configuration file ${path} does not exist`, {
        hint: 'check the path given with --config or PGWARDEN_CONFIG',
      });
    }
    return path;
  }
  const inDataDir = join(dataDir, CONFIG_FILE_NAME);
  return existsSync(inDataDir) && statSync(inDataDir).isFile() ? inDataDir : undefined;
}

function readConfigFile(path: string): Tree {
  let text: string;
  try {
    text = readFileSync(path, 'utf8');
  } catch (cause) {
    throw new PgwardenError('PGW_CONFIG_INVALID', `cannot read ${path}`, {
      hint: 'check the file exists and is readable',
      cause,
    });
  }
  const doc = parseDocument(text, { prettyErrors: false, uniqueKeys: true });
  const first = doc.errors[0];
  if (first !== undefined) {
    const line = first.linePos?.[0]?.line;
    throw new PgwardenError(
      'PGW_CONFIG_INVALID',
      `${path}${line === undefined ? '' : `:${line}`}: not valid YAML (${first.message.split('\n')[0]})`,
      { hint: 'fix the YAML syntax at that line' },
    );
  }
  const value: unknown = doc.toJS();
  if (value === null || value === undefined) return {};
  if (typeof value !== 'object' || Array.isArray(value)) {
    throw new PgwardenError(
      'PGW_CONFIG_INVALID',
      `${path}: the top level must be a mapping of keys`,
      { hint: SCHEMA_HINT },
    );
  }
  return value as Tree;
}

function validate(tree: Tree, origin: string): z.output<typeof ConfigSchema> {
  const result = ConfigSchema.safeParse(tree);
  if (result.success) return result.data;
  const issue = result.error.issues[0];
  if (issue === undefined)
    throw new PgwardenError('PGW_CONFIG_INVALID', `${origin}: invalid configuration`, {
      hint: SCHEMA_HINT,
    });
  const base = issue.path.map(String).join('.');
  if (issue.code === 'unrecognized_keys') {
    const keys = issue.keys.map((k) => (base === '' ? k : `${base}.${k}`));
    throw new PgwardenError(
      'PGW_CONFIG_INVALID',
      `${origin}: unknown key${keys.length > 1 ? 's' : ''} ${keys.map((k) => `"${k}"`).join(', ')}`,
      { hint: SCHEMA_HINT },
    );
  }
  throw new PgwardenError(
    'PGW_CONFIG_INVALID',
    `${origin}: ${base === '' ? '' : `${base}: `}${issue.message}`,
    { hint: SCHEMA_HINT },
  );
}

function coerce(option: OptionSpec, raw: string, origin: string): string | number | boolean {
  switch (option.type) {
    case 'string':
      return raw;
    case 'integer': {
      if (!/^-?\d+$/.test(raw.trim())) {
        throw new PgwardenError(
          'PGW_CONFIG_INVALID',
          `${origin}: expected a whole number, got "${raw}"`,
          { hint: OPTION_HINT },
        );
      }
      return Number.parseInt(raw, 10);
    }
    case 'boolean': {
      const v = raw.trim().toLowerCase();
      if (['1', 'true', 'on', 'yes'].includes(v)) return true;
      if (['0', 'false', 'off', 'no'].includes(v)) return false;
      throw new PgwardenError(
        'PGW_CONFIG_INVALID',
        `${origin}: expected true or false, got "${raw}"`,
        { hint: OPTION_HINT },
      );
    }
  }
}

function stringFlag(value: string | boolean | undefined): string | undefined {
  return typeof value === 'string' && value !== '' ? value : undefined;
}

function nonEmpty(value: string | undefined): string | undefined {
  return value === undefined || value === '' ? undefined : value;
}

function getPath(tree: Tree, key: string): unknown {
  let node: unknown = tree;
  for (const part of key.split('.')) {
    if (node === null || typeof node !== 'object') return undefined;
    node = (node as Tree)[part];
  }
  return node;
}

function setPath(tree: Tree, key: string, value: unknown): void {
  const parts = key.split('.');
  const last = parts.pop() as string;
  let node = tree;
  for (const part of parts) {
    const next = node[part];
    if (next === null || typeof next !== 'object') node[part] = {};
    node = node[part] as Tree;
  }
  node[last] = value;
}

function deepFreeze<T>(value: T): T {
  if (value !== null && typeof value === 'object') {
    for (const child of Object.values(value)) deepFreeze(child);
    Object.freeze(value);
  }
  return value;
}
