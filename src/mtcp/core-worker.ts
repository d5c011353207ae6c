/** The boot of a core's worker thread (see cores.ts): runs the core with what runOnCores sent. */
import { parentPort, workerData } from 'node:worker_threads';
import { runCoreWorker, type CoreWorkerData } from './cores.ts';

await runCoreWorker(workerData as CoreWorkerData, parentPort!);
