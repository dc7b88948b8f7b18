import { closeSync, openSync, readSync, statSync } from 'node:fs';
import { StringDecoder } from 'node:string_decoder';
import {
  labelColumns,
  parseLabelLine,
  type LabelColumns,
  type LabelRow,
} from '../../models/pm25/label-csv.js';

/** What the follower found on one line of the file: a reading, or why the line is none. */
export type CsvLine = { line: number; row: LabelRow } | { line: number; refused: string };

export interface CsvFollowerOptions {
  /** How often the file is looked at. Default 10 s: a logger writes an hourly mean once an hour. */
  pollMs?: number;
  /** Rows before this time (epoch ms) in the file as it is at start are passed over: no frame is kept for them. */
  backlogSince?: number;
  /** Most bytes read per look (bounds memory on a huge backlog); the rest waits for the next look. */
  maxReadBytes?: number;
  /** A problem with the file as a whole (missing, unreadable, no usable header), said once until it changes. */
  onProblem?: (problem: string | undefined) => void;
  /** How many rows of the backlog were passed over, said once after the first pass. */
  onBacklog?: (passedOver: number) => void;
}

/**
 * Follows a CSV that a sensor's logger on this box appends to (`pm25.referenceCsv`), like `tail -F`: each new
 * complete line becomes a reading. A file truncated or replaced (log rotation) is read again from its header;
 * a missing file is waited for. Rows already in the file at start that are older than `backlogSince` are
 * passed over (they could pair with nothing, and would each log a warning at every start).
 */
export class ReferenceCsvFollower {
  private timer: NodeJS.Timeout | undefined;
  private offset = 0;
  private inode = -1;
  private cols: LabelColumns | undefined;
  private lineNo = 0;
  private partial = '';
  private decoder = new StringDecoder('utf8');
  private inBacklog = true;
  private passedOver = 0;
  private problem: string | undefined;
  /** The header line's bytes as read (newline included), to notice a file rewritten under the follower. */
  private header: Buffer | undefined;

  constructor(
    readonly file: string,
    private readonly timeZone: string,
    private readonly onLine: (line: CsvLine) => void,
    private readonly opts: CsvFollowerOptions = {},
  ) {}

  start(): void {
    this.stop();
    this.poll();
    this.timer = setInterval(() => this.poll(), this.opts.pollMs ?? 10_000);
    this.timer.unref();
  }

  stop(): void {
    clearInterval(this.timer);
    this.timer = undefined;
  }

  /** One look at the file: reads what was appended since the last, in whole lines. */
  poll(): void {
    let size: number;
    let ino: number;
    try {
      ({ size, ino } = statSync(this.file));
    } catch (err) {
      return this.say(`cannot read ${this.file}: ${(err as NodeJS.ErrnoException).code ?? String(err)}`);
    }
    if (ino !== this.inode || size < this.offset || !this.sameHeader()) this.restart(ino);
    if (size === this.offset) return this.endOfBacklog();
    const length = Math.min(size - this.offset, this.opts.maxReadBytes ?? 1 << 20);
    const buf = Buffer.alloc(length);
    let fd: number | undefined;
    try {
      fd = openSync(this.file, 'r');
      readSync(fd, buf, 0, length, this.offset);
    } catch (err) {
      return this.say(`cannot read ${this.file}: ${(err as NodeJS.ErrnoException).code ?? String(err)}`);
    } finally {
      if (fd !== undefined) closeSync(fd);
    }
    this.offset += length;
    const lines = (this.partial + this.decoder.write(buf)).split('\n');
    this.partial = lines.pop()!;
    for (const l of lines) this.take(l);
    if (this.offset === size) this.endOfBacklog();
  }

  /** One whole line as read (its \r, if any, still on it). */
  private take(raw: string): void {
    const text = raw.replace(/\r$/, '');
    this.lineNo++;
    if (!this.cols) {
      const cols = labelColumns(text);
      if (typeof cols === 'string') return this.say(`${this.file}: line 1: ${cols}`);
      this.cols = cols;
      this.header = Buffer.from(`${raw}\n`);
      return this.say(undefined);
    }
    if (!text.trim()) return;
    const line = this.lineNo;
    const parsed = parseLabelLine(text, this.cols, this.timeZone);
    if ('row' in parsed) {
      if (this.inBacklog && parsed.row.ts.getTime() < (this.opts.backlogSince ?? -Infinity))
        return void this.passedOver++;
      return this.onLine({ line, row: parsed.row });
    }
    this.onLine({ line, refused: `line ${line}: ${'bad' in parsed ? parsed.bad : parsed.skip}` });
  }

  /**
   * Whether the file still starts with the header read: a file truncated and rewritten past the old offset
   * before a look would otherwise be read on from the middle of a line.
   */
  private sameHeader(): boolean {
    if (!this.header) return true;
    const now = Buffer.alloc(this.header.length);
    let fd: number | undefined;
    try {
      fd = openSync(this.file, 'r');
      return readSync(fd, now, 0, now.length, 0) === now.length && now.equals(this.header);
    } catch {
      return true; // the read below reports it
    } finally {
      if (fd !== undefined) closeSync(fd);
    }
  }

  /** A new file (rotated) or a shorter one (truncated): read again from its header. */
  private restart(ino: number): void {
    this.inode = ino;
    this.offset = 0;
    this.lineNo = 0;
    this.partial = '';
    this.decoder = new StringDecoder('utf8');
    this.cols = undefined;
    this.header = undefined;
  }

  private endOfBacklog(): void {
    if (!this.inBacklog) return;
    this.inBacklog = false;
    if (this.passedOver) this.opts.onBacklog?.(this.passedOver);
  }

  private say(problem: string | undefined): void {
    if (problem === this.problem) return;
    this.problem = problem;
    this.opts.onProblem?.(problem);
  }
}
