import { readFileSync } from 'node:fs';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { parse as parseYaml } from 'yaml';
import { VigilConfig } from '../../config/schema.js';
import { repoRoot } from '../support/shared.js';

// A config with every optional section present and empty, so the schema fills each one's defaults.
const cfg = VigilConfig.parse({
  site: 's',
  device: 'd',
  mqtt: { url: 'mqtts://broker', homeAssistant: {}, tls: {} },
  http: {},
  outbox: {},
  drift: {},
  fleet: { keys: ['o1VUvl8G5Lf1PZdkdINtGX2UFbNf9Bd5UNoNrcG5yrQ='] },
  models: { m: { path: 'm.onnx', session: {} } },
  cameras: [
    {
      id: 'c',
      source: 'a.mp4',
      model: 'm',
      detect: {},
      pm25: {
        frame: { width: 10, height: 10 },
        sky: [0, 0, 1, 1],
        targets: [{ name: 't', rect: [0, 0, 1, 1], distanceKm: 1 }],
        near: { rect: [0, 0, 1, 1], distanceKm: 1 },
        registration: [0, 0, 1, 1],
        exposure: [0, 0, 1, 1],
      },
    },
  ],
}) as unknown as Record<string, unknown>;
const camera = (cfg.cameras as Record<string, unknown>[])[0]!;

/** The object each section of docs/config.md describes, by its heading. */
const sections: Record<string, unknown> = {
  'Top level': cfg,
  '`cameras[]`': camera,
  '`cameras[].pm25`': camera.pm25,
  '`models.<id>`': (cfg.models as Record<string, unknown>).m,
  '`mqtt`': cfg.mqtt,
  '`outbox`': cfg.outbox,
  '`http`': cfg.http,
  '`fleet`': cfg.fleet,
  '`drift`': cfg.drift,
};

/** Defaults the code applies where the value is used, not the schema (where, for whoever changes one). */
const filledAtRunTime: Record<string, string> = {
  'models.<id> cudaDeviceId': 'models/runtime/execution-provider.ts',
  'mqtt clientId': 'agent/runtime/agent.ts',
};

/** Rows `| \`field\` | type | \`default\` | …` whose default is one code span, with the section they are in. */
function documentedDefaults(): { section: string; field: string; text: string }[] {
  const rows: { section: string; field: string; text: string }[] = [];
  let section = '';
  for (const line of readFileSync(path.join(repoRoot, 'docs', 'config.md'), 'utf8').split('\n')) {
    const heading = /^#+ (.*)$/.exec(line);
    if (heading) section = heading[1]!;
    const cells = line.split(/(?<!\\)\|/).map((c) => c.trim());
    const field = /^`([\w.]+)`$/.exec(cells[1] ?? '');
    const value = /^`([^`]+)`$/.exec(cells[3] ?? '');
    if (section in sections && field && value) rows.push({ section, field: field[1]!, text: value[1]! });
  }
  return rows;
}

describe('docs/config.md states the schema’s defaults', () => {
  it('every default written as a value in its tables is the one the schema fills in', () => {
    const rows = documentedDefaults();
    expect(rows.length).toBeGreaterThan(50);
    const wrong = rows.flatMap(({ section, field, text }) => {
      if (`${section.replace(/`/g, '')} ${field}` in filledAtRunTime) return [];
      let actual: unknown = sections[section];
      for (const key of field.split('.')) actual = (actual as Record<string, unknown> | undefined)?.[key];
      const documented: unknown = parseYaml(text.replace(/\\\|/g, '|'));
      return JSON.stringify(actual) === JSON.stringify(documented)
        ? []
        : [`${section} ${field}: docs ${text}, schema ${JSON.stringify(actual)}`];
    });
    expect(wrong).toEqual([]);
  });
});
