import { describe, expect, it } from 'vitest';
import { createLogger, silentLogger, type LogLevel } from '../../config/logger.js';

function capture(opts: { level?: LogLevel; json?: boolean } = {}) {
  const lines: string[] = [];
  return { lines, log: createLogger({ ...opts, write: (line) => lines.push(line) }) };
}
const iso = /^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}\.\d{3}Z$/;

describe('createLogger levels', () => {
  it.each([
    ['debug', ['debug', 'info', 'warn', 'error']],
    ['info', ['info', 'warn', 'error']],
    ['warn', ['warn', 'error']],
    ['error', ['error']],
  ] as const)('at %s writes %j', (level, expected) => {
    const { lines, log } = capture({ level, json: true });
    for (const l of ['debug', 'info', 'warn', 'error'] as const) log[l](l);
    expect(lines.map((line) => (JSON.parse(line) as { level: string }).level)).toEqual(expected);
  });

  it('defaults to info', () => {
    const { lines, log } = capture({ json: true });
    log.debug('hidden');
    log.info('shown');
    expect(lines).toHaveLength(1);
  });

  it('keeps the level in a child', () => {
    const { lines, log } = capture({ level: 'warn' });
    log.child({ camera: 'a' }).info('hidden');
    log.child({ camera: 'a' }).warn('shown');
    expect(lines).toHaveLength(1);
  });
});

describe('text lines', () => {
  it('are `time LEVEL msg key=value…`, strings with spaces and other values as JSON', () => {
    const { lines, log } = capture();
    log.warn('camera stalled', { camera: 'dock-1', seconds: 12, ok: false, reason: 'no frame', tags: ['a'] });
    const [time, rest] = [lines[0]!.slice(0, 24), lines[0]!.slice(25)];
    expect(time).toMatch(iso);
    expect(rest).toBe('WARN  camera stalled camera=dock-1 seconds=12 ok=false reason="no frame" tags=["a"]');
  });

  it('pad the level to five characters and leave nothing after a bare message', () => {
    const { lines, log } = capture({ level: 'debug' });
    log.debug('d');
    log.info('i');
    log.error('e', {});
    expect(lines.map((l) => l.slice(25))).toEqual(['DEBUG d', 'INFO  i', 'ERROR e']);
  });

  it('leave out undefined fields', () => {
    const { lines, log } = capture();
    log.info('m', { a: undefined, b: null, c: 0 });
    expect(lines[0]!.slice(25)).toBe('INFO  m b=null c=0');
  });
});

describe('JSON lines', () => {
  it('are one object per line with ts, level, msg and the fields', () => {
    const { lines, log } = capture({ json: true });
    log.error('boom', { camera: 'a', n: 3, nested: { x: [1] }, gone: undefined });
    expect(lines).toHaveLength(1);
    expect(lines[0]).not.toContain('\n');
    const rec = JSON.parse(lines[0]!) as Record<string, unknown>;
    expect(rec.ts).toMatch(iso);
    expect(rec).toEqual({ ts: rec.ts, level: 'error', msg: 'boom', camera: 'a', n: 3, nested: { x: [1] } });
    expect(Object.keys(rec).slice(0, 3)).toEqual(['ts', 'level', 'msg']);
  });

  it('escape a message with a newline inside the line', () => {
    const { lines, log } = capture({ json: true });
    log.info('two\nlines');
    expect(lines).toHaveLength(1);
    expect((JSON.parse(lines[0]!) as { msg: string }).msg).toBe('two\nlines');
  });
});

describe('child context', () => {
  it('adds its fields to every record, nesting, the record’s own fields last', () => {
    const { lines, log } = capture({ json: true });
    const cam = log.child({ camera: 'dock-1', model: 'det' });
    const stage = cam.child({ stage: 'decode', model: 'det2' });
    cam.info('a');
    stage.info('b', { stage: 'infer' });
    log.info('c');
    const recs = lines.map((l) => {
      const { ts: _ts, ...rest } = JSON.parse(l) as Record<string, unknown>;
      return rest;
    });
    expect(recs).toEqual([
      { level: 'info', msg: 'a', camera: 'dock-1', model: 'det' },
      { level: 'info', msg: 'b', camera: 'dock-1', model: 'det2', stage: 'infer' },
      { level: 'info', msg: 'c' },
    ]);
  });

  it('writes through the parent’s sink in text mode too', () => {
    const { lines, log } = capture();
    log.child({ camera: 'a' }).info('x', { n: 1 });
    expect(lines[0]!.slice(25)).toBe('INFO  x camera=a n=1');
  });
});

describe('no credentials in log lines', () => {
  const secret = 'rtsp://admin:hunter2@10.0.0.5/s?token=abc';

  it.each([false, true])('json=%s: in the message, fields and child context', (json) => {
    const { lines, log } = capture({ json });
    log.child({ source: secret }).warn(`cannot open ${secret}`, { url: 'http://u:pw@cam/snap?password=pw' });
    expect(lines).toHaveLength(1);
    expect(lines[0]).not.toMatch(/hunter2|abc|pw@|password=pw/);
    expect(lines[0]).toContain('rtsp://***@10.0.0.5/s?token=***');
    expect(lines[0]).toContain('http://***@cam/snap?password=***');
  });

  it.each([false, true])('json=%s: inside objects and arrays too, whatever else they hold', (json) => {
    const { lines, log } = capture({ json });
    const err = new Error('boom');
    log.error('camera config', {
      camera: { id: 'dock', source: secret, zones: [{ name: 'a' }] },
      sources: [secret, { url: secret }],
      n: 3,
      err,
    });
    expect(lines[0]).not.toMatch(/hunter2|abc/);
    expect(lines[0]).toContain('rtsp://***@10.0.0.5/s?token=***');
    if (json) {
      const rec = JSON.parse(lines[0]!) as Record<string, unknown>;
      expect(rec.camera).toEqual({
        id: 'dock',
        source: 'rtsp://***@10.0.0.5/s?token=***',
        zones: [{ name: 'a' }],
      });
      expect(rec.n).toBe(3);
    }
  });
});

describe('silentLogger', () => {
  it('drops everything, children included', () => {
    for (const l of ['debug', 'info', 'warn', 'error'] as const) expect(silentLogger[l]('x')).toBeUndefined();
    expect(silentLogger.child({ a: 1 })).toBe(silentLogger);
  });
});
