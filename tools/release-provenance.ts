// The SLSA provenance v1 predicate of a release (https://slsa.dev/spec/v1.0/provenance): how
// the artifacts were built (the command, from which commit, with which source date) and from
// what (every material as a ResourceDescriptor). The subjects are not here: `k3sguard sign
// --predicate` names them from the files themselves.
import type { ResourceDescriptor } from './release-materials.ts';
import type { SourceState } from './release-source.ts';

export const SLSA_PROVENANCE_V1 = 'https://slsa.dev/provenance/v1';
/** What the externalParameters below mean: this repository's release procedure (docs/release.md). */
export const BUILD_TYPE = 'urn:k3sguard:release:v1';

export interface ProvenanceInput {
  source: SourceState;
  command: string;
  sourceDateEpoch: number;
  materials: ResourceDescriptor[];
  startedOn: Date;
  finishedOn: Date;
  env: NodeJS.ProcessEnv;
}

/**
 * The builder: the GitHub Actions workflow (its ref names the file and the tag or branch) and
 * the run, when the release runs there; else the local machine, which vouches for nothing more.
 */
function builder(env: NodeJS.ProcessEnv): { builder: { id: string }; invocationId?: string } {
  const server = env.GITHUB_SERVER_URL;
  if (env.GITHUB_ACTIONS === 'true' && server && env.GITHUB_WORKFLOW_REF && env.GITHUB_RUN_ID) {
    return {
      builder: { id: `${server}/${env.GITHUB_WORKFLOW_REF}` },
      invocationId: `${server}/${env.GITHUB_REPOSITORY}/actions/runs/${env.GITHUB_RUN_ID}/attempts/${env.GITHUB_RUN_ATTEMPT ?? '1'}`,
    };
  }
  return { builder: { id: 'urn:k3sguard:builder:local' } };
}

export function provenancePredicate(p: ProvenanceInput): Record<string, unknown> {
  const { builder: b, invocationId } = builder(p.env);
  const dirty = p.source.changes.length > 0;
  return {
    buildDefinition: {
      buildType: BUILD_TYPE,
      externalParameters: {
        command: p.command,
        source: {
          uri: `git+${p.source.remote ?? 'file:.'}`,
          digest: { gitCommit: p.source.commit },
          // A release from a tree that differs from its commit is not that commit's build.
          dirty,
          ...(dirty ? { changes: p.source.changes } : {}),
        },
      },
      internalParameters: {
        SOURCE_DATE_EPOCH: p.sourceDateEpoch,
        node: process.version,
        platform: `${process.platform}/${process.arch}`,
      },
      resolvedDependencies: p.materials,
    },
    runDetails: {
      builder: b,
      metadata: {
        ...(invocationId ? { invocationId } : {}),
        startedOn: p.startedOn.toISOString(),
        finishedOn: p.finishedOn.toISOString(),
      },
    },
  };
}
