import { STATUS_CODES, type IncomingMessage, type ServerResponse } from 'node:http';
import type { Duplex } from 'node:stream';

/** Every response: the page loads nothing from elsewhere, runs no inline script and is never framed. */
export const securityHeaders: Record<string, string> = {
  'Content-Security-Policy':
    "default-src 'none'; script-src 'self'; style-src 'self'; img-src 'self' data: blob:; connect-src 'self'; " +
    "manifest-src 'self'; base-uri 'none'; form-action 'self'; frame-ancestors 'none'",
  'X-Content-Type-Options': 'nosniff',
  'X-Frame-Options': 'DENY',
  'Referrer-Policy': 'no-referrer',
  'Cross-Origin-Opener-Policy': 'same-origin',
  'Cross-Origin-Resource-Policy': 'same-origin',
  'Permissions-Policy': 'camera=(), microphone=(), geolocation=(), interest-cohort=()',
};

export function sendJson(
  res: ServerResponse,
  code: number,
  body: unknown,
  headers: Record<string, string> = {},
): void {
  send(res, code, JSON.stringify(body), 'application/json; charset=utf-8', {
    'Cache-Control': 'no-store',
    ...headers,
  });
}

/** The `error` word per status: the status's own name, lower case ("busy" for 429: it is load, not abuse). */
export function errorName(code: number): string {
  return code === 429 ? 'busy' : (STATUS_CODES[code]?.toLowerCase() ?? 'error');
}

/** Errors are JSON `{ error, reason }`: what kind of refusal (the status's name), and a reason to act on. */
export function sendError(
  res: ServerResponse,
  code: number,
  reason: string,
  headers: Record<string, string> = {},
): void {
  const error = errorName(code);
  sendJson(res, code, { error, reason }, headers);
}

/** Why Node's parser refused a request, by its error code; anything else is a malformed request (400). */
const parserRefusals: Record<string, [number, string]> = {
  HPE_HEADER_OVERFLOW: [431, 'the request line and headers are over 16 KiB (a long URL or cookie?)'],
  HPE_CHUNK_EXTENSIONS_OVERFLOW: [413, 'chunk extensions too large'],
  ERR_HTTP_REQUEST_TIMEOUT: [408, 'the request did not arrive whole in time'],
};

/**
 * The server's `clientError`: what Node's parser refuses (headers over its limit, a malformed request, one
 * not in within `headersTimeout`) gets the same JSON error and security headers as every other answer,
 * not Node's bare status line. As Node does it: nothing is written once an answer has begun on the
 * connection (a pipelined request after it was malformed), and the connection is closed.
 */
export function answerClientError(err: NodeJS.ErrnoException, socket: Duplex): void {
  const inFlight = (socket as { _httpMessage?: { headersSent?: boolean } })._httpMessage;
  if (err.code !== 'ECONNRESET' && socket.writable && !inFlight?.headersSent) {
    const [code, reason] = parserRefusals[err.code ?? ''] ?? [400, 'malformed HTTP request'];
    const body = JSON.stringify({ error: errorName(code), reason });
    const head = Object.entries({
      ...securityHeaders,
      'Content-Type': 'application/json; charset=utf-8',
      'Content-Length': String(Buffer.byteLength(body)),
      'Cache-Control': 'no-store',
      Connection: 'close',
    }).map(([k, v]) => `${k}: ${v}\r\n`);
    socket.write(`HTTP/1.1 ${code} ${STATUS_CODES[code]}\r\n${head.join('')}\r\n${body}`);
  }
  socket.destroy(err);
}

export function send(
  res: ServerResponse,
  code: number,
  body: string | Buffer,
  contentType: string,
  headers: Record<string, string> = {},
): void {
  if (res.headersSent) {
    res.end();
    return;
  }
  res.writeHead(code, {
    'Content-Type': contentType,
    'Content-Length': String(Buffer.byteLength(body)),
    ...headers,
  });
  res.end(res.req.method === 'HEAD' ? undefined : body);
}

export class BodyTooLarge extends Error {
  constructor(readonly limit: number) {
    super(`the upload is larger than ${formatBytes(limit)}`);
  }
}

export class BodyTimeout extends Error {
  constructor(readonly ms: number) {
    super(`the upload did not arrive whole within ${ms / 1000} s`);
  }
}

/** Requests whose `Expect: 100-continue` the server left unanswered (its `checkContinue`): readBody answers. */
export const awaitingContinue = new WeakSet<IncomingMessage>();

/**
 * Reads a request body, refusing (without buffering the rest) once it passes `limit` bytes, or once
 * `timeoutMs` has passed without it arriving whole (a stalled or trickling client). A client that waits
 * for `100 Continue` gets it here, once the body is wanted and its declared length fits.
 */
export function readBody(
  req: IncomingMessage,
  res: ServerResponse,
  limit: number,
  timeoutMs = Infinity,
): Promise<Buffer> {
  const declared = Number(req.headers['content-length']);
  if (Number.isFinite(declared) && declared > limit) return Promise.reject(new BodyTooLarge(limit));
  if (awaitingContinue.delete(req)) res.writeContinue();
  return new Promise((resolve, reject) => {
    const chunks: Buffer[] = [];
    let size = 0;
    let timer: NodeJS.Timeout | undefined;
    // Stops reading: what is left of the body stays unread (the caller answers, then closes).
    const fail = (err: Error) => {
      clearTimeout(timer);
      req.off('data', onData);
      req.pause();
      reject(err);
    };
    const onData = (chunk: Buffer) => {
      size += chunk.length;
      if (size > limit) return fail(new BodyTooLarge(limit));
      chunks.push(chunk);
    };
    if (Number.isFinite(timeoutMs)) timer = setTimeout(() => fail(new BodyTimeout(timeoutMs)), timeoutMs);
    req.on('data', onData);
    req.once('end', () => {
      clearTimeout(timer);
      resolve(Buffer.concat(chunks, size));
    });
    req.once('error', fail);
    req.once('aborted', () => fail(new Error('the client went away')));
  });
}

export function formatBytes(n: number): string {
  return n >= 1024 * 1024 ? `${Math.round((n / 1024 / 1024) * 10) / 10} MiB` : `${Math.round(n / 1024)} KiB`;
}
