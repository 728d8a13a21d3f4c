// PostgreSQL docs 55.7 "Message Formats": ErrorResponse ('E'), NoticeResponse ('N');
// fields in 55.8 "Error and Notice Message Fields".
import { BufferReader } from '../buffer-reader.js';
import { BufferWriter } from '../buffer-writer.js';
import { BackendMessageType } from '../message-types.js';
import type { SqlState } from '../sqlstate.js';
import { ErrorField } from './error-field.js';

export type ErrorSeverity = 'ERROR' | 'FATAL' | 'PANIC';
export type NoticeSeverity = 'WARNING' | 'NOTICE' | 'DEBUG' | 'INFO' | 'LOG';

export interface ErrorResponseFields<Severity extends string = ErrorSeverity> {
  readonly severity: Severity;
  /** A SQLSTATE: five digits or upper-case letters. */
  readonly code: SqlState | string;
  readonly message: string;
  readonly detail?: string;
  readonly hint?: string;
}

export interface ErrorOptions {
  readonly detail?: string;
  readonly hint?: string;
}

export interface ParsedErrorResponse {
  /** Every field, keyed by its type letter, unknown ones included. */
  readonly fields: Readonly<Record<string, string>>;
  /** The non-localised severity (V) when sent, else S. */
  readonly severity: string;
  readonly code: string;
  readonly message: string;
  readonly detail?: string;
  readonly hint?: string;
}

const SQLSTATE_PATTERN = /^[0-9A-Z]{5}$/;

export function serializeErrorResponse(fields: ErrorResponseFields<ErrorSeverity>): Buffer {
  return serializeFields(BackendMessageType.ERROR_RESPONSE, fields);
}

export function serializeNoticeResponse(fields: ErrorResponseFields<NoticeSeverity>): Buffer {
  return serializeFields(BackendMessageType.NOTICE_RESPONSE, fields);
}

/** An ErrorResponse of severity FATAL: the gateway closes the connection after sending it. */
export function fatal(code: SqlState, message: string, options: ErrorOptions = {}): Buffer {
  return serializeErrorResponse({ severity: 'FATAL', code, message, ...options });
}

/** An ErrorResponse of severity ERROR: the statement fails, the session goes on. */
export function error(code: SqlState, message: string, options: ErrorOptions = {}): Buffer {
  return serializeErrorResponse({ severity: 'ERROR', code, message, ...options });
}

function serializeFields(type: number, fields: ErrorResponseFields<string>): Buffer {
  if (!SQLSTATE_PATTERN.test(fields.code)) {
    throw new RangeError(`"${fields.code}" is not a SQLSTATE`);
  }
  return new BufferWriter()
    .message(type, (w) => {
      const field = (letter: string, value: string | undefined): void => {
        if (value !== undefined) w.uint8(letter.charCodeAt(0)).cstring(value);
      };
      field(ErrorField.SEVERITY, fields.severity);
      field(ErrorField.SEVERITY_NONLOCALIZED, fields.severity);
      field(ErrorField.CODE, fields.code);
      field(ErrorField.MESSAGE, fields.message);
      field(ErrorField.DETAIL, fields.detail);
      field(ErrorField.HINT, fields.hint);
      w.uint8(0);
    })
    .toBuffer();
}

/** Parses an ErrorResponse or NoticeResponse body; S, C and M are required. */
export function parseErrorResponse(body: Buffer): ParsedErrorResponse {
  const reader = new BufferReader(body, 'ErrorResponse');
  const fields: Record<string, string> = {};
  for (;;) {
    if (reader.remaining() === 0) throw reader.fail('the field list has no terminating zero byte');
    const letter = reader.uint8();
    if (letter === 0) break;
    const key = String.fromCharCode(letter);
    if (Object.hasOwn(fields, key)) throw reader.fail(`field "${key}" is given twice`);
    fields[key] = reader.cstring();
  }
  reader.end();
  const severity = fields[ErrorField.SEVERITY_NONLOCALIZED] ?? fields[ErrorField.SEVERITY];
  const code = fields[ErrorField.CODE];
  const message = fields[ErrorField.MESSAGE];
  if (severity === undefined || code === undefined || message === undefined) {
    throw reader.fail('a severity (S), code (C) or message (M) field is missing');
  }
  const detail = fields[ErrorField.DETAIL];
  const hint = fields[ErrorField.HINT];
  return {
    fields,
    severity,
    code,
    message,
    ...(detail === undefined ? {} : { detail }),
    ...(hint === undefined ? {} : { hint }),
  };
}
