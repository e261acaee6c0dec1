// `k3sguard webhook certs --service NAME --namespace NS -o DIR`: the webhook's TLS and its
// registration (docs/webhook.md "Install"). Prints what it wrote and the two commands that
// install it; a file already there is a usage error naming it (nothing is overwritten).
import { InputError } from '../model/errors.ts';
import { DEFAULT_TIMEOUT_SECONDS, type FailurePolicy } from '../webhook/certs/configurations.ts';
import { DEFAULT_CERT_DAYS, makeWebhookCerts } from '../webhook/certs/make.ts';
import { EXIT_CLEAN } from './exit.ts';

export interface WebhookCertsCliOptions {
  service: string;
  namespace: string;
  output: string;
  days?: string;
  failurePolicy?: string;
  timeoutSeconds?: string;
}

function whole(flag: string, text: string | undefined, fallback: number, max: number): number {
  if (text === undefined) return fallback;
  const n = /^[1-9][0-9]{0,4}$/.test(text) ? Number(text) : Number.NaN;
  if (!(n <= max)) throw new InputError('USAGE', undefined, `${flag}: a whole number from 1 to ${max}`);
  return n;
}

export async function runWebhookCerts(opts: WebhookCertsCliOptions): Promise<number> {
  const days = whole('--days', opts.days, DEFAULT_CERT_DAYS, 3650);
  const timeoutSeconds = whole('--timeout-seconds', opts.timeoutSeconds, DEFAULT_TIMEOUT_SECONDS, 30);
  const policy = opts.failurePolicy ?? 'Fail';
  if (policy !== 'Fail' && policy !== 'Ignore')
    throw new InputError('USAGE', undefined, '--failure-policy: Fail or Ignore');
  const made = makeWebhookCerts({
    service: opts.service,
    namespace: opts.namespace,
    dir: opts.output,
    days,
    timeoutSeconds,
    failurePolicy: policy as FailurePolicy,
  });
  const f = made.files;
  process.stdout.write(
    [
      `${f.ca}: the CA (its key is not kept: nothing else can be signed by it)`,
      `${f.cert}, ${f.key}: serving certificate for ${made.dnsNames.join(', ')}, until ${made.notAfter.toISOString()}`,
      `${f.configurations}: ValidatingWebhookConfiguration and MutatingWebhookConfiguration (caBundle, failurePolicy ${policy})`,
      'Install:',
      `  kubectl -n ${opts.namespace} create secret tls ${opts.service}-tls --cert=${f.cert} --key=${f.key}`,
      `  kubectl apply -f ${f.configurations}`,
      '',
    ].join('\n'),
  );
  return EXIT_CLEAN;
}
