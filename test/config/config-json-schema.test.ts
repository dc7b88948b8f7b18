import { existsSync, readdirSync, readFileSync } from 'node:fs';
import path from 'node:path';
import { Ajv } from 'ajv';
import { Ajv2020 } from 'ajv/dist/2020.js';
import { describe, expect, it } from 'vitest';
import { parse as parseYaml } from 'yaml';
import { configJsonSchemaText } from '../../config/config-json-schema.js';
import { repoRoot } from '../support/shared.js';
import { base, problems, withCamera } from './minimal-config.js';

const schemaFile = path.join(repoRoot, 'docs', 'schemas', 'config.json');
// What an editor's language server sees: the committed file, read by a JSON Schema validator (draft-07).
const ajv = new Ajv({ strict: false, allErrors: true });
const validate = ajv.compile(JSON.parse(readFileSync(schemaFile, 'utf8')));
const errors = (doc: unknown) => (validate(doc) ? [] : ajv.errorsText(validate.errors));

const yamlIn = (dir: string) =>
  existsSync(path.join(repoRoot, dir))
    ? readdirSync(path.join(repoRoot, dir))
        .filter((f) => f.endsWith('.yaml'))
        .map((f) => `${dir}/${f}`)
    : [];
/** Every config the repository ships. */
const examples = [...yamlIn('config'), ...yamlIn('config/examples'), ...yamlIn('docker/jetson')];
const read = (file: string) => readFileSync(path.join(repoRoot, file), 'utf8');

describe('docs/schemas/config.json: the config file as written', () => {
  it('is generated from the zod schema (npm run gen:schemas)', () => {
    expect(readFileSync(schemaFile, 'utf8'), 'stale: run npm run gen:schemas').toBe(configJsonSchemaText());
  });

  it('finds the shipped configs', () => {
    expect(examples).toEqual(
      expect.arrayContaining([
        'config/demo.yaml',
        'config/examples/site.yaml',
        'docker/jetson/vigil.example.yaml',
      ]),
    );
  });

  it.each(examples)('%s is valid against it, `${VAR}` references as written', (file) => {
    expect(errors(parseYaml(read(file)))).toEqual([]);
  });

  it.each(examples.filter((f) => read(f).includes('yaml-language-server:')))(
    '%s names the schema file by a path that reaches it',
    (file) => {
      const m = /^# yaml-language-server: \$schema=(\S+)$/m.exec(read(file));
      expect(m, 'a `# yaml-language-server: $schema=PATH` line').not.toBeNull();
      expect(path.resolve(path.dirname(path.join(repoRoot, file)), m![1]!)).toBe(schemaFile);
    },
  );

  it('leaves every field with a default optional, and shows the default', () => {
    expect(errors(base)).toEqual([]);
    const schema = JSON.parse(readFileSync(schemaFile, 'utf8'));
    expect(schema.required.sort()).toEqual(['cameras', 'device', 'models', 'site']);
    const camera = schema.properties.cameras.items;
    expect(camera.required.sort()).toEqual(['id', 'model', 'source']);
    expect(camera.properties.stallTimeoutS.default).toBe(10);
    expect(schema.properties.logLevel.default).toBe('info');
  });

  it('refuses what the loader refuses on its own: unknown fields, wrong types, a camera without source', () => {
    expect(errors({ ...base, extra: 1 })).not.toEqual([]);
    expect(errors(withCamera({ fsp: 5 }))).not.toEqual([]);
    expect(errors({ ...base, cameras: [{ id: 'gate', model: 'det' }] })).not.toEqual([]);
    expect(errors({ ...base, site: 'a b' })).not.toEqual([]);
    expect(errors({ ...base, logLevel: 'loud' })).not.toEqual([]);
  });

  it('takes a `${VAR}` in any string field, as the loader does after expanding it', () => {
    const written = {
      ...base,
      device: '${HOSTNAME:-box-01}',
      logLevel: '${LOG_LEVEL}',
      mqtt: { url: '${MQTT_URL}', baseTopic: '${ROOT:-vigil}' },
      http: { auth: { token: '${TOKEN}' } },
      cameras: [{ id: '${CAM_ID:-gate}', source: '${SRC}', model: 'det', hwaccel: '${HW:-none}' }],
    };
    expect(errors(written)).toEqual([]);
    // A map key is never expanded: a model id keeps its pattern.
    expect(errors({ ...base, models: { '${M}': { path: 'm.onnx' } } })).not.toEqual([]);
  });

  it('refuses a `${VAR}` in a number or boolean field, as the loader does (an expanded reference is a string)', () => {
    expect(errors({ ...base, http: { port: '${PORT}' } })).not.toEqual([]);
    expect(problems({ ...base, http: { port: '8080' } })).toEqual(['http.port: expected number, got "8080"']);
    expect(errors(withCamera({ enabled: '${ON}' }))).not.toEqual([]);
  });
});

describe('docs/schemas/fleet-document.json: the config body keeps its references', () => {
  it('takes a `${VAR}` in a body string, and keeps the envelope strict', () => {
    const v = new Ajv2020({ strict: false, validateFormats: false });
    const check = v.compile(JSON.parse(read('docs/schemas/fleet-document.json')));
    const doc = {
      revision: 3,
      target: 'group:north',
      config: {
        models: { det: { path: '/m/det.onnx' } },
        cameras: [{ id: 'gate', source: 'rtsp://${CAM_USER}:${CAM_PASSWORD}@10.0.0.5/1', model: 'det' }],
        mqtt: { url: '${MQTT_URL}', password: '${MQTT_PASSWORD}' },
      },
      issuedAt: '2026-12-01T00:00:00.000Z',
      keyId: '9a89bae2a16c6558',
      signature: `${'A'.repeat(86)}==`,
    };
    expect(check(doc), v.errorsText(check.errors)).toBe(true);
    expect(check({ ...doc, target: '${TARGET}' })).toBe(false);
  });
});
