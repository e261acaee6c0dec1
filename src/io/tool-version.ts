import { packageJsonText } from './package-root.ts';

// Read once from package.json so the SBOM's tool version can never drift from the package.
const pkg = JSON.parse(packageJsonText()) as { version: string };
export const TOOL_VERSION: string = pkg.version;
