// Which K3s release introduced each command the playbook offers: the one table of these facts.
// A command is offered only on a release that has it; the playbook says which release brought
// it. A command "exists" from the first release of a minor line named in `firstInLine` (a
// backport), and in every release of `allFrom` and later lines. Anything older is absent: a
// command is never guessed into a release.
//
// Sources: K3S-FACTS §8 (the project's notes from the k3s-io/k3s sources), and the k3s-io/k3s
// pull requests, issues and release notes cited on each entry. (The k3s-io/k3s repository
// snapshot could not be brought here to read its git history: it is larger than the mirror
// allows; the release-note PRs and the validation comments on the backport issues name the
// releases.) The command forms and flags the playbook writes (`token rotate --token/-t
// --new-token`, `certificate rotate [--service]`, `certificate rotate-ca --path [--force]`,
// `secrets-encrypt prepare|rotate|reencrypt`, `etcd-snapshot save --name`) are those of
// pkg/cli/cmds/token.go, certs.go and secrets_encrypt.go / etcd_snapshot.go in k3s-io/k3s, read
// through the code index. A release named "first" below is the first tagged release after the validated
// commit: validation comments name a development build `vX.Y.Z+k3s-<commit>`, which is the
// release line's next tag.
import { compareK3s, type K3sVersion, parseK3sVersion } from '../versions/k3sversion.ts';

export type CommandId =
  | 'etcd-snapshot-save'
  | 'certificate-rotate'
  | 'secrets-encrypt'
  | 'certificate-rotate-ca'
  | 'token-rotate';

export interface CommandFact {
  id: CommandId;
  /** The command as typed. */
  command: string;
  /** Every release of this minor line (`1.29`) and later ones has the command. */
  allFrom: string;
  /** Older minor lines that got it as a backport: the first release of each that has it. */
  firstInLine: Record<string, string>;
  /** Where the fact comes from, for the playbook's reader. */
  source: string;
}

export const COMMAND_FACTS: Record<CommandId, CommandFact> = {
  // k3s-io/k3s#3336 "Add etcd snapshot save subcommand" (merged 2021-05-17), issue #3309
  // validated on v1.21.1+k3s-7e175e8a (so first released in v1.21.2+k3s1); rancher/docs#3377
  // (2021-06-30) documents save/ls/delete/prune. The 1.20 backport (#3546) shipped the etcd
  // code but left the subcommands open: not claimed for 1.20 (there `k3s etcd-snapshot` alone
  // takes a snapshot; the playbook copies the datastore instead).
  'etcd-snapshot-save': {
    id: 'etcd-snapshot-save',
    command: 'k3s etcd-snapshot save',
    allFrom: '1.22',
    firstInLine: { '1.21': 'v1.21.2+k3s1' },
    source: 'k3s-io/k3s#3336, #3309',
  },
  // k3s-io/k3s#4632 "[Release-1.21] Add cert rotation command" and K3S-FACTS §8: the December
  // 2021 / January 2022 releases, backported to 1.21 and 1.22. Taken, conservatively, from the
  // same releases as secrets-encrypt below (v1.21.8+k3s1, v1.22.5+k3s1); 1.20 not claimed.
  'certificate-rotate': {
    id: 'certificate-rotate',
    command: 'k3s certificate rotate',
    allFrom: '1.23',
    firstInLine: { '1.21': 'v1.21.8+k3s1', '1.22': 'v1.22.5+k3s1' },
    source: 'k3s-io/k3s#4632; K3S-FACTS §8',
  },
  // k3s-io/k3s#4372, backports #4658 (1.21) and #4654 (1.22), merged 2021-12-07; issues
  // #4555/#4602 validated on the December 2021 release candidates; rancher/docs#3735: "Available
  // as of v1.21.8+k3s1". status / prepare / rotate / reencrypt (rotate-keys came later and was
  // withdrawn in 1.29.0, k3s-io/k3s#9080: not offered).
  'secrets-encrypt': {
    id: 'secrets-encrypt',
    command: 'k3s secrets-encrypt',
    allFrom: '1.23',
    firstInLine: { '1.21': 'v1.21.8+k3s1', '1.22': 'v1.22.5+k3s1' },
    source: 'k3s-io/k3s#4658, #4654; rancher/docs#3735',
  },
  // Rotating the default self-signed CAs (the case of a compromised node: the attacker may hold
  // the CA keys): k3s-io/k3s#7079 "Improve support for rotating the default self-signed certs",
  // release note "rotate-ca checks now support rotating self-signed certificates without the
  // --force option" in v1.26.3+k3s1 (March 2023); #7082 validated on v1.25.8-rc2+k3s1, #7083 on
  // v1.24.11+k3s-7fee87d9 (first released in v1.24.12+k3s1). K3S-FACTS §8.
  'certificate-rotate-ca': {
    id: 'certificate-rotate-ca',
    command: 'k3s certificate rotate-ca',
    allFrom: '1.27',
    firstInLine: { '1.24': 'v1.24.12+k3s1', '1.25': 'v1.25.8+k3s1', '1.26': 'v1.26.3+k3s1' },
    source: 'k3s-io/k3s#7079, #7082, #7083; v1.26.3+k3s1 release notes',
  },
  // v1.28.3+k3s1 release notes (October 2023): "Users can now rotate the server token using
  // `k3s token rotate -t <OLD_TOKEN> --new-token <NEW_TOKEN>`". Backports k3s-io/k3s#8576
  // (1.27), #8577 (1.26), #8578 (1.25), merged 2023-10-09, validated on v1.27.6+k3s-d451d4f3,
  // v1.26.9+k3s-8acba4a6, v1.25.14+k3s-6afee00e (issues #8299, #8298, #8297): first released
  // in v1.27.7+k3s1, v1.26.10+k3s1, v1.25.15+k3s1. Not backported to 1.24 (#8296).
  'token-rotate': {
    id: 'token-rotate',
    command: 'k3s token rotate',
    allFrom: '1.29',
    firstInLine: {
      '1.25': 'v1.25.15+k3s1',
      '1.26': 'v1.26.10+k3s1',
      '1.27': 'v1.27.7+k3s1',
      '1.28': 'v1.28.3+k3s1',
    },
    source: 'v1.28.3+k3s1 release notes; k3s-io/k3s#8576, #8577, #8578',
  },
};

export interface Availability {
  available: boolean;
  /** Which release brought it, said for the version asked about. */
  introduced: string;
}

/** Whether `version` has the command, and where it is, said for the version asked about. */
export function availability(id: CommandId, version: K3sVersion): Availability {
  const fact = COMMAND_FACTS[id];
  const line = `${version.major}.${version.minor}`;
  const [allMajor, allMinor] = fact.allFrom.split('.').map(Number) as [number, number];
  const every = `in every release from v${fact.allFrom} on`;
  const backports = Object.values(fact.firstInLine);
  const older = backports.length > 0 ? `; on older lines from ${backports.join(', ')}` : '';
  const first = fact.firstInLine[line];
  if (first !== undefined) {
    return {
      available: compareK3s(version, parseK3sVersion(first) as K3sVersion) >= 0,
      introduced: `on the v${line} line from ${first}; ${every}`,
    };
  }
  const newer = version.major > allMajor || (version.major === allMajor && version.minor >= allMinor);
  return { available: newer, introduced: `${every}${older}` };
}
