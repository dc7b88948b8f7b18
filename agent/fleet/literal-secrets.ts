import { substituteEnvRefs } from '../../config/env-refs.js';
import { isSecretParam } from '../../config/redact-url.js';

/** Fields whose whole value is a secret (as config-issues.ts hides them). */
const secretFields = /^(password|passwordHash|token|secret)$/i;

/** What of a URL is secret: the password of its user info, or a secret query parameter's value. */
function urlSecret(text: string): string | undefined {
  for (const m of text.matchAll(/\b[a-z][a-z0-9+.-]{0,31}:\/\/([^/?#\s]*)@/gi)) {
    const info = m[1]!;
    // ffmpeg reads the user info up to the authority's last "@": the password may hold ":" and "@".
    if (info.includes(':') && info.slice(info.indexOf(':') + 1) !== '') return 'a password in the URL';
  }
  for (const m of text.matchAll(/[?&;]([^=&#;\s]*)=([^&#;\s]*)/g)) {
    if (isSecretParam(m[1]!) && m[2] !== '') return `a "${m[1]}" value in the URL`;
  }
  return undefined;
}

/**
 * The secrets written literally in a fleet body (not as a `${VAR}` reference, whose default counts as
 * literal): one line each, naming the field, never the value. A signed document is retained on the broker
 * in clear, so every subscriber of its topic (every box) could read them (docs/fleet.md).
 */
export function literalSecrets(body: unknown): string[] {
  const found: string[] = [];
  const walk = (value: unknown, at: string, key: string) => {
    if (typeof value === 'string') {
      const literal = substituteEnvRefs(value, '') as string;
      if (secretFields.test(key) && literal !== '') found.push(`${at}: a literal ${key}`);
      else {
        const what = urlSecret(literal);
        if (what) found.push(`${at}: ${what}`);
      }
    } else if (Array.isArray(value)) value.forEach((v, i) => walk(v, `${at}[${i}]`, key));
    else if (value && typeof value === 'object')
      for (const [k, v] of Object.entries(value)) walk(v, at ? `${at}.${k}` : k, k);
  };
  walk(body, '', '');
  return found;
}
