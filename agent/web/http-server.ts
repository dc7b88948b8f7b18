import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import type { Logger } from '../../config/logger.js';
import type { HttpAuth } from './auth.js';
import { answerClientError, awaitingContinue, securityHeaders, sendError } from './http-util.js';

export interface RouteContext {
  req: IncomingMessage;
  res: ServerResponse;
  /** For its query: routes match the path as sent, not `url.pathname` (which has "." and ".." resolved). */
  url: URL;
  /** The pattern's capture groups, URI-decoded. */
  params: string[];
}

export interface Route {
  method: 'GET' | 'POST';
  pattern: RegExp;
  /** Short name for logs and the request counter (`/api/cameras/:id/snapshot.jpg`). */
  name: string;
  /** Open even with auth on: health probes, the login endpoint and the page shell (it holds no data). */
  open?: boolean;
  handle(ctx: RouteContext): void | Promise<void>;
}

export interface WebServerOptions {
  host: string;
  port: number;
  routes: Route[];
  auth: HttpAuth;
  log: Logger;
  onRequest?: (route: string, code: number) => void;
  /** The server failed after listening (an accept error such as EMFILE): the owner restarts it. */
  onFailure?: (reason: string) => void;
  /** Request line and headers must arrive within this (default 10 s); tests shorten it. */
  headersTimeoutMs?: number;
}

/**
 * node:http with a route table (docs/adr/0004-status-page-server.md): security headers on every response, the
 * auth gate in front of every route not marked open, errors as JSON, and nothing served that a route does
 * not name.
 */
export class WebServer {
  private server: Server | undefined;

  constructor(private readonly opts: WebServerOptions) {}

  async listen(): Promise<AddressInfo> {
    // Timeouts are enforced when Node next checks its connections (every 30 s by default): a client
    // trickling its headers held its socket for up to 40 s against a 10 s limit. Checked every second.
    const server = createServer(
      { connectionsCheckingInterval: 1000 },
      (req, res) => void this.dispatch(req, res),
    );
    server.headersTimeout = this.opts.headersTimeoutMs ?? 10_000;
    server.requestTimeout = 60_000;
    server.keepAliveTimeout = 5_000;
    server.maxHeadersCount = 64;
    server.on('clientError', answerClientError);
    // `Expect: 100-continue` (curl sends it for bodies over 1 MiB): Node would say "100 Continue" at once,
    // and the client sent its upload only to be refused (401, 404, 413 by Content-Length, 429). Routed like
    // any request instead: readBody says "continue" once a route reads the body, and a refusal before that
    // closes the connection (Node does not keep it alive when no 100 went out).
    server.on('checkContinue', (req, res) => {
      awaitingContinue.add(req);
      void this.dispatch(req, res);
    });
    this.server = server;
    await new Promise<void>((resolve, reject) => {
      server.once('error', reject);
      server.listen(this.opts.port, this.opts.host, () => {
        server.off('error', reject);
        resolve();
      });
    });
    // Never without an 'error' listener: Node would throw the error (EMFILE on accept…) and end the agent.
    server.on('error', (err: NodeJS.ErrnoException) => {
      this.opts.log.error('http server failed', { reason: err.message, code: err.code });
      this.opts.onFailure?.(`http server: ${err.message}`);
    });
    return server.address() as AddressInfo;
  }

  async close(): Promise<void> {
    const server = this.server;
    if (!server) return;
    this.server = undefined;
    const closed = new Promise<void>((resolve) => server.close(() => resolve()));
    server.closeAllConnections();
    await closed;
  }

  private async dispatch(req: IncomingMessage, res: ServerResponse): Promise<void> {
    for (const [k, v] of Object.entries(securityHeaders)) res.setHeader(k, v);
    let name = 'unknown';
    res.once('finish', () => this.opts.onRequest?.(name, res.statusCode));
    try {
      let url: URL;
      const target = req.url ?? '/';
      // Origin form only, read as a path: resolved against a base, "//host/api/x" would be an authority
      // and route as /api/x, so a proxy that filters on path prefixes would disagree with us on the path.
      if (!target.startsWith('/')) return sendError(res, 400, 'malformed URL');
      try {
        url = new URL(`http://localhost${target}`);
      } catch {
        return sendError(res, 400, 'malformed URL');
      }
      // Routed on the path as sent, never on url.pathname: the URL parser resolves ".." and "%2e%2e"
      // segments and reads "\" as "/", so "/assets/..\api\status" would be /api/status here but under
      // /assets/ to a proxy that gates /api/ (nginx takes "\" as a plain character).
      const path = target.replace(/[?#].*$/s, '');
      const method = req.method === 'HEAD' ? 'GET' : req.method;
      const matches = this.opts.routes
        .map((route) => ({ route, m: route.pattern.exec(path) }))
        .filter((x) => x.m !== null);
      if (!matches.length) return sendError(res, 404, `nothing at ${path.slice(0, 200)}`);
      const hit = matches.find((x) => x.route.method === method);
      if (!hit) {
        // HEAD is answered wherever GET is (RFC 9110 §10.2.1: Allow lists what the resource supports).
        const methods = new Set(
          matches.flatMap((x) => (x.route.method === 'GET' ? ['GET', 'HEAD'] : [x.route.method])),
        );
        const allow = [...methods].join(', ');
        return sendError(res, 405, `use ${allow}`, { Allow: allow });
      }
      name = hit.route.name;
      let params: string[];
      try {
        params = hit.m!.slice(1).map((p) => decodeURIComponent(p ?? ''));
      } catch {
        return sendError(res, 400, 'malformed URL encoding');
      }
      if (!hit.route.open) {
        const auth = await this.opts.auth.check(req);
        if (auth === 'busy')
          return sendError(res, 429, 'too many logins at once; try again', { 'Retry-After': '1' });
        if (auth !== 'ok') {
          return sendError(res, 401, 'log in first: a token or a user and password (see docs/http.md)', {
            'WWW-Authenticate': 'Bearer realm="vigil"',
          });
        }
      }
      await hit.route.handle({ req, res, url, params });
    } catch (err) {
      const reason = err instanceof Error ? err.message : String(err);
      this.opts.log.error('http request failed', { route: name, reason });
      if (!res.headersSent) sendError(res, 500, reason);
      else {
        // Cut off after its headers, the answer never finishes: count it here, as the failure it is.
        this.opts.onRequest?.(name, 500);
        res.destroy();
      }
    }
  }
}
