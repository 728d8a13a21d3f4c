import { PgwardenError } from '../errors.js';
import type { CommandInput } from './cli-io.js';

/** A string flag's value, or undefined when it was not given. */
export function stringFlag(input: CommandInput, name: string): string | undefined {
  const value = input.flags[name];
  return typeof value === 'string' ? value : undefined;
}

/** A string flag that must be given and non-empty; PGW_USAGE with the command's usage otherwise. */
export function requiredFlag(input: CommandInput, name: string, usage: string): string {
  const value = stringFlag(input, name);
  if (value === undefined || value === '') {
    throw new PgwardenError('PGW_USAGE', `this command needs --${name}`, {
      hint: `usage: ${usage}`,
    });
  }
  return value;
}
