// `webhook certs`: a CA, a serving certificate for the webhook's Service signed by it, and the
// two webhook configurations carrying the CA as caBundle, written as new files in one folder.
//
// Nothing is overwritten: each file is created exclusively (O_EXCL), so a second run, or a
// file of the same name already there, stops with the file named instead of replacing a key in
// use. The private key is 0600 from its creation. The CA's own key is not written at all: it
// has signed the one serving certificate and is then dropped, so nobody holding the folder can
// mint another certificate the API server would trust. Renewing is running the command again
// into a new folder and applying both outputs (the Secret and the configurations).
import { closeSync, mkdirSync, openSync, rmSync, writeSync } from 'node:fs';
import { join } from 'node:path';
import { InputError } from '../../model/errors.ts';
import { type FailurePolicy, webhookConfigurationsYaml } from './configurations.ts';
import { issueCertificate } from './x509.ts';

export const CERT_FILES = {
  ca: 'ca.crt',
  cert: 'tls.crt',
  key: 'tls.key',
  configurations: 'webhook-configurations.yaml',
} as const;

/** A Service or namespace name (RFC 1123 label), as the API server requires. */
const DNS_LABEL = /^[a-z0-9]([-a-z0-9]{0,61}[a-z0-9])?$/;

export const DEFAULT_CERT_DAYS = 365;
const CA_DAYS = 3650;

export interface MakeCertsOptions {
  service: string;
  namespace: string;
  dir: string;
  /** Validity of the serving certificate (the CA lives ten years). */
  days?: number;
  failurePolicy?: FailurePolicy;
  timeoutSeconds?: number;
  now?: Date;
}

export interface MadeCerts {
  files: { [K in keyof typeof CERT_FILES]: string };
  dnsNames: string[];
  notAfter: Date;
}

export function makeWebhookCerts(opts: MakeCertsOptions): MadeCerts {
  for (const [flag, value] of [
    ['--service', opts.service],
    ['--namespace', opts.namespace],
  ] as const) {
    if (!DNS_LABEL.test(value)) {
      throw new InputError('USAGE', undefined, `${flag} "${value}" is not a Kubernetes name (lowercase a-z, 0-9, -)`);
    }
  }
  const now = opts.now ?? new Date();
  // An hour back: a node whose clock runs a little behind still accepts the certificate.
  const notBefore = new Date(now.getTime() - 3_600_000);
  const notAfter = new Date(now.getTime() + (opts.days ?? DEFAULT_CERT_DAYS) * 86_400_000);
  const dnsNames = [`${opts.service}.${opts.namespace}.svc`, `${opts.service}.${opts.namespace}.svc.cluster.local`];
  const ca = issueCertificate({
    commonName: `k3sguard webhook CA for ${opts.service}.${opts.namespace}`,
    notBefore,
    notAfter: new Date(now.getTime() + CA_DAYS * 86_400_000),
    role: { ca: true },
  });
  const serving = issueCertificate({
    commonName: dnsNames[0] as string,
    notBefore,
    notAfter,
    role: { ca: false, dnsNames },
    issuer: ca,
  });
  const yaml = webhookConfigurationsYaml({
    service: opts.service,
    namespace: opts.namespace,
    caPem: ca.certPem,
    ...(opts.failurePolicy ? { failurePolicy: opts.failurePolicy } : {}),
    ...(opts.timeoutSeconds ? { timeoutSeconds: opts.timeoutSeconds } : {}),
  });
  const files = {
    ca: join(opts.dir, CERT_FILES.ca),
    cert: join(opts.dir, CERT_FILES.cert),
    key: join(opts.dir, CERT_FILES.key),
    configurations: join(opts.dir, CERT_FILES.configurations),
  };
  try {
    mkdirSync(opts.dir, { recursive: true, mode: 0o700 });
  } catch (e) {
    throw new InputError('OUTPUT', opts.dir, `cannot create the folder (${(e as NodeJS.ErrnoException).code ?? e})`);
  }
  // Every file opened (created empty) before any is written.
  const fds: Array<{ path: string; fd: number; text: string }> = [];
  try {
    for (const [path, text, mode] of [
      [files.key, serving.keyPem, 0o600],
      [files.cert, serving.certPem, 0o644],
      [files.ca, ca.certPem, 0o644],
      [files.configurations, yaml, 0o644],
    ] as const) {
      fds.push({ path, fd: openExclusive(path, mode), text });
    }
  } catch (e) {
    // The files this run created are still empty: removed, so a refusal leaves the folder as it was.
    for (const f of fds) {
      closeSync(f.fd);
      rmSync(f.path, { force: true });
    }
    throw e;
  }
  for (const f of fds) {
    try {
      writeSync(f.fd, f.text);
    } finally {
      closeSync(f.fd);
    }
  }
  return { files, dnsNames, notAfter };
}

function openExclusive(path: string, mode: number): number {
  try {
    return openSync(path, 'wx', mode);
  } catch (e) {
    const code = (e as NodeJS.ErrnoException).code;
    if (code === 'EEXIST') {
      throw new InputError('OUTPUT', path, 'already exists; webhook certs never overwrites: choose a new -o folder');
    }
    throw new InputError('OUTPUT', path, `cannot create (${code ?? e})`);
  }
}
