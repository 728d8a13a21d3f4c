import { readFile, stat } from 'node:fs/promises';
import { messageOf, PgwardenError } from '../../errors.js';
import { TokenError } from './token-error.js';

const LOOPBACK_HOSTS = new Set(['127.0.0.1', '[::1]', 'localhost']);

/**
 * https only: a key set fetched in clear text can be swapped by anyone on
 * the path, and then every token is theirs to sign.
 */
export function checkJwksUrl(uri: string, allowInsecureLoopbackHttp: boolean): URL {
  const invalid = (why: string) =>
    new PgwardenError('PGW_CONFIG_INVALID', `The jwks_uri ${why}.`, {
      hint: 'Give the https:// URL from the issuer discovery document (jwks_uri).',
    });
  let url: URL;
  try {
    url = new URL(uri);
  } catch {
    throw invalid('is not a URL');
  }
  if (url.username !== '' || url.password !== '') throw invalid('must not carry credentials');
  if (url.protocol === 'https:') return url;
  if (url.protocol === 'http:' && allowInsecureLoopbackHttp && LOOPBACK_HOSTS.has(url.hostname))
    return url;
  throw invalid(`${JSON.stringify(url.origin)} is not https`);
}

/**
 * GETs a key set document: 200 only, no redirects (the configured URL is the
 * trust anchor; a redirect could lead to http or another host), a timeout
 * over the whole exchange, body included, and a size cap enforced while
 * reading. Throws TokenError 'jwks-unavailable' or 'jwks-invalid'.
 */
export async function fetchJwks(
  url: URL,
  source: string,
  timeoutMs: number,
  maxBytes: number,
): Promise<unknown> {
  let body: Buffer;
  // Our own timer, raced against the exchange: an abort that lands while
  // undici reads the body can leave its promise pending for ever
  // (nodejs/node#56917), and every token login would wait on that load.
  const controller = new AbortController();
  let timer: NodeJS.Timeout | undefined;
  const deadline = new Promise<never>((_, reject) => {
    timer = setTimeout(() => {
      const timeout = new DOMException(`timed out after ${timeoutMs} ms`, 'TimeoutError');
      controller.abort(timeout);
      reject(timeout);
    }, timeoutMs);
  });
  const exchange = async (): Promise<Buffer> => {
    const response = await fetch(url, {
      signal: controller.signal,
      redirect: 'error',
      headers: { accept: 'application/json' },
    });
    if (response.status !== 200) {
      await response.body?.cancel();
      throw new TokenError('jwks-unavailable', `${source} answered HTTP ${response.status}`);
    }
    return readCapped(response, maxBytes, source);
  };
  try {
    body = await Promise.race([exchange(), deadline]);
  } catch (error) {
    if (error instanceof TokenError) throw error;
    const why =
      error instanceof Error && error.name === 'TimeoutError'
        ? `timed out after ${timeoutMs} ms`
        : `failed (${messageOf(error instanceof Error && error.cause !== undefined ? error.cause : error)})`;
    throw new TokenError('jwks-unavailable', `fetching ${source} ${why}`, { cause: error });
  } finally {
    clearTimeout(timer);
  }
  return parseJson(body, source);
}

async function readCapped(response: Response, maxBytes: number, source: string): Promise<Buffer> {
  const tooLarge = () =>
    new TokenError('jwks-invalid', `${source} sent more than ${maxBytes} bytes`);
  if (Number(response.headers.get('content-length') ?? 0) > maxBytes) {
    await response.body?.cancel();
    throw tooLarge();
  }
  const reader = response.body?.getReader();
  if (reader === undefined) return Buffer.alloc(0);
  const chunks: Uint8Array[] = [];
  let total = 0;
  for (;;) {
    const { done, value } = await reader.read();
    if (done) break;
    total += value.byteLength;
    if (total > maxBytes) {
      await reader.cancel();
      throw tooLarge();
    }
    chunks.push(value);
  }
  return Buffer.concat(chunks);
}

/** Reads a key set document from a file of at most maxBytes. */
export async function readJwksFile(path: string, maxBytes: number): Promise<unknown> {
  const source = `key set file ${path}`;
  let bytes: Buffer;
  try {
    if ((await stat(path)).size > maxBytes)
      throw new TokenError('jwks-invalid', `${source} is larger than ${maxBytes} bytes`);
    bytes = await readFile(path);
  } catch (error) {
    if (error instanceof TokenError) throw error;
    throw new TokenError('jwks-unavailable', `${source} cannot be read`, { cause: error });
  }
  return parseJson(bytes, source);
}

function parseJson(bytes: Buffer, source: string): unknown {
  try {
    return JSON.parse(bytes.toString('utf8'));
  } catch {
    throw new TokenError('jwks-invalid', `${source} is not JSON`);
  }
}
