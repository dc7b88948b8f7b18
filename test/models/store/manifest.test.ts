import { createHash } from 'node:crypto';
import { mkdtempSync, readFileSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { readOnnxInfo } from '../../../models/onnx/onnx-info.js';
import {
  defaultManifestPath,
  loadManifest,
  Manifest,
  manifestEntry,
} from '../../../models/store/manifest.js';
import { hasShared, repoRoot, sharedPath } from '../../support/shared.js';

const good = {
  id: 'yard-v8n',
  family: 'yolov8',
  file: 'yard-v8n.onnx',
  url: 'https://example.com/models/yard-v8n.onnx',
  sha256: '83de8f0d2cd521e00ae2b138c340a03dece35b060b3898509bdc69afff417312',
  bytes: 3504119,
  licence: 'AGPL-3.0',
  input: [640, 384],
  classes: { set: 'coco', count: 80 },
};

const dir = mkdtempSync(path.join(tmpdir(), 'vigil-manifest-'));
let n = 0;
/** Writes `doc` (a value, or raw text) to a fresh file and loads it. */
function load(doc: unknown) {
  const file = path.join(dir, `m${n++}.json`);
  writeFileSync(file, typeof doc === 'string' ? doc : JSON.stringify(doc));
  return { file, run: () => loadManifest(file) };
}
const withEntry = (over: Record<string, unknown>, drop: string[] = []) => {
  const e: Record<string, unknown> = { ...good, ...over };
  for (const k of drop) delete e[k];
  return { version: 1, models: [e] };
};

describe('the shipped manifest', () => {
  it('is models/manifest.json beside the module', () => {
    expect(defaultManifestPath).toBe(path.join(repoRoot, 'models', 'manifest.json'));
    expect(loadManifest().models).toHaveLength(3);
  });

  it.skipIf(!hasShared)('each entry’s sha256 and size are those of the real file in ../shared/models', () => {
    for (const e of loadManifest().models) {
      const file = sharedPath('models', e.file);
      const bytes = readFileSync(file);
      expect(createHash('sha256').update(bytes).digest('hex'), e.id).toBe(e.sha256);
      expect(statSync(file).size, e.id).toBe(e.bytes);
    }
  });

  it.skipIf(!hasShared)('each entry’s input size is the model’s own input [width, height]', () => {
    for (const e of loadManifest().models) {
      const [input] = readOnnxInfo(sharedPath('models', e.file)).inputs;
      expect(input!.dims, e.id).toEqual([1, 3, e.input[1], e.input[0]]);
    }
  });
});

describe('loadManifest accepts', () => {
  it('a full entry, and one without the optional bytes and notes', () => {
    const m = load({
      version: 1,
      models: [
        { ...good, notes: 'ours' },
        { ...good, id: 'b', bytes: undefined },
      ],
    }).run();
    expect(m.models[0]).toEqual({ ...good, notes: 'ours' });
    expect(m.models[1]!.bytes).toBeUndefined();
    expect(load({ version: 1, models: [] }).run().models).toEqual([]);
  });
});

describe('loadManifest refuses, naming the file, the entry and the field', () => {
  it.each([
    ['version 2', { version: 2, models: [] }, 'version: '],
    ['no models', { version: 1 }, 'models: '],
    ['an unknown top-level key', { version: 1, models: [], extra: 1 }, '(root): '],
    ['an unknown entry key', withEntry({ sha1: 'x' }), 'models.0: '],
    ['a missing sha256', withEntry({}, ['sha256']), 'models.0.sha256: '],
    [
      'an upper-case sha256',
      withEntry({ sha256: good.sha256.toUpperCase() }),
      'models.0.sha256: 64 lowercase hex digits',
    ],
    [
      'a 63-digit sha256',
      withEntry({ sha256: good.sha256.slice(1) }),
      'models.0.sha256: 64 lowercase hex digits',
    ],
    [
      'a 65-digit sha256',
      withEntry({ sha256: `${good.sha256}0` }),
      'models.0.sha256: 64 lowercase hex digits',
    ],
    [
      'a non-hex sha256',
      withEntry({ sha256: `${good.sha256.slice(1)}g` }),
      'models.0.sha256: 64 lowercase hex digits',
    ],
    [
      'a file with a directory',
      withEntry({ file: '../etc/yard.onnx' }),
      'models.0.file: a plain file name ending in .onnx',
    ],
    [
      'a file that is not .onnx',
      withEntry({ file: 'yard.onnx.sh' }),
      'models.0.file: a plain file name ending in .onnx',
    ],
    ['an id with a slash', withEntry({ id: 'a/b' }), 'models.0.id: '],
    ['an id of 65 characters', withEntry({ id: 'a'.repeat(65) }), 'models.0.id: '],
    ['an unknown family', withEntry({ family: 'yolov3' }), 'models.0.family: '],
    ['an ftp url', withEntry({ url: 'ftp://example.com/m.onnx' }), 'models.0.url: '],
    ['a url that is not one', withEntry({ url: 'yard.onnx' }), 'models.0.url: '],
    ['zero bytes', withEntry({ bytes: 0 }), 'models.0.bytes: '],
    ['fractional bytes', withEntry({ bytes: 1.5 }), 'models.0.bytes: '],
    ['an empty licence', withEntry({ licence: '' }), 'models.0.licence: '],
    ['a one-number input', withEntry({ input: [640] }), 'models.0.input'],
    ['a zero input side', withEntry({ input: [640, 0] }), 'models.0.input.1: '],
    ['no class count', withEntry({ classes: { set: 'coco' } }), 'models.0.classes.count: '],
    ['a zero class count', withEntry({ classes: { set: 'coco', count: 0 } }), 'models.0.classes.count: '],
  ])('%s', (_, doc, where) => {
    const { file, run } = load(doc);
    expect(run).toThrow(`model manifest ${file}: ${where}`);
  });

  it('the second entry is named by its index', () => {
    const { file, run } = load({ version: 1, models: [good, { ...good, id: 'b', bytes: -1 }] });
    expect(run).toThrow(`model manifest ${file}: models.1.bytes: `);
  });

  it('two entries with one id', () => {
    const { file, run } = load({ version: 1, models: [good, { ...good, file: 'other.onnx' }] });
    expect(run).toThrow(`model manifest ${file}: (root): duplicate model id`);
  });

  it('a file that is not JSON, and one that is not there', () => {
    const { file, run } = load('{ "version": 1, ');
    expect(run).toThrow(new RegExp(`^model manifest ${file}: .*JSON`));
    const missing = path.join(dir, 'absent.json');
    expect(() => loadManifest(missing)).toThrow(`model manifest ${missing}: ENOENT`);
  });

  it('the schema itself agrees (for callers that parse a manifest they hold)', () => {
    expect(Manifest.safeParse({ version: 1, models: [good] }).success).toBe(true);
    expect(Manifest.safeParse({ version: 1, models: [good, good] }).success).toBe(false);
  });
});

describe('manifestEntry', () => {
  const m = load({ version: 1, models: [good, { ...good, id: 'gate', file: 'gate.onnx' }] }).run();

  it('finds an entry by its id', () => {
    expect(manifestEntry(m, 'gate').file).toBe('gate.onnx');
    expect(manifestEntry(m, 'yard-v8n')).toBe(m.models[0]);
  });

  it('refuses an unknown id (no prefix or file-name match) and lists the known ones', () => {
    expect(() => manifestEntry(m, 'yard')).toThrow('unknown model "yard" (known: yard-v8n, gate)');
    expect(() => manifestEntry(m, 'gate.onnx')).toThrow(/unknown model "gate.onnx"/);
    expect(() => manifestEntry({ version: 1, models: [] }, 'x')).toThrow('unknown model "x" (known: none)');
  });
});
