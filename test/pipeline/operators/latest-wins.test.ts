import { Subject, toArray, firstValueFrom } from 'rxjs';
import { describe, expect, it } from 'vitest';
import { latestWins } from '../../../pipeline/operators/latest-wins.js';

/** A work function whose calls resolve only when the test says so. */
function gatedWork() {
  const gates = new Map<number, () => void>();
  const started: number[] = [];
  const work = (n: number) =>
    new Promise<number>((resolve) => {
      started.push(n);
      gates.set(n, () => resolve(n * 10));
    });
  const finish = async (n: number) => {
    gates.get(n)!();
    await new Promise((r) => setImmediate(r));
  };
  return { work, finish, started };
}

describe('latestWins', () => {
  it('keeps one waiting item, drops the overtaken ones and counts them', async () => {
    const { work, finish, started } = gatedWork();
    const dropped: number[] = [];
    const input = new Subject<number>();
    const out = firstValueFrom(
      input.pipe(latestWins(work, { concurrency: 1, onDrop: (n) => dropped.push(n) }), toArray()),
    );
    input.next(1); // starts
    input.next(2); // waits
    input.next(3); // replaces 2
    input.next(4); // replaces 3
    expect(started).toEqual([1]);
    await finish(1);
    expect(started).toEqual([1, 4]);
    input.complete();
    await finish(4);
    expect(await out).toEqual([10, 40]);
    expect(dropped).toEqual([2, 3]);
  });

  it('runs up to `concurrency` at once and emits results in input order', async () => {
    const { work, finish, started } = gatedWork();
    const input = new Subject<number>();
    const out = firstValueFrom(input.pipe(latestWins(work, { concurrency: 2 }), toArray()));
    input.next(1);
    input.next(2);
    expect(started).toEqual([1, 2]);
    await finish(2); // the second finishes first
    input.next(3);
    expect(started).toEqual([1, 2, 3]);
    input.complete();
    await finish(3);
    await finish(1);
    expect(await out).toEqual([10, 20, 30]);
  });

  it('finishes in-flight work and the waiting item when the source completes', async () => {
    const { work, finish } = gatedWork();
    const input = new Subject<number>();
    const out = firstValueFrom(input.pipe(latestWins(work, { concurrency: 1 }), toArray()));
    input.next(1);
    input.next(2);
    input.complete();
    await finish(1);
    await finish(2);
    expect(await out).toEqual([10, 20]);
  });

  it('passes a work failure on as an error', async () => {
    const input = new Subject<number>();
    const out = firstValueFrom(
      input.pipe(
        latestWins(() => Promise.reject(new Error('boom')), { concurrency: 1 }),
        toArray(),
      ),
    );
    input.next(1);
    await expect(out).rejects.toThrow('boom');
  });
});
