import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import fc from 'fast-check';
import {
  error,
  fatal,
  parseErrorResponse,
  serializeErrorResponse,
  serializeNoticeResponse,
} from '../../../src/protocol/backend/error-response.js';
import { MalformedMessageError } from '../../../src/protocol/malformed-message-error.js';
import { BackendMessageType } from '../../../src/protocol/message-types.js';
import { SQLSTATE } from '../../../src/protocol/sqlstate.js';
import { frameOne } from './protocol-test-helpers.js';

const text = fc.string({ unit: 'binary', maxLength: 40 }).filter((s) => !s.includes('\0'));
const sqlState = fc.stringMatching(/^[0-9A-Z]{5}$/);

describe('ErrorResponse and NoticeResponse', () => {
  it('round-trip an ErrorResponse through the framer', () => {
    const fields = fc.record(
      {
        severity: fc.constantFrom('ERROR' as const, 'FATAL' as const, 'PANIC' as const),
        code: sqlState,
        message: text,
        detail: text,
        hint: text,
      },
      { requiredKeys: ['severity', 'code', 'message'], noNullPrototype: true },
    );
    fc.assert(
      fc.property(fields, (input) => {
        const frame = frameOne(serializeErrorResponse(input));
        assert.equal(frame.type, BackendMessageType.ERROR_RESPONSE);
        const { fields: byLetter, ...typed } = parseErrorResponse(frame.body);
        assert.deepEqual(typed, input);
        assert.equal(byLetter.S, input.severity);
        assert.equal(byLetter.V, input.severity);
        assert.equal(byLetter.C, input.code);
      }),
    );
  });

  it('round-trip a NoticeResponse', () => {
    const frame = frameOne(
      serializeNoticeResponse({
        severity: 'WARNING',
        code: '01000',
        message: 'careful',
        hint: 'h',
      }),
    );
    assert.equal(frame.type, BackendMessageType.NOTICE_RESPONSE);
    assert.deepEqual(parseErrorResponse(frame.body), {
      fields: { S: 'WARNING', V: 'WARNING', C: '01000', M: 'careful', H: 'h' },
      severity: 'WARNING',
      code: '01000',
      message: 'careful',
      hint: 'h',
    });
  });

  it('writes the fields in the order S, V, C, M, D, H', () => {
    const wire = fatal(SQLSTATE.INVALID_PASSWORD, 'm', { detail: 'd', hint: 'h' });
    const body = frameOne(wire).body;
    assert.equal(body.toString('latin1'), 'SFATAL\0VFATAL\0C28P01\0Mm\0Dd\0Hh\0\0');
  });

  it('builds refusals with the named constructors', () => {
    const refused = parseErrorResponse(frameOne(fatal(SQLSTATE.TOO_MANY_CONNECTIONS, 'full')).body);
    assert.equal(refused.severity, 'FATAL');
    assert.equal(refused.code, '53300');
    assert.equal(refused.message, 'full');
    assert.equal(refused.detail, undefined);
    const denied = parseErrorResponse(
      frameOne(error(SQLSTATE.INSUFFICIENT_PRIVILEGE, 'no', { hint: 'ask' })).body,
    );
    assert.equal(denied.severity, 'ERROR');
    assert.equal(denied.code, '42501');
    assert.equal(denied.hint, 'ask');
  });

  it('prefers the non-localised severity V and keeps unknown fields', () => {
    const body = Buffer.from('SFEHLER\0VERROR\0C42000\0Mx\0Zzz\0\0', 'latin1');
    const parsed = parseErrorResponse(body);
    assert.equal(parsed.severity, 'ERROR');
    assert.equal(parsed.fields.Z, 'zz');
  });

  it('refuses a body without a code, with a repeated field, or without its terminator', () => {
    assert.throws(() => parseErrorResponse(Buffer.from('SERROR\0Mx\0\0')), MalformedMessageError);
    assert.throws(
      () => parseErrorResponse(Buffer.from('SERROR\0C42000\0Mx\0Mx\0\0')),
      /field "M" is given twice/,
    );
    assert.throws(
      () => parseErrorResponse(Buffer.from('SERROR\0C42000\0Mx\0')),
      /no terminating zero byte/,
    );
  });

  it('refuses to serialise a code that is not a SQLSTATE', () => {
    assert.throws(
      () => serializeErrorResponse({ severity: 'ERROR', code: '4250', message: 'm' }),
      RangeError,
    );
  });
});
