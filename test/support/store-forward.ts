import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import Database from 'better-sqlite3';
import { stringify } from 'yaml';
import { DetectionsPayload } from '../../agent/mqtt/payloads.js';
import type { Received } from './mosquitto.js';
import { sharedPath } from './shared.js';

/** What an outbox file holds: the last seq handed out per stream, and the rows not yet acknowledged. */
export interface Committed {
  lastSeq: Record<string, number>;
  rows: { id: string; topic: string; stream: string | null; seq: number | null }[];
}

/** Reads an agent's outbox.db as it is on disk (after a kill -9: exactly what had committed). */
export function readCommitted(file: string): Committed {
  const db = new Database(file, { fileMustExist: true });
  try {
    const streams = db.prepare('SELECT stream, seq FROM streams').all() as { stream: string; seq: number }[];
    const rows = db
      .prepare('SELECT id, topic, stream, seq FROM outbox ORDER BY pk')
      .all() as Committed['rows'];
    return { lastSeq: Object.fromEntries(streams.map((s) => [s.stream, s.seq])), rows };
  } finally {
    db.close();
  }
}

/** A config for a real agent process: file cameras of vtest.avi through yolo11n-320 at `fps` each. */
export function storeForwardConfig(
  mqttUrl: string,
  opts: { cameras?: number; fps?: number; outbox?: object; mqtt?: object } = {},
): { file: string; dataDir: string; dbFile: string } {
  const dir = mkdtempSync(path.join(tmpdir(), 'vigil-sf-'));
  const dataDir = path.join(dir, 'data');
  const cfg = {
    site: 's',
    device: 'd',
    dataDir,
    http: { enabled: false },
    mqtt: { url: mqttUrl, healthIntervalS: 1, ...opts.mqtt },
    ...(opts.outbox && { outbox: opts.outbox }),
    models: {
      m: { path: sharedPath('models', 'yolo11n-coco-int8-320.onnx'), providers: ['cpu'], workers: 1 },
    },
    cameras: Array.from({ length: opts.cameras ?? 1 }, (_, i) => ({
      id: `c${i + 1}`,
      source: sharedPath('media', 'vtest.avi'),
      model: 'm',
      fps: opts.fps ?? 6,
      loop: true,
    })),
  };
  const file = path.join(dir, 'vigil.yaml');
  writeFileSync(file, stringify(cfg));
  return { file, dataDir, dbFile: path.join(dataDir, 'outbox.db') };
}

export interface DetectionLog {
  /** Per camera: seqs in arrival order, first arrival of each id only. */
  seqs: Record<string, number[]>;
  ids: Set<string>;
  /** Arrivals of an id already seen. */
  duplicates: number;
}

/** The detections a subscriber received, deduplicated by id as the contract says subscribers do. */
export function detectionLog(messages: Received[]): DetectionLog {
  const ids = new Set<string>();
  const seqs: Record<string, number[]> = {};
  let duplicates = 0;
  for (const m of messages) {
    if (!m.topic.endsWith('/detections')) continue;
    const d = DetectionsPayload.parse(JSON.parse(m.payload.toString()));
    if (ids.has(d.id)) {
      duplicates++;
      continue;
    }
    ids.add(d.id);
    (seqs[d.camera] ??= []).push(d.seq);
  }
  return { seqs, ids, duplicates };
}

export const range = (from: number, to: number) => Array.from({ length: to - from + 1 }, (_, i) => from + i);
export const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));
