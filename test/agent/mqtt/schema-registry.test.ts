import { readdirSync, readFileSync } from 'node:fs';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { jsonSchemaText, payloadSchemas } from '../../../agent/mqtt/schema-registry.js';
import { repoRoot } from '../../support/shared.js';

const schemasDir = path.join(repoRoot, 'docs', 'schemas');
const mqttDoc = readFileSync(path.join(repoRoot, 'docs', 'mqtt.md'), 'utf8');

/** The ```json <schema-name> blocks of docs/mqtt.md. */
function examples(): { name: string; text: string }[] {
  return [...mqttDoc.matchAll(/```json ([a-z0-9-]+)\n([\s\S]*?)```/g)].map((m) => ({
    name: m[1]!,
    text: m[2]!,
  }));
}

describe('payload schema registry', () => {
  it('docs/schemas holds exactly the generated JSON Schema of every payload (npm run gen:schemas)', () => {
    const names = Object.keys(payloadSchemas).sort();
    const files = readdirSync(schemasDir)
      .filter((f) => f.endsWith('.json'))
      .map((f) => f.replace(/\.json$/, ''))
      .sort();
    expect(files, 'schema files without a payload, or payloads without a file').toEqual(names);
    for (const name of names) {
      const onDisk = readFileSync(path.join(schemasDir, `${name}.json`), 'utf8');
      expect(onDisk, `docs/schemas/${name}.json is stale: run npm run gen:schemas`).toBe(
        jsonSchemaText(name, payloadSchemas[name]!),
      );
    }
  });

  it('every JSON example in docs/mqtt.md parses with its schema', () => {
    const found = examples();
    expect(found.length).toBeGreaterThanOrEqual(10);
    for (const { name, text } of found) {
      const schema = payloadSchemas[name];
      expect(schema, `docs/mqtt.md has an example for unknown schema "${name}"`).toBeDefined();
      const result = schema!.safeParse(JSON.parse(text));
      expect(result.success, `${name}: ${result.error?.message}`).toBe(true);
    }
  });

  it('every payload has an example in docs/mqtt.md and a row in its topic table', () => {
    const documented = new Set(examples().map((e) => e.name));
    for (const name of Object.keys(payloadSchemas)) {
      expect(documented.has(name), `no example for ${name}`).toBe(true);
      expect(mqttDoc).toContain(`(schemas/${name}.json)`);
    }
  });
});
