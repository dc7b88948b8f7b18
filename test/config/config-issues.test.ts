import { z } from 'zod';
import { describe, expect, it } from 'vitest';
import { closestField, fieldsAt, formatIssues } from '../../config/config-issues.js';

const Schema = z.strictObject({
  cameras: z.array(z.strictObject({ id: z.string(), fps: z.number().positive().optional() })).min(1),
  http: z.strictObject({ port: z.number().int().max(65535).default(8080) }).prefault({}),
  models: z.record(z.string(), z.strictObject({ path: z.string(), workers: z.number().min(1) })),
  token: z.string().min(16, 'a token needs at least 16 characters').optional(),
});
const lines = (input: unknown) => {
  const r = Schema.safeParse(input);
  return r.success ? [] : formatIssues(r.error.issues, input, Schema);
};

describe('config issues in words an installer reads', () => {
  it('says bounds as bounds, with what was written', () => {
    expect(lines({ cameras: [{ id: 'a', fps: -2 }], models: {} })).toEqual([
      'cameras[0].fps: must be more than 0, got number -2',
    ]);
    expect(lines({ cameras: [], models: {} })).toEqual([
      'cameras: must be at least 1 item, got an array of 0',
    ]);
    expect(
      lines({ cameras: [{ id: 'a' }], http: { port: 70000 }, models: { m: { path: 'x', workers: 0 } } }),
    ).toEqual([
      'http.port: must be at most 65535, got number 70000',
      'models.m.workers: must be at least 1, got number 0',
    ]);
    expect(lines({ cameras: [{ id: 'a' }], http: { port: 80.5 }, models: {} })).toEqual([
      'http.port: expected a whole number, got number 80.5',
    ]);
  });

  it("keeps a schema's own message, and never shows a secret", () => {
    expect(lines({ cameras: [{ id: 'a' }], models: {}, token: 'short' })).toEqual([
      'token: a token needs at least 16 characters, got a string (value hidden)',
    ]);
  });

  it('names the field an unknown one most likely meant, at any depth (arrays, records, defaults)', () => {
    expect(lines({ cameras: [{ id: 'a', fsp: 2 }], models: {} })).toEqual([
      'cameras[0]: unknown field "fsp" (did you mean "fps"?)',
    ]);
    expect(
      lines({
        cameras: [{ id: 'a' }],
        http: { prot: 1 },
        models: { m: { path: 'x', workers: 1, worker: 2 } },
      }),
    ).toEqual([
      'http: unknown field "prot" (did you mean "port"?)',
      'models.m: unknown field "worker" (did you mean "workers"?)',
    ]);
    expect(lines({ cameras: [{ id: 'a' }], models: {}, banana: 1 })).toEqual([
      '(root): unknown field "banana"',
    ]);
  });

  it('finds the fields of the object at a path, and guesses only when close', () => {
    expect(fieldsAt(Schema, ['cameras', 3])).toEqual(['id', 'fps']);
    expect(fieldsAt(Schema, ['http'])).toEqual(['port']);
    expect(fieldsAt(Schema, ['models', 'any'])).toEqual(['path', 'workers']);
    expect(fieldsAt(Schema, ['nothing', 'here'])).toEqual([]);
    expect(closestField('Fps', ['fps', 'id'])).toBe('fps');
    expect(closestField('stallTimeout', ['stallTimeoutS', 'connectTimeoutS'])).toBe('stallTimeoutS');
    expect(closestField('xyz', ['fps', 'id'])).toBeUndefined();
  });
});
