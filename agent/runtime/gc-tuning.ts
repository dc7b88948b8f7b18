import v8 from 'node:v8';

/**
 * Lets the JS heap grow to three times its live size between full collections (V8's default is about
 * 1.5×). With the agent's ~30 MB of live objects, the default kept V8 marking old space almost without
 * pause: two mark-compacts a second, the main thread's largest cost. Measured with `npm run bench`
 * (yolov8n-640, 2 cores): main-thread CPU per frame 3.9 ms at the default, 3.2 ms at 2×, 2.8 ms at 3× (no
 * mark-compact in 10 s), for up to ~60 MB more heap. Still bounded: a full collection runs at the limit.
 * Called once, first thing, by the CLI and the benchmarks (docs/adr/0005).
 */
export function tuneGarbageCollector(growingPercent = 200): void {
  v8.setFlagsFromString(`--heap-growing-percent=${growingPercent}`);
}
