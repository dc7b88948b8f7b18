import type { Logger } from '../../config/logger.js';
import { eventSnapshotRoute } from '../safety/event-snapshot-route.js';
import type { AgentMetrics } from './agent-metrics.js';
import type { HttpAuth } from './auth.js';
import type { DetectEndpoint } from './detect-endpoint.js';
import type { Route } from './http-server.js';
import { BodyTimeout, BodyTooLarge, readBody, send, sendError, sendJson } from './http-util.js';
import type { SnapshotRenderer } from './snapshot-renderer.js';
import type { SnapshotFeed } from './snapshot-feed.js';
import { maxStreamsPerAddress, type SseHub } from './sse-hub.js';
import type { StaticAssets } from './static-assets.js';
import type { StatusAgent } from './status-model.js';
import { statusJsonSchema, type StatusPayload } from './status-schema.js';

export interface WebRouteDeps {
  agent: StatusAgent;
  status(): StatusPayload;
  /** The same status as JSON text, built once and shared by every request and page in a tick. */
  statusJson(): string;
  metrics: AgentMetrics;
  auth: HttpAuth;
  assets: StaticAssets;
  snapshots: SnapshotRenderer;
  events: SseHub;
  /** The cameras' latest snapshots, pushed over `/api/events`. */
  feed: Pick<SnapshotFeed, 'current'>;
  detect: DetectEndpoint;
  /** For refusals worth a debug line; none: not logged. */
  log?: Logger;
  /** A login's body must arrive whole within this (default 10 s); tests shorten it. */
  loginTimeoutMs?: number;
}

/** Ready: every model an enabled camera needs is loaded and every enabled camera is streaming. */
export function readiness(agent: StatusAgent): {
  ready: boolean;
  cameras: Record<string, string>;
  models: string[];
} {
  const enabled = agent.config.cameras.filter((c) => c.enabled);
  const cameras = Object.fromEntries(
    enabled.map((c) => [c.id, agent.cameras.get(c.id)?.state.state ?? 'not started']),
  );
  const modelsUp = enabled.every((c) => agent.detectors.has(c.model));
  return {
    ready: modelsUp && Object.values(cameras).every((s) => s === 'streaming'),
    cameras,
    models: [...agent.detectors.keys()],
  };
}

/** The whole HTTP surface (docs/http.md). Nothing here changes the box's config. */
export function webRoutes(d: WebRouteDeps): Route[] {
  const asset = (name: string, version: string | null) => (ctx: Parameters<Route['handle']>[0]) => {
    if (!d.assets.serve(ctx.req, ctx.res, name, version))
      sendError(ctx.res, 404, `no asset ${name.slice(0, 100)}`);
  };
  return [
    {
      method: 'GET',
      pattern: /^\/$/,
      name: '/',
      open: true,
      handle: (ctx) => asset('index.html', null)(ctx),
    },
    {
      method: 'GET',
      pattern: /^\/assets\/([^/]+)$/,
      name: '/assets/:name',
      open: true,
      handle: (ctx) => asset(ctx.params[0]!, ctx.url.searchParams.get('v'))(ctx),
    },
    {
      method: 'GET',
      pattern: /^\/healthz$/,
      name: '/healthz',
      open: true,
      handle: ({ res }) =>
        sendJson(res, 200, { status: 'ok', uptimeS: Math.round((Date.now() - d.agent.startedAt) / 1000) }),
    },
    {
      method: 'GET',
      pattern: /^\/readyz$/,
      name: '/readyz',
      open: true,
      handle: ({ res }) => {
        const r = readiness(d.agent);
        sendJson(res, r.ready ? 200 : 503, r);
      },
    },
    {
      method: 'GET',
      pattern: /^\/metrics$/,
      name: '/metrics',
      handle: ({ res }) =>
        send(res, 200, d.metrics.text(), d.metrics.contentType, { 'Cache-Control': 'no-store' }),
    },
    {
      method: 'GET',
      pattern: /^\/api\/status$/,
      name: '/api/status',
      handle: ({ res }) =>
        send(res, 200, d.statusJson(), 'application/json; charset=utf-8', { 'Cache-Control': 'no-store' }),
    },
    {
      method: 'GET',
      pattern: /^\/api\/status\/schema\.json$/,
      name: '/api/status/schema.json',
      open: true,
      handle: ({ res }) => sendJson(res, 200, statusJsonSchema(), { 'Cache-Control': 'no-cache' }),
    },
    {
      method: 'GET',
      pattern: /^\/api\/events$/,
      name: '/api/events',
      handle: ({ req, res }) => {
        const session = d.auth.sessionOf(req);
        const address = req.socket.remoteAddress?.replace(/^::ffff:/, '') ?? '';
        const added = d.events.add(res, [{ event: 'status', data: d.statusJson() }, ...d.feed.current()], {
          // With auth on only credential holders get a stream: behind a proxy they share one address.
          address: d.auth.enabled ? undefined : address,
          // A stream opened on a session ends with it; a token or Basic header has nothing to end.
          allowed: session === undefined ? undefined : () => d.auth.sessionLive(session),
        });
        if (added === 'full')
          sendError(res, 503, 'too many live pages open; close one', { 'Retry-After': '10' });
        else if (added === 'address full') {
          d.log?.debug('event stream refused: address holds its share', {
            address,
            max: maxStreamsPerAddress,
          });
          sendError(res, 503, `${maxStreamsPerAddress} live pages open from this address; close one`, {
            'Retry-After': '10',
          });
        }
      },
    },
    {
      method: 'GET',
      pattern: /^\/api\/cameras\/([^/]+)\/snapshot\.jpg$/,
      name: '/api/cameras/:id/snapshot.jpg',
      handle: async ({ res, params }) => {
        const id = params[0]!;
        const cam = d.agent.cameras.get(id);
        if (!cam) {
          const disabled = d.agent.config.cameras.some((c) => c.id === id && !c.enabled);
          return sendError(
            res,
            404,
            disabled ? `camera "${id}" is disabled` : `no camera "${id.slice(0, 64)}"`,
          );
        }
        const last = cam.last;
        const order = d.agent.detectors.get(cam.config.model)?.info.input.pixelOrder ?? 'rgb';
        const snap = last ? await d.snapshots.snapshot(last, order) : undefined;
        const { state } = cam.state;
        // Waiting a second helps only while frames may come: a failed or stopped camera needs someone to act.
        if (!snap && (state === 'failed' || state === 'stopped'))
          return sendError(res, 503, `camera "${id}" is ${state}, no frame to show (why: /api/status)`);
        if (!snap) return sendError(res, 503, 'no processed frame yet', { 'Retry-After': '1' });
        send(res, 200, snap.jpeg, 'image/jpeg', {
          'Cache-Control': 'no-store',
          'X-Frame-No': String(snap.frameNo),
          'X-Frame-Ts': String(snap.ts),
        });
      },
    },
    eventSnapshotRoute(d.agent),
    {
      method: 'POST',
      pattern: /^\/api\/detect$/,
      name: '/api/detect',
      handle: ({ req, res, url }) => d.detect.handle(req, res, url),
    },
    {
      method: 'GET',
      pattern: /^\/api\/auth$/,
      name: '/api/auth',
      open: true,
      handle: async ({ req, res }) =>
        sendJson(res, 200, {
          required: d.auth.enabled,
          methods: d.auth.methods,
          authenticated: (await d.auth.check(req)) === 'ok',
        }),
    },
    {
      method: 'POST',
      pattern: /^\/api\/login$/,
      name: '/api/login',
      open: true,
      handle: async ({ req, res }) => {
        let text: string;
        try {
          // Timed like an upload: the route is open, and a trickled body would hold its socket for 60 s.
          text = (await readBody(req, res, 4096, d.loginTimeoutMs ?? 10_000)).toString('utf8');
        } catch (err) {
          if (!(err instanceof BodyTooLarge || err instanceof BodyTimeout)) return void res.destroy(); // gone
          // Answered before the rest of the body: close rather than leave the connection paused mid-body.
          if (err instanceof BodyTimeout)
            sendError(res, 408, `${err.message}; a login is a small JSON object`, { Connection: 'close' });
          else sendError(res, 413, `${err.message}; a login is a small JSON object`, { Connection: 'close' });
          res.once('finish', () => req.destroy());
          return;
        }
        let body: unknown;
        try {
          body = JSON.parse(text);
        } catch {
          return sendError(res, 400, 'send JSON: {"token": "…"} or {"user": "…", "password": "…"}');
        }
        const r = await d.auth.login(body);
        if ('session' in r) {
          d.events.endRevoked(); // the session this one pushed out (200 at most) takes its streams along
          return sendJson(res, 200, { ok: true }, { 'Set-Cookie': d.auth.cookieFor(r.session) });
        }
        if (r.error === 'busy')
          return sendError(res, 429, 'too many logins at once; try again', { 'Retry-After': '1' });
        sendError(res, 401, 'wrong token, user or password');
      },
    },
    {
      method: 'POST',
      pattern: /^\/api\/logout$/,
      name: '/api/logout',
      open: true,
      handle: ({ req, res }) => {
        d.auth.logout(req);
        d.events.endRevoked();
        sendJson(res, 200, { ok: true }, { 'Set-Cookie': d.auth.clearCookie() });
      },
    },
  ];
}
