// Writes docs/schemas/<name>.json from the zod schemas (scripts/lib/schema-files.ts: the MQTT payloads, the
// HTTP status document, the config file), and removes schema files no schema has any more.
// `npm run gen:schemas`; `--check` only reports what is stale.
import { existsSync, mkdirSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { schemaFiles } from './lib/schema-files.js';

const dir = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..', 'docs', 'schemas');
const check = process.argv.includes('--check');

mkdirSync(dir, { recursive: true });
const wanted = schemaFiles();
const stale: string[] = [];
for (const [file, text] of wanted) {
  const target = path.join(dir, file);
  if (existsSync(target) && readFileSync(target, 'utf8') === text) continue;
  stale.push(file);
  if (!check) writeFileSync(target, text);
}
for (const file of readdirSync(dir)) {
  if (!file.endsWith('.json') || wanted.has(file)) continue;
  stale.push(`${file} (no schema)`);
  if (!check) rmSync(path.join(dir, file));
}
if (check && stale.length) {
  console.error(`docs/schemas is stale (run npm run gen:schemas): ${stale.join(', ')}`);
  process.exit(1);
}
console.log(
  stale.length ? `${check ? 'stale' : 'wrote'}: ${stale.join(', ')}` : 'docs/schemas is up to date',
);
