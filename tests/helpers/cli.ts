/** @fileoverview Runs the real `tinyforge` executable, as a user would. */
import { spawnSync } from 'node:child_process';
import { join } from 'node:path';
import { REPO_ROOT } from './shared.ts';

export interface CliResult {
  readonly status: number | null;
  readonly stdout: string;
  readonly stderr: string;
}

export function tinyforge(args: readonly string[]): CliResult {
  const r = spawnSync(process.execPath, [join(REPO_ROOT, 'bin/tinyforge.js'), ...args], { encoding: 'utf8', timeout: 120_000 });
  return { status: r.status, stdout: r.stdout, stderr: r.stderr };
}
