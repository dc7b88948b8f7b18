// Imported first by every script: onnxruntime-node's telemetry leaves a /tmp/mat-debug-<pid>.log per process
// and writes an event cache under ~/.cache while it runs (agent/cli/vigil.mjs says more). It reads the
// variable once, when it loads, so this must run before anything imports it. An operator's own value is kept.
process.env.ORT_DISABLE_TELEMETRY ??= '1';
