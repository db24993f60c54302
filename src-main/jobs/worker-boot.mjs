// Worker entry when running from TypeScript sources (CLI via tsx, tests): register tsx in this
// thread, then load the real worker. The bundled app uses out/main/compute-worker.js instead.
import { register } from 'tsx/esm/api';
import { workerData } from 'node:worker_threads';

register();
await import(workerData.entry);
