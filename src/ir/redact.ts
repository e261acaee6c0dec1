// Secrets never leave the node: what `ir collect` archives of a file passes through here
// first. A private key or token file is replaced whole; in YAML (config.yaml and its drop-ins,
// registries.yaml, a kubeconfig) and env files each secret value is. Each is replaced by its
// sha256, so a responder can still tell whether two nodes (or two collections) hold the same
// secret without anyone learning it. The key names follow what `audit node` treats as secrets
// (config-secrets.ts: token, agent-token, etcd-s3-secret-key, a datastore DSN password) plus
// registries.yaml's auth fields and a kubeconfig's credentials.
import { createHash } from 'node:crypto';
import { basename } from 'node:path';
import { isMap, isScalar, parseAllDocuments, visit } from 'yaml';

export interface Redaction {
  /** What was replaced: `file`, or the YAML key / env variable. */
  what: string;
  sha256: string;
}

export interface Redacted {
  data: Buffer;
  redactions: Redaction[];
}

const PRIVATE_KEY = /-----BEGIN [A-Z0-9 ]*PRIVATE KEY-----/;
const SECRET_YAML_KEYS = new Set([
  'token',
  'agent-token',
  'etcd-s3-secret-key',
  'password',
  'auth',
  'identitytoken',
  'client-key-data',
  'client-key',
]);
const DSN_PASSWORD = /^[a-z][a-z0-9+.-]*:\/\/[^:@/\s]*:[^@\s]+@|[?&\s]password=[^&\s]/i;
const SECRET_ENV = /(TOKEN|PASSWORD|SECRET|_KEY)$/i;
/**
 * Files that are a secret whole: K3s's token files (server/token, node-token, agent-token),
 * the node password (/etc/rancher/node/password), and anything else so named.
 */
const SECRET_FILE = /token|passw(or)?d|secret|credential/i;
const YAML_FILE = /\.ya?ml$/;

const sha = (b: Buffer | string): string => createHash('sha256').update(b).digest('hex');

function whole(data: Buffer, why: string): Redacted {
  const digest = sha(data);
  return {
    data: Buffer.from(`# k3sguard ir: ${why} redacted; its sha256 is ${digest}\n`),
    redactions: [{ what: 'file', sha256: digest }],
  };
}

export function redact(source: string, data: Buffer): Redacted {
  const text = data.toString('utf8');
  if (PRIVATE_KEY.test(text)) return whole(data, 'private key');
  const name = basename(source);
  if (SECRET_FILE.test(name) && !YAML_FILE.test(name)) return whole(data, 'secret file');
  if (YAML_FILE.test(name) || /\/etc\/rancher\/k3s\/config\.yaml\.d\//.test(source)) return redactYaml(data, text);
  if (/\.env$|\/etc\/default\/|\/etc\/sysconfig\//.test(source)) return redactEnv(text);
  if (/\.service$/.test(name)) return redactUnitFlags(text);
  return { data, redactions: [] };
}

/**
 * A flag's value on a unit's command line (`INSTALL_K3S_EXEC="server --token X"` puts it in
 * ExecStart): `--token X`, `'--token' 'X'` (install.sh quotes each word, one per continued
 * line), `--token=X`; the same for `-t`, `--agent-token`, `--etcd-s3-secret-key`, and a
 * `--datastore-endpoint` that carries a password.
 */
const UNIT_SECRET_FLAG =
  /(?<=^|[\s'"])(['"]?)(--token|-t|--agent-token|--etcd-s3-secret-key|--datastore-endpoint)\1(=|[ \t]+(?:\\\n[ \t]*)?)(['"]?)([^\s'"\\]+)\4/g;

function redactUnitFlags(text: string): Redacted {
  const redactions: Redaction[] = [];
  const out = text.replace(UNIT_SECRET_FLAG, (whole, q1, flag: string, sep, q2, value: string) => {
    if (flag === '--datastore-endpoint' && !DSN_PASSWORD.test(value)) return whole;
    const digest = sha(value);
    redactions.push({ what: flag, sha256: digest });
    return `${q1}${flag}${q1}${sep}${q2}REDACTED-sha256:${digest}${q2}`;
  });
  return { data: Buffer.from(out), redactions };
}

function redactYaml(data: Buffer, text: string): Redacted {
  const docs = parseAllDocuments(text, { uniqueKeys: false });
  // A file we cannot read as YAML may still hold a secret: keep only its digest.
  if (!Array.isArray(docs) || docs.some((d) => d.errors.length > 0)) return whole(data, 'unparsable YAML file');
  const redactions: Redaction[] = [];
  for (const doc of docs) {
    // A manifest's Secret: every value under data and stringData is a secret, whatever its key.
    if (doc.get('kind') === 'Secret') {
      for (const field of ['data', 'stringData']) {
        const map = doc.get(field);
        if (!isMap(map)) continue;
        for (const pair of map.items) {
          if (!isScalar(pair.value) || pair.value.value === null) continue;
          const digest = sha(String(pair.value.value));
          redactions.push({
            what: `${field}.${String(isScalar(pair.key) ? pair.key.value : pair.key)}`,
            sha256: digest,
          });
          pair.value.value = `REDACTED sha256:${digest}`;
        }
      }
    }
    visit(doc, {
      Pair(_, pair) {
        if (!isScalar(pair.key)) return;
        const key = String(pair.key.value).replace(/\+$/, '');
        const value = pair.value;
        if (isMap(value) || !isScalar(value) || value.value === null) return;
        const v = String(value.value);
        if (!(SECRET_YAML_KEYS.has(key) || (key === 'datastore-endpoint' && DSN_PASSWORD.test(v)))) return;
        const digest = sha(v);
        redactions.push({ what: key, sha256: digest });
        value.value = `REDACTED sha256:${digest}`;
        value.comment = undefined;
      },
    });
  }
  if (redactions.length === 0) return { data, redactions };
  // lineWidth 0: a replaced value stays on its line, as the original did.
  return { data: Buffer.from(docs.map((d) => d.toString({ lineWidth: 0 })).join('')), redactions };
}

function redactEnv(text: string): Redacted {
  const redactions: Redaction[] = [];
  const lines = text.split('\n').map((line) => {
    const m = /^(\s*(?:export\s+)?([A-Za-z_][A-Za-z0-9_]*)=)(.*)$/.exec(line);
    if (!m || !SECRET_ENV.test(m[2] as string)) return line;
    const digest = sha(m[3] as string);
    redactions.push({ what: m[2] as string, sha256: digest });
    return `${m[1]}REDACTED-sha256:${digest}`;
  });
  return { data: Buffer.from(lines.join('\n')), redactions };
}
