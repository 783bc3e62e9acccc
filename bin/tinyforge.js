#!/usr/bin/env node
// The compiler is TypeScript run as-is through tsx, so `npm ci` is the whole install.
import { register } from 'tsx/esm/api';

// The wasm target's toolchain (assemblyscript, binaryen) is large ES modules: Node loads them in half a second, but
// through tsx's loader (which rewrites their dynamic imports) they take several. A wasm compile loads them here,
// before tsx is registered, and the compiler's own imports then find them in Node's module cache.
const args = process.argv.slice(2);
const wasmTarget = args.some((a, i) => a === '--target=wasm' || (a === 'wasm' && (args[i - 1] === '--target' || args[i - 1] === '-t')));
if (wasmTarget) await import('assemblyscript/asc');

register();
const { main } = await import('../compiler/cli/main.ts');
process.exitCode = await main(args);
