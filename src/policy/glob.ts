// Repository globs of an image policy. A pattern is a normalized repository name with `*`
// (any run of characters inside one path segment) and `**` (a whole segment: zero or more
// segments). Patterns must name their registry, because `rancher/*` would silently mean
// `docker.io/rancher/*` and a reader of the policy might think it meant every registry.

export interface RepositoryGlob {
  pattern: string;
  regexp: RegExp;
}

const SEGMENT_CHARS = /^[a-z0-9._*-]+$/;
const REGISTRY = /^(?:[a-z0-9-]+(?:\.[a-z0-9-]+)*(?::[0-9]+)?)$/;

/** Compile a pattern, or return why it is not one (in words for the policy's author). */
export function compileRepositoryGlob(pattern: string): RepositoryGlob | { error: string } {
  const segments = pattern.split('/');
  const registry = segments[0] as string;
  if (segments.length < 2) {
    return { error: `"${pattern}" has no repository path; write "${pattern}/**" to allow a whole registry` };
  }
  if (!REGISTRY.test(registry) || !(registry.includes('.') || registry.includes(':') || registry === 'localhost')) {
    return {
      error: `"${pattern}" must start with a registry host (docker.io, ghcr.io, host:port); write "docker.io/${pattern}" for Docker Hub`,
    };
  }
  const parts: string[] = [];
  for (const segment of segments.slice(1)) {
    if (segment === '**') {
      // `a/**` matches a and everything under it; `a/**/b` matches a/b, a/x/b, a/x/y/b.
      parts.push('(?:/[^/]+)*');
      continue;
    }
    if (segment === '' || !SEGMENT_CHARS.test(segment)) {
      return { error: `"${pattern}" has an invalid path segment "${segment}" (use lowercase a-z 0-9 . _ - and *)` };
    }
    if (segment.includes('**')) {
      return { error: `"${pattern}": "**" must be a whole path segment, as in "docker.io/rancher/**"` };
    }
    parts.push(`/${segment.split('*').map(escapeRegExp).join('[^/]*')}`);
  }
  return { pattern, regexp: new RegExp(`^${escapeRegExp(registry)}${parts.join('')}$`) };
}

/** Does a normalized repository (`docker.io/rancher/mirrored-pause`) match? */
export function globMatches(glob: RepositoryGlob, repository: string): boolean {
  return glob.regexp.test(repository);
}

function escapeRegExp(text: string): string {
  return text.replace(/[.*+?^${}()|[\]\\]/g, '\\$&');
}
