/**
 * Query parameters whose values are secret: the name, or its part after the last "_" or "-", is one of these
 * (`access_token`, `api-key`, `X-Amz-Signature`, `authToken`). SRT takes its key as `passphrase`; signed URLs
 * carry `sig`/`signature`. Whole words only: `monkey` is no key.
 */
const secretWords = new Set(
  'password passwd pass pwd pw passphrase token secret key apikey auth sig signature credential credentials'
    .concat(' accesstoken authtoken streamkey')
    .split(' '),
);
export const isSecretParam = (name: string) => {
  const n = name.toLowerCase();
  return secretWords.has(n) || secretWords.has(n.slice(Math.max(n.lastIndexOf('_'), n.lastIndexOf('-')) + 1));
};

/** Fields whose whole value is a secret (`mqtt.password`, `http.auth.token`…). */
export const isSecretField = (key: string) => /^(password|passwordHash|token|secret)$/i.test(key);

// A scheme is short: unbounded, each of a long run of "a-a-a…" would be tried as one (quadratic).
const userInfo = /\b([a-z][a-z0-9+.-]{0,31}:\/\/)([^/?#\s]*)@/gi;
const queryParam = /([?&;])([^=&#;\s]*)=([^&#;\s]*)/g;

/**
 * What of the URLs in a string is secret, by kind, never the values: whether one holds a password in its user
 * info (up to the authority's last "@", as ffmpeg reads it), and the names of secret query parameters with
 * a value.
 */
export function urlSecrets(text: string): { password: boolean; params: string[] } {
  const password = [...text.matchAll(userInfo)].some(([, , info]) => /:./.test(info!));
  const params = [...text.matchAll(queryParam)]
    .filter(([, , name, value]) => isSecretParam(name!) && value !== '')
    .map(([, , name]) => name!);
  return { password, params };
}

/**
 * Replaces the credentials of every URL in a string so it can be logged, shown or published: the user and
 * password (up to the authority's last "@", as ffmpeg reads it, so a password may itself hold "@"), and
 * secret query parameters, which some cameras take instead (`?user=admin&password=…`). Linear in the
 * text's length (error texts pass through here too).
 */
export function redactUrl(url: string): string {
  return url
    .replace(userInfo, '$1***@')
    .replace(queryParam, (param, sep: string, name: string) =>
      isSecretParam(name) ? `${sep}${name}=***` : param,
    );
}
