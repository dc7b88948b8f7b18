import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Detector } from '../../../models/detect/detector.js';
import { computeLetterbox } from '../../../models/letterbox.js';
import type { InputFrame } from '../../../models/types.js';
import { hasShared } from '../../support/shared.js';
import { loadSharedDetector } from '../../support/detectors.js';

const tally = (keys: string[]) =>
  keys.reduce<Record<string, number>>((t, k) => ({ ...t, [k]: (t[k] ?? 0) + 1 }), {});

// Slots, not seconds: with one worker the pool runs its requests one at a time, so the order they finish
// in is the order the queue handed them out. No timing is asserted.
describe.skipIf(!hasShared)(
  'WorkerPool queue: fair shares of the workers across cameras (real model)',
  () => {
    let detector: Detector;
    const frame = (): InputFrame => {
      const { width, height } = detector.info.input;
      return {
        data: new Uint8Array(width * height * 3).fill(114),
        letterbox: computeLetterbox(640, 480, detector.info.input),
      };
    };

    /** Queues `perKey` requests of each key, all of `keys[0]` first, then the next key's…; returns the finish order. */
    async function finishOrder(keys: string[], perKey: number): Promise<string[]> {
      const order: string[] = [];
      // The first request takes the only worker at once; everything after it waits in the queue.
      const runs = [detector.detect(frame(), 'blocker').then(() => undefined)];
      for (const key of keys)
        for (let i = 0; i < perKey; i++)
          runs.push(detector.detect(frame(), key).then(() => void order.push(key)));
      await Promise.all(runs);
      return order;
    }

    beforeAll(async () => {
      detector = await loadSharedDetector('yolo11n-320', 'yolo11n-coco-int8-320.onnx');
    }, 60_000);
    afterAll(async () => detector?.close());

    it('equal priorities: a camera that queued a burst first does not take every slot; the others get theirs in turn', async () => {
      const order = await finishOrder(['a', 'b', 'c', 'd'], 8);
      // A FIFO would serve a×8 before any b; round robin alternates from the start.
      expect(order.slice(0, 8)).toEqual(['a', 'b', 'c', 'd', 'a', 'b', 'c', 'd']);
      expect(tally(order.slice(0, 20))).toEqual({ a: 5, b: 5, c: 5, d: 5 });
    });

    it('priority 2 doubles a camera’s share of the slots while all four are waiting', async () => {
      detector.setWeight('p', 2);
      const order = await finishOrder(['p', 'q', 'r', 's'], 10);
      // 5 rounds of 2 + 1 + 1 + 1 slots: p has 10, each other 5, then p has run dry and the rest share.
      expect(tally(order.slice(0, 25))).toEqual({ p: 10, q: 5, r: 5, s: 5 });
      expect(tally(order)).toEqual({ p: 10, q: 10, r: 10, s: 10 });
    });
  },
);
