import { readFileSync } from 'node:fs';
import { parseDocument } from 'yaml';
import { PgwardenError } from '../../errors.js';
import { type AccessSpec, AccessSpecSchema } from './access-spec-schema.js';

const HINT = 'docs/access-spec.md describes every key of an access spec';

/** Reads and validates a spec file; every error names the file and the key. */
export function loadAccessSpec(path: string): AccessSpec {
  let text: string;
  try {
    text = readFileSync(path, 'utf8');
  } catch (cause) {
    const code = (cause as NodeJS.ErrnoException).code;
    throw new PgwardenError(
      'PGW_ACCESS_SPEC_INVALID',
      `${path}: ${code === 'ENOENT' ? 'no such file' : `cannot be read (${code ?? 'error'})`}`,
      { hint: 'pass the spec file with --spec FILE', cause },
    );
  }
  const doc = parseDocument(text, { prettyErrors: false, uniqueKeys: true });
  const first = doc.errors[0];
  if (first !== undefined) {
    const line = first.linePos?.[0]?.line;
    throw new PgwardenError(
      'PGW_ACCESS_SPEC_INVALID',
      `${path}${line === undefined ? '' : `:${line}`}: not valid YAML (${first.message.split('\n')[0]})`,
      { hint: 'fix the YAML syntax at that line' },
    );
  }
  return parseAccessSpec(doc.toJS(), path);
}

/** Validates a spec already parsed (from a file, or from the state database). */
export function parseAccessSpec(value: unknown, origin: string): AccessSpec {
  const result = AccessSpecSchema.safeParse(value ?? {});
  if (result.success) return result.data;
  const issue = result.error.issues[0];
  const base = issue?.path.map(String).join('.') ?? '';
  if (issue?.code === 'unrecognized_keys') {
    const keys = issue.keys.map((k) => (base === '' ? k : `${base}.${k}`));
    throw new PgwardenError(
      'PGW_ACCESS_SPEC_INVALID',
      `${origin}: unknown key${keys.length > 1 ? 's' : ''} ${keys.map((k) => `"${k}"`).join(', ')}`,
      { hint: HINT },
    );
  }
  // A bad record key (a name too long) carries its reason one level down.
  const nested = (issue as { issues?: { message: string }[] } | undefined)?.issues?.[0]?.message;
  throw new PgwardenError(
    'PGW_ACCESS_SPEC_INVALID',
    `${origin}: ${base === '' ? '' : `${base}: `}${nested ?? issue?.message ?? 'invalid spec'}`,
    { hint: HINT },
  );
}
