import { appendFileSync, mkdtempSync, renameSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import {
  ReferenceCsvFollower,
  type CsvFollowerOptions,
  type CsvLine,
} from '../../../agent/services/reference-csv-follower.js';

const dirs: string[] = [];
afterEach(() => {
  for (const d of dirs.splice(0)) rmSync(d, { recursive: true, force: true });
});

/** A follower of `file` polled by hand (no timer), with what it said. */
function follow(file: string, opts: CsvFollowerOptions = {}) {
  const lines: CsvLine[] = [];
  const problems: (string | undefined)[] = [];
  const backlog: number[] = [];
  const f = new ReferenceCsvFollower(file, 'Europe/Rome', (l) => lines.push(l), {
    ...opts,
    onProblem: (p) => problems.push(p),
    onBacklog: (n) => backlog.push(n),
  });
  const rows = () => lines.flatMap((l) => ('row' in l ? [[l.line, l.row.ts.toISOString(), l.row.pm25]] : []));
  return { f, lines, problems, backlog, rows };
}

function tmpFile(name = 'sensor.csv'): string {
  const dir = mkdtempSync(path.join(tmpdir(), 'vigil-csv-follow-'));
  dirs.push(dir);
  return path.join(dir, name);
}

describe('ReferenceCsvFollower', () => {
  it("reads a logger's CSV in whole lines, as it grows: local times, humidity, quotes, CRLF and a BOM", () => {
    const file = tmpFile();
    writeFileSync(file, '\uFEFFtime,"PM2.5 (ug/m3)",RH\r\n2025-02-10 10:00,"21.5",80\r\n2025-02-10 11:00,19');
    const { f, lines, rows } = follow(file);
    f.poll();
    // 10:00 in Rome (UTC+1 in February) is 09:00Z; the 11:00 line has no newline yet: not read.
    expect(rows()).toEqual([[2, '2025-02-10T09:00:00.000Z', 21.5]]);
    expect(lines[0]).toMatchObject({ row: { humidity: 80 } });
    appendFileSync(file, '2,\r\n');
    f.poll();
    expect(rows().at(-1)).toEqual([3, '2025-02-10T10:00:00.000Z', 192]);
    expect('humidity' in (lines[1] as { row: object }).row).toBe(false); // a blank RH cell is no humidity
    f.poll(); // nothing new
    expect(lines).toHaveLength(2);
  });

  it('keeps multi-byte characters whole when a read ends inside one, and reads a large file a piece at a time', () => {
    const file = tmpFile();
    const body = ['datetime,pm25,sensor'];
    for (let h = 0; h < 10; h++)
      body.push(`2025-02-10T${String(h).padStart(2, '0')}:00:00Z,${h + 10},Zürich µ-station`);
    writeFileSync(file, `${body.join('\n')}\n`);
    const { f, lines, rows } = follow(file, { maxReadBytes: 7 });
    for (let i = 0; i < 100 && rows().length < 10; i++) f.poll();
    expect(rows().map((r) => r[2])).toEqual([10, 11, 12, 13, 14, 15, 16, 17, 18, 19]);
    expect(lines.filter((l) => 'refused' in l)).toEqual([]);
  });

  it('refuses a bad line, naming it, and goes on with the next', () => {
    const file = tmpFile();
    writeFileSync(
      file,
      'ts,pm25\n2025-02-10T10:00:00Z,\n2025-02-10T10:00:00Z,-999\nyesterday,12\n2025-13-40T10:00Z,12\n2025-02-10T12:00:00Z,14\n',
    );
    const { f, lines, rows } = follow(file);
    f.poll();
    expect(lines.filter((l) => 'refused' in l)).toEqual([
      { line: 2, refused: 'line 2: blank' },
      { line: 3, refused: 'line 3: -999 is not a PM2.5 value in 0-2000' },
      { line: 4, refused: 'line 4: not a timestamp: "yesterday"' },
      { line: 5, refused: 'line 5: not a calendar time: "2025-13-40T10:00Z"' },
    ]);
    expect(rows()).toEqual([[6, '2025-02-10T12:00:00.000Z', 14]]);
  });

  it('passes over the backlog older than the frames kept, once, and takes every row after it', () => {
    const file = tmpFile();
    writeFileSync(file, 'ts,pm25\n2025-02-10T08:00:00Z,1\n2025-02-10T09:00:00Z,2\n2025-02-10T10:00:00Z,3\n');
    const { f, rows, backlog } = follow(file, { backlogSince: Date.parse('2025-02-10T09:30:00Z') });
    f.poll();
    f.poll();
    expect(rows()).toEqual([[4, '2025-02-10T10:00:00.000Z', 3]]);
    expect(backlog).toEqual([2]);
    // A late row appended afterwards is a reading like any other (a gateway's backlog pairs if it can).
    appendFileSync(file, '2025-02-10T07:00:00Z,4\n');
    f.poll();
    expect(rows().at(-1)).toEqual([5, '2025-02-10T07:00:00.000Z', 4]);
    expect(backlog).toEqual([2]);
  });

  it('waits for a missing file, says so once, and reads it from its header once it is there', () => {
    const file = tmpFile();
    const { f, problems, rows } = follow(file);
    f.poll();
    f.poll();
    expect(problems).toEqual([`cannot read ${file}: ENOENT`]);
    writeFileSync(file, 'ts,pm25\n2025-02-10T10:00:00Z,9\n');
    f.poll();
    expect(problems).toEqual([`cannot read ${file}: ENOENT`, undefined]);
    expect(rows()).toEqual([[2, '2025-02-10T10:00:00.000Z', 9]]);
  });

  it('reads a rotated or truncated file again from its header; a file without the columns is a problem', () => {
    const file = tmpFile();
    writeFileSync(file, 'ts,pm25\n2025-02-10T10:00:00Z,9\n2025-02-10T11:00:00Z,10\n');
    const { f, problems, rows } = follow(file);
    f.poll();
    renameSync(file, `${file}.1`); // logrotate: a new file in its place
    writeFileSync(file, 'datetime,pm2_5\n2025-02-10T12:00:00Z,11\n');
    f.poll();
    expect(rows().at(-1)).toEqual([2, '2025-02-10T12:00:00.000Z', 11]);
    writeFileSync(file, 'ts,pm25\n2025-02-10T13:00:00Z,12\n'); // truncated and rewritten, same inode
    f.poll();
    expect(rows().at(-1)).toEqual([2, '2025-02-10T13:00:00.000Z', 12]);
    writeFileSync(file, 'when,value\n2025-02-10T14:00:00Z,13\n');
    f.poll();
    expect(problems.at(-1)).toBe(`${file}: line 1: needs a time column (datetime/time/ts) and a pm25 column`);
    expect(rows()).toHaveLength(4);
  });
});
