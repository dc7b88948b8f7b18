/**
 * `${VAR}` and `${VAR:-default}` references in config strings (docs/config.md): expanded from the environment
 * of the process that runs the config. A fleet document keeps them unexpanded, so each box fills in its own
 * secrets (docs/fleet.md).
 */

const reference = /\$\{([A-Za-z0-9_]+)(?::-([^}]*))?\}/g;

/** A string holding a reference, as a JSON Schema `pattern` (unanchored, ECMA-262): config-json-schema.ts. */
export const envRefPattern = reference.source;

export const hasEnvRef = (value: string): boolean => new RegExp(reference.source).test(value);

/** `value` with `f` applied to each string in it, given the string's field path (`cameras[0].source`). */
function mapStrings(value: unknown, at: string, f: (text: string, at: string) => string): unknown {
  if (typeof value === 'string') return f(value, at);
  if (Array.isArray(value)) return value.map((v, i) => mapStrings(v, `${at}[${i}]`, f));
  if (value && typeof value === 'object')
    return Object.fromEntries(
      Object.entries(value).map(([k, v]) => [k, mapStrings(v, at ? `${at}.${k}` : k, f)]),
    );
  return value;
}

/**
 * Every `${VAR}` in any string value of `value` expanded from `env`. A `${VAR}` without a default whose
 * variable is not set is pushed onto `unset` as a problem naming the field, not an empty string: an unset
 * password or host would otherwise run as "" and fail far from its cause. `${VAR:-}` asks for empty.
 */
export function expandEnv(
  value: unknown,
  at: string,
  unset: string[],
  env: NodeJS.ProcessEnv = process.env,
): unknown {
  return mapStrings(value, at, (text, field) =>
    text.replace(reference, (_, v: string, d?: string) => {
      const got = env[v] ?? d;
      if (got === undefined)
        unset.push(
          `${field || '(root)'}: environment variable ${v} is not set (set it, or write \${${v}:-default})`,
        );
      return got ?? '';
    }),
  );
}

/** Each reference replaced by its default, or by `placeholder` (a stand-in for a value not known here). */
export function substituteEnvRefs(value: unknown, placeholder: string): unknown {
  return mapStrings(value, '', (text) => text.replace(reference, (_, _v, d?: string) => d ?? placeholder));
}

/**
 * `parsed` (a config parsed from the expansion of `written`, defaults filled in) with the strings that
 * `written` wrote with references put back as written: what to keep on disk, so no secret from the
 * environment is written there, and a restart expands them again from the environment it has then.
 */
export function restoreEnvRefs(parsed: unknown, written: unknown): unknown {
  if (typeof written === 'string') return hasEnvRef(written) ? written : parsed;
  if (Array.isArray(written) && Array.isArray(parsed))
    return parsed.map((v, i) => restoreEnvRefs(v, written[i]));
  if (
    written &&
    typeof written === 'object' &&
    parsed &&
    typeof parsed === 'object' &&
    !Array.isArray(parsed)
  ) {
    const w = written as Record<string, unknown>;
    return Object.fromEntries(
      Object.entries(parsed).map(([k, v]) => [k, k in w ? restoreEnvRefs(v, w[k]) : v]),
    );
  }
  return parsed;
}
