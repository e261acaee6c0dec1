// One ContainerdClient.version() call on the socket named by argv[2]; prints `ok` or the error
// code. Run as a child by containerd-errors.test.ts, without capabilities (setpriv), so root's
// permission checks apply to it.
import { InputError } from '../../src/model/errors.ts';
import { ContainerdClient } from '../../src/readers/containerd/client.ts';

const client = new ContainerdClient(process.argv[2] as string, { deadlineMs: 5000 });
try {
  await client.version();
  process.stdout.write('ok\n');
} catch (e) {
  process.stdout.write(`${e instanceof InputError ? e.code : String(e)}\n`);
} finally {
  client.close();
}
