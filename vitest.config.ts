import { defineConfig } from 'vitest/config';

// The test files' processes (forks) inherit this: onnxruntime's telemetry would leave a
// /tmp/mat-debug-<pid>.log for each of them (agent/cli/vigil.mjs says more). A value already set is kept.
process.env.ORT_DISABLE_TELEMETRY ??= '1';

export default defineConfig({
  test: {
    include: ['test/**/*.test.ts'],
    testTimeout: 60_000,
    hookTimeout: 60_000,
    // The machine has two cores and the end-to-end tests run real ffmpeg, mosquitto and onnxruntime:
    // running test files one at a time keeps their timing honest.
    fileParallelism: false,
    pool: 'forks',
  },
});
