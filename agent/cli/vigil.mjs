#!/usr/bin/env node
// The `vigil` bin: registers tsx so the TypeScript sources run as they are (no build step), then the CLI.
import { register } from 'tsx/esm/api';

// onnxruntime-node 1.30 on Linux runs Microsoft's usage telemetry (1DS) unless told not to: it leaves an empty
// /tmp/mat-debug-<pid>.log for every process (one more at each agent restart, never removed) and writes an
// event cache to ~/.cache/Microsoft/DeveloperTools/.onnxruntime while it runs. A camera box sends nothing
// unasked. Set before anything loads onnxruntime (it reads it once); an operator's own value is kept.
process.env.ORT_DISABLE_TELEMETRY ??= '1';

// `vigil check-config site.yaml | head -1`: the reader went away, so the rest of the output has no one to
// read it. Stop quietly, as a Unix tool killed by SIGPIPE does, instead of a stack trace for 'write EPIPE'.
process.stdout.on('error', (err) => {
  if (err.code !== 'EPIPE') throw err;
  process.exit(process.exitCode ?? 0);
});

register();
const { tuneGarbageCollector } = await import('../runtime/gc-tuning.ts');
tuneGarbageCollector();
const { main } = await import('./main.ts');
process.exitCode = await main(process.argv);
