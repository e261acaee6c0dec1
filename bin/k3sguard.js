#!/usr/bin/env node
// Entry point: the CLI is TypeScript, run by Node's type stripping (Node >= 24).
import { main } from '../src/cli/main.ts';

process.exitCode = await main(process.argv.slice(2));
