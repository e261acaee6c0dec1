// The k3sguard command line: parses arguments, runs one command, maps every outcome to the
// exit-code convention (0 clean, 1 findings, 2 usage or unreadable input). Nothing below the
// CLI prints or exits; commands return their exit code.
import { Command, CommanderError, Option } from 'commander';
import { TOOL_VERSION } from '../io/tool-version.ts';
import { isInputError } from '../model/errors.ts';
import { formatLimit, LIMITS } from '../model/limits.ts';
import { SEVERITIES } from '../model/severity.ts';
// Type-only: each command's module (and its dependencies) still loads only when it runs.
import type { AgentCliOptions } from './agent.ts';
import type { AuditIacCliOptions, AuditNodeCliOptions, ListRulesOptions } from './audit.ts';
import type { DbOptions } from './db.ts';
import { EXIT_CLEAN, EXIT_INPUT } from './exit.ts';
import type { InspectOptions } from './inspect.ts';
import type { IrCollectCliOptions } from './ir.ts';
import type { LockAddCliOptions } from './lock.ts';
import { formatOption, parseSeverityList, parseSize } from './options.ts';
import { rerunForImages, watchRerunParent } from './relaunch.ts';
import type { SbomOptions } from './sbom.ts';
import type { AdvisoriesOptions, ScanOptions } from './scan.ts';
import type { ServerCliOptions, TokenCliOptions } from './server.ts';
import type { UserCliOptions } from './server-user.ts';
import type { SignCliOptions } from './sign.ts';
import { errorLine } from './stderr.ts';
import type { TrustUpdateOptions } from './trust.ts';
import type { VerifyOptions } from './verify.ts';
import type { WebhookCliOptions } from './webhook.ts';

/** For image targets: which platform of a multi-platform image. */
const platform = () =>
  new Option('--platform <os/arch>', 'image targets: the platform to read from multi-platform images').default(
    'linux/amd64',
  );
/** For image targets: the zip-bomb guard on each layer's decompressed size. */
const maxLayer = () =>
  new Option('--max-layer-size <size>', 'image targets: stop when a layer decompresses past this (bomb guard)')
    .argParser(parseSize)
    .default(LIMITS.layerBytes, formatLimit(LIMITS.layerBytes));
/** For image archives: k3s-images.txt, the images the archive must hold exactly. */
const imagesList = () =>
  new Option('--images-list <file>', 'image archives: a k3s-images.txt the archive must match exactly');

/** `--fail-on` values, least severe first (as help lists them): every severity but those left out. */
const failOnChoices = (leftOut: readonly string[]) => SEVERITIES.filter((s) => !leftOut.includes(s)).reverse();

function program(setExit: (code: number) => void): Command {
  const cmd = new Command('k3sguard')
    .description('Supply-chain defence for K3s: see and prove what a K3s binary is made of')
    .version(TOOL_VERSION, '-V, --version')
    // A usage error is one line, as every error is: `k3sguard: PROBLEM (HINT)`. Commander's own
    // text starts `error: ` and may add a suggestion on a second line; subcommands inherit this.
    .configureOutput({ outputError: (text) => errorLine(`${usageText(text)} (run with --help for usage)`) })
    .exitOverride()
    // Decided on the parsed targets, so an option's value (`--db vulndb.sqlite`) is never one.
    .hook('preAction', async (root, action) => {
      const name = action.parent && action.parent !== root ? `${action.parent.name()} ${action.name()}` : action.name();
      const code = await rerunForImages(name, action.processedArgs.flat());
      if (code !== undefined) process.exit(code);
    });

  const maxBundle = new Option(
    '--max-bundle-size <size>',
    'stop decompressing a bundle past this many bytes (bomb guard)',
  )
    .argParser(parseSize)
    .default(LIMITS.bundleBytes, formatLimit(LIMITS.bundleBytes));

  cmd
    .command('inspect')
    .description('list every component of a K3s or Go binary, a K3s data dir, or a folder of binaries')
    .argument('<targets...>', 'binaries, folders, K3s data/<hash> dirs, image archives or OCI layouts')
    .option('--json', 'write the inventory as JSON (docs/inventory-json.md); several targets: an array')
    .option('-o, --output <file>', 'write to FILE instead of stdout')
    .option('--no-modules', 'table: show counts instead of every module')
    .option('--verbose', "table: also list a folder's non-Go files and symlinks (else only counted)")
    .option('--no-progress', 'no progress line on stderr')
    .addOption(maxBundle)
    .addOption(platform())
    .addOption(imagesList())
    .addOption(maxLayer())
    // Commands load on use: the SBOM libraries cost start-up time that inspect need not pay.
    .action(async (targets: string[], opts: InspectOptions) =>
      setExit(await (await import('./inspect.ts')).runInspect(targets, opts)),
    );

  cmd
    .command('sbom')
    .description('write an SBOM (CycloneDX 1.6 or SPDX 2.3) of everything inspect finds')
    .argument('[target]', 'a binary, a folder, a K3s data/<hash> dir, an image archive or an OCI layout')
    // A second target reaches runSbom, which says why one SBOM takes one target.
    .allowExcessArguments()
    .option('--self', "k3sguard's own SBOM: the tool and its runtime npm packages, from its lock file")
    .addOption(formatOption(['cyclonedx-json', 'spdx-json'], 'SBOM format'))
    .option('-o, --output <file>', 'write to FILE instead of stdout')
    .option('--no-progress', 'no progress line on stderr')
    .addOption(maxBundle)
    .addOption(platform())
    .addOption(imagesList())
    .addOption(maxLayer())
    .action(async (_target: string | undefined, opts: SbomOptions, c: Command) =>
      setExit(await (await import('./sbom.ts')).runSbom(c.args, opts)),
    );

  cmd
    .command('verify')
    .description('verify files or a K3s release: checksum files, k3sguard.lock, Sigstore bundles')
    .argument('[files...]', 'files to verify (with --bundle: one file, or sha256:<hex>)')
    .option('--checksums <sums>', 'a sha256sum file, GNU (hex  name) or BSD (SHA256 (name) = hex)')
    .option(
      '--release <dir>',
      'a downloaded K3s release: every asset against its sha256sum-<arch>.txt, arch and version',
    )
    .option('--expect-version <version>', 'with --release: the K3s version every binary must carry, e.g. v1.31.4+k3s1')
    .option('--lock <file>', 'check every digest against this k3sguard.lock')
    .option('--bundle <bundle>', 'a Sigstore bundle (.sigstore.json) for the one artifact')
    .option('--key <pubkey>', 'with --bundle: the public key (PEM) it must be signed with')
    .option('--certificate-identity <identity>', 'with --bundle: the exact signer identity (SAN)')
    .option(
      '--certificate-identity-regexp <regexp>',
      'with --bundle: a regular expression the whole identity must match',
    )
    .option('--certificate-oidc-issuer <issuer>', 'with --bundle: the OIDC issuer of the signer')
    .option(
      '--trusted-root <file>',
      'Sigstore trusted root (default: from `k3sguard trust update`, else the shipped one)',
    )
    .option('--require-tlog', 'with --key: also require a transparency log entry')
    .option('--policy <file>', 'image archives: an image policy (docs/policy.md) the images must satisfy')
    .option('--no-progress', 'no progress line on stderr (image archives)')
    .addOption(imagesList())
    .addOption(maxLayer())
    .addOption(platform())
    .option('--json', 'machine-readable result (docs/verify-json.md)')
    .option('-o, --output <file>', 'write to FILE instead of stdout')
    .action(async (files: string[], opts: VerifyOptions) =>
      setExit(await (await import('./verify.ts')).runVerify(files, opts)),
    );

  cmd
    .command('lock')
    .description('the reviewed lock file of digests, k3sguard.lock')
    .command('add')
    .description('record digests after checking them: a release dir against its sums, or files')
    .argument('[files...]', 'files to record')
    .option('--lock <file>', 'the lock file', 'k3sguard.lock')
    .option('--release <dir>', 'every asset of a downloaded K3s release (checked against its sums files first)')
    .option('--source <name>', 'where these digests came from; a second source must agree', 'local')
    .option('--checksums <sums>', 'with files: check them against this sums file first')
    .option('--expect-version <version>', 'the K3s version to record (and require of binaries)')
    .option('--json', 'machine-readable result')
    .action(async (files: string[], opts: LockAddCliOptions) =>
      setExit(await (await import('./lock.ts')).runLockAdd(files, opts)),
    );

  cmd
    .command('sign')
    .description(
      "sign a file with the organisation's ECDSA P-256 key, or attest to files (--predicate): a Sigstore bundle, no transparency log",
    )
    .argument('[files...]', 'the file to sign (with --predicate: the subjects of the attestation)')
    .option('--key <key>', 'private key (PEM; encrypted keys read K3SGUARD_KEY_PASSPHRASE)')
    .option(
      '-o, --output <bundle>',
      'where to write the bundle (default FILE.sigstore.json; FILE.intoto.sigstore.json with --predicate)',
    )
    .option(
      '--predicate <file>',
      'attest instead: an in-toto Statement v1 with this JSON object as predicate, DSSE-signed',
    )
    .option('--predicate-type <uri>', 'with --predicate: its type, e.g. https://slsa.dev/provenance/v1')
    .option('--generate-key <key>', 'create a new key pair: KEY (mode 0600) and its .pub')
    .action(async (files: string[], opts: SignCliOptions) =>
      setExit(await (await import('./sign.ts')).runSign(files, opts)),
    );

  cmd
    .command('trust')
    .description('the Sigstore trusted root used to verify bundles')
    .command('update')
    .description('refresh the public-good trusted root over TUF (keeps the current one if it fails)')
    .option('--mirror <url>', 'TUF mirror (default: the Sigstore public-good mirror)')
    .action(async (opts: TrustUpdateOptions) => setExit(await (await import('./trust.ts')).runTrustUpdate(opts)));

  cmd
    .command('scan')
    .description('find known vulnerabilities in everything inspect finds (offline OSV database, K3s-aware)')
    .argument('<target>', 'a binary, a folder, a K3s data/<hash> dir, an image archive or an OCI layout')
    .option('--db <file>', 'vulnerability database (default ~/.cache/k3sguard/vulndb.sqlite)')
    .addOption(formatOption(['table', 'json', 'sarif', 'cyclonedx'], 'output format'))
    .option('--json', 'same as --format json')
    .option('-o, --output <file>', 'write to FILE instead of stdout')
    .addOption(
      new Option('--fail-on <severity>', 'exit 1 only for findings at or above this severity').choices(
        failOnChoices(['unknown', 'info']),
      ),
    )
    .option('--only-reachable', 'hide findings whose vulnerable symbols are absent from the binary')
    .addOption(
      new Option(
        '--severity <list>',
        `report only these severities, comma-separated (${SEVERITIES.join(',')})`,
      ).argParser(parseSeverityList),
    )
    .option('--ignore-unfixed', 'hide findings with no fixed version recorded')
    .option('--vex <file>', 'OpenVEX document: not_affected statements suppress findings (shown, with why)')
    .option('--no-progress', 'no progress line on stderr')
    .addOption(maxBundle)
    .addOption(platform())
    .addOption(imagesList())
    .addOption(maxLayer())
    .action(async (target: string, opts: ScanOptions) =>
      setExit(await (await import('./scan.ts')).runScan(target, opts.json ? { ...opts, format: 'json' } : opts)),
    );

  cmd
    .command('advisories')
    .description('the K3s advisories affecting a K3s version, and the lowest fixed release on its line')
    .option('--k3s-version <version>', 'e.g. v1.28.0+k3s1')
    .option('--db <file>', 'vulnerability database')
    .option('--json', 'as JSON')
    .action(async (opts: AdvisoriesOptions) => setExit(await (await import('./scan.ts')).runAdvisories(opts)));

  const audit = cmd
    .command('audit')
    .description('audit a K3s node or infrastructure code for unpinned installs and images (docs/audit.md)')
    .option('--list-rules', 'print the rule catalogue (docs/rules.md)')
    .option('--json', 'with --list-rules: as JSON')
    .action(async (opts: ListRulesOptions) => {
      if (!opts.listRules) return void audit.help({ error: true });
      setExit((await import('./audit.ts')).runListRules(opts));
    });
  const auditOutput = (c: Command) =>
    c
      .option('--json', 'same as --format json')
      .addOption(new Option('--format <format>', 'output format').choices(['table', 'json', 'sarif']).default('table'))
      .option('-o, --output <file>', 'write to FILE instead of stdout')
      .option('--policy <file>', 'image policy: allowed registries, and audit.waivers (docs/policy.md)')
      .addOption(
        new Option('--fail-on <severity>', 'exit 1 only for findings at or above this severity').choices(
          failOnChoices(['unknown']),
        ),
      )
      .addOption(new Option('--max-file-size <size>', 'skip (and report) files larger than this').argParser(parseSize));
  auditOutput(audit.command('iac'))
    .description(
      'check shell, cloud-init, Dockerfile, Ansible, Terraform, CI and Kubernetes files for unpinned K3s and images',
    )
    .argument('<paths...>', 'files or directories (a repository checkout)')
    .action(async (paths: string[], _opts, c: Command) =>
      // optsWithGlobals: `--json` is also an option of `audit` itself (for --list-rules).
      setExit(await (await import('./audit.ts')).runAuditIac(paths, c.optsWithGlobals<AuditIacCliOptions>())),
    );
  auditOutput(audit.command('node'))
    .description("check a K3s node's files: registries.yaml, config.yaml, manifests, binary, data dir, unit")
    .option('--root <dir>', "the node's root directory (a mounted image, or / for this machine)", '/')
    .option('--lock <file>', 'k3sguard.lock with the binary, charts, manifests and airgap tarballs allowed')
    .action(async (_opts, c: Command) =>
      setExit(await (await import('./audit.ts')).runAuditNode(c.optsWithGlobals<AuditNodeCliOptions>())),
    );

  const ir = cmd
    .command('ir')
    .description('incident response: evidence with a chain of custody (docs/incident-response.md)');
  ir.command('collect')
    .description("collect this node's K3s evidence into one signed archive; secrets are replaced by their sha256")
    .option('--root <dir>', "the node's root directory", '/')
    .option('--data-dir <dir>', "K3s's data dir, a node path", '/var/lib/rancher/k3s')
    .option('--containerd-socket <path>', 'containerd socket (default <root>/run/k3s/containerd/containerd.sock)')
    .option('--state-dir <dir>', "the agent's state dir, a node path", '/var/lib/k3sguard')
    .option('--proc <dir>', 'the proc filesystem for the processes (default <root>/proc)')
    .option('--lock <file>', 'the k3sguard.lock in force, archived with the evidence')
    .option('--policy <file>', 'the image policy in force, archived with the evidence')
    .option('-o, --output <file>', 'the evidence archive to write (EVIDENCE.tar.zst; never overwritten)')
    .option('--key <key>', "the organisation's private key (PEM) that signs the manifest")
    .action(async (opts: IrCollectCliOptions) => setExit(await (await import('./ir.ts')).runIrCollect(opts)));
  ir.command('verify')
    .description('check an evidence archive: the signed manifest, and every item against it')
    .argument('<evidence>', 'EVIDENCE.tar.zst')
    .option('--key <key>', 'the public key (PEM) of the organisation key')
    .action(async (file: string, opts: { key?: string }) =>
      setExit(await (await import('./ir.ts')).runIrVerify(file, opts)),
    );

  cmd
    .command('agent')
    .description(
      'watch this K3s node: checks at an interval and on file changes, alerts that are never lost (docs/agent.md)',
    )
    .option('--config <file>', 'agent.yaml (apiVersion: k3sguard.dev/v1, kind: AgentConfig); flags override it')
    .option('--root <dir>', "the node's root directory (default /)")
    .option('--data-dir <dir>', "K3s's data dir, a node path (default /var/lib/rancher/k3s)")
    .option('--containerd-socket <path>', 'containerd socket (default <root>/run/k3s/containerd/containerd.sock)')
    .option(
      '--containerd-root <dir>',
      "containerd's root, for its content store (default <root><data-dir>/agent/containerd)",
    )
    .option('--proc <dir>', 'the proc filesystem for the process check (default <root>/proc)')
    .option('--lock <file>', 'k3sguard.lock: the reviewed binary, charts, manifests, airgap tarballs and image tags')
    .option('--policy <file>', 'image policy: allowed registries, digests, signatures, audit waivers (docs/policy.md)')
    .option('--db <file>', 'vulnerability database to scan the images against')
    .option('--state-dir <dir>', 'where findings, the outbox and image readings are kept (default /var/lib/k3sguard)')
    .option('--interval <duration>', 'time between full checks, e.g. 30s, 5m (default 5m)')
    .option('--debounce <duration>', 'quiet time after a file event before its check (default 1s)')
    .option('--listen <host:port>', 'metrics and health endpoint (default 127.0.0.1:9464; "" for none)')
    .option('--webhook <url>', 'POST each event here, signed (X-K3sguard-Signature)')
    .option('--webhook-secret-file <file>', 'the HMAC key of --webhook')
    .option('--server <url>', 'send events and node reports to this fleet server')
    .option('--token-file <file>', 'the node token for --server')
    .option('--once', 'one check, print the report, exit 0 clean / 1 findings / 2 cannot run')
    .option('--json', 'with --once: the k3sguard/report@1 document (docs/report-schema.json)')
    .action(async (opts: AgentCliOptions) => setExit(await (await import('./agent.ts')).runAgent(opts)));

  cmd
    .command('webhook')
    .description('the admission webhook: AdmissionReview v1 decided from the image policy (docs/webhook.md)')
    .option('--tls-cert <file>', 'PEM serving certificate (chain), re-read when it changes')
    .option('--tls-key <file>', 'PEM private key of --tls-cert')
    .option('--policy <file>', 'the image policy to enforce')
    .option('--registries <file>', "registry credentials and TLS, shaped like K3s's registries.yaml")
    .option('--cache-dir <dir>', 'keep tag resolutions and signature verdicts here')
    .option('--offline', 'decide from --cache-dir only, asking no registry')
    .option('--mode <mode>', 'enforce (deny) or audit (allow with warnings)', 'enforce')
    .option('--fail-open', 'admit (with a warning) when a registry cannot be asked; default: deny')
    .option('--exclude-namespace <ns...>', 'namespaces never checked (default kube-system)')
    .option('--deadline <ms>', 'time for one decision, under the API server timeout (default 10000)')
    .option('--listen <host:port>', 'where to serve (default 0.0.0.0:8443)')
    .action(async (opts: WebhookCliOptions) => setExit(await (await import('./webhook.ts')).runWebhook(opts)));

  const serverDb = () =>
    new Option(
      '--db <url>',
      'sqlite:PATH or postgres://USER@HOST/DB (default sqlite:/var/lib/k3sguard-server/fleet.sqlite)',
    );
  const server = cmd
    .command('server')
    .description('the fleet server: node reports and events from agents, on SQLite or PostgreSQL (docs/server.md)')
    .addOption(serverDb())
    .option('--listen <host:port>', 'where to serve (default 127.0.0.1:9465)')
    .option('--tls-cert <file>', 'PEM certificate (chain): serve HTTPS')
    .option('--tls-key <file>', 'PEM private key of --tls-cert')
    .option('--rate-limit <n>', `requests per minute per node token (default ${LIMITS.serverTokenRequests})`)
    .option('--vuln-db <file>', "the vulnerability database inventories are matched with (default: scan's)")
    .option('--db-update-every <duration>', 'run `db update` on the vulnerability database this often (30m, 6h)')
    .option('--db-update-source <url>', "what the scheduled `db update` fetches (default OSV's Go export)")
    .option('--notify-url <url>', 'POST a signed notification here for each advisory new on an inventory')
    .option('--notify-secret-file <file>', 'the HMAC key notifications are signed with')
    .action(async (opts: ServerCliOptions) => setExit(await (await import('./server.ts')).runServer(opts)));
  // `--db` after `token create` is the server command's own (commander gives a parent's options
  // precedence): the token commands read it with optsWithGlobals.
  const token = server.command('token').description('node tokens: what an agent authenticates with');
  token
    .command('create')
    .description('a new token for a node (its name given here); printed once, only its hash is kept')
    .requiredOption('--node <name>', 'the node the token speaks for')
    .option('--cluster <name>', 'the cluster the node belongs to (for fleet queries)')
    .addOption(serverDb())
    .action(async (_opts, c: Command) =>
      setExit(await (await import('./server.ts')).runTokenCreate(c.optsWithGlobals<TokenCliOptions>())),
    );
  token
    .command('revoke')
    .description('revoke a token by its id, or every token of --node: its requests get 401 from then on')
    .argument('[id]', 'the token id (token list shows it)')
    .option('--node <name>', 'revoke every token of this node')
    .addOption(serverDb())
    .action(async (id: string | undefined, _opts, c: Command) =>
      setExit(await (await import('./server.ts')).runTokenRevoke(id, c.optsWithGlobals<TokenCliOptions>())),
    );
  token
    .command('list')
    .description('tokens with their node and dates (never the secrets)')
    .option('--json', 'as JSON')
    .addOption(serverDb())
    .action(async (_opts, c: Command) =>
      setExit(await (await import('./server.ts')).runTokenList(c.optsWithGlobals<TokenCliOptions>())),
    );

  const user = server
    .command('user')
    .description('user accounts for the dashboard and the query API: admin or viewer (docs/server.md)');
  user
    .command('create')
    .description('a new user; the password from --password-file or stdin (a terminal is asked without echo)')
    .requiredOption('--name <name>', 'the user name (letters, digits, ".", "_", "@", "-")')
    .requiredOption('--role <role>', 'admin (may manage) or viewer (reads only)')
    .option('--password-file <file>', 'a file holding the password (one line)')
    .addOption(serverDb())
    .action(async (_opts, c: Command) =>
      setExit(await (await import('./server-user.ts')).runUserCreate(c.optsWithGlobals<UserCliOptions>())),
    );
  user
    .command('password')
    .description("a new password for a user (from --password-file or stdin); the user's sessions end")
    .requiredOption('--name <name>', 'the user')
    .option('--password-file <file>', 'a file holding the password (one line)')
    .addOption(serverDb())
    .action(async (_opts, c: Command) =>
      setExit(await (await import('./server-user.ts')).runUserPassword(c.optsWithGlobals<UserCliOptions>())),
    );
  user
    .command('token')
    .description('a new API token for the user (Authorization: Bearer ...); printed once, only its hash is kept')
    .requiredOption('--name <name>', 'the user')
    .addOption(serverDb())
    .action(async (_opts, c: Command) =>
      setExit(await (await import('./server-user.ts')).runUserToken(c.optsWithGlobals<UserCliOptions>())),
    );
  user
    .command('list')
    .description('users with their role, live sessions and tokens (never a secret)')
    .option('--json', 'as JSON')
    .addOption(serverDb())
    .action(async (_opts, c: Command) =>
      setExit(await (await import('./server-user.ts')).runUserList(c.optsWithGlobals<UserCliOptions>())),
    );
  user
    .command('delete')
    .description('delete a user with its sessions and tokens: logged out at once')
    .requiredOption('--name <name>', 'the user')
    .addOption(serverDb())
    .action(async (_opts, c: Command) =>
      setExit(await (await import('./server-user.ts')).runUserDelete(c.optsWithGlobals<UserCliOptions>())),
    );

  const db = cmd.command('db').description('the offline OSV vulnerability database (docs/vulndb.md)');
  const dbOption = () => new Option('--db <file>', 'database file (default ~/.cache/k3sguard/vulndb.sqlite)');
  db.command('import')
    .description('import OSV records: folders of JSON files, OSV all.zip exports, or JSON files')
    .argument('<paths...>', 'folders, .zip files or .json files')
    .addOption(dbOption())
    .option('--no-progress', 'no progress line on stderr')
    .action(async (paths: string[], opts: DbOptions) =>
      setExit(await (await import('./db.ts')).runDbImport(paths, opts)),
    );
  db.command('update')
    .description(
      'download OSV ecosystem exports (default Go) and swap them in atomically (a failure keeps the old one)',
    )
    .option('--source <url|file>', 'another URL or a local all.zip')
    .option(
      '--ecosystem <list>',
      'OSV ecosystems to fetch, comma-separated: Go, Debian, Alpine, Ubuntu, or all (images need their distro)',
    )
    .addOption(dbOption())
    .option('--no-progress', 'no progress bar on stderr')
    .action(async (opts: DbOptions) => setExit(await (await import('./db.ts')).runDbUpdate(opts)));
  db.command('status')
    .description('age, counts and imports of the database; warns when older than 7 days')
    .addOption(dbOption())
    .option('--json', 'as JSON')
    .action(async (opts: DbOptions) => setExit(await (await import('./db.ts')).runDbStatus(opts)));

  return cmd;
}

/** Commander's error text as one line without its `error: ` lead. */
function usageText(text: string): string {
  return text
    .trim()
    .replace(/^error: /, '')
    .replace(/\s*\n\s*/g, ' ');
}

/** Exit status of a command whose reader closed stdout early (`| head`): 128 + SIGPIPE, as a shell reports a tool SIGPIPE stopped. */
const EXIT_READER_GONE = 141;

export async function main(argv: string[]): Promise<number> {
  watchRerunParent();
  // `k3sguard inspect DIR | head`: once the reader has gone there is nobody to tell, so stop
  // quietly, as a tool stopped by SIGPIPE does (Node ignores SIGPIPE and raises EPIPE instead).
  process.stdout.on('error', (e: NodeJS.ErrnoException) => {
    if (e.code !== 'EPIPE') throw e;
    process.exit(EXIT_READER_GONE);
  });
  let code = EXIT_CLEAN;
  const cmd = program((c) => {
    code = c;
  });
  try {
    // Nothing asked is not a mistake (as `--help`): the help on stdout, exit 0.
    if (argv.length === 0) {
      cmd.outputHelp();
      return EXIT_CLEAN;
    }
    await cmd.parseAsync(argv, { from: 'user' });
    return code;
  } catch (e) {
    if (e instanceof CommanderError) {
      // --help and --version end here too, with exit code 0.
      return e.exitCode === 0 ? EXIT_CLEAN : EXIT_INPUT;
    }
    if (isInputError(e)) {
      errorLine(e.oneLine());
      return EXIT_INPUT;
    }
    // A bug of ours, not the user's input: still one line, and how to see more.
    const msg = e instanceof Error ? e.message : String(e);
    errorLine(`internal error: ${msg.replace(/\s*\n\s*/g, ' ')} (set K3SGUARD_DEBUG=1 for details)`);
    if (process.env.K3SGUARD_DEBUG) process.stderr.write(`${(e as Error).stack ?? ''}\n`);
    return EXIT_INPUT;
  }
}
