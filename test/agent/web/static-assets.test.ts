import { createHash } from 'node:crypto';
import { cpSync, mkdtempSync, readFileSync, rmSync, unlinkSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { pathToFileURL } from 'node:url';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { silentLogger } from '../../../config/logger.js';
import { HttpAuth } from '../../../agent/web/auth.js';
import { WebServer } from '../../../agent/web/http-server.js';
import { StaticAssets } from '../../../agent/web/static-assets.js';
import { webRoutes, type WebRouteDeps } from '../../../agent/web/web-routes.js';
import { call } from '../../support/http-call.js';
import { repoRoot } from '../../support/shared.js';

const realDir = path.join(repoRoot, 'agent/web/assets');
const sha = (b: Buffer | string) => createHash('sha256').update(b).digest('hex');
const immutable = 'public, max-age=31536000, immutable';

let dir: string;
beforeAll(() => {
  // A copy of the real assets, plus files that sit beside them but are not part of the page.
  dir = mkdtempSync(path.join(tmpdir(), 'vigil-assets-'));
  cpSync(realDir, dir, { recursive: true });
  writeFileSync(path.join(dir, 'secret.txt'), 'do not serve');
  writeFileSync(path.join(dir, 'index.html'), '<link href="{{style.css}}"><script src="{{nothing.js}}">');
  writeFileSync(path.join(dir, 'app.js'), 'console.log("copy");');
});
afterAll(() => rmSync(dir, { recursive: true, force: true }));

let server: WebServer | undefined;
afterEach(async () => {
  await server?.close();
  server = undefined;
});

/** The agent's own asset routes ('/' and '/assets/:name') behind a token, as web-routes.ts builds them. */
async function serve(assets: StaticAssets) {
  const auth = new HttpAuth({ token: 'tok-0123456789abcdef-xyz' });
  // The asset routes read only `assets`; nothing else of the agent is needed.
  const deps = { assets, auth } as Partial<WebRouteDeps> as WebRouteDeps;
  const routes = webRoutes(deps).filter((r) => r.name === '/' || r.name === '/assets/:name');
  expect(routes).toHaveLength(2);
  server = new WebServer({ host: '127.0.0.1', port: 0, routes, auth, log: silentLogger });
  const { port } = await server.listen();
  const base = new URL(`http://127.0.0.1:${port}`);
  return (p: string, opts: Parameters<typeof call>[2] = {}) => call(base, p, opts);
}

describe('StaticAssets: the page’s files', () => {
  it('serves each listed file, unauthenticated, with its type and bytes', async () => {
    const get = await serve(new StaticAssets());
    const types: Record<string, string> = {
      'style.css': 'text/css; charset=utf-8',
      'app.js': 'text/javascript; charset=utf-8',
      'login.js': 'text/javascript; charset=utf-8',
      'favicon.svg': 'image/svg+xml',
    };
    for (const [name, type] of Object.entries(types)) {
      const a = await get(`/assets/${name}`);
      expect(a.status, name).toBe(200);
      expect(a.headers['content-type']).toBe(type);
      expect(a.body.equals(readFileSync(path.join(realDir, name)))).toBe(true);
    }
    const page = await get('/');
    expect(page.status).toBe(200);
    expect(page.headers['content-type']).toBe('text/html; charset=utf-8');
    expect(page.headers['cache-control']).toBe('no-cache');
  });

  it('links the page to versioned asset URLs that may be cached for good', async () => {
    const get = await serve(new StaticAssets());
    const html = (await get('/')).body.toString();
    expect(html).not.toContain('{{');
    const links = [...html.matchAll(/"(\/assets\/([a-z0-9.-]+)\?v=([0-9a-f]{10}))"/g)];
    expect(links.map((m) => m[2])).toEqual(expect.arrayContaining(['favicon.svg', 'style.css', 'app.js']));
    for (const [, url, name, v] of links) {
      expect(v).toBe(sha(readFileSync(path.join(realDir, name!))).slice(0, 10));
      const a = await get(url!);
      expect(a.status).toBe(200);
      expect(a.headers['cache-control']).toBe(immutable);
    }
    // Any other version, or none, must be revalidated.
    expect((await get('/assets/app.js?v=0000000000')).headers['cache-control']).toBe('no-cache');
    expect((await get('/assets/app.js')).headers['cache-control']).toBe('no-cache');
  });

  it('never marks index.html immutable, even asked with its own version', async () => {
    const assets = new StaticAssets(pathToFileURL(dir + '/'));
    const get = await serve(assets);
    const page = await get('/');
    const v = sha(page.body).slice(0, 10);
    const a = await get(`/assets/index.html?v=${v}`);
    expect(a.status).toBe(200);
    expect(a.headers['cache-control']).toBe('no-cache');
  });

  it('answers If-None-Match with 304 only for the current ETag', async () => {
    const get = await serve(new StaticAssets());
    const body = readFileSync(path.join(realDir, 'style.css'));
    const etag = `"${sha(body).slice(0, 16)}"`;
    const first = await get('/assets/style.css');
    expect(first.headers.etag).toBe(etag);

    const again = await get('/assets/style.css', { headers: { 'If-None-Match': etag } });
    expect(again.status).toBe(304);
    expect(again.body).toHaveLength(0);
    expect(again.headers.etag).toBe(etag);
    expect(again.headers['cache-control']).toBe('no-cache');
    // The security headers come with a 304 too.
    expect(again.headers['x-content-type-options']).toBe('nosniff');

    // Compared weakly (RFC 9110 §13.1.2), in a list as a cache in between may send it, or `*`.
    for (const same of [`W/${etag}`, `"0000000000000000", ${etag}`, `W/"x",W/${etag}`, '*']) {
      const a = await get('/assets/style.css', { headers: { 'If-None-Match': same } });
      expect(a.status, same).toBe(304);
    }
    for (const other of ['"0000000000000000"', etag.slice(1, -1), `"0000000000000000", W/"1"`, '']) {
      const a = await get('/assets/style.css', { headers: { 'If-None-Match': other } });
      expect(a.status, other).toBe(200);
      expect(a.body.equals(body)).toBe(true);
    }
    // Another file's ETag is not this one's.
    const app = await get('/assets/app.js', { headers: { 'If-None-Match': etag } });
    expect(app.status).toBe(200);
  });

  it('answers HEAD with the headers alone', async () => {
    const get = await serve(new StaticAssets());
    const a = await get('/assets/app.js', { method: 'HEAD' });
    expect(a.status).toBe(200);
    expect(a.headers['content-length']).toBe(String(readFileSync(path.join(realDir, 'app.js')).length));
    expect(a.body).toHaveLength(0);
  });

  it('serves nothing it does not list, however the name is spelled', async () => {
    const assets = new StaticAssets(pathToFileURL(dir + '/'));
    const get = await serve(assets);
    const tries = [
      '/assets/secret.txt',
      '/assets/..%2Fauth.ts',
      '/assets/..%2F..%2F..%2Fpackage.json',
      '/assets/%2e%2e%2fstatic-assets.ts',
      '/assets/..%5Cauth.ts',
      '/assets/.%2Fapp.js',
      '/assets/app.js%00',
      '/assets/app.js%2F',
      '/assets/APP.JS',
      '/assets/%2Fetc%2Fpasswd',
      '/assets/__proto__',
      '/assets/constructor',
      '/assets/../auth.ts',
      '/assets/assets/app.js',
    ];
    for (const p of tries) {
      const a = await get(p);
      expect(a.status, p).toBe(404);
      expect(a.body.toString()).not.toMatch(/do not serve|import |"name": "vigil"/);
    }
    for (const name of ['secret.txt', '../auth.ts', './app.js', 'toString', ''])
      expect(assets.has(name), name).toBe(false);
    expect(assets.has('app.js')).toBe(true);
  });

  it('versions each file by its content and leaves unknown placeholders alone', async () => {
    const get = await serve(new StaticAssets(pathToFileURL(dir + '/')));
    const html = (await get('/')).body.toString();
    const style = readFileSync(path.join(realDir, 'style.css'));
    expect(html).toBe(
      `<link href="/assets/style.css?v=${sha(style).slice(0, 10)}"><script src="{{nothing.js}}">`,
    );
    // The copy's app.js differs from the real one: so do its ETag and version.
    const copy = await get('/assets/app.js');
    expect(copy.body.toString()).toBe('console.log("copy");');
    expect(copy.headers.etag).toBe(`"${sha('console.log("copy");').slice(0, 16)}"`);
    const v = sha('console.log("copy");').slice(0, 10);
    expect((await get(`/assets/app.js?v=${v}`)).headers['cache-control']).toBe(immutable);
  });

  it('fails at start when a listed file is missing', () => {
    const partial = mkdtempSync(path.join(tmpdir(), 'vigil-assets-'));
    try {
      cpSync(realDir, partial, { recursive: true });
      unlinkSync(path.join(partial, 'zones.js'));
      expect(() => new StaticAssets(pathToFileURL(partial + '/'))).toThrow(/zones\.js/);
    } finally {
      rmSync(partial, { recursive: true, force: true });
    }
  });
});
