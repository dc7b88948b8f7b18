import { readdirSync, readFileSync } from 'node:fs';
import path from 'node:path';
import { Ajv2020 } from 'ajv/dist/2020.js';
import { describe, expect, it } from 'vitest';
import { inboundPayloads, jsonSchemaText, payloadSchemas } from '../../../agent/mqtt/schema-registry.js';
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
  // The other files of docs/schemas (HTTP status, config) and the files no schema has: schema-files.test.ts.
  it('docs/schemas holds the generated JSON Schema of every payload (npm run gen:schemas)', () => {
    const names = Object.keys(payloadSchemas).sort();
    const files = readdirSync(schemasDir).filter((f) => f.endsWith('.json'));
    expect(files, 'payloads without a file').toEqual(expect.arrayContaining(names.map((n) => `${n}.json`)));
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

  // What a subscriber's or a sender's own tooling sees: the JSON Schema files, checked by a JSON Schema
  // validator rather than by zod.
  it('every JSON example in docs/mqtt.md is valid against its JSON Schema file', () => {
    const ajv = new Ajv2020({ strict: false, allErrors: true });
    for (const { name, text } of examples()) {
      const id = `https://vigil.invalid/schemas/${name}.json`;
      if (!ajv.getSchema(id))
        ajv.addSchema(JSON.parse(readFileSync(path.join(schemasDir, `${name}.json`), 'utf8')));
      const validate = ajv.getSchema(id)!;
      const valid = validate(JSON.parse(text));
      expect(valid, `${name}: ${ajv.errorsText(validate.errors)}`).toBe(true);
    }
  });

  it('the schema of a payload the agent receives leaves defaulted fields out of `required`', () => {
    const ajv = new Ajv2020({ strict: false });
    const schema = JSON.parse(readFileSync(path.join(schemasDir, 'fleet-document.json'), 'utf8'));
    const validate = ajv.compile(schema);
    const doc = {
      revision: 3,
      target: 'group:north',
      config: {
        models: { det: { path: '/m/det.onnx' } },
        cameras: [{ id: 'gate', source: 'a.mp4', model: 'det' }],
      },
      issuedAt: '2026-12-01T00:00:00.000Z',
      keyId: '9a89bae2a16c6558',
      signature: `${'A'.repeat(86)}==`,
    };
    // The smallest document an operator writes: every camera field with a default left out.
    expect(validate(doc), ajv.errorsText(validate.errors)).toBe(true);
    expect(payloadSchemas['fleet-document']!.safeParse(doc).success).toBe(true);
    // Still a schema: a camera without its source is refused by both.
    const broken = { ...doc, config: { ...doc.config, cameras: [{ id: 'gate', model: 'det' }] } };
    expect(validate(broken)).toBe(false);
    expect(payloadSchemas['fleet-document']!.safeParse(broken).success).toBe(false);
    // The outbound ones list what the agent always fills in.
    const state = JSON.parse(readFileSync(path.join(schemasDir, 'camera-state.json'), 'utf8'));
    expect(inboundPayloads.has('camera-state')).toBe(false);
    expect(state.required.length).toBeGreaterThan(0);
  });

  it('every payload has an example in docs/mqtt.md and a row in its topic table', () => {
    const documented = new Set(examples().map((e) => e.name));
    for (const name of Object.keys(payloadSchemas)) {
      expect(documented.has(name), `no example for ${name}`).toBe(true);
      expect(mqttDoc).toContain(`(schemas/${name}.json)`);
    }
  });
});
