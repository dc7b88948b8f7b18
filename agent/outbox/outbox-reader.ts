import { readNotes } from './outbox-notes.js';
import { decodeRow, type OutboxStatements, type RawRow } from './outbox-sql.js';
import type { OutboxNote, OutboxRow } from './outbox-types.js';

/** The read side of the Outbox: what the link asks when choosing the next rows to publish. */
export class OutboxReader {
  constructor(protected readonly sql: OutboxStatements) {}

  /** Up to `limit` rows, oldest first, skipping `exclude` (the rows already in flight). */
  next(limit: number, exclude: ReadonlySet<number>): OutboxRow[] {
    if (limit <= 0) return [];
    const out: OutboxRow[] = [];
    for (const r of this.sql.next.all(limit + exclude.size) as RawRow[]) {
      if (exclude.has(r.rowid)) continue;
      out.push(decodeRow(r));
      if (out.length === limit) break;
    }
    return out;
  }

  /** Up to `limit` rows with `after` < rowid <= `upTo`, oldest first. */
  rowsAfter(after: number, limit: number, upTo = Number.MAX_SAFE_INTEGER): OutboxRow[] {
    if (limit <= 0) return [];
    return (this.sql.range.all(after, upTo, limit) as RawRow[]).map(decodeRow);
  }

  /** The notes messages left (OutboxMessage.note) whose key starts with `prefix`. */
  notes(prefix: string): OutboxNote[] {
    return readNotes(this.sql, prefix);
  }

  /** The newest row's id (0 when empty): rows committed later all have larger ids. */
  lastRowid(): number {
    return (this.sql.lastRowid.get() as { pk: number }).pk;
  }

  /** Rows with rowid <= `upTo`. A range count: cheap, but not free on a large backlog. */
  countUpTo(upTo: number): number {
    return (this.sql.countUpTo.get(upTo) as { n: number }).n;
  }

  /** The ordering keys (stream, else topic) of the rows with rowid <= `upTo`. */
  keysUpTo(upTo: number): string[] {
    return (this.sql.keysUpTo.all(upTo) as { k: string }[]).map((r) => r.k);
  }

  /** Whether any row of ordering key `key` has rowid <= `upTo` (an index seek). */
  hasKeyUpTo(key: string, upTo: number): boolean {
    return this.sql.hasKeyUpTo.get(key, upTo) !== undefined;
  }
}
