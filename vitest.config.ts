import { defineConfig } from 'vitest/config';

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
