import { substituteEnvRefs } from '../../config/env-refs.js';
import { isSecretField, urlSecrets } from '../../config/redact-url.js';

/** What of a URL is secret: the password of its user info, or a secret query parameter's value. */
function urlSecret(text: string): string | undefined {
  const { password, params } = urlSecrets(text);
  if (password) return 'a password in the URL';
  return params.length ? `a "${params[0]}" value in the URL` : undefined;
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
      if (isSecretField(key) && literal !== '') found.push(`${at}: a literal ${key}`);
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
