/**
 * 2,000 mutated versions of the shared models (truncations, byte flips, corrupted offsets and
 * vector lengths) go through the whole compiler: each one compiles, or fails with a UserError
 * (the CLI's exit 1 with a message) within 5 s and leaves nothing in the output folder.
 */
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { existsSync, mkdtempSync, readdirSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { loadModelBytes } from '../../compiler/load_model.ts';
import { compileGraph } from '../../compiler/compile.ts';
import { writeOutputDir } from '../../compiler/output.ts';
import { UserError } from '../../compiler/errors.ts';
import { Random } from '../../compiler/frontend/builder/random.ts';
import { getBoard } from '../../targets/boards.ts';
import { GOLDEN_MODELS } from '../helpers/shared.ts';

const CASES = 2000;
const board = getBoard('cortex-m4');

function mutate(original: Uint8Array, random: Random): Uint8Array {
  const bytes = new Uint8Array(original);
  const view = new DataView(bytes.buffer);
  switch (random.int(0, 3)) {
    case 0:
      return bytes.subarray(0, random.int(0, bytes.length - 1));
    case 1:
      for (let i = random.int(1, 8); i > 0; i--) bytes[random.int(0, bytes.length - 1)] = random.int(0, 255);
      return bytes;
    case 2: {
      // Offsets, vtable entries and vector lengths are little-endian 32-bit words at aligned positions.
      const at = random.int(0, (bytes.length >> 2) - 1) * 4;
      const choices = [0, 1, 0xffffffff, 0x7fffffff, bytes.length, random.int(0, bytes.length), view.getUint32(at, true) + random.int(-64, 64)];
      view.setUint32(at, choices[random.int(0, choices.length - 1)]! >>> 0, true);
      return bytes;
    }
    default: {
      // Early bytes hold the root table and vtables: hit them harder.
      const at = random.int(0, Math.min(bytes.length, 512) - 2);
      view.setUint16(at, random.int(0, 0xffff), true);
      return bytes;
    }
  }
}

test(`${CASES} mutated models: compile or a UserError, never a crash, a hang or partial output`, async () => {
  const work = mkdtempSync(join(tmpdir(), 'tinyforge-fuzz-'));
  const random = new Random(20261126);
  // The small models get most of the cases: a mutation of a big one that still parses costs a full compile.
  const sources = GOLDEN_MODELS.map((m) => readFileSync(m.path));
  const weights = [0.45, 0.35, 0.12, 0.08];
  const tally = { compiled: 0, refused: 0 };
  let slowest = 0;
  try {
    for (let i = 0; i < CASES; i++) {
      let pick = random.next();
      let source = 0;
      while (pick > weights[source]! && source < weights.length - 1) pick -= weights[source++]!;
      const bytes = mutate(sources[source]!, random);
      const out = join(work, `case${i}`);
      const started = performance.now();
      try {
        writeOutputDir(out, (await compileGraph(loadModelBytes(bytes, `case${i}`), { board, rounding: 'double' })).files);
        tally.compiled++;
        rmSync(out, { recursive: true });
      } catch (e) {
        if (!(e instanceof UserError)) assert.unreachable(`case ${i} (${GOLDEN_MODELS[source]!.name}): ${(e as Error).stack}`);
        assert.ok((e as Error).message.length > 10, `case ${i}: message '${(e as Error).message}'`);
        assert.not.ok(existsSync(out), `case ${i} left ${out}`);
        tally.refused++;
      }
      const ms = performance.now() - started;
      slowest = Math.max(slowest, ms);
      assert.ok(ms < 5000, `case ${i} took ${ms.toFixed(0)} ms`);
    }
    assert.equal(readdirSync(work), [], 'nothing left in the output folder');
    assert.ok(tally.refused > CASES / 4 && tally.compiled > 0, JSON.stringify(tally));
    process.stdout.write(`  ${tally.compiled} compiled, ${tally.refused} refused, slowest ${slowest.toFixed(0)} ms\n`);
  } finally {
    rmSync(work, { recursive: true, force: true });
  }
});

test.run();
