import { quoteLiteral } from '../../control/sql/quote.js';
import { serializeQuery } from '../../protocol/frontend/query.js';
import { asciiText, type GuardRefusal } from './guard-refusal.js';
import { dollarQuote } from './statement-inspector.js';

/**
 * The statement the server runs instead of a refused one: it fails on the
 * server, with the guard's SQLSTATE, message and hint. The server, not the
 * gateway, answers, so its transaction state and the client's stay the same
 * (inside an explicit transaction the transaction is aborted, as any failed
 * statement aborts it; docs 55.2.2 and 55.2.3). The text is printable ASCII,
 * valid in every client_encoding.
 */
export function refusalSql(refusal: GuardRefusal): string {
  const body = `BEGIN RAISE EXCEPTION USING ERRCODE = '${refusal.sqlState}', MESSAGE = ${quoteLiteral(asciiText(refusal.message))}, HINT = ${quoteLiteral(asciiText(refusal.hint))}; END`;
  return `DO ${dollarQuote(body)}`;
}

/** A Query ('Q') running the refusal instead of every statement of the original. */
export function refusalQuery(refusal: GuardRefusal): Buffer {
  return serializeQuery(refusalSql(refusal));
}

/**
 * A Parse ('P') with the refusal as its text, and the original statement
 * name and parameter type OIDs byte for byte (docs 55.7, Parse), so Bind,
 * Describe and Execute of that name behave as before and the error comes
 * at Execute. `message` is the whole original message, header included.
 */
export function refusalParse(message: Buffer, refusal: GuardRefusal): Buffer {
  const nameEnd = message.indexOf(0, 5);
  const textEnd = nameEnd < 0 ? -1 : message.indexOf(0, nameEnd + 1);
  if (textEnd < 0) return refusalQueryAsParse(refusal);
  const name = message.subarray(5, nameEnd + 1);
  const text = Buffer.from(`${refusalSql(refusal)}\0`, 'utf8');
  const rest = message.subarray(textEnd + 1);
  const header = Buffer.alloc(5);
  header[0] = 0x50; // 'P'
  header.writeInt32BE(4 + name.length + text.length + rest.length, 1);
  return Buffer.concat([header, name, text, rest]);
}

/** A malformed Parse the server will refuse anyway: still, never forward the original text. */
function refusalQueryAsParse(refusal: GuardRefusal): Buffer {
  const text = Buffer.from(`\0${refusalSql(refusal)}\0\0\0`, 'utf8');
  const header = Buffer.alloc(5);
  header[0] = 0x50;
  header.writeInt32BE(4 + text.length, 1);
  return Buffer.concat([header, text]);
}
