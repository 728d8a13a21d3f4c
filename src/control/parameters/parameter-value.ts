/**
 * Validation of a user-given parameter value against its pg_settings row,
 * without I/O. Numbers are parsed the way PostgreSQL's guc.c does (parse_int,
 * parse_real, convert_to_base_unit; docs 20.1.1 "Parameter Names and Values"):
 * strtol with base 0 (so "0x10" is hex and "010" octal) falling back to strtod,
 * optional whitespace, then an optional case-sensitive unit converted to the
 * setting's base unit, rounded as PostgreSQL rounds, and checked against
 * min_val/max_val. The result is the canonical text handed to ALTER SYSTEM.
 */

import { PgwardenError } from '../../errors.js';
import { SHARED_PRELOAD_ALLOWED } from './parameter-policy.js';

export type ParameterVartype = 'bool' | 'integer' | 'real' | 'string' | 'enum';

/** The pg_settings columns validation needs. */
export interface PgSettingRow {
  readonly name: string;
  readonly setting: string;
  /** Base unit, e.g. 'kB', '8kB', 'B', 'MB', 'ms', 's', 'min'; null when unitless. */
  readonly unit: string | null;
  readonly vartype: ParameterVartype;
  readonly min_val: string | null;
  readonly max_val: string | null;
  readonly enumvals: readonly string[] | null;
  readonly context: string;
}

export interface NormaliseOptions {
  /** Whether `<pkglibdir>/<name>.so` exists; needed for shared_preload_libraries only. */
  readonly existsLibrary?: (name: string) => boolean;
}

const MEMORY_UNITS: readonly (readonly [string, number])[] = [
  ['TB', 1024 ** 4],
  ['GB', 1024 ** 3],
  ['MB', 1024 ** 2],
  ['kB', 1024],
  ['B', 1],
];
/** Sizes in microseconds. */
const TIME_UNITS: readonly (readonly [string, number])[] = [
  ['d', 86_400_000_000],
  ['h', 3_600_000_000],
  ['min', 60_000_000],
  ['s', 1_000_000],
  ['ms', 1_000],
  ['us', 1],
];
const MEMORY_UNIT_LIST = 'B, kB, MB, GB, TB';
const TIME_UNIT_LIST = 'us, ms, s, min, h, d';
const MAX_UNIT_LEN = 3;
const INT_MIN = -2147483648;
const INT_MAX = 2147483647;

type UnitKind = 'memory' | 'time';

interface BaseUnit {
  readonly kind: UnitKind;
  /** Bytes or microseconds per base unit. */
  readonly size: number;
  /** The unit as it can follow a number ('kB', 'ms'); undefined for multiples like '8kB'. */
  readonly suffix: string | undefined;
}

/** Interprets pg_settings.unit; null when unitless, 'unknown' when not a unit pgwarden knows. */
function baseUnitOf(unit: string | null): BaseUnit | null | 'unknown' {
  if (unit === null || unit === '') return null;
  const time = TIME_UNITS.find(([name]) => name === unit);
  if (time !== undefined) return { kind: 'time', size: time[1], suffix: unit };
  const match = /^(\d*)(B|kB|MB|GB|TB)$/.exec(unit);
  const memory = MEMORY_UNITS.find(([name]) => name === match?.[2]);
  if (match === null || memory === undefined) return 'unknown';
  const count = match[1] === '' || match[1] === undefined ? 1 : Number(match[1]);
  if (count === 0) return 'unknown';
  return { kind: 'memory', size: count * memory[1], suffix: count === 1 ? unit : undefined };
}

function unitTable(kind: UnitKind): readonly (readonly [string, number])[] {
  return kind === 'memory' ? MEMORY_UNITS : TIME_UNITS;
}

function unitList(kind: UnitKind): string {
  return kind === 'memory' ? MEMORY_UNIT_LIST : TIME_UNIT_LIST;
}

/** C's rint() in the default rounding mode: halfway cases go to the even neighbour. */
function rint(value: number): number {
  if (!Number.isFinite(value)) return value;
  const floor = Math.floor(value);
  const diff = value - floor;
  if (diff < 0.5) return floor;
  if (diff > 0.5) return floor + 1;
  return floor % 2 === 0 ? floor : floor + 1;
}

const C_SPACE = ' \t\n\v\f\r';

function skipSpace(text: string, from: number): number {
  let i = from;
  while (i < text.length && C_SPACE.includes(text.charAt(i))) i++;
  return i;
}

function isDigitOf(char: string, radix: number): boolean {
  if (char === '') return false;
  if (radix === 16) return /^[0-9a-fA-F]$/.test(char);
  if (radix === 8) return char >= '0' && char <= '7';
  return char >= '0' && char <= '9';
}

interface Scanned {
  readonly value: number;
  /** Index just past the number; 0 when nothing was converted (C's endptr == nptr). */
  readonly end: number;
  readonly outOfRange: boolean;
}

/** strtol(text, &end, 0) for a 64-bit long. */
function strtol(text: string): Scanned {
  let i = skipSpace(text, 0);
  let negative = false;
  const sign = text.charAt(i);
  if (sign === '+' || sign === '-') {
    negative = sign === '-';
    i++;
  }
  let radix = 10;
  if (
    text.charAt(i) === '0' &&
    /[xX]/.test(text.charAt(i + 1)) &&
    isDigitOf(text.charAt(i + 2), 16)
  ) {
    radix = 16;
    i += 2;
  } else if (text.charAt(i) === '0') {
    radix = 8;
  }
  const start = i;
  while (isDigitOf(text.charAt(i), radix)) i++;
  if (i === start) return { value: 0, end: 0, outOfRange: false };
  const digits = text.slice(start, i);
  const magnitude = BigInt(radix === 16 ? `0x${digits}` : radix === 8 ? `0o${digits}` : digits);
  const signed = negative ? -magnitude : magnitude;
  const outOfRange = signed > 9223372036854775807n || signed < -9223372036854775808n;
  return { value: Number(signed), end: i, outOfRange };
}

/**
 * strtod(text, &end): decimal and hexadecimal ("0x1.8p3") notation. "inf",
 * "infinity" and "nan" are not recognised: PostgreSQL rejects NaN, and
 * infinities fail its range check anyway. Overflow and underflow are ERANGE.
 */
function strtod(text: string): Scanned {
  const start = skipSpace(text, 0);
  const rest = text.slice(start);
  const hex =
    /^([+-]?)0[xX](?:([0-9a-fA-F]+)\.?([0-9a-fA-F]*)|\.([0-9a-fA-F]+))(?:[pP]([+-]?\d+))?/.exec(
      rest,
    );
  let value: number;
  let length: number;
  let mantissaIsZero: boolean;
  if (hex !== null) {
    const [all, sign, whole = '', fraction = '', onlyFraction = '', exponent = '0'] = hex;
    const digits = `${whole}${fraction}${onlyFraction}`;
    const fractionDigits = fraction.length + onlyFraction.length;
    const magnitude = Number.parseInt(digits, 16) * 2 ** (Number(exponent) - 4 * fractionDigits);
    value = sign === '-' ? -magnitude : magnitude;
    length = all.length;
    mantissaIsZero = !/[1-9a-fA-F]/.test(digits);
  } else {
    const decimal = /^[+-]?(?:\d+\.?\d*|\.\d+)(?:[eE][+-]?\d+)?/.exec(rest);
    if (decimal === null) return { value: 0, end: 0, outOfRange: false };
    value = Number(decimal[0]);
    length = decimal[0].length;
    mantissaIsZero = !/[1-9]/.test(decimal[0].split(/[eE]/)[0] ?? '');
  }
  const outOfRange =
    !Number.isFinite(value) ||
    (value === 0 && !mantissaIsZero) ||
    (value !== 0 && Math.abs(value) < 2.2250738585072014e-308);
  return { value, end: start + length, outOfRange };
}

function invalid(message: string, hint?: string): PgwardenError {
  return new PgwardenError('PGW_PARAMETER_INVALID_VALUE', message, {
    hint: hint ?? 'see `pgwarden parameter show NAME` for the type, unit and range it takes',
  });
}

function quoted(value: string): string {
  return JSON.stringify(value);
}

/** What a number of base units looks like in a message: '64kB', '128kB' for 16 × 8kB, '-1'. */
function describeBaseValue(value: number, base: BaseUnit | null | 'unknown'): string {
  if (base === null || base === 'unknown' || value <= 0) return String(value);
  if (base.suffix !== undefined) return `${value}${base.suffix}`;
  return `${(value * base.size) / 1024}kB`;
}

/**
 * Formats an integer in base units the way SHOW does: with the largest unit
 * that divides it exactly, or as a bare number when it is zero, negative or
 * unitless. The result parses back to the same value.
 */
export function formatIntegerSetting(value: number, unit: string | null): string {
  const base = baseUnitOf(unit);
  if (base === null || base === 'unknown' || value <= 0) return String(value);
  for (const [name, size] of unitTable(base.kind)) {
    const multiplier = size / base.size;
    if (multiplier <= 1) return `${rint(value / multiplier)}${name}`;
    if (value % multiplier === 0) return `${value / multiplier}${name}`;
  }
  return String(value);
}

/** A numeric value in its base unit, plus how the user wrote it, for messages. */
function parseNumeric(row: PgSettingRow, value: string, integer: boolean): number {
  const base = baseUnitOf(row.unit);
  const kindText = integer ? 'an integer' : 'a number';
  const unitHint =
    base === null
      ? `${row.name} takes a plain number without a unit.`
      : base === 'unknown'
        ? `Give ${row.name} as a plain number in its base unit (${row.unit}).`
        : `Valid units for ${row.name} are ${unitList(base.kind)} (case-sensitive).`;
  const syntax = (): PgwardenError =>
    invalid(
      base === null
        ? `${row.name} must be ${kindText}; got ${quoted(value)}`
        : `${row.name} must be ${kindText} with an optional unit; got ${quoted(value)}`,
      unitHint,
    );

  let scanned: Scanned;
  if (integer) {
    scanned = strtol(value);
    const next = value.charAt(scanned.end);
    if (next === '.' || next === 'e' || next === 'E' || scanned.outOfRange) scanned = strtod(value);
  } else {
    scanned = strtod(value);
  }
  if (scanned.end === 0) throw syntax();
  if (scanned.outOfRange) throw outOfRange(row, value, base);

  let number = scanned.value;
  let i = skipSpace(value, scanned.end);
  if (i < value.length) {
    if (base === null) {
      throw invalid(`${row.name} takes no unit; got ${quoted(value)}`, unitHint);
    }
    let unitText = '';
    while (
      i < value.length &&
      !C_SPACE.includes(value.charAt(i)) &&
      unitText.length < MAX_UNIT_LEN
    ) {
      unitText += value.charAt(i);
      i++;
    }
    i = skipSpace(value, i);
    if (base === 'unknown')
      throw invalid(`${row.name} cannot be given with a unit; got ${quoted(value)}`, unitHint);
    const table = unitTable(base.kind);
    const index = table.findIndex(([name]) => name === unitText);
    const entry = table[index];
    if (i < value.length || entry === undefined) {
      const otherKind: UnitKind = base.kind === 'memory' ? 'time' : 'memory';
      if (i >= value.length && unitTable(otherKind).some(([name]) => name === unitText)) {
        throw invalid(
          `${row.name} takes a ${base.kind} unit (${unitList(base.kind)}), not the ${otherKind} unit "${unitText}"; got ${quoted(value)}`,
          unitHint,
        );
      }
      throw invalid(
        `${row.name} has no unit ${quoted(value.slice(scanned.end).trim())}; got ${quoted(value)}`,
        unitHint,
      );
    }
    // convert_to_base_unit: a fractional value is first rounded to a multiple
    // of the next smaller unit, when there is one.
    number *= entry[1] / base.size;
    const smaller = table[index + 1];
    if (smaller !== undefined) {
      const smallerMultiplier = smaller[1] / base.size;
      number = rint(number / smallerMultiplier) * smallerMultiplier;
    }
  }
  if (Number.isNaN(number)) throw syntax();
  if (integer) {
    number = rint(number);
    if (number > INT_MAX || number < INT_MIN) throw outOfRange(row, value, base);
  }
  const min = bound(row.min_val);
  const max = bound(row.max_val);
  if ((min !== undefined && number < min) || (max !== undefined && number > max)) {
    throw outOfRange(row, value, base);
  }
  return number;
}

/**
 * min_val/max_val as numbers. Real bounds are printed with %g, so DBL_MAX
 * appears as 1.79769e+308, which is less than DBL_MAX itself.
 */
function bound(text: string | null): number | undefined {
  if (text === null) return undefined;
  if (text === '1.79769e+308') return Number.MAX_VALUE;
  if (text === '-1.79769e+308') return -Number.MAX_VALUE;
  return Number(text);
}

function outOfRange(
  row: PgSettingRow,
  value: string,
  base: BaseUnit | null | 'unknown',
): PgwardenError {
  const min = bound(row.min_val);
  const max = bound(row.max_val);
  const range =
    min !== undefined && max !== undefined
      ? `between ${describeBaseValue(min, base)} and ${describeBaseValue(max, base)}`
      : min !== undefined
        ? `at least ${describeBaseValue(min, base)}`
        : max !== undefined
          ? `at most ${describeBaseValue(max, base)}`
          : `between ${INT_MIN} and ${INT_MAX}`;
  return invalid(
    `${row.name} must be ${range}; got ${quoted(value)}`,
    base === null || base === 'unknown'
      ? undefined
      : `Values are converted to the base unit ${row.unit ?? ''} and rounded as PostgreSQL does.`,
  );
}

const BOOLEAN_SPELLINGS: ReadonlyMap<string, 'on' | 'off'> = new Map([
  ['on', 'on'],
  ['off', 'off'],
  ['true', 'on'],
  ['false', 'off'],
  ['yes', 'on'],
  ['no', 'off'],
  ['1', 'on'],
  ['0', 'off'],
]);

/** Splits a shared_preload_libraries value into trimmed entries (empty entries kept). */
export function splitLibraryList(value: string): string[] {
  return value.split(',').map((entry) => entry.trim());
}

function normaliseSharedPreloadLibraries(value: string, options: NormaliseOptions): string {
  const existsLibrary = options.existsLibrary;
  if (existsLibrary === undefined) {
    throw new TypeError('existsLibrary is required to validate shared_preload_libraries');
  }
  if (value.trim() === '') {
    throw invalid(
      'shared_preload_libraries cannot be set to an empty list (ALTER SYSTEM would store "" and the server would not start)',
      'Run `pgwarden parameter reset shared_preload_libraries` to return to the default.',
    );
  }
  const entries = splitLibraryList(value);
  if (entries.some((entry) => entry === '')) {
    throw invalid(
      `shared_preload_libraries must be a comma-separated list of library names without empty entries; got ${quoted(value)}`,
    );
  }
  const unique = [...new Set(entries)];
  for (const entry of unique) {
    if (!SHARED_PRELOAD_ALLOWED.includes(entry)) {
      throw new PgwardenError(
        'PGW_PARAMETER_PROTECTED',
        `shared_preload_libraries may not load ${quoted(entry)}: loading arbitrary libraries runs their code inside the server`,
        { hint: `Allowed libraries: ${SHARED_PRELOAD_ALLOWED.join(', ')}.` },
      );
    }
  }
  for (const entry of unique) {
    if (!existsLibrary(entry)) {
      throw invalid(
        `library ${entry} is not installed (no ${entry}.so in the server's library directory); the server would fail to restart`,
        `Install the ${entry} extension for this PostgreSQL version first, or leave it out of shared_preload_libraries.`,
      );
    }
  }
  return unique.join(', ');
}

/**
 * Validates `value` for the setting described by `row` and returns the
 * normalised value for ALTER SYSTEM: booleans as on/off, enums in their
 * pg_settings spelling, integers in SHOW format ('4MB', '30s'), reals as a
 * bare number in their base unit, strings unchanged, shared_preload_libraries as 'a, b'.
 * Throws PGW_PARAMETER_INVALID_VALUE (or PGW_PARAMETER_PROTECTED for a library
 * outside SHARED_PRELOAD_ALLOWED).
 */
export function normaliseParameterValue(
  row: PgSettingRow,
  value: string,
  options: NormaliseOptions = {},
): string {
  if (value.includes('\0')) {
    throw invalid(`${row.name} must not contain a NUL character`);
  }
  if (row.name.toLowerCase() === 'shared_preload_libraries') {
    return normaliseSharedPreloadLibraries(value, options);
  }
  switch (row.vartype) {
    case 'bool': {
      const spelled = BOOLEAN_SPELLINGS.get(value.toLowerCase());
      if (spelled === undefined) {
        throw invalid(
          `${row.name} must be a boolean (on, off, true, false, yes, no, 1, 0); got ${quoted(value)}`,
        );
      }
      return spelled;
    }
    case 'enum': {
      const values = row.enumvals ?? [];
      const found = values.find((candidate) => candidate.toLowerCase() === value.toLowerCase());
      if (found === undefined) {
        throw invalid(`${row.name} must be one of ${values.join(', ')}; got ${quoted(value)}`);
      }
      return found;
    }
    case 'integer':
      return formatIntegerSetting(parseNumeric(row, value, true), row.unit);
    case 'real': {
      // A bare number is taken in the base unit as is; with a unit suffix
      // PostgreSQL would round it again to the next smaller unit.
      const number = parseNumeric(row, value, false);
      return Object.is(number, -0) ? '-0' : String(number);
    }
    case 'string':
      return value;
    default: {
      const unexpected: never = row.vartype;
      throw invalid(`${row.name} has an unsupported type ${String(unexpected)}`);
    }
  }
}
