// What the agent reads besides the node: the image policy (and its audit waivers), the lock,
// and the secrets of its outputs. Read once at start, where a broken file stops the agent
// (exit 2, one line), and again before every check, where a broken file keeps the last good
// one and is reported: an edit in progress must not blind a running agent.
import { type PolicyWaiver, parsePolicyWaivers } from '../audit/waivers.ts';
import { readOptionText } from '../io/option-file.ts';
import { InputError } from '../model/errors.ts';
import { type ImagePolicy, parseImagePolicy } from '../policy/image-policy.ts';
import { type Lockfile, readLock } from '../verify/lock/format.ts';
import type { AgentConfig } from './config.ts';

export interface AgentInputs {
  policy?: ImagePolicy;
  waivers: PolicyWaiver[];
  lock?: Lockfile;
}

export interface AgentSecrets {
  webhook?: { url: string; secret: string };
  server?: { url: string; token: string };
}

/** The policy and lock as they are now; throws InputError (the file and line) when one is broken. */
export function loadAgentInputs(config: AgentConfig): AgentInputs {
  const inputs: AgentInputs = { waivers: [] };
  if (config.policy) {
    const text = readOptionText(config.policy, 'policy');
    inputs.policy = parseImagePolicy(config.policy, text);
    inputs.waivers = parsePolicyWaivers(config.policy, text);
  }
  if (config.lock) inputs.lock = readLock(config.lock, { create: false });
  return inputs;
}

/** The webhook's HMAC secret and the server's token, trimmed of the newline editors add. */
export function loadAgentSecrets(config: AgentConfig): AgentSecrets {
  const secrets: AgentSecrets = {};
  if (config.webhook) {
    const secret = readOptionText(config.webhook.secretFile, 'secret').trim();
    if (secret === '') throw new InputError('CONFIG_INVALID', config.webhook.secretFile, 'the webhook secret is empty');
    secrets.webhook = { url: config.webhook.url, secret };
  }
  if (config.server) {
    const token = readOptionText(config.server.tokenFile, 'secret').trim();
    if (token === '') throw new InputError('CONFIG_INVALID', config.server.tokenFile, 'the token file is empty');
    secrets.server = { url: config.server.url, token };
  }
  return secrets;
}
