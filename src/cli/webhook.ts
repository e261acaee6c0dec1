// `k3sguard webhook`: the admission webhook (docs/webhook.md) until SIGTERM or SIGINT, which
// stop taking reviews and finish those in flight. Decisions come from the same policy file as
// `verify` and the agent; signatures and tags from the images' registries (credentials in a
// K3s-shaped registries.yaml), kept in --cache-dir so --offline can decide from it alone.
import { parseListen } from '../agent/listen.ts';
import { readOptionText } from '../io/option-file.ts';
import { InputError } from '../model/errors.ts';
import { LIMITS } from '../model/limits.ts';
import { quoteControls } from '../model/quote.ts';
import { parseImagePolicy } from '../policy/image-policy.ts';
import { RegistryCache } from '../readers/registry/cache.ts';
import { RegistryClient } from '../readers/registry/client.ts';
import { loadRegistryConfig } from '../readers/registry/config.ts';
import { LockedImages, lockedImagesPath } from '../verify/lock/images.ts';
import { DEFAULT_DEADLINE_MS, DEFAULT_EXCLUDED_NAMESPACES, type DecisionContext } from '../webhook/decide.ts';
import { startWebhook } from '../webhook/server.ts';
import { EXIT_CLEAN } from './exit.ts';

/** In a pod the API server reaches the webhook on the pod's address, hence all interfaces. */
export const DEFAULT_WEBHOOK_LISTEN = '0.0.0.0:8443';

export interface WebhookCliOptions {
  tlsCert?: string;
  tlsKey?: string;
  policy?: string;
  registries?: string;
  cacheDir?: string;
  offline?: boolean;
  trustedRoot?: string;
  mode?: string;
  failOpen?: boolean;
  listen?: string;
  excludeNamespace?: string[];
  deadline?: string;
}

export async function runWebhook(opts: WebhookCliOptions): Promise<number> {
  if (!opts.tlsCert || !opts.tlsKey) {
    throw new InputError(
      'USAGE',
      undefined,
      '--tls-cert and --tls-key are required (the API server speaks HTTPS only)',
    );
  }
  if (!opts.policy) throw new InputError('USAGE', undefined, '--policy is required: the image policy to enforce');
  const mode = opts.mode ?? 'enforce';
  if (mode !== 'enforce' && mode !== 'audit') throw new InputError('USAGE', undefined, '--mode: enforce or audit');
  if (opts.offline && !opts.cacheDir) {
    throw new InputError('USAGE', undefined, '--offline decides from the cache: give --cache-dir');
  }
  let deadlineMs = DEFAULT_DEADLINE_MS;
  if (opts.deadline !== undefined) {
    if (!/^[1-9][0-9]{0,5}$/.test(opts.deadline)) {
      throw new InputError('USAGE', undefined, '--deadline: milliseconds, a positive whole number');
    }
    deadlineMs = Number(opts.deadline);
  }
  const listen = parseListen(opts.listen ?? DEFAULT_WEBHOOK_LISTEN);
  const policy = parseImagePolicy(opts.policy, readOptionText(opts.policy, 'policy'));
  // A lock the policy names must be readable now: a typo is a usage error, not denials later.
  const lockPath = lockedImagesPath(policy);
  if (lockPath) void new LockedImages(lockPath).size;
  const config = opts.registries ? await loadRegistryConfig(opts.registries) : undefined;
  const client = opts.offline ? undefined : new RegistryClient(config ? { config, timeoutMs: deadlineMs } : {});
  const decision: DecisionContext = {
    policy,
    mode,
    failOpen: opts.failOpen === true,
    deadlineMs,
    excludedNamespaces: opts.excludeNamespace ?? DEFAULT_EXCLUDED_NAMESPACES,
    ...(client ? { client } : {}),
    // Long-running: the key is read once, and cache entries are kept in memory as well.
    resolvedPolicies: new Map(),
    ...(opts.cacheDir
      ? { cache: new RegistryCache(opts.cacheDir, { memoryEntries: LIMITS.registryCacheMemoryEntries }) }
      : {}),
    ...(opts.offline ? { offline: true } : {}),
    ...(opts.trustedRoot ? { trustedRootPath: opts.trustedRoot } : {}),
  };
  let server: Awaited<ReturnType<typeof startWebhook>>;
  try {
    server = await startWebhook({
      decision,
      tls: { certFile: opts.tlsCert, keyFile: opts.tlsKey },
      host: listen.host,
      port: listen.port,
      logger: { level: process.env.K3SGUARD_LOG_LEVEL ?? 'info' },
    });
  } catch (e) {
    client?.close();
    const code = (e as NodeJS.ErrnoException).code;
    throw new InputError(
      'USAGE',
      undefined,
      `--listen ${quoteControls(opts.listen ?? DEFAULT_WEBHOOK_LISTEN)} or the certificate: ${code ?? (e as Error).message}`,
    );
  }
  process.stderr.write(`k3sguard webhook: ${mode}, listening on ${server.url} (POST /validate, /mutate)\n`);
  await new Promise<void>((resolve) => {
    process.once('SIGTERM', resolve);
    process.once('SIGINT', resolve);
  });
  await server.close();
  client?.close();
  return EXIT_CLEAN;
}
