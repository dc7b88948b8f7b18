import type Database from 'better-sqlite3';
import { describe, expect, it } from 'vitest';
import {
  decodeRow,
  encodeProperties,
  type OutboxStatements,
  type RawRow,
} from '../../../agent/outbox/outbox-sql.js';
import { useOutboxDatabase } from '../../support/outbox-database.js';

// Every statement the Outbox runs, on a real migrated SQLite file.
let db: Database.Database;
let s: OutboxStatements;
useOutboxDatabase('vigil-outbox-sql-', (o) => ({ db, sql: s } = o));

interface Row {
  id: string;
  topic: string;
  payload?: Buffer;
  retain?: boolean;
  priority?: number;
  stream?: string | null;
  seq?: number | null;
  coalesceKey?: string | null;
  createdAt?: number;
  bytes?: number;
  expiresAt?: number | null;
  props?: string | null;
}

/** Runs `insert` with its 12 positional parameters; returns the pk. */
function insert(r: Row): number {
  const payload = r.payload ?? Buffer.from(`{"id":"${r.id}"}`);
  return Number(
    s.insert.run(
      r.id,
      r.topic,
      payload,
      r.retain ? 1 : 0,
      r.priority ?? 0,
      r.stream ?? null,
      r.seq ?? null,
      r.coalesceKey ?? null,
      r.createdAt ?? 1000,
      r.bytes ?? payload.length,
      r.expiresAt ?? null,
      r.props ?? null,
    ).lastInsertRowid,
  );
}

const plan = (stmt: { source: string }, ...args: unknown[]) =>
  (db.prepare(`EXPLAIN QUERY PLAN ${stmt.source}`).all(...args) as { detail: string }[]).map((r) => r.detail);

describe('outbox statements', () => {
  it('prepares every statement against the current schema', () => {
    expect(Object.keys(s).sort()).toEqual(
      [
        'insert',
        'nextSeq',
        'coalesce',
        'oldest',
        'oldestOf',
        'delete',
        'next',
        'range',
        'lastRowid',
        'newest',
        'countUpTo',
        'keysUpTo',
        'hasKeyUpTo',
        'setMeta',
        'getMeta',
        'deleteMeta',
        'metaRange',
        'totals',
        'pageCount',
      ].sort(),
    );
  });

  it('pageCount sees the transaction it runs in: growth before the commit, pages reused after a delete', () => {
    const pages = () => (s.pageCount.get() as { page_count: number }).page_count;
    const big = Buffer.alloc(20_000, 0x61);
    const start = pages();
    db.transaction(() => {
      insert({ id: 'a', topic: 't', payload: big });
      expect(pages()).toBeGreaterThan(start); // uncommitted, already counted
    })();
    const grown = pages();
    db.transaction(() => {
      s.delete.run(1);
      insert({ id: 'b', topic: 't', payload: big }); // into the pages the delete freed, in the same transaction
      expect(pages()).toBe(grown);
    })();
  });

  it('insert then next: every column comes back under its name, decoded', () => {
    const props = encodeProperties({
      correlationData: Buffer.from([0, 1, 254, 255]),
      userProperties: { a: 'b' },
    });
    const pk = insert({
      id: 'm1',
      topic: 'vigil/s/d/cameras/gate/detections',
      payload: Buffer.from('{"x":1}'),
      retain: true,
      priority: 2,
      stream: 'detections/gate',
      seq: 3,
      coalesceKey: 'ck',
      createdAt: 1234,
      bytes: 99,
      expiresAt: 5678,
      props,
    });
    const raw = s.next.all(10) as RawRow[];
    expect(raw).toHaveLength(1);
    const row = decodeRow(raw[0]!);
    expect(row).toEqual({
      rowid: pk,
      id: 'm1',
      topic: 'vigil/s/d/cameras/gate/detections',
      payload: Buffer.from('{"x":1}'),
      retain: true,
      priority: 2,
      stream: 'detections/gate',
      seq: 3,
      createdAt: 1234,
      bytes: 99,
      expiresAt: 5678,
      key: 'detections/gate',
      properties: { correlationData: Buffer.from([0, 1, 254, 255]), userProperties: { a: 'b' } },
    });
  });

  it('a row without stream or properties: key is the topic, no properties, retain false', () => {
    insert({ id: 'm', topic: 'vigil/s/d/state' });
    const row = decodeRow((s.next.all(1) as RawRow[])[0]!);
    expect(row.key).toBe('vigil/s/d/state');
    expect(row.retain).toBe(false);
    expect(row.expiresAt).toBeNull();
    expect('properties' in row).toBe(false);
  });

  it('nextSeq: 1 for a new stream, then +1, per stream, and survives the rows', () => {
    const seq = (stream: string) => (s.nextSeq.get(stream) as { seq: number }).seq;
    expect([seq('a'), seq('a'), seq('b'), seq('a'), seq('b')]).toEqual([1, 2, 1, 3, 2]);
    db.exec('DELETE FROM outbox');
    expect(seq('a')).toBe(4);
  });

  it('coalesce deletes every row of the key and returns their bytes; other keys stay', () => {
    insert({ id: '1', topic: 't', coalesceKey: 'state', bytes: 10 });
    insert({ id: '2', topic: 't', coalesceKey: 'health', bytes: 20 });
    insert({ id: '3', topic: 't', coalesceKey: 'state', bytes: 30 });
    insert({ id: '4', topic: 't', bytes: 40 });
    expect(s.coalesce.all('state')).toEqual([{ bytes: 10 }, { bytes: 30 }]);
    expect((s.next.all(10) as RawRow[]).map((r) => r.id)).toEqual(['2', '4']);
    expect(s.coalesce.all('nothing')).toEqual([]);
  });

  it('oldest, oldestOf, delete: pk order, per priority, paged after a pk', () => {
    const pks = [0, 1, 0, 2, 0].map((priority, i) =>
      insert({ id: String(i), topic: 't', priority, bytes: i + 1, createdAt: 100 + i }),
    );
    expect(s.oldest.all(2)).toEqual([
      { pk: pks[0], priority: 0, bytes: 1, createdAt: 100 },
      { pk: pks[1], priority: 1, bytes: 2, createdAt: 101 },
    ]);
    expect(s.oldestOf.all(0, 0, 10)).toEqual([
      { pk: pks[0], bytes: 1 },
      { pk: pks[2], bytes: 3 },
      { pk: pks[4], bytes: 5 },
    ]);
    expect(s.oldestOf.all(0, pks[0], 1)).toEqual([{ pk: pks[2], bytes: 3 }]);
    expect(s.oldestOf.all(2, 0, 10)).toEqual([{ pk: pks[3], bytes: 4 }]);
    expect(s.delete.get(pks[3])).toEqual({ priority: 2, bytes: 4 });
    expect(s.delete.get(pks[3])).toBeUndefined();
    expect(s.totals.get()).toEqual({ n: 4, b: 1 + 2 + 3 + 5 });
  });

  it('range: rows after one pk up to another, in order, limited', () => {
    const pks = ['a', 'b', 'c', 'd'].map((id) => insert({ id, topic: 't' }));
    const ids = (rows: unknown[]) => (rows as RawRow[]).map((r) => r.id);
    expect(ids(s.range.all(pks[0], pks[2], 10))).toEqual(['b', 'c']);
    expect(ids(s.range.all(0, pks[3], 2))).toEqual(['a', 'b']);
    expect(ids(s.range.all(pks[3], pks[3]! + 10, 10))).toEqual([]);
  });

  it('lastRowid, countUpTo, totals on an empty outbox and after rows', () => {
    expect(s.lastRowid.get()).toEqual({ pk: 0 });
    expect(s.totals.get()).toEqual({ n: 0, b: 0 });
    const pks = [5, 6, 7].map((bytes, i) => insert({ id: String(i), topic: 't', bytes }));
    expect(s.lastRowid.get()).toEqual({ pk: pks[2] });
    expect(s.countUpTo.get(pks[1])).toEqual({ n: 2 });
    expect(s.countUpTo.get(0)).toEqual({ n: 0 });
    expect(s.totals.get()).toEqual({ n: 3, b: 18 });
  });

  it('keysUpTo and hasKeyUpTo: the ordering key is the stream, else the topic', () => {
    const a = insert({ id: '1', topic: 'vigil/x/detections', stream: 'detections/gate' });
    insert({ id: '2', topic: 'vigil/x/state' });
    const c = insert({ id: '3', topic: 'vigil/x/detections', stream: 'detections/dock' });
    const keys = (upTo: number) => (s.keysUpTo.all(upTo) as { k: string }[]).map((r) => r.k).sort();
    expect(keys(c)).toEqual(['detections/dock', 'detections/gate', 'vigil/x/state']);
    expect(keys(a)).toEqual(['detections/gate']);
    expect(s.hasKeyUpTo.get('detections/gate', a)).toEqual({ x: 1 });
    expect(s.hasKeyUpTo.get('detections/dock', a)).toBeUndefined();
    expect(s.hasKeyUpTo.get('vigil/x/state', c)).toEqual({ x: 1 });
    // A streamed row is not found by its topic.
    expect(s.hasKeyUpTo.get('vigil/x/detections', c)).toBeUndefined();
  });

  it('meta: set replaces, get reads, delete removes', () => {
    expect(s.getMeta.get('k')).toBeUndefined();
    s.setMeta.run('k', 'v1');
    s.setMeta.run('k', 'v2');
    expect(s.getMeta.get('k')).toEqual({ value: 'v2' });
    s.deleteMeta.run('k');
    expect(s.getMeta.get('k')).toBeUndefined();
  });

  it('the statements the comments name use the indexes (EXPLAIN QUERY PLAN)', () => {
    expect(plan(s.oldestOf, 0, 0, 10)).toEqual([
      'SEARCH outbox USING INDEX outbox_priority (priority=? AND pk>?)',
    ]);
    expect(plan(s.coalesce, 'k')).toEqual([
      'SEARCH outbox USING COVERING INDEX outbox_coalesce (coalesce_key=?)',
    ]);
    // "must read exactly as in the outbox_key index for SQLite to use it": no temp b-tree, no table scan.
    expect(plan(s.keysUpTo, 5)).toEqual(['SCAN outbox USING COVERING INDEX outbox_key']);
    expect(plan(s.hasKeyUpTo, 'k', 5)).toEqual([
      'SEARCH outbox USING COVERING INDEX outbox_key (<expr>=? AND pk<?)',
    ]);
    expect(plan(s.range, 0, 5, 10)).toEqual([
      'SEARCH outbox USING INTEGER PRIMARY KEY (rowid>? AND rowid<?)',
    ]);
    expect(plan(s.delete, 1)).toEqual(['SEARCH outbox USING INTEGER PRIMARY KEY (rowid=?)']);
    expect(plan(s.getMeta, 'k')).toEqual(['SEARCH meta USING PRIMARY KEY (key=?)']);
  });
});

describe('encodeProperties', () => {
  it('nothing to store is null (no column text)', () => {
    expect(encodeProperties(undefined)).toBeNull();
    expect(encodeProperties({})).toBeNull();
  });

  it('correlation data goes in base64, user properties as they are: JSON text', () => {
    const text = encodeProperties({ correlationData: Buffer.from('hi'), userProperties: { k: 'v' } });
    expect(JSON.parse(text!)).toEqual({ correlationData: 'aGk=', userProperties: { k: 'v' } });
    expect(JSON.parse(encodeProperties({ correlationData: Buffer.alloc(0) })!)).toEqual({
      correlationData: '',
    });
  });

  it('round-trips through the props column', () => {
    const props = encodeProperties({ userProperties: { a: '1' } });
    insert({ id: 'p', topic: 't', props });
    expect(decodeRow((s.next.all(1) as RawRow[])[0]!).properties).toEqual({ userProperties: { a: '1' } });
  });
});
