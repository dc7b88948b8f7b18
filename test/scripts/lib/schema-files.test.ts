import { readdirSync, readFileSync } from 'node:fs';
import path from 'node:path';
import { Ajv2020 } from 'ajv/dist/2020.js';
import { describe, expect, it } from 'vitest';
import { statusJsonSchema } from '../../../agent/web/status-schema.js';
import { schemaFiles } from '../../../scripts/lib/schema-files.js';
import { repoRoot } from '../../support/shared.js';

const schemasDir = path.join(repoRoot, 'docs', 'schemas');
const onDisk = (file: string) => readFileSync(path.join(schemasDir, file), 'utf8');

describe('docs/schemas: every file npm run gen:schemas writes', () => {
  it('holds exactly the generated files, none stale (run npm run gen:schemas)', () => {
    const wanted = schemaFiles();
    const files = readdirSync(schemasDir).filter((f) => f.endsWith('.json'));
    expect(files.sort(), 'files no schema writes, or schemas without a file').toEqual(
      [...wanted.keys()].sort(),
    );
    for (const [file, text] of wanted) expect(onDisk(file), `docs/schemas/${file} is stale`).toBe(text);
    // The HTTP status document and the MQTT status message are different files.
    expect(wanted.has('http-status.json') && wanted.has('status.json')).toBe(true);
    expect(wanted.has('config.json')).toBe(true);
  });

  it('http-status.json is what /api/status/schema.json serves, with its $id and title', () => {
    const { $id, title, ...served } = JSON.parse(onDisk('http-status.json'));
    expect([$id, title]).toEqual(['https://vigil.invalid/schemas/http-status.json', 'http-status']);
    expect(served).toEqual(JSON.parse(JSON.stringify(statusJsonSchema())));
    // Not the MQTT status message: that one is {state, ts, …}, this one the page's whole document.
    expect(JSON.parse(onDisk('status.json')).properties).not.toHaveProperty('cameras');
  });

  it('the /api/status example of docs/http.md is valid against http-status.json (a JSON Schema validator)', () => {
    const md = readFileSync(path.join(repoRoot, 'docs', 'http.md'), 'utf8');
    const block = /```json\n([\s\S]*?)\n```/.exec(md.slice(md.indexOf('## `/api/status`')))![1]!;
    const ajv = new Ajv2020({ strict: false, allErrors: true });
    const validate = ajv.compile(JSON.parse(onDisk('http-status.json')));
    const example = JSON.parse(block);
    expect(validate(example), ajv.errorsText(validate.errors)).toBe(true);
    // Still a schema: a field the page does not know is refused (strict objects).
    expect(validate({ ...example, extra: 1 })).toBe(false);
  });
});
