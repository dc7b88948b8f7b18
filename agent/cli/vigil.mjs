#!/usr/bin/env node
// The `vigil` bin: registers tsx so the TypeScript sources run as they are (no build step), then the CLI.
import { register } from 'tsx/esm/api';

register();
const { tuneGarbageCollector } = await import('../runtime/gc-tuning.ts');
tuneGarbageCollector();
const { main } = await import('./main.ts');
process.exitCode = await main(process.argv);
