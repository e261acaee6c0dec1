// The secrets K3s takes from config.yaml and its drop-ins, and who else can read them: the
// cluster token (`token`, which lets a machine join as a server and read every secret the
// datastore holds), `agent-token`, the datastore password inside `datastore-endpoint`, the S3
// secret key of etcd snapshots; `token-file`/`agent-token-file` name a file holding a token.
// Each file is checked as it is on disk: a value a later drop-in overrides is still readable
// in the earlier file. And the admin kubeconfig K3s writes: `write-kubeconfig-mode` (config or
// command line; the command line wins), and the file itself when it is there.
import type { Node, Pair } from 'yaml';
import type { SourceRegion } from '../../model/inventory.ts';
import { nodeRule } from '../../model/rules/node.ts';
import { fileFinding, ruleFinding } from '../../model/rules/rule.ts';
import type { ConfigFlag } from './config.ts';
import type { NodeContext } from './context.ts';
import { relName } from './rootfs.ts';
import { octalMode, otherReaders, secretRegion } from './secret-file.ts';
import type { K3sFlag, UnitCommand } from './unit.ts';
import { entriesOf, scalarText, type YamlFile } from './yamlpos.ts';

/** K3s's default `--write-kubeconfig`. */
export const KUBECONFIG = '/etc/rancher/k3s/k3s.yaml';

const TOKENS = new Set(['token', 'agent-token', 'etcd-s3-secret-key']);
const TOKEN_FILES = new Set(['token-file', 'agent-token-file']);

/** `scheme://user:password@host...` or a `password=` parameter: a datastore DSN with its password. */
const DSN_PASSWORD = /^[a-z][a-z0-9+.-]*:\/\/[^:@/\s]*:[^@\s]+@|[?&\s]password=[^&\s]/i;

/** Secrets in one config file (config.yaml or a drop-in) whose mode lets others read them. */
export function checkConfigSecrets(ctx: NodeContext, y: YamlFile, top: unknown, mode: number): void {
  const readers = otherReaders(mode);
  for (const { key, pair } of entriesOf(top)) {
    const name = key.replace(/\+$/, '');
    const value = scalarText(pair.value) ?? '';
    if (value === '') continue;
    if (TOKEN_FILES.has(name)) {
      tokenFile(ctx, y, pair, name, value);
      continue;
    }
    const secret = TOKENS.has(name) || (name === 'datastore-endpoint' && DSN_PASSWORD.test(value));
    if (!secret || !readers) continue;
    const what = name === 'datastore-endpoint' ? 'the datastore password (in datastore-endpoint)' : `the ${name}`;
    ctx.findings.push(
      ruleFinding(
        nodeRule('K3SG-NODE-CONFIG-SECRET-READABLE'),
        `${y.file} holds ${what} and has mode ${octalMode(mode)}: readable by ${readers}.`,
        secretRegion(y, pair, key),
      ),
    );
  }
}

/** `token-file: /path`: the named file holds the token; its mode is what counts. */
function tokenFile(ctx: NodeContext, y: YamlFile, pair: Pair<Node, Node | null>, name: string, path: string): void {
  if (!path.startsWith('/')) return; // relative to K3s's working directory: not knowable here
  const where = ctx.root.resolve(path);
  if (where.kind !== 'found' || !where.st.isFile()) return;
  const readers = otherReaders(where.st.mode);
  if (!readers) return;
  ctx.findings.push(
    ruleFinding(
      nodeRule('K3SG-NODE-CONFIG-SECRET-READABLE'),
      `${name} names ${path}, which holds the ${name === 'token-file' ? 'token' : 'agent-token'} and has mode ${octalMode(where.st.mode)}: readable by ${readers}.`,
      secretRegion(y, pair, name),
    ),
  );
}

/**
 * `write-kubeconfig-mode` in effect (the unit's flag over the config's) granting group or
 * others any access, and the kubeconfig file on the node readable by them.
 */
export function checkKubeconfigMode(ctx: NodeContext, config: Map<string, ConfigFlag>, units: UnitCommand[]): void {
  let setting: { value: string; site: SourceRegion; where: string } | undefined;
  const fromConfig = config.get('write-kubeconfig-mode');
  if (fromConfig) {
    setting = { value: fromConfig.values.at(-1) ?? '', site: fromConfig.sites.at(-1) as SourceRegion, where: 'config' };
  }
  let kubeconfig = config.get('write-kubeconfig')?.values.at(-1) || KUBECONFIG;
  for (const unit of units) {
    const last = (name: string) => unit.flags.filter((f) => f.name === name).at(-1) as K3sFlag | undefined;
    const mode = last('write-kubeconfig-mode');
    if (mode) setting = { value: mode.value, site: mode.word.region, where: unit.unit };
    const file = last('write-kubeconfig') ?? last('o');
    if (file?.value) kubeconfig = file.value;
  }
  // K3s parses the mode with strconv.ParseInt(mode, 8, 0): octal digits, no `0o`.
  const mode = setting && /^[0-7]{1,4}$/.test(setting.value) ? Number.parseInt(setting.value, 8) : undefined;
  if (setting && mode !== undefined && (mode & 0o077) !== 0) {
    ctx.findings.push(
      ruleFinding(
        nodeRule('K3SG-NODE-KUBECONFIG-READABLE'),
        `write-kubeconfig-mode is ${setting.value} (${setting.where}): K3s writes the cluster-admin kubeconfig ${kubeconfig} with access for ${(mode & 0o007) !== 0 ? 'every local user' : 'its group'}.`,
        setting.site,
      ),
    );
  }
  if (!kubeconfig.startsWith('/')) return;
  const where = ctx.root.resolve(kubeconfig);
  if (where.kind !== 'found' || !where.st.isFile()) return;
  const readers = otherReaders(where.st.mode);
  if (!readers) return;
  const file = relName(kubeconfig);
  ctx.findings.push(
    fileFinding(
      nodeRule('K3SG-NODE-KUBECONFIG-READABLE'),
      `${file}, the cluster-admin kubeconfig, has mode ${octalMode(where.st.mode)}: readable by ${readers}.`,
      file,
    ),
  );
}
