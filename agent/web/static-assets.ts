import { createHash } from 'node:crypto';
import { readFileSync } from 'node:fs';
import type { IncomingMessage, ServerResponse } from 'node:http';
import { send } from './http-util.js';

/** Every file the page is made of, with its type: the only files the server can ever send (no path joins). */
const assetTypes: Record<string, string> = {
  'index.html': 'text/html; charset=utf-8',
  'style.css': 'text/css; charset=utf-8',
  'app.js': 'text/javascript; charset=utf-8',
  'dom.js': 'text/javascript; charset=utf-8',
  'tiles.js': 'text/javascript; charset=utf-8',
  'panels.js': 'text/javascript; charset=utf-8',
  'air-panel.js': 'text/javascript; charset=utf-8',
  'pm25-chart.js': 'text/javascript; charset=utf-8',
  'login.js': 'text/javascript; charset=utf-8',
  'try-image.js': 'text/javascript; charset=utf-8',
  'zones.js': 'text/javascript; charset=utf-8',
  'safety.js': 'text/javascript; charset=utf-8',
  'favicon.svg': 'image/svg+xml',
};

/** The page's files, by name (a test fetches every one). */
export const assetNames = Object.keys(assetTypes);

interface Asset {
  body: Buffer;
  type: string;
  etag: string;
  /** Short content hash: `?v=<hash>` URLs may be cached for good. */
  version: string;
}

/**
 * The page's assets, read once at start. index.html refers to the others as `{{name}}`, replaced with a
 * versioned URL, so a browser caches them until the agent is upgraded and never serves a stale mix.
 */
export class StaticAssets {
  private readonly assets = new Map<string, Asset>();

  constructor(dir: URL = new URL('./assets/', import.meta.url)) {
    for (const [name, type] of Object.entries(assetTypes)) {
      if (name !== 'index.html') this.assets.set(name, asset(readFileSync(new URL(name, dir)), type));
    }
    const html = readFileSync(new URL('index.html', dir), 'utf8').replace(
      /\{\{([a-z0-9.-]+)\}\}/g,
      (whole, name: string) => {
        const a = this.assets.get(name);
        return a ? `/assets/${name}?v=${a.version}` : whole;
      },
    );
    this.assets.set('index.html', asset(Buffer.from(html), assetTypes['index.html']!));
  }

  has(name: string): boolean {
    return this.assets.has(name);
  }

  /** Serves `name` if it is one of the assets; false otherwise (the caller answers 404). */
  serve(req: IncomingMessage, res: ServerResponse, name: string, version: string | null): boolean {
    const a = this.assets.get(name);
    if (!a) return false;
    const cache =
      name !== 'index.html' && version === a.version ? 'public, max-age=31536000, immutable' : 'no-cache';
    const headers = { ETag: a.etag, 'Cache-Control': cache };
    if (matchesEtag(req.headers['if-none-match'], a.etag)) {
      res.writeHead(304, headers).end();
      return true;
    }
    send(res, 200, a.body, a.type, headers);
    return true;
  }
}

function asset(body: Buffer, type: string): Asset {
  const hash = createHash('sha256').update(body).digest('hex');
  return { body, type, etag: `"${hash.slice(0, 16)}"`, version: hash.slice(0, 10) };
}

/**
 * If-None-Match (RFC 9110 §13.1.2): `*`, or a list of tags compared weakly, so `W/"x"` matches `"x"`. A
 * browser sends one tag; a proxy or a cache in between may send several.
 */
export function matchesEtag(header: string | undefined, etag: string): boolean {
  if (!header) return false;
  if (header.trim() === '*') return true;
  const opaque = (tag: string) => tag.trim().replace(/^W\//, '');
  return header.split(',').some((tag) => opaque(tag) === opaque(etag));
}
