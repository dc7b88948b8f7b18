import { describe, expect, it } from 'vitest';
import {
  FleetBody,
  FleetDocument,
  FleetEnvelope,
  FleetModelConfig,
  FleetTarget,
  ShadowConfig,
  parseTarget,
  signedFields,
  targetMatches,
  type FleetBodyInput,
} from '../../../agent/fleet/fleet-document.js';

// The signed fleet document's schemas (docs/fleet.md "The document", "What a box refuses"), on the real
// zod schemas and the real camera/model/transport schemas of config/schema.ts.

const sha = 'ab'.repeat(32);
const body = (over: Partial<FleetBodyInput> = {}): FleetBodyInput => ({
  models: { det: { path: '/opt/models/det.onnx' } },
  cameras: [
    { id: 'dock', source: 'rtsp://10.0.0.1/s', model: 'det' },
    { id: 'gate', source: '/dev/video0', model: 'det' },
  ],
  ...over,
});
const doc = (over: Record<string, unknown> = {}) => ({
  revision: 7,
  target: 'group:north',
  config: body(),
  issuedAt: '2026-01-02T03:04:05.000Z',
  keyId: '0123456789abcdef',
  signature: `${'A'.repeat(86)}==`,
  ...over,
});
/** The issue messages and paths of a failed parse ('' when it passed). */
const issues = (r: { success: boolean; error?: { issues: { path: PropertyKey[]; message: string }[] } }) =>
  r.success ? '' : r.error!.issues.map((i) => `${i.path.join('.')}: ${i.message}`).join('\n');

describe('FleetTarget and parseTarget', () => {
  it('accepts the three documented forms and parses each into its parts', () => {
    expect(parseTarget(FleetTarget.parse('group:north'))).toEqual({ kind: 'group', group: 'north' });
    expect(parseTarget(FleetTarget.parse('site:yard-2'))).toEqual({ kind: 'site', site: 'yard-2' });
    expect(parseTarget(FleetTarget.parse('device:yard/box_1'))).toEqual({
      kind: 'device',
      site: 'yard',
      device: 'box_1',
    });
    // Ids of the longest allowed length (64) are whole, not cut.
    const long = 'x'.repeat(64);
    expect(parseTarget(FleetTarget.parse(`device:${long}/${long}`))).toEqual({
      kind: 'device',
      site: long,
      device: long,
    });
  });

  it.each([
    'north',
    'group:',
    'group:a/b',
    'group:no+pe',
    'site:',
    'site:a/b',
    'device:yard',
    'device:yard/',
    'device:/box1',
    'device:yard/box1/x',
    'box:yard',
    'Group:north',
    'group:north ',
    `group:${'x'.repeat(65)}`,
    '',
  ])('refuses %j with the documented forms in the message', (t) => {
    const r = FleetTarget.safeParse(t);
    expect(r.success).toBe(false);
    expect(issues(r)).toContain('expected group:<name>, site:<site> or device:<site>/<device>');
  });
});

describe('targetMatches', () => {
  const box = { site: 'yard', device: 'box1', groups: ['north', 'forklifts'] };

  it('a group target covers the boxes of that group only', () => {
    expect(targetMatches('group:north', box)).toBe(true);
    expect(targetMatches('group:forklifts', box)).toBe(true);
    expect(targetMatches('group:south', box)).toBe(false);
    expect(targetMatches('group:north', { ...box, groups: [] })).toBe(false);
    // Not a prefix or substring match.
    expect(targetMatches('group:nort', box)).toBe(false);
  });

  it('a site target covers every box of the site, whatever its groups', () => {
    expect(targetMatches('site:yard', box)).toBe(true);
    expect(targetMatches('site:yard', { ...box, device: 'box9', groups: [] })).toBe(true);
    expect(targetMatches('site:dock', box)).toBe(false);
    // A group named like the site is not the site.
    expect(targetMatches('site:north', box)).toBe(false);
  });

  it('a device target needs both the site and the device', () => {
    expect(targetMatches('device:yard/box1', box)).toBe(true);
    expect(targetMatches('device:yard/box2', box)).toBe(false);
    expect(targetMatches('device:dock/box1', box)).toBe(false);
    expect(targetMatches('device:box1/yard', box)).toBe(false);
  });
});

describe('FleetModelConfig', () => {
  it('a file on the box (absolute path), a url with its sha256, or a manifest id', () => {
    expect(FleetModelConfig.parse({ path: '/opt/m.onnx' }).path).toBe('/opt/m.onnx');
    expect(FleetModelConfig.parse({ url: 'https://m.example/a.onnx', sha256: sha })).toMatchObject({
      url: 'https://m.example/a.onnx',
      sha256: sha,
    });
    expect(FleetModelConfig.parse({ manifest: 'yolo11n-coco-int8-320' }).manifest).toBe(
      'yolo11n-coco-int8-320',
    );
    // The other model settings are those of models.<id> (config.md), defaults filled.
    expect(FleetModelConfig.parse({ path: '/m.onnx', confidence: 0.4 })).toMatchObject({
      confidence: 0.4,
      iou: 0.45,
      providers: ['tensorrt', 'cuda', 'cpu'],
    });
  });

  it.each([
    [{}, 'give one of path, url (with sha256) or manifest'],
    [{ path: '/a.onnx', manifest: 'x' }, 'give one of path'],
    [{ path: '/a.onnx', url: 'https://x/a.onnx', sha256: sha }, 'give one of path'],
    [{ url: 'https://x/a.onnx', manifest: 'x', sha256: sha }, 'give one of path'],
    [{ url: 'https://x/a.onnx' }, 'sha256: a model url needs its sha256'],
    [{ path: 'models/a.onnx' }, 'must be absolute'],
    [{ path: '' }, ''],
    [{ url: 'ftp://x/a.onnx', sha256: sha }, 'expected an http(s) URL'],
    [{ url: 'https://x/a.onnx', sha256: sha.toUpperCase() }, 'expected 64 lowercase hex digits'],
    [{ url: 'https://x/a.onnx', sha256: sha.slice(1) }, 'expected 64 lowercase hex digits'],
    [{ manifest: 'a/b' }, 'manifest'],
    [{ path: '/a.onnx', shell: 'x' }, ''],
  ])('refuses %j', (m, want) => {
    const r = FleetModelConfig.safeParse(m);
    expect(r.success).toBe(false);
    expect(issues(r)).toContain(want);
  });
});

describe('ShadowConfig', () => {
  it('defaults: a tenth of the frames, IoU 0.5, a report a minute, every camera', () => {
    expect(ShadowConfig.parse({ candidate: 'cand' })).toEqual({
      candidate: 'cand',
      share: 0.1,
      iou: 0.5,
      reportIntervalS: 60,
    });
  });

  it('bounds: share and iou in (0, 1], report period 1 s to a day, at least one camera when given', () => {
    const ok = (s: object) => ShadowConfig.safeParse({ candidate: 'c', ...s }).success;
    expect(ok({ share: 1, iou: 1, reportIntervalS: 1 })).toBe(true);
    expect(ok({ reportIntervalS: 86_400 })).toBe(true);
    expect(ok({ share: 0 })).toBe(false);
    expect(ok({ share: 1.01 })).toBe(false);
    expect(ok({ iou: 0 })).toBe(false);
    expect(ok({ iou: 1.5 })).toBe(false);
    expect(ok({ reportIntervalS: 0.5 })).toBe(false);
    expect(ok({ reportIntervalS: 86_401 })).toBe(false);
    expect(ok({ cameras: [] })).toBe(false);
    expect(ok({ cameras: ['dock'] })).toBe(true);
    expect(ok({ extra: 1 })).toBe(false);
  });
});

describe('FleetBody', () => {
  it('models and cameras, with the optional sections a push may replace', () => {
    const parsed = FleetBody.parse(
      body({
        mqtt: { url: 'mqtts://broker:8883' },
        http: { port: 9000 },
        outbox: { maxRows: 10 },
        logLevel: 'debug',
        shadow: { candidate: 'det', cameras: ['gate'] },
      }),
    );
    expect(parsed.mqtt).toMatchObject({ url: 'mqtts://broker:8883', baseTopic: 'vigil' });
    expect(parsed.http).toMatchObject({ port: 9000, enabled: true });
    expect(parsed.outbox).toMatchObject({ maxRows: 10 });
    expect(parsed.logLevel).toBe('debug');
    expect(parsed.cameras[0]).toMatchObject({ id: 'dock', enabled: true, loop: false });
    expect(parsed.shadow).toMatchObject({ candidate: 'det', cameras: ['gate'], share: 0.1 });
  });

  it.each(['site', 'device', 'dataDir', 'fleet', 'safety2', 'firmware'])(
    'identity and unknown fields are never pushed: %s is an error',
    (field) => {
      const r = FleetBody.safeParse({ ...body(), [field]: 'x' });
      expect(r.success).toBe(false);
      expect(r.error!.issues.some((i) => i.code === 'unrecognized_keys' && i.keys.includes(field))).toBe(
        true,
      );
    },
  );

  it('refuses a camera on an unknown model, duplicate camera ids and an empty camera list', () => {
    const unknown = FleetBody.safeParse(
      body({ cameras: [{ id: 'dock', source: '/dev/video0', model: 'nope' }] }),
    );
    expect(issues(unknown)).toContain('cameras.0.model: unknown model "nope" (defined: det)');
    const dup = FleetBody.safeParse(
      body({
        cameras: [
          { id: 'dock', source: '/dev/video0', model: 'det' },
          { id: 'dock', source: '/dev/video1', model: 'det' },
        ],
      }),
    );
    expect(issues(dup)).toContain('cameras.1.id: duplicate camera id "dock"');
    expect(FleetBody.safeParse(body({ cameras: [] })).success).toBe(false);
    expect(FleetBody.safeParse({ cameras: body().cameras }).success).toBe(false);
  });

  it('a shadow trial must name a model of the document and cameras of the document', () => {
    const cand = FleetBody.safeParse(body({ shadow: { candidate: 'cand' } }));
    expect(issues(cand)).toBe('shadow.candidate: unknown model "cand"');
    const cams = FleetBody.safeParse(
      body({ shadow: { candidate: 'det', cameras: ['gate', 'roof', 'dock'] } }),
    );
    expect(issues(cams)).toBe('shadow.cameras.1: unknown camera "roof"');
    expect(
      FleetBody.safeParse(
        body({
          models: { det: { path: '/a.onnx' }, cand: { url: 'https://m/c.onnx', sha256: sha } },
          shadow: { candidate: 'cand', cameras: ['dock'] },
        }),
      ).success,
    ).toBe(true);
  });

  it('refuses a bad value inside a replaced section (the real config schema)', () => {
    expect(issues(FleetBody.safeParse(body({ mqtt: { url: 'http://broker' } })))).toContain('mqtt.url');
    expect(FleetBody.safeParse(body({ http: { port: 70_000 } })).success).toBe(false);
    expect(FleetBody.safeParse(body({ logLevel: 'trace' as never })).success).toBe(false);
    expect(
      FleetBody.safeParse(body({ cameras: [{ id: 'dock', source: 'gopher://x/y', model: 'det' }] })).success,
    ).toBe(false);
  });
});

describe('FleetDocument and FleetEnvelope', () => {
  it('the signed fields are revision, target, config and issuedAt, in that order', () => {
    expect(signedFields).toEqual(['revision', 'target', 'config', 'issuedAt']);
  });

  it('accepts a well-formed document', () => {
    const r = FleetDocument.safeParse(doc());
    expect(issues(r)).toBe('');
    expect(FleetDocument.safeParse(doc({ issuedAt: '2026-01-02T05:04:05+02:00' })).success).toBe(true);
    expect(FleetDocument.safeParse(doc({ revision: 1 })).success).toBe(true);
    expect(FleetDocument.safeParse(doc({ revision: Number.MAX_SAFE_INTEGER })).success).toBe(true);
  });

  it.each([
    ['revision', 0],
    ['revision', -1],
    ['revision', 1.5],
    ['revision', '8'],
    ['revision', Number.MAX_SAFE_INTEGER + 1],
    ['target', 'north'],
    ['issuedAt', '2026-01-02 03:04:05'],
    ['issuedAt', 'yesterday'],
    ['keyId', '0123456789ABCDEF'],
    ['keyId', '0123456789abcde'],
    ['keyId', '0123456789abcdef0'],
    ['signature', `${'A'.repeat(86)}=`],
    ['signature', `${'A'.repeat(85)}==`],
    ['signature', `${'A'.repeat(87)}==`],
    ['signature', `${'A'.repeat(85)}-==`],
  ])('refuses %s = %j', (field, value) => {
    expect(FleetDocument.safeParse(doc({ [field]: value })).success).toBe(false);
    expect(FleetEnvelope.safeParse(doc({ [field]: value })).success).toBe(false);
  });

  it('refuses unknown or missing top-level fields', () => {
    expect(FleetDocument.safeParse(doc({ comment: 'x' })).success).toBe(false);
    expect(FleetEnvelope.safeParse(doc({ comment: 'x' })).success).toBe(false);
    for (const f of ['revision', 'target', 'config', 'issuedAt', 'keyId', 'signature']) {
      const d: Record<string, unknown> = doc();
      delete d[f];
      expect(FleetEnvelope.safeParse(d).success, f).toBe(false);
    }
  });

  it('the envelope takes any config object (the body is checked after the signature), the document does not', () => {
    const junk = doc({ config: { firmware: 'x', cameras: 3 } });
    expect(FleetEnvelope.safeParse(junk).success).toBe(true);
    expect(FleetDocument.safeParse(junk).success).toBe(false);
    expect(FleetEnvelope.safeParse(doc({ config: 'x' })).success).toBe(false);
    expect(FleetEnvelope.safeParse(doc({ config: [1] })).success).toBe(false);
  });
});
