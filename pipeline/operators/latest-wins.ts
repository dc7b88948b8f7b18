import { Observable, type OperatorFunction } from 'rxjs';

export interface LatestWinsOptions<T> {
  /** How many items may be worked on at once (e.g. the inference pool's size). */
  concurrency: number;
  /** Called for every item that was overtaken by a newer one before work started on it. */
  onDrop?: (item: T) => void;
}

/**
 * Backpressure for live video: at most `concurrency` items in work and one waiting; a newer item replaces
 * the waiting one (which is dropped and reported), so nothing queues without bound and work always starts
 * on the freshest frame. Results come out in input order. On completion of the source, work in flight and
 * the waiting item are finished before the output completes (graceful stop).
 */
export function latestWins<T, R>(
  work: (item: T) => Promise<R>,
  opts: LatestWinsOptions<T>,
): OperatorFunction<T, R> {
  return (source) =>
    new Observable<R>((subscriber) => {
      const inFlight: { done: boolean; result?: R }[] = [];
      let waiting: T | undefined;
      let hasWaiting = false;
      let sourceDone = false;
      let closed = false;

      const flush = () => {
        while (inFlight.length && inFlight[0]!.done) subscriber.next(inFlight.shift()!.result as R);
        if (sourceDone && !hasWaiting && inFlight.length === 0 && !closed) {
          closed = true;
          subscriber.complete();
        }
      };
      const start = (item: T) => {
        const slot: { done: boolean; result?: R } = { done: false };
        inFlight.push(slot);
        work(item).then(
          (result) => {
            slot.result = result;
            slot.done = true;
            if (hasWaiting && running() < opts.concurrency) {
              const next = waiting as T;
              waiting = undefined;
              hasWaiting = false;
              start(next);
            }
            flush();
          },
          (err: unknown) => {
            closed = true;
            subscriber.error(err);
          },
        );
      };
      const running = () => inFlight.filter((s) => !s.done).length;

      const sub = source.subscribe({
        next: (item) => {
          if (running() < opts.concurrency) {
            start(item);
            return;
          }
          if (hasWaiting) opts.onDrop?.(waiting as T);
          waiting = item;
          hasWaiting = true;
        },
        error: (err: unknown) => {
          closed = true;
          subscriber.error(err);
        },
        complete: () => {
          sourceDone = true;
          flush();
        },
      });
      return () => {
        sub.unsubscribe();
        if (hasWaiting) opts.onDrop?.(waiting as T);
        hasWaiting = false;
      };
    });
}
