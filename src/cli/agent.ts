// `k3sguard agent`: the long-running check of a K3s node (docs/agent.md). `--once` makes one
// check, prints the report (table, or `--json` the k3sguard/report@1 document) and exits 0
// clean, 1 findings, 2 cannot run. Without it, events go to stdout as JSON lines until
// SIGTERM or SIGINT, which finish the check in progress, flush the outputs and exit 0.

import { type AgentFlags, loadAgentConfig } from '../agent/config.ts';
import { loadAgentInputs, loadAgentSecrets } from '../agent/inputs.ts';
import { startOutputs } from '../agent/outputs.ts';
import { reportTable } from '../agent/report.ts';
import { checkOnce, startAgent } from '../agent/service.ts';
import { checkContainerd } from '../audit/runtime/containerd.ts';
import { quoteControls } from '../model/quote.ts';
import { EXIT_CLEAN, EXIT_FINDINGS, EXIT_INPUT } from './exit.ts';

export type AgentCliOptions = AgentFlags;

export async function runAgent(opts: AgentCliOptions): Promise<number> {
  const config = loadAgentConfig(opts);
  if (config.once) {
    const { report, nothingAudited } = await checkOnce(config, { containerd: checkContainerd });
    process.stdout.write(config.json ? `${JSON.stringify(report, null, 2)}\n` : reportTable(report));
    if (nothingAudited) {
      process.stderr.write(
        `k3sguard: agent --once: no K3s node file could be read under ${quoteControls(config.root)}\n`,
      );
      return EXIT_INPUT;
    }
    return report.findings.length > 0 ? EXIT_FINDINGS : EXIT_CLEAN;
  }
  loadAgentInputs(config); // a broken policy or lock is one line and exit 2, before anything starts
  const outputs = await startOutputs(config, loadAgentSecrets(config), (text) =>
    process.stderr.write(`${quoteControls(text)}\n`),
  );
  if (outputs.http) process.stderr.write(`k3sguard agent: metrics and health on http://${outputs.http.address}\n`);
  const agent = await startAgent(
    config,
    {
      line: (text) => process.stdout.write(`${text}\n`),
      log: (text) => process.stderr.write(`${quoteControls(text)}\n`),
    },
    { containerd: checkContainerd, sinks: outputs },
  );
  await new Promise<void>((resolve) => {
    const stop = () => resolve();
    process.once('SIGTERM', stop);
    process.once('SIGINT', stop);
  });
  await agent.stop();
  return EXIT_CLEAN;
}
