import { PgwardenError } from '../../errors.js';

/** Shortest grant: anything shorter expires before the sweeper (every few seconds) notices it. */
export const MIN_JIT_MINUTES = 1;
/** Longest grant. A constant for now; a setting when someone needs another bound. */
export const MAX_JIT_MINUTES = 12 * 60;

const DURATION = /^(?:(\d{1,4})d)?(?:(\d{1,5})h)?(?:(\d{1,6})m)?$/;

/** Parses `15m`, `2h`, `1d`, or combinations such as `1h30m`, into whole minutes within the bounds. */
export function parseJitDuration(text: string): number {
  const match = DURATION.exec(text.trim());
  if (match === null || text.trim() === '') {
    throw invalidDuration(`--for "${text}" is not a duration`);
  }
  const [, days = '0', hours = '0', minutes = '0'] = match;
  const total = Number(days) * 1440 + Number(hours) * 60 + Number(minutes);
  if (total < MIN_JIT_MINUTES) throw invalidDuration(`--for "${text}" is shorter than 1m`);
  if (total > MAX_JIT_MINUTES) {
    throw invalidDuration(
      `--for "${text}" is longer than the maximum of ${formatJitMinutes(MAX_JIT_MINUTES)}`,
    );
  }
  return total;
}

/** Minutes as the shortest duration text: 90 → `1h30m`, 120 → `2h`. */
export function formatJitMinutes(total: number): string {
  const days = Math.floor(total / 1440);
  const hours = Math.floor((total % 1440) / 60);
  const minutes = total % 60;
  const text = `${days > 0 ? `${days}d` : ''}${hours > 0 ? `${hours}h` : ''}${minutes > 0 ? `${minutes}m` : ''}`;
  return text === '' ? '0m' : text;
}

function invalidDuration(message: string): PgwardenError {
  return new PgwardenError('PGW_JIT_INVALID', message, {
    hint: `give minutes, hours or days, e.g. 15m, 2h or 1h30m; from 1m to ${formatJitMinutes(MAX_JIT_MINUTES)}`,
  });
}
