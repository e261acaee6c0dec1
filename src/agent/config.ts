// The agent's configuration: flags, and/or an `agent.yaml` (`kind: AgentConfig`) that flags
// override. Read as strictly as the image policy (the same reader): a misspelt key would
// silently leave a default in place (an agent watching the wrong data dir looks healthy), so
// every unknown key or wrong type is an error naming file:line:col.
//
// Paths: `root` is the node's root (`/`, or where a node is mounted); `dataDir` and `proc` are
// node paths under it. The containerd socket and root are how this process reaches the running
// containerd: given explicitly they are used as they are, by default they are K3s's, under root.
import { join } from 'node:path';
import { LineCounter, type Node, parseDocument } from 'yaml';
import { readOptionText } from '../io/option-file.ts';
import { InputError } from '../model/errors.ts';
import { POLICY_API_VERSION, PolicyReader } from '../policy/image-policy.ts';
import { parseListen } from './listen.ts';

export const AGENT_CONFIG_KIND = 'AgentConfig';

export const AGENT_DEFAULTS = {
  root: '/',
  dataDir: '/var/lib/rancher/k3s',
  containerdSocket: '/run/k3s/containerd/containerd.sock',
  stateDir: '/var/lib/k3sguard',
  interval: '5m',
  listen: '127.0.0.1:9464',
} as const;

export interface AgentConfig {
  /** The config file, when one was read (for messages). */
  file?: string;
  root: string;
  /** Node path of K3s's data dir (`/var/lib/rancher/k3s`). */
  dataDir: string;
  /** Host path of the containerd socket. */
  containerdSocket: string;
  /** Host path of containerd's root (its content store is `io.containerd.content.v1.content` in it). */
  containerdRoot: string;
  /** Host path of the proc filesystem the process check reads (absent: no process check). */
  proc: string;
  lock?: string;
  policy?: string;
  db?: string;
  stateDir: string;
  intervalMs: number;
  /** Quiet time after a file event before the check it triggers (events come in bursts). */
  debounceMs: number;
  /** `host:port`; empty: no metrics and health endpoint. */
  listen: string;
  webhook?: { url: string; secretFile: string };
  server?: { url: string; tokenFile: string };
  once: boolean;
  json: boolean;
}

/** What the command line gives (commander's names); every value optional. */
export interface AgentFlags {
  config?: string;
  root?: string;
  dataDir?: string;
  containerdSocket?: string;
  containerdRoot?: string;
  proc?: string;
  lock?: string;
  policy?: string;
  db?: string;
  stateDir?: string;
  interval?: string;
  debounce?: string;
  listen?: string;
  webhook?: string;
  webhookSecretFile?: string;
  server?: string;
  tokenFile?: string;
  once?: boolean;
  json?: boolean;
}

type FileValues = Omit<AgentFlags, 'config' | 'once' | 'json'>;

const SCALAR_KEYS = [
  'root',
  'dataDir',
  'containerdSocket',
  'containerdRoot',
  'proc',
  'lock',
  'policy',
  'db',
  'stateDir',
  'interval',
  'debounce',
  'listen',
] as const;

const UNITS: Record<string, number> = { ms: 1, s: 1000, m: 60_000, h: 3_600_000 };

/** `250ms`, `30s`, `5m`, `1h` -> milliseconds, or undefined when it is not a duration. */
export function parseDuration(text: string): number | undefined {
  const m = /^(\d+(?:\.\d+)?)(ms|s|m|h)$/.exec(text.trim());
  if (!m) return undefined;
  const ms = Math.round(Number(m[1]) * (UNITS[m[2] as string] as number));
  return ms > 0 ? ms : undefined;
}

/** Read `agent.yaml`: only the documented keys, each of its type. */
export function parseAgentConfigFile(file: string, text: string): FileValues {
  const lines = new LineCounter();
  const doc = parseDocument(text, { lineCounter: lines, uniqueKeys: true, prettyErrors: false });
  const r = new PolicyReader(file, lines, 'CONFIG_INVALID');
  const yamlError = doc.errors[0];
  if (yamlError) {
    const { line, col } = lines.linePos(yamlError.pos[0]);
    throw new InputError(
      'CONFIG_INVALID',
      file,
      `${file}:${line}:${col}: not valid YAML: ${yamlError.message.split('\n')[0]}`,
    );
  }
  if (doc.contents === null) r.fail(null, `empty config; start with "apiVersion: ${POLICY_API_VERSION}"`);
  const top = r.map(doc.contents, 'the agent config', ['apiVersion', 'kind', ...SCALAR_KEYS, 'webhook', 'server']);
  const apiVersion = top.get('apiVersion');
  if (apiVersion === undefined) r.fail(doc.contents, `missing "apiVersion: ${POLICY_API_VERSION}"`);
  if (r.string(apiVersion, 'apiVersion') !== POLICY_API_VERSION) {
    r.fail(apiVersion, `unsupported apiVersion; this k3sguard reads "${POLICY_API_VERSION}"`);
  }
  const kind = top.get('kind');
  if (kind === undefined) r.fail(doc.contents, `missing "kind: ${AGENT_CONFIG_KIND}"`);
  if (r.string(kind, 'kind') !== AGENT_CONFIG_KIND) r.fail(kind, `kind must be "${AGENT_CONFIG_KIND}"`);
  const out: FileValues = {};
  for (const key of SCALAR_KEYS) {
    const node = top.get(key);
    if (node === undefined) continue;
    const value = r.string(node, key);
    if ((key === 'interval' || key === 'debounce') && parseDuration(value) === undefined) {
      r.fail(node, `${key} must be a duration like 30s, 5m or 1h`);
    }
    out[key] = value;
  }
  const webhook = top.get('webhook');
  if (webhook !== undefined) {
    const w = r.map(webhook, 'webhook', ['url', 'secretFile']);
    out.webhook = url(r, w.get('url'), 'webhook.url', webhook);
    const secret = w.get('secretFile');
    if (secret !== undefined) out.webhookSecretFile = r.string(secret, 'webhook.secretFile');
  }
  const server = top.get('server');
  if (server !== undefined) {
    const s = r.map(server, 'server', ['url', 'tokenFile']);
    out.server = url(r, s.get('url'), 'server.url', server);
    const token = s.get('tokenFile');
    if (token !== undefined) out.tokenFile = r.string(token, 'server.tokenFile');
  }
  return out;
}

function url(r: PolicyReader, node: Node | undefined, what: string, parent: Node): string {
  if (node === undefined) r.fail(parent, `missing "url:" in ${what.split('.')[0]}`);
  const text = r.string(node, what);
  if (urlProblem(text)) r.fail(node, `${what} ${urlProblem(text)}`);
  return text;
}

function urlProblem(text: string): string | undefined {
  try {
    const u = new URL(text);
    return u.protocol === 'http:' || u.protocol === 'https:' ? undefined : 'must be an http:// or https:// URL';
  } catch {
    return 'must be an http:// or https:// URL';
  }
}

/** Flags over the file over the defaults; every value checked. */
export function loadAgentConfig(flags: AgentFlags): AgentConfig {
  const file = flags.config ? parseAgentConfigFile(flags.config, readOptionText(flags.config, 'config')) : {};
  const pick = <K extends keyof FileValues>(k: K): FileValues[K] => flags[k] ?? file[k];
  const usage = (message: string): never => {
    throw new InputError('CONFIG_INVALID', flags.config, message);
  };
  const root = pick('root') ?? AGENT_DEFAULTS.root;
  const dataDir = pick('dataDir') ?? AGENT_DEFAULTS.dataDir;
  if (!dataDir.startsWith('/')) usage(`--data-dir must be an absolute node path, not ${dataDir}`);
  const intervalText = pick('interval') ?? AGENT_DEFAULTS.interval;
  const intervalMs =
    parseDuration(intervalText) ?? usage(`--interval must be a duration like 30s, 5m or 1h, not ${intervalText}`);
  const debounceText = pick('debounce') ?? '1s';
  const debounceMs =
    parseDuration(debounceText) ?? usage(`--debounce must be a duration like 500ms or 2s, not ${debounceText}`);
  const listen = pick('listen') ?? AGENT_DEFAULTS.listen;
  if (listen !== '') parseListen(listen); // the HTTP endpoint's own reading, so both agree
  const config: AgentConfig = {
    root,
    dataDir,
    containerdSocket: pick('containerdSocket') ?? join(root, AGENT_DEFAULTS.containerdSocket),
    containerdRoot: pick('containerdRoot') ?? join(root, dataDir, 'agent/containerd'),
    proc: pick('proc') ?? join(root, 'proc'),
    stateDir: pick('stateDir') ?? AGENT_DEFAULTS.stateDir,
    intervalMs,
    debounceMs,
    listen,
    once: flags.once ?? false,
    json: flags.json ?? false,
  };
  if (flags.config) config.file = flags.config;
  for (const key of ['lock', 'policy', 'db'] as const) {
    const v = pick(key);
    if (v !== undefined) config[key] = v;
  }
  const webhook = pick('webhook');
  const secretFile = pick('webhookSecretFile');
  if (webhook !== undefined) {
    const problem = urlProblem(webhook);
    if (problem) usage(`--webhook ${problem}`);
    // Unsigned alerts would let anyone who can reach the receiver forge or replay them.
    if (secretFile === undefined)
      return usage('--webhook needs --webhook-secret-file (the HMAC key the receiver checks)');
    config.webhook = { url: webhook, secretFile };
  } else if (secretFile !== undefined) usage('--webhook-secret-file needs --webhook');
  const server = pick('server');
  const tokenFile = pick('tokenFile');
  if (server !== undefined) {
    const problem = urlProblem(server);
    if (problem) usage(`--server ${problem}`);
    if (tokenFile === undefined) return usage('--server needs --token-file (the node token the server expects)');
    config.server = { url: server, tokenFile };
  } else if (tokenFile !== undefined) usage('--token-file needs --server');
  return config;
}
