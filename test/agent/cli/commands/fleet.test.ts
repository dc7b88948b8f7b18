import { spawn } from 'node:child_process';
import { createHash, createPublicKey, generateKeyPairSync, verify } from 'node:crypto';
import { mkdtempSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import mqtt from 'mqtt';
import { parse as parseYaml, stringify } from 'yaml';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { canonicalJson } from '../../../../agent/fleet/canonical-json.js';
import { keyRing, verifySignature } from '../../../../agent/fleet/fleet-signature.js';
import { collect, startMosquitto, type Mosquitto } from '../../../support/mosquitto.js';
import { repoRoot } from '../../../support/shared.js';

// `vigil fleet keygen | sign | push` as an operator runs them: the real CLI in its own process.
let dir: string;
let key: { file: string; publicBase64: string; keyId: string };
const file = (name: string) => path.join(dir, name);

/** Runs `vigil …` to completion, stdout and stderr kept apart (stdout is what gets piped to a file). */
function vigil(args: string[]): Promise<{ code: number | null; stdout: string; stderr: string }> {
  const child = spawn(process.execPath, [path.join(repoRoot, 'agent/cli/vigil.mjs'), ...args], {
    cwd: dir,
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let stdout = '';
  let stderr = '';
  child.stdout.on('data', (d: Buffer) => (stdout += d.toString()));
  child.stderr.on('data', (d: Buffer) => (stderr += d.toString()));
  const timer = setTimeout(() => child.kill('SIGKILL'), 60_000);
  return new Promise((resolve) =>
    child.once('close', (code) => {
      clearTimeout(timer);
      resolve({ code, stdout, stderr });
    }),
  );
}

const body = {
  models: { det: { path: '/opt/models/yolo11n-320.onnx' } },
  cameras: [{ id: 'gate', source: 'rtsp://10.0.0.5/stream', model: 'det', fps: 4 }],
};

beforeAll(async () => {
  dir = mkdtempSync(path.join(tmpdir(), 'vigil-fleet-cli-'));
  writeFileSync(file('body.yaml'), stringify(body));
  const out = await vigil(['fleet', 'keygen', '--out', file('key.pem')]);
  if (out.code !== 0) throw new Error(`keygen failed: ${out.stderr}`);
  const snippet = parseYaml(out.stdout) as { fleet: { keys: string[] } };
  key = {
    file: file('key.pem'),
    publicBase64: snippet.fleet.keys[0]!,
    keyId: /key id ([0-9a-f]+)/.exec(out.stderr)?.[1] ?? '',
  };
}, 60_000);

afterAll(() => rmSync(dir, { recursive: true, force: true }));

async function sign(args: string[]) {
  return vigil(['fleet', 'sign', '--key', key.file, ...args]);
}

describe('vigil fleet keygen', () => {
  it('writes a PKCS#8 PEM Ed25519 key, mode 0600, and prints its public key as a fleet section', () => {
    const pem = readFileSync(key.file, 'utf8');
    expect(pem).toMatch(/^-----BEGIN PRIVATE KEY-----\n/);
    expect(statSync(key.file).mode & 0o777).toBe(0o600);
    const pub = createPublicKey(pem);
    expect(pub.asymmetricKeyType).toBe('ed25519');
    // The printed key is base64 of the raw 32 bytes of this key's public half.
    const raw = pub.export({ format: 'der', type: 'spki' }).subarray(-32);
    expect(Buffer.from(key.publicBase64, 'base64')).toEqual(raw);
    // Its id: the first 16 hex digits of the sha256 of those raw bytes (docs/fleet.md).
    expect(key.keyId).toBe(createHash('sha256').update(raw).digest('hex').slice(0, 16));
  });

  it('refuses to overwrite an existing key: exit 2, one line, the file untouched', async () => {
    const before = readFileSync(key.file);
    const out = await vigil(['fleet', 'keygen', '--out', key.file]);
    expect(out.code).toBe(2);
    expect(out.stderr.trim()).toBe(`vigil fleet: ${key.file} exists; not overwriting a key`);
    expect(out.stdout).toBe('');
    expect(readFileSync(key.file)).toEqual(before);
  });
});

describe('vigil fleet sign', () => {
  it('prints a document whose signature verifies with the public key (canonical JSON of the signed fields)', async () => {
    const out = await sign(['--target', 'group:north', '--revision', '42', file('body.yaml')]);
    expect(out.code).toBe(0);
    const doc = JSON.parse(out.stdout) as Record<string, unknown>;
    expect(Object.keys(doc)).toEqual(['revision', 'target', 'config', 'issuedAt', 'keyId', 'signature']);
    expect(doc).toMatchObject({ revision: 42, target: 'group:north', config: body, keyId: key.keyId });
    expect(new Date(doc.issuedAt as string).toISOString()).toBe(doc.issuedAt);
    // As a box verifies it: the key from its fleet.keys, found by id.
    const ring = keyRing([key.publicBase64]);
    expect(verifySignature(doc, ring.get(doc.keyId as string)!, doc.signature as string)).toBe(true);
    // And independently, from the docs: Ed25519 over UTF-8 canonical JSON (sorted keys, no whitespace).
    const signed = { config: doc.config, issuedAt: doc.issuedAt, revision: doc.revision, target: doc.target };
    const bytes = Buffer.from(canonicalJson(signed), 'utf8');
    expect(bytes.toString()).toBe(
      `{"config":${JSON.stringify({ cameras: body.cameras.map((c) => ({ fps: c.fps, id: c.id, model: c.model, source: c.source })), models: body.models })},"issuedAt":"${String(doc.issuedAt)}","revision":42,"target":"group:north"}`,
    );
    const pub = createPublicKey(readFileSync(key.file));
    expect(verify(null, bytes, pub, Buffer.from(doc.signature as string, 'base64'))).toBe(true);
    // Any change to a signed field breaks it.
    for (const changed of [
      { ...doc, revision: 43 },
      { ...doc, target: 'group:south' },
      { ...doc, config: { ...body, cameras: [] } },
    ])
      expect(verifySignature(changed, pub, doc.signature as string)).toBe(false);
  });

  it('the default revision is the Unix time in seconds', async () => {
    const before = Math.floor(Date.now() / 1000);
    const out = await sign(['-t', 'device:yard/box1', file('body.yaml')]);
    const after = Math.floor(Date.now() / 1000);
    expect(out.code).toBe(0);
    const { revision } = JSON.parse(out.stdout) as { revision: number };
    expect(revision).toBeGreaterThanOrEqual(before);
    expect(revision).toBeLessThanOrEqual(after);
  });

  it('a bad target: exit 2, one line naming the forms, nothing on stdout', async () => {
    const out = await sign(['--target', 'north', file('body.yaml')]);
    expect(out.code).toBe(2);
    expect(out.stderr.trim()).toBe(
      'vigil fleet: --target: expected group:<name>, site:<site> or device:<site>/<device>',
    );
    expect(out.stdout).toBe('');
  });

  it('a revision that is not a positive integer: exit 2', async () => {
    for (const r of ['0', '1.5', 'soon']) {
      const out = await sign(['-t', 'group:north', '-r', r, file('body.yaml')]);
      expect(out.code).toBe(2);
      expect(out.stderr.trim()).toBe(`vigil fleet: --revision: expected a positive integer, got ${r}`);
      expect(out.stdout).toBe('');
    }
  });

  it('a body with an unknown field is not signed: exit 2 with the path', async () => {
    writeFileSync(file('bad.yaml'), stringify({ ...body, site: 'elsewhere' }));
    const out = await sign(['-t', 'group:north', '-r', '5', file('bad.yaml')]);
    expect(out.code).toBe(2);
    expect(out.stderr).toMatch(/^vigil fleet: config: .*site/m);
    expect(out.stdout).toBe('');
  });

  it('a key that is not Ed25519 is refused: exit 2', async () => {
    const { privateKey } = generateKeyPairSync('ec', { namedCurve: 'prime256v1' });
    writeFileSync(file('ec.pem'), privateKey.export({ format: 'pem', type: 'pkcs8' }));
    const out = await vigil([
      'fleet',
      'sign',
      '-k',
      file('ec.pem'),
      '-t',
      'group:north',
      '-r',
      '5',
      file('body.yaml'),
    ]);
    expect(out.code).toBe(2);
    expect(out.stderr.trim()).toBe('vigil fleet: a ec key, expected Ed25519');
    expect(out.stdout).toBe('');
  });

  it('a missing config file: exit 2 naming it', async () => {
    const out = await sign(['-t', 'group:north', '-r', '5', file('nope.yaml')]);
    expect(out.code).toBe(2);
    expect(out.stderr).toContain(
      `vigil fleet: ENOENT: no such file or directory, open '${file('nope.yaml')}'`,
    );
  });
});

describe('vigil fleet push', () => {
  let broker: Mosquitto;
  beforeAll(async () => {
    broker = await startMosquitto();
  });
  afterAll(async () => broker?.stop());

  it("refuses a document whose target is not --target's, before connecting: exit 2", async () => {
    const out = await sign(['-t', 'group:north', '-r', '7', file('body.yaml')]);
    writeFileSync(file('doc.json'), out.stdout);
    const push = await vigil(['fleet', 'push', '--mqtt', broker.url, '-t', 'group:south', file('doc.json')]);
    expect(push.code).toBe(2);
    expect(push.stderr.trim()).toBe('vigil fleet: the document targets group:north, not group:south');
  });

  it('a document that is not JSON: exit 2 naming the file', async () => {
    writeFileSync(file('junk.json'), 'not json');
    const push = await vigil(['fleet', 'push', '--mqtt', broker.url, file('junk.json')]);
    expect(push.code).toBe(2);
    expect(push.stderr).toMatch(new RegExp(`^vigil fleet: ${file('junk.json')}: .*JSON`, 'm'));
  });

  it('a wrong --timeout or --expect, or a missing document: exit 2 before connecting, nothing published', async () => {
    const out = await sign(['-t', 'group:west', '-r', '5', file('body.yaml')]);
    writeFileSync(file('doc-west.json'), out.stdout);
    const push = (args: string[]) => vigil(['fleet', 'push', '--mqtt', broker.url, ...args]);
    const cases: [string[], string][] = [
      [
        ['--timeout', 'abc', file('doc-west.json')],
        'vigil fleet: --timeout: expected seconds above 0, got abc',
      ],
      [['--timeout', '0', file('doc-west.json')], 'vigil fleet: --timeout: expected seconds above 0, got 0'],
      [
        ['--expect', 'two', file('doc-west.json')],
        'vigil fleet: --expect: expected a positive integer, got two',
      ],
      [
        ['--expect', '1.5', file('doc-west.json')],
        'vigil fleet: --expect: expected a positive integer, got 1.5',
      ],
      [[file('missing.json')], `vigil fleet: ${file('missing.json')}: ENOENT`],
    ];
    for (const [args, line] of cases) {
      const run = await push(args);
      expect(run.code, args.join(' ')).toBe(2);
      expect(run.stderr.trim().startsWith(line), run.stderr).toBe(true);
    }
    // Retained messages come before live ones: the marker arriving alone means nothing was left retained.
    const sub = await collect(broker.url, 'vigil/fleet/west/#');
    try {
      const marker = await mqtt.connectAsync(broker.url);
      await marker.publishAsync('vigil/fleet/west/marker', 'm', { qos: 1 });
      await marker.endAsync();
      await sub.waitFor((m) => m.length >= 1);
      expect(sub.messages.map((m) => m.topic)).toEqual(['vigil/fleet/west/marker']);
    } finally {
      await sub.close();
    }
  });

  it('--expect not met although every known box answered: exit 1 saying how many were known', async () => {
    const out = await sign(['-t', 'group:east', '-r', '9', file('body.yaml')]);
    writeFileSync(file('doc9.json'), out.stdout);
    // One box of group east is known (its retained state) and already ran revision 9.
    const box = await mqtt.connectAsync(broker.url);
    const state = {
      site: 'yard',
      device: 'e1',
      groups: ['east'],
      revision: 9,
      source: 'fleet',
      keyIds: [],
      ts: 1,
    };
    const result = {
      id: 'x',
      site: 'yard',
      device: 'e1',
      revision: 9,
      status: 'applied',
      errors: [],
      changed: [],
      running: 9,
      ts: 2,
    };
    await box.publishAsync('vigil/yard/e1/config/state', JSON.stringify(state), { qos: 1, retain: true });
    await box.publishAsync('vigil/yard/e1/config/result', JSON.stringify(result), { qos: 1, retain: true });
    await box.endAsync();
    const push = await vigil([
      'fleet',
      'push',
      '--mqtt',
      broker.url,
      '--expect',
      '2',
      '--timeout',
      '2',
      file('doc9.json'),
    ]);
    expect(push.code).toBe(1);
    expect(push.stdout).toMatch(/yard\/e1\s+CURRENT\s+9/);
    expect(push.stdout).toContain(
      'only 1 of the 2 expected boxes (--expect) announced themselves on config/state: the others never ' +
        'connected to this broker, or do not follow group:east',
    );
    // Leave the broker as found: the next test counts the retained documents under vigil/fleet/.
    const clear = await mqtt.connectAsync(broker.url);
    for (const t of ['vigil/fleet/east/config', 'vigil/yard/e1/config/state', 'vigil/yard/e1/config/result'])
      await clear.publishAsync(t, '', { qos: 1, retain: true });
    await clear.endAsync();
  });

  it('publishes the document retained; no box answers: exit 1 after the timeout', async () => {
    const out = await sign(['-t', 'group:north', '-r', '8', file('body.yaml')]);
    writeFileSync(file('doc8.json'), out.stdout);
    const push = await vigil(['fleet', 'push', '--mqtt', broker.url, '--timeout', '1', file('doc8.json')]);
    expect(push.code).toBe(1);
    expect(push.stdout).toContain('timed out: the document stays retained on vigil/fleet/north/config');
    // No box announced itself for that target: the likeliest cause is said.
    expect(push.stdout).toContain('no box follows group:north on this broker');
    const sub = await collect(broker.url, 'vigil/fleet/#');
    try {
      await sub.waitFor((m) => m.length === 1);
      expect(sub.messages[0]).toMatchObject({ topic: 'vigil/fleet/north/config', retain: true });
      expect(sub.messages[0]!.payload).toEqual(readFileSync(file('doc8.json')));
    } finally {
      await sub.close();
    }
  });
});
