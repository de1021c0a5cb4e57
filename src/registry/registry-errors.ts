/**
 * Turns a registry's error answer ({"errors":[{code,message}]} or a bare status) into an
 * AppError at the boundary that receives it, naming the registry and repository.
 */
import { AppError, type ErrorCode } from '../errors.js';
import { readBody, type ResponseLike, retryable } from './http.js';

/** Error bodies are short; anything longer is cut rather than buffered. */
const ERROR_BODY_LIMIT = 64 * 1024;

interface OciError {
  code?: string;
  message?: string;
}

const CODE_BY_OCI: Record<string, ErrorCode> = {
  UNAUTHORIZED: 'unauthorized',
  DENIED: 'unauthorized',
  MANIFEST_UNKNOWN: 'not_found',
  NAME_UNKNOWN: 'not_found',
  BLOB_UNKNOWN: 'not_found',
  BLOB_UPLOAD_UNKNOWN: 'not_found',
  TOOMANYREQUESTS: 'busy',
};

function codeForStatus(status: number): ErrorCode {
  if (status === 401 || status === 403) return 'unauthorized';
  if (status === 404) return 'not_found';
  if (status === 429) return 'busy';
  return 'upstream';
}

export function parseOciErrors(body: Buffer): OciError[] {
  try {
    const parsed = JSON.parse(body.toString('utf8')) as { errors?: unknown };
    if (Array.isArray(parsed.errors)) return parsed.errors.filter((e): e is OciError => typeof e === 'object' && e !== null);
  } catch {
    // Not JSON (a proxy's HTML page, a CDN's XML): the status alone decides.
  }
  return [];
}

/**
 * Builds the AppError for an unexpected status. `what` says what was asked, e.g.
 * `manifest ai/x:latest on registry 127.0.0.1:5000`. 5xx, 408 and 429 are marked retryable and
 * carry the server's Retry-After as `data.retryAfter`, read against the clock when the wait is
 * decided (see retry.ts).
 */
export async function errorForResponse(response: ResponseLike, what: string): Promise<AppError> {
  const status = response.statusCode ?? 0;
  let body: Buffer = Buffer.alloc(0);
  try {
    body = await readBody(response, ERROR_BODY_LIMIT, 'error body');
  } catch {
    // The status still says enough.
  }
  const errors = parseOciErrors(body);
  const first = errors[0];
  const mapped = errors.map((e) => (e.code ? CODE_BY_OCI[e.code.toUpperCase()] : undefined)).find((c) => c !== undefined);
  const code = mapped ?? codeForStatus(status);
  const detail = errors.length > 0 ? errors.map((e) => `${e.code ?? 'ERROR'}: ${e.message ?? ''}`.trim()).join('; ') : '';
  const reason = { unauthorized: 'access denied', not_found: 'not found', busy: 'rate limited' }[code as string] ?? 'failed';
  const message = `${what}: ${reason} (HTTP ${status}${detail ? `, ${detail}` : ''})`;
  const transient = status === 429 || status === 408 || status >= 500;
  const header = response.headers['retry-after'];
  const retryAfter = transient && typeof header === 'string' && header.trim() !== '' ? header.trim() : undefined;
  const data = { status, ...(first?.code ? { registryCode: first.code } : {}), ...(retryAfter === undefined ? {} : { retryAfter }) };
  const error = new AppError(code, message, { data });
  return transient ? retryable(error) : error;
}
