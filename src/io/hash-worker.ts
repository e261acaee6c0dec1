// Worker thread: hash files of the shared job until none is left, then answer with what this
// worker hashed (see hashing.ts).
import { type HashJob, type HashJobReply, takeJobs } from './hashing.ts';
import { serveRequests } from './worker-serve.ts';

serveRequests((job: HashJob): HashJobReply => {
  const done: HashJobReply = [];
  takeJobs(job, (index, outcome) => done.push([index, outcome]));
  return done;
});
