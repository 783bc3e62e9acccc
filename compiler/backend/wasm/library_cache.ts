/**
 * @fileoverview On-disk cache of built kernel libraries (node_modules/.cache/tinyforge), so that a wasm compile does
 * not rebuild the runtime kernels every time. The key digests everything a build reads: the AssemblyScript version,
 * asconfig.json, every source under runtime/as, and the variant. A cache that cannot be read or written is skipped.
 */
import { createHash } from 'node:crypto';
import { mkdirSync, readdirSync, readFileSync, renameSync, writeFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { join, relative } from 'node:path';
import { fileURLToPath } from 'node:url';

const ROOT = fileURLToPath(new URL('../../../', import.meta.url));
const CACHE_DIR = join(ROOT, 'node_modules', '.cache', 'tinyforge');

function sourceFiles(dir: string): string[] {
  return readdirSync(dir, { withFileTypes: true })
    .flatMap((e) => (e.isDirectory() ? sourceFiles(join(dir, e.name)) : e.name.endsWith('.ts') ? [join(dir, e.name)] : []))
    .sort();
}

let sourcesDigest: string | undefined;

function digestOfSources(): string {
  if (sourcesDigest === undefined) {
    const hash = createHash('sha256');
    const ascVersion = (createRequire(import.meta.url)('assemblyscript/package.json') as { version: string }).version;
    hash.update(`assemblyscript ${ascVersion}\n`).update(readFileSync(join(ROOT, 'asconfig.json')));
    for (const file of sourceFiles(join(ROOT, 'runtime', 'as'))) hash.update(`\n${relative(ROOT, file)}\n`).update(readFileSync(file));
    sourcesDigest = hash.digest('hex');
  }
  return sourcesDigest;
}

function cachePath(variant: string): string {
  return join(CACHE_DIR, `kernels-${createHash('sha256').update(`${digestOfSources()} ${variant}`).digest('hex').slice(0, 32)}.wasm`);
}

export function readCachedLibrary(variant: string): Uint8Array | null {
  try {
    const wasm = new Uint8Array(readFileSync(cachePath(variant)));
    return WebAssembly.validate(wasm) ? wasm : null;
  } catch {
    return null;
  }
}

export function writeCachedLibrary(variant: string, wasm: Uint8Array): void {
  try {
    mkdirSync(CACHE_DIR, { recursive: true });
    const path = cachePath(variant);
    const staging = `${path}.${process.pid}.tmp`;
    writeFileSync(staging, wasm);
    renameSync(staging, path);
  } catch {
    // A read-only install still compiles, only slower.
  }
}
