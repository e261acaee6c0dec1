// Entry point of the single executable (`npm run build:sea` bundles it with the CLI into one
// script). Unlike bin/k3sguard.js it checks no Node version (the executable carries its own)
// and turns on no compile cache: the build compiled the script ahead into the executable.
import { main } from '../src/cli/main.ts';

main(process.argv.slice(2)).then((code) => {
  process.exitCode = code;
});
