/**
 * @fileoverview Shared helpers for the targets tests: fixture paths, deterministic inputs, the
 * echo model's expected outputs, and temporary copies of fixtures with an edit applied.
 */
import { cp, mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';

export const QEMU_TARGETS = ['cortex-m4', 'cortex-m7', 'cortex-m55'] as const;
export const ALL_TARGETS = ['host', ...QEMU_TARGETS] as const;

export const fixture = (name: string): string => fileURLToPath(new URL(`./fixtures/${name}`, import.meta.url));

/** TF_MODEL_INPUT_BYTES of every fixture model. */
export const FIXTURE_INPUT_BYTES = 40;

/** Reproducible bytes (an LCG), so a failure can be replayed exactly. */
export function lcgBytes(length: number, seed: number): Uint8Array {
  let state = seed >>> 0;
  return Uint8Array.from({ length }, () => {
    state = (Math.imul(state, 1664525) + 1013904223) >>> 0;
    return state >>> 24;
  });
}

/** What tests/targets/fixtures/echo_model computes: [saturate(2x)], [min, max]. */
export function echoExpected(input: Uint8Array): Int8Array[] {
  const values = new Int8Array(input.buffer, input.byteOffset, input.byteLength);
  const doubled = Int8Array.from(values, (x) => Math.max(-128, Math.min(127, 2 * x)));
  return [doubled, Int8Array.of(Math.min(...values), Math.max(...values))];
}

export interface TempModel {
  readonly dir: string;
  cleanup(): Promise<void>;
}

/** A copy of a fixture model in a temp dir, with `edit` applied to its model.c. */
export async function editedFixture(name: string, edit: (modelC: string) => string): Promise<TempModel> {
  const dir = await mkdtemp(join(tmpdir(), 'tinyforge-fixture-'));
  await cp(fixture(name), dir, { recursive: true });
  const modelC = join(dir, 'model.c');
  const original = await readFile(modelC, 'utf8');
  const edited = edit(original);
  if (edited === original) {
    throw new Error(`editedFixture(${name}): the edit changed nothing`);
  }
  await writeFile(modelC, edited);
  return { dir, cleanup: () => rm(dir, { recursive: true, force: true }) };
}

export async function tempDir(prefix: string): Promise<TempModel> {
  const dir = await mkdtemp(join(tmpdir(), `tinyforge-${prefix}-`));
  return { dir, cleanup: () => rm(dir, { recursive: true, force: true }) };
}

/** The rejection of `promise`; fails the test if it resolves. */
export async function rejectionOf(promise: Promise<unknown>): Promise<Error> {
  try {
    await promise;
  } catch (error) {
    if (error instanceof Error) return error;
    throw new Error(`rejected with a non-Error: ${String(error)}`);
  }
  throw new Error('expected a rejection, but the promise resolved');
}
