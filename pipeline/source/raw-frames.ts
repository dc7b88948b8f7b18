import { Observable } from 'rxjs';
import { redactUrl } from '../../config/redact-url.js';
import type { FfmpegPlan } from './ffmpeg-args.js';
import { spawnFfmpeg } from './ffmpeg.js';

/** One frame as ffmpeg hands it over: packed pixels at the model's input size. */
export interface RawFrame {
  /** 0-based index within this ffmpeg run. */
  index: number;
  /** Wall-clock capture time (epoch ms): when the last byte of the frame arrived. */
  ts: number;
  /** Presentation time in the source, seconds (from ffmpeg's showinfo). */
  pts: number;
  data: Uint8Array;
  /** Tell the source this frame is done with (processed or dropped); in pull mode that lets ffmpeg go on. */
  release(): void;
  /**
   * Hand the frame's bytes back for a later frame to be read into: only by the frame's last holder, when
   * nothing will read them again (holders that keep pixels copy them). Shared memory is never moved, so
   * the bytes are always the ones the frame was read into. Optional: a frame never recycled is collected.
   */
  recycle(): void;
}

export interface RawFrameOptions {
  /**
   * Pull mode (files read as fast as possible): stop reading ffmpeg's pipe while `maxOutstanding` frames
   * are unreleased, so ffmpeg decodes no frame that would only be dropped. Live sources never pause.
   */
  pull: boolean;
  maxOutstanding: number;
  /** Wraps pts into [0, duration) for looped files, so a pts always points into the file. */
  loopDuration?: number | null;
}

const ptsPattern = /Parsed_showinfo.*\bpts_time:\s*(-?[\d.]+)/;
/** Recycled frame buffers kept per ffmpeg run: enough for the frames in flight, bounded either way. */
const maxSpareBuffers = 4;
/**
 * Frames held for their showinfo line before they go on without it. ffmpeg writing a small file at full
 * speed is often a few frames ahead of its stderr (3 was too few: a frame in a few runs went on without its
 * pts); a live camera at 30 fps is half a second ahead at 16, which only a stalled stderr reaches.
 */
const maxUnpaired = 16;

/**
 * Runs ffmpeg once for a plan and emits its frames. Completes when ffmpeg ends cleanly; errors with
 * ffmpeg's last stderr lines (credentials redacted) when it fails. Unsubscribing kills ffmpeg.
 */
export function rawFrames(plan: FfmpegPlan, opts: RawFrameOptions): Observable<RawFrame> {
  return new Observable<RawFrame>((subscriber) => {
    const tail: string[] = [];
    const ptsQueue: number[] = [];
    const waiting: Omit<RawFrame, 'pts'>[] = [];
    let outstanding = 0;
    let index = 0;
    // A new 1.2 MB buffer per frame (and a new ArrayBuffer each time one came back from a worker) made
    // the main thread's GC its largest cost: V8 counts each as fresh external memory and answers with
    // mark-compacts. Frames live in shared memory that workers read in place, and buffers are recycled.
    const spare: Uint8Array[] = [];
    const nextBuffer = (): Uint8Array =>
      spare.pop() ?? new Uint8Array(new SharedArrayBuffer(plan.frameBytes));
    let chunkFrame = nextBuffer();
    let filled = 0;
    let lastPts = 0;
    // Frames sent on without their pts (stderr lagged): their showinfo lines, when they come, are skipped, so
    // that every later frame still gets its own pts rather than an earlier frame's.
    let ptsOwed = 0;

    // Pipe chunks not yet cut into frames. In pull mode cutting stops at maxOutstanding unreleased frames,
    // also in the middle of a chunk (one chunk can hold many small frames), and goes on as frames are released.
    const held: Buffer[] = [];
    let heldOffset = 0;
    let cutting = false;
    let stdoutEnded = false;
    let exitedCleanly = false;
    const blocked = () => opts.pull && outstanding >= opts.maxOutstanding;
    const cut = () => {
      if (cutting) return; // a frame released while cutting: the loop below sees it
      cutting = true;
      try {
        while (held.length && !blocked()) {
          const chunk = held[0]!;
          const n = Math.min(chunk.length - heldOffset, plan.frameBytes - filled);
          chunk.copy(chunkFrame, filled, heldOffset, heldOffset + n);
          filled += n;
          heldOffset += n;
          if (heldOffset === chunk.length) {
            held.shift();
            heldOffset = 0;
          }
          if (filled === plan.frameBytes) frameCut();
        }
      } finally {
        cutting = false;
      }
      if (held.length) proc.stdout.pause();
      else if (proc.stdout.isPaused()) proc.stdout.resume();
      finishIfDone();
    };
    // ffmpeg's end can come before the last bytes are read from its pipe (paused while frames are out).
    const finishIfDone = () => {
      if (!exitedCleanly || !stdoutEnded || held.length || subscriber.closed) return;
      emitReady(true);
      subscriber.complete();
    };
    const wrap = (pts: number) => (opts.loopDuration ? pts % opts.loopDuration : pts);
    const emitReady = (force: boolean) => {
      // showinfo's stderr line and the frame's bytes travel on different pipes; pair them in order.
      while (waiting.length && (ptsQueue.length || force)) {
        const frame = waiting.shift()!;
        if (ptsQueue.length) lastPts = ptsQueue.shift()!;
        else ptsOwed++; // the latest pts known stands in for this frame's
        subscriber.next({ ...frame, pts: wrap(lastPts) });
      }
    };

    const proc = spawnFfmpeg(plan.input, plan.inputArgs, plan.outputArgs, {
      onStderr: (line) => {
        const m = ptsPattern.exec(line);
        if (m) {
          if (ptsOwed > 0) {
            ptsOwed--;
            lastPts = Number(m[1]);
          } else {
            ptsQueue.push(Number(m[1]));
            emitReady(false);
          }
          return;
        }
        tail.push(line);
        if (tail.length > 8) tail.shift();
      },
      onExit: (err) => {
        if (!err) {
          exitedCleanly = true;
          finishIfDone();
          return;
        }
        emitReady(true);
        const detail = tail
          .filter(
            (l) =>
              !/^\s*(Input|Output|Stream|Duration|Metadata|encoder|Press|frame=|Stream mapping)/.test(
                l.trim(),
              ),
          )
          .slice(-2)
          .join(' | ');
        subscriber.error(
          new Error(redactUrl(`${err.message.split('\n')[0]}${detail ? ` (${detail})` : ''}`)),
        );
      },
    });

    const frameCut = () => {
      const data = chunkFrame;
      chunkFrame = nextBuffer();
      filled = 0;
      outstanding++;
      let released = false;
      let recycled = false;
      waiting.push({
        index: index++,
        ts: Date.now(),
        data,
        release: () => {
          if (released) return;
          released = true;
          outstanding--;
          if (held.length) cut();
        },
        recycle: () => {
          if (recycled) return;
          recycled = true;
          if (spare.length < maxSpareBuffers) spare.push(data);
        },
      });
      // ffmpeg can run ahead of its own stderr; don't let unpaired frames pile up (they go on with the latest
      // pts known, and ptsOwed keeps the ones after them paired right).
      emitReady(waiting.length > maxUnpaired);
    };
    proc.stdout.on('data', (chunk: Buffer) => {
      held.push(chunk);
      cut();
    });
    proc.stdout.on('end', () => {
      stdoutEnded = true;
      finishIfDone();
    });
    proc.stdout.on('error', () => {
      // the exit handler reports the cause
    });

    return () => proc.kill();
  });
}
