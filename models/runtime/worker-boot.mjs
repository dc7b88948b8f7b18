// Worker threads cannot start on a .ts file (Node 20 refuses the extension even with --import tsx), so each
// worker starts here, registers tsx for itself, and imports its real entry (see docs/adr/0001).
import { workerData } from 'node:worker_threads';
import { register } from 'tsx/esm/api';

register();
await import(workerData.entry);
