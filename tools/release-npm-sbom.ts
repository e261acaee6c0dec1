// The SBOM of the npm tarball: what `k3sguard sbom --self` says of an installed k3sguard (the
// same code): k3sguard and the runtime npm packages it installs, each with its version and the
// sha512 locked in npm-shrinkwrap.json, which the tarball ships. Made reproducible as the
// executables' are: the time is SOURCE_DATE_EPOCH and the serial number is derived from the
// content, so two releases of one commit give the same bytes.
import { writeFileSync } from 'node:fs';
import { cycloneDxJson, selfPackages } from '../src/report/self-sbom.ts';
import { nameUuid } from './sea/sbom.ts';

export function writeNpmSbom(file: string, sourceDateEpoch: number): void {
  const parts = selfPackages();
  const serialNumber = `urn:uuid:${nameUuid(`k3sguard-npm:${JSON.stringify(parts)}`)}`;
  writeFileSync(file, cycloneDxJson(parts, { timestamp: new Date(sourceDateEpoch * 1000), serialNumber }));
}
