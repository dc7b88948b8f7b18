import { targetMatches, type FleetTarget } from './fleet-document.js';
import { ConfigResultPayload, FleetStatePayload } from './fleet-payloads.js';

/** One box's progress during a push, as `vigil fleet push` shows it. */
export interface PushRow {
  site: string;
  device: string;
  /**
   * `waiting`: no answer yet; `current`: it already ran this very document before the push (a box that runs
   * another document, even a newer revision, answers the push: `stale` is a refusal, not success).
   */
  status: 'waiting' | 'current' | ConfigResultPayload['status'];
  /** The revision the box runs, as it last said. */
  running: number | null;
  errors: string[];
  changed: string[];
  /** Applied, but something still does not work there (a model failing since the box started). */
  warnings: string[];
  /** From the push to this box's result. */
  ms?: number;
}

const parse = (payload: Buffer): unknown => {
  try {
    return JSON.parse(payload.toString('utf8'));
  } catch {
    return undefined;
  }
};

/**
 * Folds the retained `config/state` and `config/result` messages of the fleet into one row per box the
 * push targets: boxes are known from their state (groups, site, device), results count when they answer
 * the pushed document (its revision and, where the box names it, its digest: the same revision re-signed
 * with another config is another document). Pure bookkeeping: the MQTT client is the caller's (push.ts).
 */
export class PushTracker {
  readonly rows = new Map<string, PushRow>();
  /** Boxes whose retained `status` says `offline` (their last will, or a clean stop): they cannot answer now. */
  private readonly offline = new Set<string>();
  private pushedAt: number | undefined;

  /** `digest`: documentDigest() of the pushed document (payloads from boxes that name none match by revision). */
  constructor(
    private readonly target: FleetTarget,
    readonly revision: number,
    private readonly digest?: string,
  ) {}

  /** The payload (revision, digest) is about the pushed document. */
  private isPushed(revision: number | null, digest: string | undefined): boolean {
    return revision === this.revision && (!digest || !this.digest || digest === this.digest);
  }

  /** Marks the moment the document was published (durations count from here). */
  pushed(at = Date.now()): void {
    this.pushedAt = at;
  }

  /** The box has said it is offline: a waiting row that will wait until it comes back. */
  isOffline(row: Pick<PushRow, 'site' | 'device'>): boolean {
    return this.offline.has(`${row.site}/${row.device}`);
  }

  /** Feeds one message; returns true when it changed a row. */
  onMessage(topic: string, payload: Buffer, now = Date.now()): boolean {
    if (topic.endsWith('/status')) {
      // `<base>/<site>/<device>/status`: the base may itself have slashes, the last three levels do not.
      const [site, device] = topic.split('/').slice(-3);
      const key = `${site}/${device}`;
      const state = (parse(payload) as { state?: unknown } | undefined)?.state;
      if (state === 'offline') this.offline.add(key);
      else this.offline.delete(key);
      return this.rows.has(key);
    }
    if (topic.endsWith('/config/state')) {
      const s = FleetStatePayload.safeParse(parse(payload));
      if (!s.success || !targetMatches(this.target, s.data)) return false;
      const row = this.row(s.data.site, s.data.device);
      row.running = s.data.revision;
      if (
        row.status === 'waiting' &&
        this.pushedAt === undefined &&
        s.data.source === 'fleet' &&
        this.isPushed(s.data.revision, s.data.digest)
      )
        row.status = 'current';
      return true;
    }
    if (topic.endsWith('/config/result')) {
      const r = ConfigResultPayload.safeParse(parse(payload));
      if (!r.success || !this.isPushed(r.data.revision, r.data.digest)) return false;
      const row = this.row(r.data.site, r.data.device);
      // A retained answer from before this push: the box ignores a document it already handled, so its
      // answer stands; but applied then means it already ran it, not that this push applied it.
      const before = this.pushedAt === undefined;
      Object.assign(row, {
        status: before && r.data.status === 'applied' ? 'current' : r.data.status,
        running: r.data.running,
        errors: r.data.errors,
        changed: r.data.changed,
        warnings: r.data.warnings ?? [],
        ...(this.pushedAt !== undefined && { ms: Math.max(0, now - this.pushedAt) }),
      });
      return true;
    }
    return false;
  }

  /** Every known box has answered (or already ran the revision), and at least `expect` boxes are known. */
  done(expect = 0): boolean {
    const rows = [...this.rows.values()];
    return rows.length >= Math.max(1, expect) && rows.every((r) => r.status !== 'waiting');
  }

  counts(): Record<PushRow['status'], number> {
    const out = { waiting: 0, current: 0, applied: 0, rejected: 0, rolled_back: 0 };
    for (const r of this.rows.values()) out[r.status]++;
    return out;
  }

  private row(site: string, device: string): PushRow {
    const key = `${site}/${device}`;
    let row = this.rows.get(key);
    if (!row) {
      row = { site, device, status: 'waiting', running: null, errors: [], changed: [], warnings: [] };
      this.rows.set(key, row);
    }
    return row;
  }
}

/** The progress table: one line per box, sorted, then a summary line. Plain text, no colours. */
export function renderPushTable(tracker: PushTracker, revision: number, elapsedMs: number): string {
  const rows = [...tracker.rows.values()].sort((a, b) =>
    `${a.site}/${a.device}`.localeCompare(`${b.site}/${b.device}`),
  );
  const cells = rows.map((r) => [
    `${r.site}/${r.device}`,
    r.status === 'waiting' && tracker.isOffline(r) ? 'WAITING (OFFLINE)' : r.status.toUpperCase(),
    r.running === null ? '-' : String(r.running),
    r.ms === undefined ? '' : `${(r.ms / 1000).toFixed(1)}s`,
    r.errors.length ? r.errors.join('; ') : detail(r),
  ]);
  const header = ['DEVICE', 'STATUS', 'RUNNING', 'TIME', 'DETAIL'];
  const widths = [0, 1, 2, 3].map((i) => Math.max(header[i]!.length, ...cells.map((c) => c[i]!.length)));
  const line = (c: string[]) =>
    c
      .map((cell, i) => (i < 4 ? cell.padEnd(widths[i]!) : cell))
      .join('  ')
      .trimEnd();
  const n = tracker.counts();
  const offline = rows.filter((r) => r.status === 'waiting' && tracker.isOffline(r)).length;
  const summary =
    `revision ${revision}: ${rows.length} ${rows.length === 1 ? 'box' : 'boxes'}, ${n.applied} applied, ${n.current} already current, ` +
    `${n.rejected} rejected, ${n.rolled_back} rolled back, ${n.waiting} waiting` +
    `${offline ? ` (${offline} offline)` : ''} ` +
    `(${(elapsedMs / 1000).toFixed(1)} s)`;
  return [line(header), ...cells.map(line), '', summary].join('\n');
}

/** An applied box's line: what changed, then what is still failing there. */
function detail(r: PushRow): string {
  const warned = r.warnings.map((w) => `warning: ${w}`);
  return [r.changed.join(', '), ...warned].filter(Boolean).join('; ');
}
