import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { describeSkipped, readLabels } from '../../../models/pm25/label-csv.js';

const work = mkdtempSync(path.join(tmpdir(), 'vigil-label-csv-'));
afterAll(() => rmSync(work, { recursive: true, force: true }));

describe('reference CSVs (replay labels, pm25.referenceCsv)', () => {
  it('reads a labels CSV: its time column by name, wall-clock times in the zone, blank and non-numeric rows out', () => {
    const file = path.join(work, 'labels-variants.csv');
    writeFileSync(
      file,
      'station, Time ,PM2.5 (ug/m3)\r\nx,2025-02-10 10:00,12.5\r\n\r\ny,2025-02-10T11:00:00+00:00,n/a\r\nz,2025-07-01T09:30,7\r\n',
    );
    const rows = readLabels(file, 'Europe/Rome');
    expect(rows).toEqual([
      { ts: new Date('2025-02-10T09:00:00Z'), pm25: 12.5 },
      { ts: new Date('2025-07-01T07:30:00Z'), pm25: 7 },
    ]);
    const withFile = path.join(work, 'labels-file.csv');
    writeFileSync(withFile, 'pm25,file,ts\n3, a.jpg ,2025-02-10T10:00Z\n');
    expect(readLabels(withFile, 'UTC')).toEqual([
      { file: 'a.jpg', ts: new Date('2025-02-10T10:00Z'), pm25: 3 },
    ]);
    const bad = path.join(work, 'labels-bad.csv');
    writeFileSync(bad, 'when,pm25\n2025-02-10T10:00,3\n');
    expect(() => readLabels(bad, 'UTC')).toThrow(/time column/);
    const badTime = path.join(work, 'labels-bad-time.csv');
    writeFileSync(badTime, 'ts,pm25\n2025-02-10T10:00,3\n10/02/2025 11:00,4\n');
    expect(() => readLabels(badTime, 'UTC')).toThrow('labels-bad-time.csv, line 3: not a timestamp');
  });

  // A spreadsheet's export (Excel's "CSV UTF-8") starts with a byte-order mark and quotes its fields: the
  // time column was not found, and a quoted value read as text.
  it('reads a spreadsheet export: a byte-order mark, quoted fields with commas and quotes in them', () => {
    const file = path.join(work, 'labels-excel.csv');
    writeFileSync(
      file,
      '\uFEFFdatetime,"PM2.5, ug/m3",note\r\n' +
        '"2025-02-10 10:00","12.5","said ""clear"", dry"\r\n' +
        '"2025-02-10 11:00",,gap\r\n' +
        '2025-02-10 12:00,7,\r\n',
    );
    const skipped: string[] = [];
    expect(readLabels(file, 'UTC', skipped)).toEqual([
      { ts: new Date('2025-02-10T10:00Z'), pm25: 12.5 },
      { ts: new Date('2025-02-10T12:00Z'), pm25: 7 },
    ]);
    expect(skipped).toEqual(['line 3: blank']);
  });

  it("leaves out a label row without a usable value, rather than reading a station's gap as 0 ug/m3", () => {
    const file = path.join(work, 'labels-gaps.csv');
    writeFileSync(
      file,
      'file,datetime,pm25_ugm3\n' +
        ['a.jpg,2025-05-01T10:00,', 'b.jpg,2025-05-01T11:00,-999', 'c.jpg,2025-05-01T12:00,0'].join('\n') +
        '\nd.jpg,2025-05-01T13:00, 4 \ne.jpg,2025-05-01T14:00,65535\nf.jpg,2025-05-01T15:00,n/a\n',
    );
    const skipped: string[] = [];
    expect(readLabels(file, 'UTC', skipped)).toEqual([
      { file: 'c.jpg', ts: new Date('2025-05-01T12:00Z'), pm25: 0 },
      { file: 'd.jpg', ts: new Date('2025-05-01T13:00Z'), pm25: 4 },
    ]);
    expect(skipped).toEqual([
      'line 2: blank',
      'line 3: -999 is not a PM2.5 value in 0-2000',
      'line 6: 65535 is not a PM2.5 value in 0-2000',
      'line 7: n/a is not a PM2.5 value in 0-2000',
    ]);
    expect(describeSkipped(file, skipped)).toBe(
      'labels-gaps.csv: 4 row(s) without a usable PM2.5 value left out (line 2: blank; line 3: -999 is not a ' +
        'PM2.5 value in 0-2000; line 6: 65535 is not a PM2.5 value in 0-2000; line 7: n/a is not a PM2.5 value in 0-2000)',
    );
    const many = Array.from({ length: 7 }, (_, i) => `line ${i + 2}: blank`);
    expect(describeSkipped(file, many)).toMatch(/\(line 2: blank;.*line 6: blank; 2 more\)$/);
  });

  it('takes a humidity column when there is one, and refuses an offset time that is no calendar time', () => {
    const file = path.join(work, 'labels-rh.csv');
    writeFileSync(
      file,
      'ts,pm25,RH\n2025-02-10T10:00Z,12,81.5\n2025-02-10T11:00Z,13,\n2025-02-10T12:00Z,14,140\n',
    );
    expect(readLabels(file, 'UTC')).toEqual([
      { ts: new Date('2025-02-10T10:00Z'), pm25: 12, humidity: 81.5 },
      { ts: new Date('2025-02-10T11:00Z'), pm25: 13 },
      { ts: new Date('2025-02-10T12:00Z'), pm25: 14 }, // 140 % is no humidity: the reading stays
    ]);
    const month13 = path.join(work, 'labels-month13.csv');
    writeFileSync(month13, 'ts,pm25\n2025-13-10T10:00Z,12\n');
    expect(() => readLabels(month13, 'UTC')).toThrow(
      'labels-month13.csv, line 2: not a calendar time: "2025-13-10T10:00Z"',
    );
  });
});
