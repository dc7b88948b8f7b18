import { z } from 'zod';
import { envRefPattern } from './env-refs.js';
import { VigilConfig } from './schema.js';

/**
 * The JSON Schema of a config file as a person writes it (docs/schemas/config.json, `npm run gen:schemas`):
 * fields with a default are optional and show it, so an editor (the YAML language server, docs/config.md)
 * can complete and check a config while it is written. Draft-07, the draft that language server implements.
 *
 * What it cannot say, `vigil check-config` still does: the refinements (camera ids unique, cameras on a
 * defined model, source schemes, PM2.5 level edges rising, TLS only on a TLS URL) have no JSON Schema form.
 */

type Json = { [key: string]: unknown };

/** Keywords that hold one subschema, or an array of them. `propertyNames` is left out on purpose: see below. */
const oneSchema = ['additionalProperties', 'additionalItems', 'items', 'not', 'contains'] as const;
const schemaLists = ['anyOf', 'oneOf', 'allOf', 'prefixItems', 'items'] as const;
const schemaMaps = ['properties', 'patternProperties', 'definitions', '$defs'] as const;
/** What a string schema can say that a `${VAR}` written in its place would fail (`${A}` has 4 characters). */
const refusesEnvRef = (node: Json) =>
  ['pattern', 'maxLength', 'enum', 'const', 'format'].some((k) => k in node) ||
  (typeof node.minLength === 'number' && node.minLength > 4);

const EnvRefString = { type: 'string', pattern: envRefPattern };

/**
 * `schema` with every constrained string value also taking a `${VAR}` reference: the loader expands them
 * before it validates (config/load.ts), so `device: ${HOSTNAME:-box-01}` is right although the text itself
 * is no device id. Only strings: an expanded reference is a string, and a number or boolean field refuses a
 * string (`port: ${PORT}` is a config error), so those keep their type here too. Map keys (`propertyNames`,
 * the model ids) are never expanded and keep their pattern.
 */
export function allowEnvRefs<T>(schema: T): T {
  if (!schema || typeof schema !== 'object' || Array.isArray(schema)) return schema;
  const node: Json = { ...(schema as Json) };
  for (const key of oneSchema)
    if (node[key] && typeof node[key] === 'object' && !Array.isArray(node[key]))
      node[key] = allowEnvRefs(node[key]);
  for (const key of schemaLists)
    if (Array.isArray(node[key])) node[key] = (node[key] as unknown[]).map((s) => allowEnvRefs(s));
  for (const key of schemaMaps) {
    const map = node[key];
    if (map && typeof map === 'object')
      node[key] = Object.fromEntries(Object.entries(map).map(([k, s]) => [k, allowEnvRefs(s)]));
  }
  if (node.type !== 'string' || !refusesEnvRef(node)) return node as T;
  // The description and default stay beside the alternatives, where an editor shows them.
  const { description, default: fallback, ...checked } = node;
  return {
    ...(description === undefined ? {} : { description }),
    ...(fallback === undefined ? {} : { default: fallback }),
    anyOf: [checked, EnvRefString],
  } as T;
}

/** The config file's JSON Schema document, as written to docs/schemas/config.json (trailing newline). */
export function configJsonSchemaText(): string {
  const doc = {
    $id: 'https://vigil.invalid/schemas/config.json',
    title: 'config',
    description:
      'A Vigil config file (YAML), before defaults: docs/config.md. `vigil check-config FILE` checks what this cannot.',
    ...allowEnvRefs(z.toJSONSchema(VigilConfig, { target: 'draft-7', unrepresentable: 'any', io: 'input' })),
  };
  return JSON.stringify(doc, null, 2) + '\n';
}
