// Worker thread of `audit iac`: audits batches of files (reading, parsing and checking are
// all CPU work on this thread) and posts the per-file results back.
import { parentPort } from 'node:worker_threads';
import { auditIacFile, type FileJob, type FileJobOptions } from './audit-file.ts';

parentPort?.on('message', (msg: { jobs: FileJob[]; opts: FileJobOptions }) => {
  parentPort?.postMessage(msg.jobs.map((job) => auditIacFile(job, msg.opts)));
});
