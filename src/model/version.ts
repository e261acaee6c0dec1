import { readFileSync } from 'node:fs';
import { PACKAGE_ROOT } from './package-root.ts';

// Read once from package.json so the SBOM's tool version can never drift from the package.
const pkg = JSON.parse(readFileSync(new URL('package.json', PACKAGE_ROOT), 'utf8')) as { version: string };
export const TOOL_VERSION: string = pkg.version;
