import { describe, expect, it } from 'vitest';
import {
  closedOnMessage,
  closesBeforeDrop,
  quietClosesBeforeSearch,
  SilentRefusals,
} from '../../../agent/mqtt/silent-refusals.js';
import { publishPacketBytes } from '../../../agent/mqtt/publish-packet-size.js';
import type { OutboxRow } from '../../../agent/outbox/outbox.js';

function row(rowid: number, payloadBytes = 100): OutboxRow {
  const topic = 'vigil/s/d/cameras/cam1/detections';
  return {
    rowid,
    id: `id-${rowid}`,
    topic,
    payload: Buffer.alloc(payloadBytes, 0x61),
    retain: false,
    priority: 0,
    stream: 'detections/cam1',
    seq: rowid,
    key: 'detections/cam1',
    createdAt: 0,
    expiresAt: null,
    bytes: payloadBytes + topic.length,
  };
}
const rows = (...ids: number[]) => ids.map((id) => row(id));

/** Closes the connection `n` times with `inflight` unacknowledged; the verdicts. */
function closes(r: SilentRefusals, n: number, inflight: OutboxRow[], settled = 0) {
  return Array.from({ length: n }, () => r.closed(inflight, settled).kind);
}

describe('SilentRefusals', () => {
  it('searches one at a time after connections in a row close with rows in flight and none settled', () => {
    expect([quietClosesBeforeSearch, closesBeforeDrop]).toEqual([3, 3]);
    const r = new SilentRefusals(32);
    expect(r.window(32)).toBe(32);
    expect(closes(r, 3, rows(1, 2, 3))).toEqual(['none', 'none', 'search']);
    expect(r.isSearching).toBe(true);
    expect(r.window(32)).toBe(1);
  });

  it('drops the row the broker closes on, alone, three times in a row; the first ack after resumes the window', () => {
    const r = new SilentRefusals(32);
    closes(r, 3, rows(1, 2, 3));
    // Row 1 alone is acknowledged: it was not the one.
    expect(r.acked()).toBe(false);
    const bad = row(2);
    expect(closes(r, 2, [bad])).toEqual(['none', 'none']);
    expect(r.closed([bad], 0)).toEqual({ kind: 'drop', row: bad });
    expect(r.window(32)).toBe(1); // until acks flow again
    expect(r.acked()).toBe(true);
    expect(r.window(32)).toBe(32);
  });

  it('needs the closes in a row on the same row: another row alone in between starts the count over', () => {
    const r = new SilentRefusals(32);
    closes(r, 3, rows(1, 2));
    expect(closes(r, 2, rows(1))).toEqual(['none', 'none']);
    expect(closes(r, 1, rows(2))).toEqual(['none']);
    expect(closes(r, 2, rows(1))).toEqual(['none', 'none']);
    expect(closes(r, 1, rows(1))).toEqual(['drop']);
  });

  it('a failed connect or a keepalive timeout (a broker down or away) ends both streaks', () => {
    const r = new SilentRefusals(32);
    closes(r, 2, rows(1, 2));
    r.interrupted();
    expect(closes(r, 2, rows(1, 2))).toEqual(['none', 'none']);
    r.interrupted();
    expect(closes(r, 3, rows(1, 2))).toEqual(['none', 'none', 'search']);
    closes(r, 2, rows(1));
    r.interrupted();
    expect(closes(r, 2, rows(1))).toEqual(['none', 'none']);
    expect(closes(r, 1, rows(1))).toEqual(['drop']);
  });

  it('a connection that acknowledged rows ends the quiet streak; one that closes idle counts for nothing', () => {
    const r = new SilentRefusals(32);
    closes(r, 2, rows(1, 2));
    expect(closes(r, 1, rows(3), 5)).toEqual(['none']); // acks came: the broker takes what it is sent
    expect(closes(r, 2, rows(3))).toEqual(['none', 'none']);
    expect(closes(r, 5, [])).toEqual(['none', 'none', 'none', 'none', 'none']);
    expect(closes(r, 1, rows(3))).toEqual(['search']);
  });

  it('a search that finds nothing ends after a window of acks', () => {
    const r = new SilentRefusals(4);
    closes(r, 3, rows(1, 2));
    expect([r.acked(), r.acked(), r.acked()]).toEqual([false, false, false]);
    expect(r.acked()).toBe(true);
    expect(r.window(4)).toBe(4);
    // And it starts from scratch: three quiet closes again before the next search.
    expect(closes(r, 3, rows(5, 6))).toEqual(['none', 'none', 'search']);
  });

  it('names the packet size, the likely cause and the setting in the error', () => {
    const big = row(7, 5000);
    const bytes = publishPacketBytes(big.topic, 5000, undefined, 4);
    expect(closedOnMessage(big, 4)).toBe(
      `the broker closed the connection 3 times in a row right after a ${bytes}-byte packet was sent alone, ` +
        "never acknowledging it: dropped as refused (most likely over the broker's maximum packet size, which " +
        "MQTT 3.1.1 does not announce; set mqtt.maxPacketBytes to the broker's limit)",
    );
  });
});
