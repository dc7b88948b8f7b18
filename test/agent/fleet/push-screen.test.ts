import { describe, expect, it } from 'vitest';
import { fitToScreen } from '../../../agent/fleet/push-screen.js';
import { PushTracker, renderPushTable } from '../../../agent/fleet/push-tracker.js';

// The live table of `vigil fleet push` is redrawn in place by moving the cursor up the rows the last frame
// took: a wrapped line or a frame taller than the terminal left stale copies of the table on screen.

const state = (device: string) =>
  Buffer.from(
    JSON.stringify({
      site: 'yard',
      device,
      groups: ['north'],
      revision: 1,
      source: 'file',
      keyIds: [],
      ts: 1,
    }),
  );
const rolledBack = (device: string) =>
  Buffer.from(
    JSON.stringify({
      id: 'x',
      site: 'yard',
      device,
      revision: 7,
      status: 'rolled_back',
      errors: ['camera "dock" failed: source file not found: /srv/recordings/dock-camera-1.avi)'],
      changed: ['cameras.dock: source'],
      running: 1,
      ts: 2,
    }),
  );

function table(boxes: number, answered: number): string {
  const t = new PushTracker('group:north', 7);
  const names = Array.from({ length: boxes }, (_, i) => `box${String(i).padStart(3, '0')}`);
  for (const d of names) t.onMessage(`vigil/yard/${d}/config/state`, state(d));
  t.pushed(0);
  for (const d of names.slice(0, answered)) t.onMessage(`vigil/yard/${d}/config/result`, rolledBack(d), 1500);
  return renderPushTable(t, 7, 2000);
}

/** Terminal rows a text takes at this width: a line of 1..width characters is one row. */
const rowsAt = (text: string, width: number) =>
  text.split('\n').reduce((n, l) => n + Math.max(1, Math.ceil(l.length / width)), 0);

describe('fitToScreen', () => {
  it('cuts box lines to the width, keeps the summary whole, and counts the rows it takes', () => {
    const full = table(3, 3);
    const frame = fitToScreen(full, 80, 24);
    const lines = frame.text.split('\n');
    expect(lines).toHaveLength(6);
    for (const l of lines.slice(0, 4)) expect(l.length).toBeLessThan(80);
    expect(lines[1]).toMatch(/^yard\/box000\s+ROLLED_BACK\s+1\s+1\.5s\s+camera "dock" failed: .*…$/);
    const summary = full.split('\n').at(-1)!;
    expect(summary.length).toBeGreaterThan(80); // wraps on an 80-column terminal
    expect(lines.at(-1)).toBe(summary);
    expect(frame.rows).toBe(rowsAt(frame.text, 80));
    expect(frame.rows).toBe(7);
  });

  it('a fleet taller than the terminal: the boxes that fit, then how many more', () => {
    const frame = fitToScreen(table(300, 120), 100, 24);
    expect(frame.rows).toBe(rowsAt(frame.text, 100));
    expect(frame.rows).toBeLessThanOrEqual(23);
    const lines = frame.text.split('\n');
    expect(lines[0]).toMatch(/^DEVICE\s+STATUS/);
    const shownBoxes = lines.filter((l) => l.startsWith('yard/')).length;
    expect(lines).toContain(`… ${300 - shownBoxes} more (the whole table when the push ends)`);
    expect(lines.at(-1)).toMatch(/^revision 7: 300 boxes, 0 applied, .* 120 rolled back, 180 waiting/);
  });

  it('a table that fits is shown as it is', () => {
    const full = table(2, 0);
    expect(fitToScreen(full, 120, 24)).toEqual({ text: full, rows: full.split('\n').length });
  });
});
