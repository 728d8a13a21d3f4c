/** pgwarden's library entry point: the pieces other programs may build on. */

export { scramSha256Verifier } from './auth/scram-secret.js';
export { type Config, ConfigSchema, configJsonSchema } from './config/config-schema.js';
export { type LoadedConfig, loadConfig } from './config/load-config.js';
export { ERROR_CODES, type ErrorCode, PgwardenError } from './errors.js';
