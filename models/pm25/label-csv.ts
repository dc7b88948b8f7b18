import { readFileSync } from 'node:fs';
import path from 'node:path';
import { csvFields } from './csv-line.js';
import { parseLocalTime } from './local-time.js';
import { maxReferencePm25 } from './payloads.js';

/** One row of a reference CSV: a sensor's reading (and, in a replay's labels, the frame it belongs to). */
export interface LabelRow {
  file?: string;
  ts: Date;
  pm25: number;
  /** Relative humidity, %, when the CSV has a humidity column (`rh`, `humidity`) and the cell a value. */
  humidity?: number;
}

/** Where a reference CSV keeps each field: indexes into a line's fields, -1 for a column it lacks. */
export interface LabelColumns {
  time: number;
  pm25: number;
  file: number;
  humidity: number;
}

/** A header's columns, or why it is no reference CSV: a time column and a PM2.5 column are needed. */
export function labelColumns(header: string): LabelColumns | string {
  // A spreadsheet's "CSV UTF-8" starts with a byte-order mark, which hid the first column's name.
  const cols = csvFields(header.replace(/^\uFEFF/, '')).map((c) => c.trim().toLowerCase());
  const time = cols.findIndex((c) => ['datetime', 'time', 'ts', 'timestamp'].includes(c));
  const pm25 = cols.findIndex((c) => c.startsWith('pm25') || c.startsWith('pm2.5') || c === 'pm2_5');
  if (time < 0 || pm25 < 0) return 'needs a time column (datetime/time/ts) and a pm25 column';
  const humidity = cols.findIndex((c) => ['rh', 'humidity', 'relative_humidity'].includes(c));
  return { time, pm25, file: cols.indexOf('file'), humidity };
}

/**
 * One data line: its row, `skip` for a row without a usable PM2.5 value (a blank cell, a station's gap that
 * would otherwise read as 0 µg/m³; text; a value outside 0–2000 µg/m³, such as the missing-value code -999),
 * or `bad` for a time that cannot be read. Times without an offset are read in `timeZone`.
 */
export function parseLabelLine(
  line: string,
  cols: LabelColumns,
  timeZone: string,
): { row: LabelRow } | { skip: string } | { bad: string } {
  const f = csvFields(line);
  const cell = (f[cols.pm25] ?? '').trim();
  const pm25 = Number(cell);
  if (!cell || !Number.isFinite(pm25) || pm25 < 0 || pm25 > maxReferencePm25)
    return { skip: cell ? `${cell} is not a PM2.5 value in 0-${maxReferencePm25}` : 'blank' };
  let ts: Date;
  try {
    ts = parseLocalTime(f[cols.time] ?? '', timeZone);
  } catch (err) {
    return { bad: (err as Error).message };
  }
  // An offset makes parseLocalTime take the text as it is: "2025-13-40T10:00Z" came back as an Invalid Date.
  if (Number.isNaN(ts.getTime())) return { bad: `not a calendar time: "${(f[cols.time] ?? '').trim()}"` };
  const row: LabelRow = cols.file >= 0 ? { ts, pm25, file: f[cols.file]!.trim() } : { ts, pm25 };
  const rh = cols.humidity >= 0 ? (f[cols.humidity] ?? '').trim() : '';
  if (rh && Number.isFinite(Number(rh)) && Number(rh) >= 0 && Number(rh) <= 100) row.humidity = Number(rh);
  return { row };
}

/**
 * Reads a labels CSV: a time column (`datetime`, `time` or `ts`), a PM2.5 column (`pm25…`), optionally `file`
 * and a humidity column. A row without a usable PM2.5 value is left out and described in `skipped`. A row
 * whose time cannot be read refuses the file, naming its line.
 */
export function readLabels(file: string, timeZone: string, skipped: string[] = []): LabelRow[] {
  const [header, ...lines] = readFileSync(file, 'utf8').trim().split(/\r?\n/);
  const cols = labelColumns(header!);
  if (typeof cols === 'string') throw new Error(`${file}: ${cols}`);
  const rows: LabelRow[] = [];
  lines.forEach((l, i) => {
    if (!l.trim()) return;
    const parsed = parseLabelLine(l, cols, timeZone);
    if ('bad' in parsed) throw new Error(`${file}, line ${i + 2}: ${parsed.bad}`);
    if ('skip' in parsed) skipped.push(`line ${i + 2}: ${parsed.skip}`);
    else rows.push(parsed.row);
  });
  return rows;
}

/** One line for a log: how many label rows were left out, and the first few. */
export function describeSkipped(file: string, skipped: readonly string[]): string {
  const shown = skipped.slice(0, 5).join('; ');
  const more = skipped.length > 5 ? `; ${skipped.length - 5} more` : '';
  return `${path.basename(file)}: ${skipped.length} row(s) without a usable PM2.5 value left out (${shown}${more})`;
}
