import { Observable, type OperatorFunction } from 'rxjs';
import type { FrameEstimate } from '../../models/pm25/estimator.js';
import type { Pm25Payload } from '../../models/pm25/payloads.js';
import { aggregateWindow } from '../../models/pm25/window.js';
import type { RgbFrame } from '../../models/pm25/raw-features.js';

/** A frame handed to the PM2.5 stage (a few per minute are plenty: the air changes slowly). */
export interface Pm25FrameInput {
  camera: string;
  ts: Date;
  rgb: Uint8Array;
  width: number;
  height: number;
}

/** The part of Pm25Estimator the stage needs (so the stage does not care how frames are measured). */
export interface FrameEvaluator {
  evaluate(frame: RgbFrame, ts: Date): Promise<FrameEstimate>;
}

/**
 * Evaluates frames one at a time and emits one payload per wall-clock window (`windowMinutes`, aligned to the
 * epoch) once a frame of a later window arrives or the input completes. Frames must come in time order.
 */
export function pm25Windows(
  evaluator: FrameEvaluator,
  windowMinutes: number,
): OperatorFunction<Pm25FrameInput, Pm25Payload> {
  const span = windowMinutes * 60_000;
  return (source) =>
    new Observable<Pm25Payload>((subscriber) => {
      let current: { camera: string; start: number; frames: FrameEstimate[] } | undefined;
      let chain: Promise<void> = Promise.resolve();
      let closed = false;
      const flush = () => {
        if (current?.frames.length) {
          subscriber.next(
            aggregateWindow(current.camera, new Date(current.start), windowMinutes, current.frames),
          );
        }
        current = undefined;
      };
      const sub = source.subscribe({
        next: (input) => {
          // Serialise: one evaluation at a time, results in arrival order.
          chain = chain.then(async () => {
            if (closed) return;
            const start = Math.floor(input.ts.getTime() / span) * span;
            if (current && (start !== current.start || input.camera !== current.camera)) flush();
            const estimate = await evaluator.evaluate(
              { rgb: input.rgb, width: input.width, height: input.height },
              input.ts,
            );
            current ??= { camera: input.camera, start, frames: [] };
            current.frames.push(estimate);
          });
          chain.catch((err: unknown) => subscriber.error(err));
        },
        error: (err: unknown) => subscriber.error(err),
        complete: () => {
          void chain.then(() => {
            flush();
            subscriber.complete();
          });
        },
      });
      return () => {
        closed = true;
        sub.unsubscribe();
      };
    });
}
