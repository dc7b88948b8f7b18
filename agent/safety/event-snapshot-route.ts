import type { Route } from '../web/http-server.js';
import { send, sendError } from '../web/http-util.js';

/** What the route needs of the agent: its safety hub (agent/safety/safety-hub.ts), read loosely. */
interface SnapshotSource {
  snapshot(eventId: string): Promise<Buffer | undefined>;
}

const hasSnapshots = (v: unknown): v is SnapshotSource =>
  typeof v === 'object' && v !== null && typeof (v as SnapshotSource).snapshot === 'function';

/**
 * `GET /api/events/:id/snapshot.jpg`: the JPEG taken when a safety event began (the `snapshot` field of
 * its messages). Behind the status page's auth like every data route; 404 once the store pruned it.
 */
export function eventSnapshotRoute(agent: object): Route {
  return {
    method: 'GET',
    pattern: /^\/api\/events\/([A-Za-z0-9_-]{1,64})\/snapshot\.jpg$/,
    name: '/api/events/:id/snapshot.jpg',
    handle: async ({ res, params }) => {
      const hub = (agent as { safety?: unknown }).safety;
      const jpeg = hasSnapshots(hub) ? await hub.snapshot(params[0]!) : undefined;
      if (!jpeg) return sendError(res, 404, `no snapshot for event "${params[0]!}"`);
      // An event's snapshot never changes: cacheable for as long as the store may keep it.
      send(res, 200, jpeg, 'image/jpeg', { 'Cache-Control': 'private, max-age=86400, immutable' });
    },
  };
}
