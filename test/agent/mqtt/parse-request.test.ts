import { describe, expect, it } from 'vitest';
import { jsonDepth, parseRequest, requestLimits } from '../../../agent/mqtt/parse-request.js';

const req = (text: string) => parseRequest(Buffer.from(text));

describe('parseRequest', () => {
  it('reads an object, echoing a string or number transaction', () => {
    expect(req('{"transaction":"a1","x":1}')).toEqual({
      ok: true,
      body: { transaction: 'a1', x: 1 },
      transaction: 'a1',
    });
    expect(req('{"transaction":7}')).toMatchObject({ ok: true, transaction: 7 });
    expect(req('')).toEqual({ ok: true, body: {} });
  });

  it('says precisely what is wrong with hostile input, never throws', () => {
    expect(req('{"a":')).toMatchObject({ ok: false, error: expect.stringMatching(/^invalid JSON: /) });
    expect(parseRequest(Buffer.from([0x7b, 0xff, 0xfe, 0x7d]))).toEqual({
      ok: false,
      error: 'invalid JSON: the payload is not UTF-8 text',
    });
    const huge = Buffer.from(`{"x":"${'a'.repeat(requestLimits.maxBytes)}"}`);
    expect(parseRequest(huge)).toEqual({
      ok: false,
      error: `request too large: ${huge.length} bytes (at most 65536)`,
    });
    expect(req('['.repeat(33) + ']'.repeat(33))).toEqual({
      ok: false,
      error: 'request nested too deeply (more than 32 levels)',
    });
    // Deeper than any stack: refused before parsing.
    expect(req('{"a":' + '['.repeat(60_000))).toMatchObject({ ok: false, error: /nested too deeply/ });
    expect(req('[]')).toEqual({ ok: false, error: 'request must be a JSON object, got array' });
    expect(req('42')).toEqual({ ok: false, error: 'request must be a JSON object, got number' });
    expect(req('null')).toEqual({ ok: false, error: 'request must be a JSON object, got null' });
    // The error the request table of docs/mqtt.md promises, for every type that is neither.
    for (const bad of ['{"a":1}', 'true', 'null', '[1]'])
      expect(req(`{"transaction":${bad}}`)).toEqual({
        ok: false,
        error: 'transaction: expected string or number',
      });
    expect(req(`{"transaction":"${'t'.repeat(257)}"}`)).toMatchObject({
      ok: false,
      error: expect.stringMatching(/^transaction: .*256/),
    });
    expect(req('{"transaction":{"a":1}}')).not.toHaveProperty('transaction');
  });

  it('counts depth outside strings only', () => {
    expect(jsonDepth('{"a":"[[[[{{{{","b":[{"c":"\\"]"}]}')).toBe(3);
    expect(jsonDepth('"x"')).toBe(0);
    // 32 levels are fine.
    expect(req('{"a":' + '['.repeat(31) + ']'.repeat(31) + '}')).toMatchObject({ ok: true });
  });
});
