// Worker thread: hash files of the shared job until none is left (see hashing.ts).
import { parentPort, workerData } from 'node:worker_threads';
import { type HashJob, takeJobs } from './hashing.ts';

takeJobs(workerData as HashJob, (index, outcome) => parentPort?.postMessage({ index, outcome }));
