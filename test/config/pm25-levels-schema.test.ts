import { describe, expect, it } from 'vitest';
import { defaultPm25Levels, Pm25Levels } from '../../config/pm25-levels-schema.js';
import { VigilConfig } from '../../config/schema.js';

const messages = (levels: unknown) => {
  const r = Pm25Levels.safeParse(levels);
  return r.success ? [] : r.error.issues.map((i) => `${i.path.join('.')}: ${i.message}`);
};

describe('http.pm25Levels', () => {
  it('defaults to the US EPA AQI categories for PM2.5 (2024 revision)', () => {
    const cfg = VigilConfig.parse({
      site: 's',
      device: 'd',
      models: { m: { path: 'm.onnx' } },
      cameras: [{ id: 'c', source: 'x.mp4', model: 'm' }],
    });
    expect(cfg.http.pm25Levels.map((l) => [l.name, l.upTo ?? null])).toEqual([
      ['good', 9],
      ['moderate', 35.4],
      ['unhealthy for sensitive groups', 55.4],
      ['unhealthy', 125.4],
      ['very unhealthy', 225.4],
      ['hazardous', null],
    ]);
    expect(messages(defaultPm25Levels)).toEqual([]);
  });

  it('refuses levels the page could not read one way only, saying which and why', () => {
    expect(messages([{ name: 'only', tone: 'ok' }])).toEqual([
      expect.stringMatching(/^: Too small: expected array to have >=2 items/),
    ]);
    expect(
      messages([
        { name: 'clean', upTo: 10, tone: 'ok' },
        { name: 'dirty', upTo: 50, tone: 'bad' },
      ]),
    ).toEqual(['1.upTo: the last level has no upper edge']);
    expect(
      messages([
        { name: 'clean', tone: 'ok' },
        { name: 'dirty', tone: 'bad' },
      ]),
    ).toEqual(['0.upTo: every level but the last needs upTo']);
    expect(
      messages([
        { name: 'clean', upTo: 20, tone: 'ok' },
        { name: 'fair', upTo: 10, tone: 'warn' },
        { name: 'clean', tone: 'bad' },
      ]),
    ).toEqual(['1.upTo: upper edges must rise: 10 after 20', '2.name: level "clean" is named twice']);
    expect(
      messages([
        { name: 'a', upTo: 5, tone: 'green' },
        { name: 'b', tone: 'bad' },
      ]),
    ).toEqual([expect.stringMatching(/^0\.tone: /)]);
  });
});
