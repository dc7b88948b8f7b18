import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { afterEach, beforeAll, describe, expect, it, vi } from 'vitest';
import { cookieValue, HttpAuth, sessionCookie } from '../../../agent/web/auth.js';
import { hashPassword } from '../../../agent/web/password-hash.js';
import { call } from '../../support/http-call.js';

const token = 'tok-0123456789abcdef-xyz';
const basic = (userPass: string) => `Basic ${Buffer.from(userPass, 'utf8').toString('base64')}`;
const hour = 3600_000;

let passwordHash: string;
beforeAll(async () => {
  // Cheap parameters keep the file fast; the cost factor is password-hash.test.ts's business.
  passwordHash = await hashPassword('pa:ss word', { N: 1024, r: 8, p: 1 });
});

let server: Server | undefined;
afterEach(async () => {
  const s = server;
  server = undefined;
  if (!s) return;
  s.closeAllConnections();
  await new Promise((r) => s.close(r));
});

type Ask = (headers?: Record<string, string>, path?: string) => Promise<string>;

/** A real HTTP server that answers with what `auth.check` made of the headers (`/logout`: logs out). */
async function gate(auth: HttpAuth): Promise<Ask> {
  const s = createServer((req, res) => {
    if (req.url === '/logout') return void res.end(auth.logout(req));
    void auth.check(req).then((r) => res.end(r));
  });
  server = s;
  await new Promise<void>((r) => s.listen(0, '127.0.0.1', () => r()));
  const base = new URL(`http://127.0.0.1:${(s.address() as AddressInfo).port}`);
  return async (headers = {}, path = '/') => (await call(base, path, { headers })).body.toString();
}

const session = async (auth: HttpAuth, body: unknown): Promise<string> => {
  const r = await auth.login(body);
  if (!('session' in r)) throw new Error(`login refused: ${r.error}`);
  return r.session;
};

describe('HttpAuth: who may read the page and API', () => {
  it('is open, with no methods, when http.auth is absent', async () => {
    const auth = new HttpAuth(undefined);
    expect(auth.enabled).toBe(false);
    expect(auth.methods).toEqual([]);
    const ask = await gate(auth);
    expect(await ask()).toBe('ok');
    expect(await ask({ Authorization: 'Bearer whatever' })).toBe('ok');
    // The page's login still works (and needs nothing).
    expect(await auth.login({})).toHaveProperty('session');
  });

  it('names the methods configured', () => {
    expect(new HttpAuth({ token }).methods).toEqual(['token']);
    expect(new HttpAuth({ user: 'ops', passwordHash }).methods).toEqual(['password']);
    const both = new HttpAuth({ token, user: 'ops', passwordHash });
    expect(both.enabled).toBe(true);
    expect(both.methods).toEqual(['token', 'password']);
  });

  it('accepts exactly the bearer token', async () => {
    const ask = await gate(new HttpAuth({ token }));
    expect(await ask()).toBe('denied');
    expect(await ask({ Authorization: `Bearer ${token}` })).toBe('ok');
    expect(await ask({ Authorization: `bearer   ${token}` })).toBe('ok');
    for (const wrong of [token.slice(0, -1), `${token}x`, token.toUpperCase(), ''])
      expect(await ask({ Authorization: `Bearer ${wrong}` })).toBe('denied');
    expect(await ask({ Authorization: `Bearer ${token} extra` })).toBe('denied');
    expect(await ask({ Authorization: token })).toBe('denied');
    // Basic means nothing without a user configured.
    expect(await ask({ Authorization: basic(`ops:${token}`) })).toBe('denied');
  });

  it('accepts HTTP Basic with the scrypt-hashed password, a colon in it included', async () => {
    // A second between tries: each wrong one spends a verification (the rate limit has its own test).
    let now = 0;
    const ask = await gate(new HttpAuth({ user: 'ops', passwordHash }, () => (now += 1000)));
    expect(await ask({ Authorization: basic('ops:pa:ss word') })).toBe('ok');
    expect(await ask({ Authorization: `basic ${basic('ops:pa:ss word').slice(6)}` })).toBe('ok');
    for (const wrong of ['ops:pa:ss', 'ops:', 'Ops:pa:ss word', 'ops', ':pa:ss word', 'ops pa:ss word'])
      expect(await ask({ Authorization: basic(wrong) })).toBe('denied');
    // No token configured: a bearer is refused, whatever it says.
    expect(await ask({ Authorization: 'Bearer pa:ss word' })).toBe('denied');
  });

  it('logs in with a token or a password and then accepts the session cookie', async () => {
    const auth = new HttpAuth({ token, user: 'ops', passwordHash });
    const ask = await gate(auth);
    expect(await auth.login({ token: 'nope' })).toEqual({ error: 'denied' });
    expect(await auth.login({ user: 'ops', password: 'nope' })).toEqual({ error: 'denied' });
    for (const junk of [null, 'token', 42, [], { user: 'ops' }, { token: 42 }])
      expect(await auth.login(junk)).toEqual({ error: 'denied' });

    const a = await session(auth, { token });
    const b = await session(auth, { user: 'ops', password: 'pa:ss word' });
    expect(a).not.toBe(b);
    expect(a).toMatch(/^[A-Za-z0-9_-]{32}$/);
    expect(await ask({ Cookie: `${sessionCookie}=${a}` })).toBe('ok');
    expect(await ask({ Cookie: `theme=dark; ${sessionCookie}=${b}; lang=en` })).toBe('ok');
    expect(await ask({ Cookie: `${sessionCookie}=${a}x` })).toBe('denied');
    expect(await ask({ Cookie: `x${sessionCookie}=${a}` })).toBe('denied');
    // A stale cookie does not stand in the way of a good token.
    expect(await ask({ Cookie: `${sessionCookie}=stale`, Authorization: `Bearer ${token}` })).toBe('ok');
  });

  it('makes the cookie HttpOnly and strict, for the session’s 12 hours, and clears it', () => {
    const auth = new HttpAuth({ token });
    expect(auth.cookieFor('abc')).toBe('vigil_session=abc; HttpOnly; SameSite=Strict; Path=/; Max-Age=43200');
    expect(auth.clearCookie()).toBe('vigil_session=; HttpOnly; SameSite=Strict; Path=/; Max-Age=0');
  });

  it('by default a session lasts 12 hours of elapsed time, whatever NTP does to the wall clock', async () => {
    vi.useFakeTimers({ toFake: ['Date', 'performance'] });
    try {
      const auth = new HttpAuth({ token });
      const ask = await gate(auth);
      const cookie = (id: string) => ({ Cookie: `${sessionCookie}=${id}` });
      const a = await session(auth, { token });
      vi.setSystemTime(Date.now() - 365 * 24 * hour); // stepped back a year: not a year more of session
      vi.advanceTimersByTime(12 * hour);
      expect(await ask(cookie(a))).toBe('denied');
      const b = await session(auth, { token });
      vi.setSystemTime(Date.now() + 56 * 365 * 24 * hour); // a box booted at 1970: not logged out at once
      expect(await ask(cookie(b))).toBe('ok');
    } finally {
      vi.useRealTimers();
    }
  });

  it('ends a session after 12 hours by the injected clock, and on logout', async () => {
    let now = 1_000_000;
    const auth = new HttpAuth({ token }, () => now);
    const ask = await gate(auth);
    const a = await session(auth, { token });
    now += hour;
    const b = await session(auth, { token });
    const cookie = (id: string) => ({ Cookie: `${sessionCookie}=${id}` });

    now = 1_000_000 + 12 * hour - 1;
    expect(await ask(cookie(a))).toBe('ok');
    now += 1;
    expect(await ask(cookie(a))).toBe('denied');
    // Forgotten once seen expired: a clock stepping back does not revive it.
    now -= 1;
    expect(await ask(cookie(a))).toBe('denied');
    expect(await ask(cookie(b))).toBe('ok');

    const c = await session(auth, { token });
    await ask(cookie(b), '/logout');
    expect(await ask(cookie(b))).toBe('denied');
    expect(await ask(cookie(c))).toBe('ok');
  });

  it('keeps at most 200 sessions, dropping the oldest', async () => {
    const auth = new HttpAuth({ token });
    const ask = await gate(auth);
    const ids: string[] = [];
    for (let i = 0; i < 201; i++) ids.push(await session(auth, { token }));
    expect(await ask({ Cookie: `${sessionCookie}=${ids[0]}` })).toBe('denied');
    expect(await ask({ Cookie: `${sessionCookie}=${ids[1]}` })).toBe('ok');
    expect(await ask({ Cookie: `${sessionCookie}=${ids[200]}` })).toBe('ok');
  });
});

describe('HttpAuth: the cost of scrypt', () => {
  const cfg = () => ({ user: 'ops', passwordHash });
  const tryPassword = (auth: HttpAuth, password: string) => auth.login({ user: 'ops', password });

  it('runs at most two verifications at once; the next is busy, and slots free after a denial', async () => {
    let now = 0;
    const auth = new HttpAuth(cfg(), () => (now += 1000)); // never short of the rate limit's budget
    const [x, y, z] = await Promise.all([
      tryPassword(auth, 'wrong 1'),
      tryPassword(auth, 'wrong 2'),
      tryPassword(auth, 'pa:ss word'),
    ]);
    expect([x, y, z]).toEqual([{ error: 'denied' }, { error: 'denied' }, { error: 'busy' }]);
    expect(await tryPassword(auth, 'pa:ss word')).toHaveProperty('session');
    // An unknown user waits its turn like a wrong password: nothing tells a guesser which names exist.
    const [, , stranger] = await Promise.all([
      tryPassword(auth, 'wrong 1'),
      tryPassword(auth, 'wrong 2'),
      auth.login({ user: 'root', password: 'pa:ss word' }),
    ]);
    expect(stranger).toEqual({ error: 'busy' });
    expect(await auth.login({ user: 'root', password: 'pa:ss word' })).toEqual({ error: 'denied' });
  });

  it('remembers verified credentials for 10 minutes, so they skip the queue', async () => {
    let now = 5_000_000;
    const auth = new HttpAuth(cfg(), () => now);
    const ask = await gate(auth);
    expect(await ask({ Authorization: basic('ops:pa:ss word') })).toBe('ok');

    // Both slots taken (logins start their verification synchronously, so this is deterministic):
    // remembered credentials still pass, others, a wrong password too, must wait.
    const busyWith = () => [tryPassword(auth, 'wrong 1'), tryPassword(auth, 'wrong 2')];
    let held = busyWith();
    now += 10 * 60_000 - 1;
    expect(await tryPassword(auth, 'pa:ss word')).toHaveProperty('session');
    expect(await tryPassword(auth, 'pa:ss wordx')).toEqual({ error: 'busy' });
    await Promise.all(held);

    // Ten minutes on, the password is verified again (and so waits its turn).
    held = busyWith();
    now += 1;
    expect(await tryPassword(auth, 'pa:ss word')).toEqual({ error: 'busy' });
    await Promise.all(held);
    expect(await ask({ Authorization: basic('ops:pa:ss word') })).toBe('ok');
  });

  it('spends a verification on an unknown user as on a wrong password, so neither answers sooner', async () => {
    // Found timing a real agent: a wrong user name was refused in 1–4 ms, a wrong password after scrypt.
    let now = 9_000_000;
    const auth = new HttpAuth(cfg(), () => now);
    const ask = await gate(auth);
    for (let i = 0; i < 5; i++)
      expect(await ask({ Authorization: basic(`user${i}:pa:ss word`) })).toBe('denied');
    expect(await ask({ Authorization: basic('ops:pa:ss word') })).toBe('busy');
    now += 1000;
    expect(await ask({ Authorization: basic('ops:pa:ss word') })).toBe('ok');
  });

  it('starts at most five verifications, then one a second, however the guesses are spread out', async () => {
    // Found by sending wrong Basic passwords back to back from two clients (never two at once, so never
    // busy): every one ran scrypt, and the camera beside it lost a third of its frames.
    let now = 7_000_000;
    const auth = new HttpAuth(cfg(), () => now);
    const ask = await gate(auth);
    for (let i = 0; i < 5; i++) expect(await ask({ Authorization: basic(`ops:wrong ${i}`) })).toBe('denied');
    expect(await ask({ Authorization: basic('ops:wrong 5') })).toBe('busy');
    // The right password waits too: it has not been verified yet.
    expect(await ask({ Authorization: basic('ops:pa:ss word') })).toBe('busy');
    // An unknown user is no way around it (and no quicker answer).
    expect(await auth.login({ user: 'root', password: 'x' })).toEqual({ error: 'busy' });
    now += 999;
    expect(await tryPassword(auth, 'pa:ss word')).toEqual({ error: 'busy' });
    now += 1;
    expect(await ask({ Authorization: basic('ops:pa:ss word') })).toBe('ok');
    expect(await ask({ Authorization: basic('ops:wrong 6') })).toBe('busy');
    // Remembered once verified: it costs nothing from then on.
    expect(await ask({ Authorization: basic('ops:pa:ss word') })).toBe('ok');
    // An idle minute refills the burst, no more.
    now += 60_000;
    for (let i = 0; i < 5; i++) expect(await ask({ Authorization: basic(`ops:again ${i}`) })).toBe('denied');
    expect(await ask({ Authorization: basic('ops:again 5') })).toBe('busy');
  });
});

describe('cookieValue', () => {
  it('finds a cookie by its exact name among others', () => {
    expect(cookieValue('a=1; vigil_session=xyz; b=2', 'vigil_session')).toBe('xyz');
    expect(cookieValue('vigil_session=a=b', 'vigil_session')).toBe('a=b');
    expect(cookieValue('my_vigil_session=1; vigil_sessionx=2', 'vigil_session')).toBeUndefined();
    expect(cookieValue('=vigil_session; vigil_session', 'vigil_session')).toBeUndefined();
    expect(cookieValue('', 'vigil_session')).toBeUndefined();
    expect(cookieValue(undefined, 'vigil_session')).toBeUndefined();
  });
});
