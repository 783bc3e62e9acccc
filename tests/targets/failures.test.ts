/**
 * The ways a model program can fail, each turned into a clear error: over budget at link time,
 * a hanging guest, a failing tf_model_invoke, a CPU fault, a stack overflow.
 */
import { writeFile } from 'node:fs/promises';
import { join } from 'node:path';

import { test } from 'uvu';
import * as assert from 'uvu/assert';

import { getBoard, withBudget } from '../../targets/boards.ts';
import { BuildError, buildProgram } from '../../targets/build.ts';
import { renderRunInputs } from '../../targets/harness/protocol.ts';
import { readModelHeader } from '../../targets/model_header.ts';
import { RunError, runModel, runProgram } from '../../targets/run.ts';
import { fixture, FIXTURE_INPUT_BYTES, QEMU_TARGETS, rejectionOf, tempDir } from './support.ts';

const zeros = new Uint8Array(FIXTURE_INPUT_BYTES);

for (const target of QEMU_TARGETS) {
  test(`${target}: a 300 KB arena fails to link, naming RAM and the overshoot`, async () => {
    const board = getBoard(target);
    const error = await rejectionOf(runModel(board, fixture('oversize_model'), [zeros]));
    assert.instance(error, BuildError);
    const overflows = (error as BuildError).overflows;
    assert.is(overflows.length, 1);
    assert.is(overflows[0]!.region, 'RAM');
    // At least the arena's excess; the heap, stack and newlib's state come on top.
    const arenaExcess = 300 * 1024 - board.ram.bytes;
    assert.ok(overflows[0]!.bytes > arenaExcess + board.stackBytes, `overshoot ${overflows[0]!.bytes}`);
    assert.match(error.message, "does not fit the board's budget");
    assert.match(error.message, `RAM overflowed by ${overflows[0]!.bytes} bytes`);
  });
}

test('cortex-m7: a flash budget smaller than the image fails to link, naming FLASH', async () => {
  const board = withBudget(getBoard('cortex-m7'), { flashBytes: 8 * 1024 });
  const error = await rejectionOf(runModel(board, fixture('echo_model'), [zeros]));
  assert.instance(error, BuildError);
  assert.match(error.message, /FLASH overflowed by \d+ bytes/);
  assert.match(error.message, 'budget: 8192 bytes flash');
});

test('a compile error carries the compiler output', async () => {
  const work = await tempDir('broken');
  try {
    await writeFile(join(work.dir, 'model.h'), '#define TF_MODEL_INPUT_BYTES 1\n');
    await writeFile(join(work.dir, 'model.c'), 'int f(void) { return undeclared_thing; }\n');
    const error = await rejectionOf(buildProgram(getBoard('host'), { sourceDir: work.dir, workDir: join(work.dir, 'out') }));
    assert.instance(error, BuildError);
    assert.match((error as BuildError).stderr, 'undeclared_thing');
  } finally {
    await work.cleanup();
  }
});

for (const target of ['host', ...QEMU_TARGETS] as const) {
  test(`${target}: a hanging guest is killed at the timeout`, async () => {
    const started = Date.now();
    const error = await rejectionOf(runModel(getBoard(target), fixture('hanging_model'), [zeros], { timeoutMs: 1500 }));
    assert.match(error.message, 'timed out after 1500 ms');
    assert.ok(Date.now() - started < 10_000, `took ${Date.now() - started} ms`);
  });
}

for (const target of ['host', ...QEMU_TARGETS] as const) {
  test(`${target}: a non-zero tf_model_invoke result is a non-zero exit`, async () => {
    const board = getBoard(target);
    const work = await tempDir('failing');
    try {
      const modelDir = fixture('failing_model');
      const header = await readModelHeader(modelDir);
      const negative = new Uint8Array(FIXTURE_INPUT_BYTES).fill(0xff);
      await writeFile(join(work.dir, 'run_inputs.h'), renderRunInputs(header, [zeros, negative]));
      const build = await buildProgram(board, { sourceDir: modelDir, workDir: work.dir });
      const run = await runProgram(board, build.executable, { timeoutMs: 30_000 });
      assert.is(run.exitCode, 1);
      assert.match(run.stdout, /^out 0 0 /m); // the first input succeeded and was reported
      assert.match(run.stderr, 'tf_model_invoke returned 7 for input 1');
    } finally {
      await work.cleanup();
    }
    const error = await rejectionOf(runModel(board, fixture('failing_model'), [new Uint8Array(FIXTURE_INPUT_BYTES).fill(0xff)]));
    assert.instance(error, RunError);
    assert.is((error as RunError).exitCode, 1);
    assert.match(error.message, 'exited with status 1 (tf_model_invoke returned non-zero)');
  });
}

for (const target of QEMU_TARGETS) {
  test(`${target}: a CPU fault is reported with the faulting pc, not a hang or a lockup`, async () => {
    const error = await rejectionOf(runModel(getBoard(target), fixture('faulting_model'), [zeros], { timeoutMs: 10_000 }));
    assert.instance(error, RunError);
    assert.is((error as RunError).exitCode, 2);
    assert.match(error.message, 'CPU fault');
    assert.match(error.message, /pc 0x[0-9a-f]{8}/);
  });

  test(`${target}: a model that overruns the stack reservation fails`, async () => {
    const error = await rejectionOf(runModel(getBoard(target), fixture('stack_hog_model'), [zeros], { timeoutMs: 10_000 }));
    assert.instance(error, RunError);
    assert.is((error as RunError).exitCode, 3);
    assert.match(error.message, 'stack overflow');
  });

  test(`${target}: the same model runs once the stack reservation is big enough`, async () => {
    const board = withBudget(getBoard(target), { stackBytes: 12 * 1024 });
    const run = await runModel(board, fixture('stack_hog_model'), [zeros], { timeoutMs: 10_000 });
    assert.ok(run.stackBytes !== null && run.stackBytes > 8192 && run.stackBytes < 12 * 1024, `stack ${run.stackBytes}`);
  });
}

test.run();
