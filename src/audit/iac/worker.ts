// Worker thread of `audit iac`: audits batches of files (reading, parsing and checking are
// all CPU work on this thread) and answers with the per-file results.
import { serveRequests } from '../../io/worker-serve.ts';
import { auditIacFile, type FileAudit, type FileJob, type FileJobOptions } from './audit-file.ts';

export interface IacBatch {
  jobs: FileJob[];
  opts: FileJobOptions;
}

serveRequests((batch: IacBatch): FileAudit[] => batch.jobs.map((job) => auditIacFile(job, batch.opts)));
