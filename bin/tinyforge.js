#!/usr/bin/env node
// The compiler is TypeScript run as-is through tsx, so `npm ci` is the whole install.
import { register } from 'tsx/esm/api';

register();
const { main } = await import('../compiler/cli/main.ts');
process.exitCode = await main(process.argv.slice(2));
