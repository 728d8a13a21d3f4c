import { PgwardenError } from '../errors.js';
import { formatIp } from '../gateway/firewall/ip-address.js';
import {
  type AccessPolicy,
  type PolicyConditions,
  type PolicySubjects,
  type TimeWindow,
  WEEKDAYS,
  type Weekday,
} from './access-policy.js';
import { parseAddressRange } from './address-range.js';
import { displayValue, UNSAFE_CHARACTERS } from './display-value.js';
import { isTimeZone, parseClock } from './time-window.js';

const NAME = /^[A-Za-z0-9][A-Za-z0-9_.-]{0,62}$/;
const MAX_PRIORITY = 100_000;

type Fields = Record<string, unknown>;

/**
 * Checks untrusted input (a config section, an API body, a CLI file) and
 * returns it as an AccessPolicy: unknown keys rejected, `enabled` defaults to
 * true, `subjects` and `conditions` to empty. Throws PgwardenError PGW_USAGE
 * naming the path and the problem, e.g.
 * `access policy "office": conditions.sourceRanges[0]: "10.0.0.0/33" is not an IP address or CIDR block`.
 */
export function validatePolicy(input: unknown): AccessPolicy {
  let label = 'access policy';
  const fail = (path: string, problem: string, hint: string): never => {
    throw new PgwardenError('PGW_USAGE', `${label}: ${path === '' ? '' : `${path}: `}${problem}`, {
      hint,
    });
  };
  const v = new Reader(fail);

  const keys = ['name', 'priority', 'effect', 'enabled', 'subjects', 'conditions'];
  const top = v.record(input, '', keys);
  const name = v.string(top.name, 'name');
  if (!NAME.test(name)) {
    fail(
      'name',
      `${displayValue(name)} is not a valid policy name`,
      'use 1 to 63 letters, digits, "_", "." or "-", starting with a letter or digit',
    );
  }
  label = `access policy "${name}"`;
  v.onlyKeys(top, '', keys);

  const priority = top.priority;
  if (typeof priority !== 'number' || !Number.isInteger(priority)) {
    fail('priority', notA(priority, 'a whole number'), `give an integer from 0 to ${MAX_PRIORITY}`);
  } else if (priority < 0 || priority > MAX_PRIORITY) {
    fail(
      'priority',
      `${priority} is out of range`,
      `give an integer from 0 to ${MAX_PRIORITY}; lower runs first`,
    );
  }
  const effect = top.effect;
  if (effect !== 'allow' && effect !== 'deny') {
    fail('effect', notA(effect, 'an effect'), 'use "allow" or "deny"');
  }
  const enabled = top.enabled === undefined ? true : v.boolean(top.enabled, 'enabled');
  return {
    name,
    priority: priority as number,
    effect: effect as 'allow' | 'deny',
    enabled,
    subjects: top.subjects === undefined ? {} : subjects(v, top.subjects),
    conditions: top.conditions === undefined ? {} : conditions(v, top.conditions),
  };
}

function subjects(v: Reader, input: unknown): PolicySubjects {
  const fields = v.object(input, 'subjects', ['roles', 'principals', 'groups']);
  const result: { -readonly [K in keyof PolicySubjects]: PolicySubjects[K] } = {};
  for (const key of ['roles', 'principals', 'groups'] as const) {
    if (fields[key] !== undefined) {
      result[key] = v.list(fields[key], `subjects.${key}`, (item, path) => v.name(item, path));
    }
  }
  return result;
}

function conditions(v: Reader, input: unknown): PolicyConditions {
  const keys = [
    'sourceRanges',
    'timeWindows',
    'applicationNames',
    'clientCertificate',
    'mfa',
    'acrValues',
  ];
  const fields = v.object(input, 'conditions', keys);
  const result: { -readonly [K in keyof PolicyConditions]: PolicyConditions[K] } = {};
  if (fields.sourceRanges !== undefined) {
    result.sourceRanges = v.list(fields.sourceRanges, 'conditions.sourceRanges', (item, path) =>
      sourceRange(v, item, path),
    );
  }
  if (fields.timeWindows !== undefined) {
    result.timeWindows = v.list(fields.timeWindows, 'conditions.timeWindows', (item, path) =>
      timeWindow(v, item, path),
    );
  }
  if (fields.applicationNames !== undefined) {
    // '' is a pattern: it matches a client that sent no application_name.
    result.applicationNames = v.list(
      fields.applicationNames,
      'conditions.applicationNames',
      (item, path) => v.printable(item, path),
    );
  }
  if (fields.clientCertificate !== undefined) {
    result.clientCertificate = v.boolean(fields.clientCertificate, 'conditions.clientCertificate');
  }
  if (fields.mfa !== undefined) result.mfa = v.boolean(fields.mfa, 'conditions.mfa');
  if (fields.acrValues !== undefined) {
    result.acrValues = v.list(fields.acrValues, 'conditions.acrValues', (item, path) =>
      v.name(item, path),
    );
  }
  return result;
}

function sourceRange(v: Reader, item: unknown, path: string): string {
  const text = v.string(item, path);
  const range = parseAddressRange(text);
  if (range === undefined) {
    v.fail(
      path,
      `${displayValue(text)} is not an IP address or CIDR block`,
      'give an address (192.0.2.7, 2001:db8::1) or a block (10.0.0.0/8, 2001:db8::/32)',
    );
  } else if (range.hostBitsSet) {
    const prefix = text.slice(text.indexOf('/'));
    v.fail(
      path,
      `${displayValue(text)} has bits set after the prefix`,
      `write the block's first address, ${formatIp(range.start)}${prefix}, or a single address without a prefix`,
    );
  }
  return text;
}

function timeWindow(v: Reader, item: unknown, path: string): TimeWindow {
  const fields = v.object(item, path, ['days', 'start', 'end', 'timeZone']);
  const days = v.list(fields.days, `${path}.days`, (day, dayPath): Weekday => {
    const found = WEEKDAYS.find((d) => d === day);
    if (found === undefined) {
      v.fail(dayPath, notA(day, 'a day'), `use ${WEEKDAYS.join(', ')}`);
    }
    return found as Weekday;
  });
  const start = v.string(fields.start, `${path}.start`);
  if (parseClock(start) === undefined) {
    v.fail(
      `${path}.start`,
      `${displayValue(start)} is not a time of day`,
      'use HH:MM, 00:00 to 23:59',
    );
  }
  const end = v.string(fields.end, `${path}.end`);
  if (parseClock(end, true) === undefined) {
    v.fail(`${path}.end`, `${displayValue(end)} is not a time of day`, 'use HH:MM, 00:01 to 24:00');
  }
  if (parseClock(start) === parseClock(end, true)) {
    v.fail(
      path,
      `the window ${start}-${end} is empty`,
      'for a whole day use 00:00-24:00; an end before the start wraps past midnight',
    );
  }
  const timeZone = v.string(fields.timeZone, `${path}.timeZone`);
  if (!isTimeZone(timeZone)) {
    v.fail(
      `${path}.timeZone`,
      `${displayValue(timeZone)} is not a known time zone`,
      'use an IANA time zone name such as Europe/Berlin, America/New_York or UTC',
    );
  }
  return { days, start, end, timeZone };
}

/** Typed reads of untrusted values, each failing with its path. */
class Reader {
  constructor(readonly fail: (path: string, problem: string, hint: string) => never) {}

  object(input: unknown, path: string, keys: readonly string[]): Fields {
    return this.onlyKeys(this.record(input, path, keys), path, keys);
  }

  record(input: unknown, path: string, keys: readonly string[]): Fields {
    if (typeof input !== 'object' || input === null || Array.isArray(input)) {
      return this.fail(path, notA(input, 'an object'), `give an object with ${keys.join(', ')}`);
    }
    return input as Fields;
  }

  onlyKeys(fields: Fields, path: string, keys: readonly string[]): Fields {
    const unknown = Object.keys(fields).filter((k) => !keys.includes(k));
    if (unknown.length > 0) {
      this.fail(
        path,
        `unknown key${unknown.length > 1 ? 's' : ''} ${unknown.map(displayValue).join(', ')}`,
        `the keys are ${keys.join(', ')}`,
      );
    }
    return fields;
  }

  /** A non-empty array: an empty OR could never hold, which is never what was meant. */
  list<T>(input: unknown, path: string, item: (value: unknown, path: string) => T): T[] {
    if (!Array.isArray(input)) {
      return this.fail(path, notA(input, 'a list'), 'give a list (an array)');
    }
    if (input.length === 0) {
      this.fail(
        path,
        'the list is empty, so it could never match',
        'give at least one entry or leave the key out',
      );
    }
    return input.map((value: unknown, i) => item(value, `${path}[${i}]`));
  }

  string(input: unknown, path: string): string {
    if (typeof input !== 'string') {
      return this.fail(path, notA(input, 'a string'), 'give a string');
    }
    return input;
  }

  printable(input: unknown, path: string): string {
    const text = this.string(input, path);
    if (UNSAFE_CHARACTERS.test(text)) {
      this.fail(path, `${displayValue(text)} holds control characters`, 'remove them');
    }
    return text;
  }

  /** A role, principal, group or acr value: printable and not empty. */
  name(input: unknown, path: string): string {
    const text = this.printable(input, path);
    if (text === '') this.fail(path, 'the value is empty', 'give a non-empty string');
    return text;
  }

  boolean(input: unknown, path: string): boolean {
    if (typeof input !== 'boolean') {
      return this.fail(path, notA(input, 'true or false'), 'give true or false');
    }
    return input;
  }
}

/** `"x" is not a string`, or `missing, expected a string`. */
function notA(value: unknown, expected: string): string {
  return value === undefined
    ? `missing, expected ${expected}`
    : `${describe(value)} is not ${expected}`;
}

/** A short, safe rendering of an unexpected value for a message. */
function describe(value: unknown): string {
  if (typeof value === 'string') return displayValue(value);
  if (value === null) return 'null';
  if (Array.isArray(value)) return 'a list';
  if (typeof value === 'object') return 'an object';
  return String(value);
}
