// An extracted K3s bundle (`/var/lib/rancher/k3s/data/<hash>/`): the same member checks as
// the embedded bundle, on the files as they are on disk now. K3s checks them only once, at
// extraction; this is how later tampering shows.
import type { BundleComponent, FileComponent, Location } from '../model/inventory.ts';
import { readDataDir } from '../readers/datadir.ts';
import { bundleComponent, type InspectContext, inspectSource, memberComponents } from './file.ts';

export async function inspectDataDir(
  dir: string,
  display: string,
  location: Location,
  ctx: InspectContext,
): Promise<BundleComponent> {
  const inspected = new Map<string, FileComponent>();
  const scan = await readDataDir(dir, {
    displayName: display,
    location,
    progress: ctx.progress,
    onElf(member, data) {
      inspected.set(
        member.path,
        inspectSource(ctx, data, member.path, [...location, member.path], member.sha256, member.mode),
      );
    },
  });
  ctx.findings.push(...scan.findings);
  return bundleComponent(scan, location, memberComponents(scan.members, inspected, location));
}
