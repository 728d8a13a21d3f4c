import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import {
  formatIntegerSetting,
  normaliseParameterValue,
  type PgSettingRow,
} from '../../src/control/parameters/parameter-value.js';
import { type ErrorCode, PgwardenError } from '../../src/errors.js';

// Rows as PostgreSQL 15 reports them in pg_settings.
function row(fields: Partial<PgSettingRow> & Pick<PgSettingRow, 'name' | 'vartype'>): PgSettingRow {
  return {
    setting: '',
    unit: null,
    min_val: null,
    max_val: null,
    enumvals: null,
    context: 'user',
    ...fields,
  };
}

const jit = row({ name: 'jit', vartype: 'bool' });
const workMem = row({
  name: 'work_mem',
  vartype: 'integer',
  unit: 'kB',
  min_val: '64',
  max_val: '2147483647',
});
const sharedBuffers = row({
  name: 'shared_buffers',
  vartype: 'integer',
  unit: '8kB',
  min_val: '16',
  max_val: '1073741823',
  context: 'postmaster',
});
const statementTimeout = row({
  name: 'statement_timeout',
  vartype: 'integer',
  unit: 'ms',
  min_val: '0',
  max_val: '2147483647',
});
const naptime = row({
  name: 'autovacuum_naptime',
  vartype: 'integer',
  unit: 's',
  min_val: '1',
  max_val: '2147483',
  context: 'sighup',
});
const maxConnections = row({
  name: 'max_connections',
  vartype: 'integer',
  min_val: '1',
  max_val: '262143',
  context: 'postmaster',
});
const logStatement = row({
  name: 'log_statement',
  vartype: 'enum',
  enumvals: ['none', 'ddl', 'mod', 'all'],
  context: 'superuser',
});
const randomPageCost = row({
  name: 'random_page_cost',
  vartype: 'real',
  min_val: '0',
  max_val: '1.79769e+308',
});
const completionTarget = row({
  name: 'checkpoint_completion_target',
  vartype: 'real',
  min_val: '0',
  max_val: '1',
  context: 'sighup',
});
const vacuumCostDelay = row({
  name: 'vacuum_cost_delay',
  vartype: 'real',
  unit: 'ms',
  min_val: '0',
  max_val: '100',
});
const logLinePrefix = row({ name: 'log_line_prefix', vartype: 'string', context: 'sighup' });
const sharedPreload = row({
  name: 'shared_preload_libraries',
  vartype: 'string',
  context: 'postmaster',
});

const installed = new Set(['pg_stat_statements', 'auto_explain', 'pg_prewarm']);
const options = { existsLibrary: (name: string) => installed.has(name) };

function normalise(setting: PgSettingRow, value: string): string {
  return normaliseParameterValue(setting, value, options);
}

function assertRejected(
  setting: PgSettingRow,
  value: string,
  code: ErrorCode,
  message: RegExp | string,
): void {
  assert.throws(
    () => normalise(setting, value),
    (error: unknown) => {
      assert.ok(error instanceof PgwardenError, 'expected a PgwardenError');
      assert.equal(error.code, code);
      if (typeof message === 'string') assert.equal(error.message, message);
      else assert.match(error.message, message);
      return true;
    },
  );
}

describe('booleans', () => {
  it('accepts the PostgreSQL spellings case-insensitively and returns on/off', () => {
    for (const value of ['on', 'ON', 'true', 'True', 'yes', 'YES', '1']) {
      assert.equal(normalise(jit, value), 'on', value);
    }
    for (const value of ['off', 'Off', 'false', 'FALSE', 'no', 'No', '0']) {
      assert.equal(normalise(jit, value), 'off', value);
    }
  });

  it('refuses anything else, listing the spellings', () => {
    assertRejected(
      jit,
      'maybe',
      'PGW_PARAMETER_INVALID_VALUE',
      'jit must be a boolean (on, off, true, false, yes, no, 1, 0); got "maybe"',
    );
    for (const value of ['', '2', 'onn', ' on', 't', 'of']) {
      assertRejected(jit, value, 'PGW_PARAMETER_INVALID_VALUE', /^jit must be a boolean/);
    }
  });
});

describe('integers', () => {
  it('takes a bare number in the base unit and returns it as SHOW would', () => {
    assert.equal(normalise(workMem, '4096'), '4MB');
    assert.equal(normalise(workMem, '100'), '100kB');
    assert.equal(normalise(maxConnections, '200'), '200');
    assert.equal(normalise(statementTimeout, '0'), '0');
    assert.equal(normalise(statementTimeout, '2000'), '2s');
  });

  it('accepts memory units, case-sensitively, with optional whitespace', () => {
    assert.equal(normalise(workMem, '4MB'), '4MB');
    assert.equal(normalise(workMem, ' 4 MB '), '4MB');
    assert.equal(normalise(workMem, '1GB'), '1GB');
    assert.equal(normalise(workMem, '1536kB'), '1536kB');
    assert.equal(normalise(workMem, '1.5MB'), '1536kB');
    assert.equal(normalise(workMem, '65536B'), '64kB');
    for (const value of ['4mb', '4Mb', '4KB', '4 MBs', '4 M B']) {
      assertRejected(workMem, value, 'PGW_PARAMETER_INVALID_VALUE', /^work_mem has no unit/);
    }
  });

  it('reads hexadecimal and octal like strtol with base 0', () => {
    assert.equal(normalise(workMem, '0x10MB'), '16MB');
    assert.equal(normalise(workMem, '0100'), '64kB');
  });

  it("converts to the '8kB' block unit, rounding half to even", () => {
    assert.equal(normalise(sharedBuffers, '128MB'), '128MB');
    assert.equal(normalise(sharedBuffers, '16384'), '128MB');
    assert.equal(normalise(sharedBuffers, '1000'), '8000kB');
    assert.equal(normalise(sharedBuffers, '136kB'), '136kB');
    assert.equal(normalise(sharedBuffers, '132kB'), '128kB'); // 16.5 blocks -> 16
    assert.equal(normalise(sharedBuffers, '140kB'), '144kB'); // 17.5 blocks -> 18
    assert.equal(normalise(sharedBuffers, '1.0001GB'), '1GB'); // rounded to whole MB first
    assert.equal(normalise(sharedBuffers, '1.5GB'), '1536MB');
  });

  it("converts time units to the 'ms' base unit", () => {
    assert.equal(normalise(statementTimeout, '30s'), '30s');
    assert.equal(normalise(statementTimeout, '1.5h'), '90min');
    assert.equal(normalise(statementTimeout, '0.5s'), '500ms');
    assert.equal(normalise(statementTimeout, '1500ms'), '1500ms');
    assert.equal(normalise(statementTimeout, '1d'), '1d');
    assert.equal(normalise(statementTimeout, '2000us'), '2ms');
    assert.equal(normalise(statementTimeout, '400us'), '0');
  });

  it("converts time units to the 's' base unit, rounding half to even", () => {
    assert.equal(normalise(naptime, '1min'), '1min');
    assert.equal(normalise(naptime, '90s'), '90s');
    assert.equal(normalise(naptime, '2500ms'), '2s');
    assert.equal(normalise(naptime, '3500ms'), '4s');
  });

  it('refuses values outside min_val..max_val, in the unit of the setting', () => {
    assertRejected(
      workMem,
      '10B',
      'PGW_PARAMETER_INVALID_VALUE',
      'work_mem must be between 64kB and 2147483647kB; got "10B"',
    );
    assertRejected(workMem, '3TB', 'PGW_PARAMETER_INVALID_VALUE', /^work_mem must be between/);
    assertRejected(workMem, '99999999999999999999', 'PGW_PARAMETER_INVALID_VALUE', /between/);
    assertRejected(
      sharedBuffers,
      '1B',
      'PGW_PARAMETER_INVALID_VALUE',
      'shared_buffers must be between 128kB and 8589934584kB; got "1B"',
    );
    assertRejected(
      maxConnections,
      '0',
      'PGW_PARAMETER_INVALID_VALUE',
      'max_connections must be between 1 and 262143; got "0"',
    );
    assertRejected(naptime, '0.4s', 'PGW_PARAMETER_INVALID_VALUE', /^autovacuum_naptime must be/);
  });

  it('refuses a memory unit on a time setting and a time unit on a memory setting', () => {
    assertRejected(
      statementTimeout,
      '10MB',
      'PGW_PARAMETER_INVALID_VALUE',
      'statement_timeout takes a time unit (us, ms, s, min, h, d), not the memory unit "MB"; got "10MB"',
    );
    assertRejected(workMem, '10s', 'PGW_PARAMETER_INVALID_VALUE', /takes a memory unit/);
  });

  it('refuses a unit on a unitless setting, and text that is no number', () => {
    assertRejected(
      maxConnections,
      '100kB',
      'PGW_PARAMETER_INVALID_VALUE',
      'max_connections takes no unit; got "100kB"',
    );
    for (const value of ['', ' ', 'abc', 'MB', '--1', 'nan']) {
      assertRejected(workMem, value, 'PGW_PARAMETER_INVALID_VALUE', /^work_mem must be an integer/);
    }
  });
});

describe('reals', () => {
  it('returns the number in the base unit, without rounding', () => {
    assert.equal(normalise(randomPageCost, '1.1'), '1.1');
    assert.equal(normalise(randomPageCost, '4'), '4');
    assert.equal(normalise(randomPageCost, '1e-3'), '0.001');
    assert.equal(normalise(completionTarget, '0.9'), '0.9');
    assert.equal(normalise(vacuumCostDelay, '2ms'), '2');
    assert.equal(normalise(vacuumCostDelay, '500us'), '0.5');
  });

  it('refuses values outside the range, units on unitless reals and non-numbers', () => {
    assertRejected(
      completionTarget,
      '1.5',
      'PGW_PARAMETER_INVALID_VALUE',
      'checkpoint_completion_target must be between 0 and 1; got "1.5"',
    );
    assertRejected(randomPageCost, '-1', 'PGW_PARAMETER_INVALID_VALUE', /must be between 0 and/);
    assertRejected(randomPageCost, '1e400', 'PGW_PARAMETER_INVALID_VALUE', /must be between/);
    assertRejected(randomPageCost, '2ms', 'PGW_PARAMETER_INVALID_VALUE', /takes no unit/);
    assertRejected(randomPageCost, 'fast', 'PGW_PARAMETER_INVALID_VALUE', /must be a number/);
    assertRejected(vacuumCostDelay, '1s', 'PGW_PARAMETER_INVALID_VALUE', /between 0 and 100ms/);
  });
});

describe('enums', () => {
  it('matches case-insensitively and returns the pg_settings spelling', () => {
    assert.equal(normalise(logStatement, 'DDL'), 'ddl');
    assert.equal(normalise(logStatement, 'All'), 'all');
    assert.equal(normalise(logStatement, 'none'), 'none');
  });

  it('refuses other values, listing the allowed ones', () => {
    assertRejected(
      logStatement,
      'everything',
      'PGW_PARAMETER_INVALID_VALUE',
      'log_statement must be one of none, ddl, mod, all; got "everything"',
    );
    assertRejected(logStatement, ' ddl', 'PGW_PARAMETER_INVALID_VALUE', /must be one of/);
  });
});

describe('strings', () => {
  it('passes text through unchanged', () => {
    assert.equal(normalise(logLinePrefix, "%m [%p] it's \\ "), "%m [%p] it's \\ ");
    assert.equal(normalise(logLinePrefix, ''), '');
  });

  it('refuses a NUL character', () => {
    assertRejected(logLinePrefix, 'a\0b', 'PGW_PARAMETER_INVALID_VALUE', /NUL/);
  });
});

describe('shared_preload_libraries', () => {
  it('accepts allowed, installed libraries and normalises the list', () => {
    assert.equal(normalise(sharedPreload, 'pg_stat_statements'), 'pg_stat_statements');
    assert.equal(
      normalise(sharedPreload, ' pg_stat_statements ,auto_explain,pg_stat_statements'),
      'pg_stat_statements, auto_explain',
    );
  });

  it('refuses libraries outside the allow-list as protected', () => {
    for (const value of ['evil', 'pg_stat_statements, evil', '$libdir/pgaudit', 'PGAUDIT']) {
      assertRejected(
        sharedPreload,
        value,
        'PGW_PARAMETER_PROTECTED',
        /runs their code inside the server/,
      );
    }
  });

  it('refuses an allowed library that is not installed', () => {
    assertRejected(
      sharedPreload,
      'pg_stat_statements, pgaudit',
      'PGW_PARAMETER_INVALID_VALUE',
      /^library pgaudit is not installed .*the server would fail to restart$/,
    );
  });

  it('checks the allow-list before asking whether a library is installed', () => {
    const asked: string[] = [];
    const existsLibrary = (name: string): boolean => {
      asked.push(name);
      return false;
    };
    assert.throws(
      () => normaliseParameterValue(sharedPreload, 'pgaudit, evil', { existsLibrary }),
      (error: unknown) =>
        error instanceof PgwardenError && error.code === 'PGW_PARAMETER_PROTECTED',
    );
    assert.deepEqual(asked, []);
    assert.equal(
      normaliseParameterValue(sharedPreload, 'pg_cron', { existsLibrary: () => true }),
      'pg_cron',
    );
  });

  it('refuses an empty list and empty entries', () => {
    assertRejected(sharedPreload, '', 'PGW_PARAMETER_INVALID_VALUE', /empty list/);
    assertRejected(sharedPreload, ' ', 'PGW_PARAMETER_INVALID_VALUE', /empty list/);
    assertRejected(
      sharedPreload,
      'pg_stat_statements,,auto_explain',
      'PGW_PARAMETER_INVALID_VALUE',
      /without empty entries/,
    );
  });
});

describe('formatIntegerSetting', () => {
  it('picks the largest unit that divides the value exactly', () => {
    assert.equal(formatIntegerSetting(16384, '8kB'), '128MB');
    assert.equal(formatIntegerSetting(3, '8kB'), '24kB');
    assert.equal(formatIntegerSetting(60, 's'), '1min');
    assert.equal(formatIntegerSetting(-1, 'ms'), '-1');
    assert.equal(formatIntegerSetting(100, null), '100');
  });
});
