import { createHash, randomBytes, timingSafeEqual } from 'node:crypto';
import type { IncomingMessage } from 'node:http';
import type { HttpAuthConfig } from '../../config/schema.js';
import { verifyPassword } from './password-hash.js';

export type AuthResult = 'ok' | 'denied' | 'busy';
export type AuthMethod = 'token' | 'password';

export const sessionCookie = 'vigil_session';
const sessionTtlMs = 12 * 3600_000;
const maxSessions = 200;
/** Basic credentials already verified: a scraper sending them every second must not pay scrypt each time. */
const verifiedTtlMs = 10 * 60_000;
/** scrypt verifications at once; more are refused (429), which also slows guessing. */
const maxVerifying = 2;
/**
 * scrypt verifications started, all clients together: a burst, then one a second. One costs about 40 ms
 * of CPU on an x86 core (more on ARM) whatever the password, and a client needs no credentials to ask for
 * it: two clients sending wrong passwords back to back took a camera from 9.5 to 6.7 fps on a 2-core box.
 * Remembered credentials, tokens and sessions never spend from this.
 */
const verifyBurst = 5;
const verifyPerS = 1;

const digest = (s: string) => createHash('sha256').update(s).digest();
const sameSecret = (a: string, b: string) => timingSafeEqual(digest(a), digest(b));

/**
 * Optional access control for the page and API: a bearer token, HTTP Basic with a scrypt-hashed password,
 * or a session cookie from `POST /api/login` (how the page itself logs in, since EventSource and <img>
 * cannot send headers). Without `http.auth` everything is open.
 */
export class HttpAuth {
  private readonly sessions = new Map<string, number>();
  private readonly verified = new Map<string, number>();
  private verifying = 0;
  private verifyBudget = verifyBurst;
  private verifyBudgetAt: number;

  constructor(
    private readonly cfg: HttpAuthConfig | undefined,
    /** Monotonic: on the wall clock, NTP stepping it back a year kept every session a year longer. */
    private readonly now: () => number = () => performance.now(),
  ) {
    this.verifyBudgetAt = now();
  }

  get enabled(): boolean {
    return Boolean(this.cfg);
  }

  get methods(): AuthMethod[] {
    if (!this.cfg) return [];
    return [...(this.cfg.token ? ['token' as const] : []), ...(this.cfg.user ? ['password' as const] : [])];
  }

  async check(req: IncomingMessage): Promise<AuthResult> {
    if (!this.cfg) return 'ok';
    const session = cookieValue(req.headers.cookie, sessionCookie);
    if (session && this.sessionLive(session)) return 'ok';
    const header = req.headers.authorization ?? '';
    const bearer = /^Bearer\s+(\S+)$/i.exec(header);
    if (bearer) return this.cfg.token && sameSecret(bearer[1]!, this.cfg.token) ? 'ok' : 'denied';
    const basic = /^Basic\s+([A-Za-z0-9+/=]+)$/i.exec(header);
    if (basic) {
      const text = Buffer.from(basic[1]!, 'base64').toString('utf8');
      const colon = text.indexOf(':');
      if (colon < 0) return 'denied';
      return this.checkPassword(text.slice(0, colon), text.slice(colon + 1));
    }
    return 'denied';
  }

  /** A session id for the cookie, or why not. */
  async login(body: unknown): Promise<{ session: string } | { error: AuthResult }> {
    if (!this.cfg) return { session: this.newSession() };
    const b = (body && typeof body === 'object' ? body : {}) as Record<string, unknown>;
    let result: AuthResult = 'denied';
    if (typeof b.token === 'string' && this.cfg.token)
      result = sameSecret(b.token, this.cfg.token) ? 'ok' : 'denied';
    else if (typeof b.user === 'string' && typeof b.password === 'string')
      result = await this.checkPassword(b.user, b.password);
    return result === 'ok' ? { session: this.newSession() } : { error: result };
  }

  /**
   * The live session a request carries, if any: what let it in when it has one (check() looks at the
   * cookie first). A token or Basic header is sent again with each request, so there is nothing to end.
   */
  sessionOf(req: IncomingMessage): string | undefined {
    if (!this.cfg) return undefined;
    const session = cookieValue(req.headers.cookie, sessionCookie);
    return session && this.sessionLive(session) ? session : undefined;
  }

  /** False once the session logged out, expired (12 h) or was dropped for a newer one (200 at most). */
  sessionLive(id: string): boolean {
    const exp = this.sessions.get(id);
    if (exp === undefined) return false;
    if (exp > this.now()) return true;
    this.sessions.delete(id);
    return false;
  }

  logout(req: IncomingMessage): void {
    const session = cookieValue(req.headers.cookie, sessionCookie);
    if (session) this.sessions.delete(session);
  }

  cookieFor(session: string): string {
    return `${sessionCookie}=${session}; HttpOnly; SameSite=Strict; Path=/; Max-Age=${sessionTtlMs / 1000}`;
  }

  clearCookie(): string {
    return `${sessionCookie}=; HttpOnly; SameSite=Strict; Path=/; Max-Age=0`;
  }

  private async checkPassword(user: string, password: string): Promise<AuthResult> {
    const { cfg } = this;
    if (!cfg?.user || !cfg.passwordHash) return 'denied';
    // A wrong user name costs the same scrypt as a wrong password: answered at once, it told a guesser
    // which names exist (1–4 ms against 67–690 ms, measured on a real agent).
    const knownUser = sameSecret(user, cfg.user);
    const key = digest(`${user}\0${password}`).toString('hex');
    const until = this.verified.get(key);
    if (knownUser && until && until > this.now()) return 'ok';
    if (this.verifying >= maxVerifying || !this.spendVerification()) return 'busy';
    this.verifying++;
    try {
      if (!(await verifyPassword(password, cfg.passwordHash)) || !knownUser) return 'denied';
    } finally {
      this.verifying--;
    }
    if (this.verified.size >= maxSessions) this.verified.clear();
    this.verified.set(key, this.now() + verifiedTtlMs);
    return 'ok';
  }

  /** Takes one verification from the budget (refilled at `verifyPerS` up to `verifyBurst`), or false. */
  private spendVerification(): boolean {
    const now = this.now();
    const refill = (Math.max(0, now - this.verifyBudgetAt) / 1000) * verifyPerS;
    this.verifyBudget = Math.min(verifyBurst, this.verifyBudget + refill);
    this.verifyBudgetAt = now;
    if (this.verifyBudget < 1) return false;
    this.verifyBudget -= 1;
    return true;
  }

  private newSession(): string {
    const id = randomBytes(24).toString('base64url');
    const now = this.now();
    for (const [s, exp] of this.sessions) if (exp <= now) this.sessions.delete(s);
    // Oldest first in a Map: drop it when full.
    if (this.sessions.size >= maxSessions) this.sessions.delete(this.sessions.keys().next().value!);
    this.sessions.set(id, now + sessionTtlMs);
    return id;
  }
}

export function cookieValue(header: string | undefined, name: string): string | undefined {
  if (!header) return undefined;
  for (const part of header.split(';')) {
    const eq = part.indexOf('=');
    if (eq > 0 && part.slice(0, eq).trim() === name) return part.slice(eq + 1).trim();
  }
  return undefined;
}
