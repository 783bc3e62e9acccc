/** @fileoverview Writes generated files all-or-nothing: a failed compile leaves no partial output folder. */
import { mkdirSync, mkdtempSync, renameSync, rmSync, writeFileSync, existsSync } from 'node:fs';
import { dirname, join, resolve } from 'node:path';
import type { GeneratedFile } from './backend/generated_file.ts';

export function writeOutputDir(outDir: string, files: readonly GeneratedFile[]): void {
  const target = resolve(outDir);
  mkdirSync(dirname(target), { recursive: true });
  // Stage beside the target so the final rename stays on one filesystem.
  const staging = mkdtempSync(join(dirname(target), '.tinyforge-'));
  try {
    for (const f of files) writeFileSync(join(staging, f.name), f.contents);
    if (existsSync(target)) rmSync(target, { recursive: true, force: true });
    renameSync(staging, target);
  } catch (e) {
    rmSync(staging, { recursive: true, force: true });
    throw e;
  }
}
