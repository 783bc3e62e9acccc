/**
 * End to end on every target: the echo fixture model is built with the harness, run (natively or
 * in QEMU) and its outputs, instruction counts and memory figures come back through runModel.
 */
import { writeFile } from 'node:fs/promises';
import { join } from 'node:path';

import { test } from 'uvu';
import * as assert from 'uvu/assert';

import { getBoard } from '../../targets/boards.ts';
import { buildProgram } from '../../targets/build.ts';
import { parseHarnessOutput, renderRunInputs } from '../../targets/harness/protocol.ts';
import { readModelHeader } from '../../targets/model_header.ts';
import { runModel, runProgram, type ModelRun } from '../../targets/run.ts';
import {
  ALL_TARGETS,
  echoExpected,
  editedFixture,
  fixture,
  FIXTURE_INPUT_BYTES,
  lcgBytes,
  QEMU_TARGETS,
  rejectionOf,
  tempDir,
} from './support.ts';

const inputs = [
  lcgBytes(FIXTURE_INPUT_BYTES, 1),
  lcgBytes(FIXTURE_INPUT_BYTES, 2),
  new Uint8Array(FIXTURE_INPUT_BYTES).fill(0x80), // all -128: saturation at the bottom
];

function assertEchoOutputs(run: ModelRun, target: string): void {
  assert.is(run.outputs.length, inputs.length);
  inputs.forEach((input, n) => {
    const expected = echoExpected(input);
    assert.is(run.outputs[n]!.length, 2, `${target}: outputs of input ${n}`);
    assert.equal(Array.from(run.outputs[n]![0]!), Array.from(expected[0]!), `${target}: output 0 of input ${n}`);
    assert.equal(Array.from(run.outputs[n]![1]!), Array.from(expected[1]!), `${target}: output 1 of input ${n}`);
  });
}

for (const target of ALL_TARGETS) {
  test(`${target}: the echo model computes the expected outputs`, async () => {
    const run = await runModel(getBoard(target), fixture('echo_model'), inputs, { timeoutMs: 30_000 });
    assertEchoOutputs(run, target);
    if (target === 'host') {
      assert.is(run.instructions, null);
      assert.is(run.stackBytes, null);
      assert.is(run.flashBytes, null);
      assert.is(run.sramBytes, null);
      return;
    }
    assert.ok(run.instructions !== null && run.instructions.length === inputs.length);
    for (const count of run.instructions) {
      assert.ok(count > 0, `${target}: instruction count ${count}`);
    }
    const board = getBoard(target);
    // The arena (16 KB) and the stack reservation are always in SRAM; all of it within budget.
    assert.ok(run.sramBytes !== null && run.sramBytes >= 16384 + board.stackBytes && run.sramBytes <= board.ram.bytes);
    assert.ok(run.flashBytes !== null && run.flashBytes > 1000 && run.flashBytes <= board.flash.bytes);
    assert.ok(run.stackBytes !== null && run.stackBytes > 0 && run.stackBytes < board.stackBytes);
    assert.ok(run.stackTotalBytes !== null && run.stackTotalBytes >= run.stackBytes && run.stackTotalBytes < board.stackBytes);
  });
}

test('host: clean under AddressSanitizer and UndefinedBehaviorSanitizer', async () => {
  const run = await runModel(getBoard('host'), fixture('echo_model'), inputs, { sanitize: true, timeoutMs: 30_000 });
  assertEchoOutputs(run, 'host+sanitizers');
});

test('cortex-m4: -Os builds give the same outputs', async () => {
  const run = await runModel(getBoard('cortex-m4'), fixture('echo_model'), inputs, { optimize: '-Os' });
  assertEchoOutputs(run, 'cortex-m4 -Os');
});

for (const target of QEMU_TARGETS) {
  test(`${target}: instruction counts repeat exactly and grow with the work`, async () => {
    const board = getBoard(target);
    const first = await runModel(board, fixture('echo_model'), inputs);
    const second = await runModel(board, fixture('echo_model'), inputs);
    assert.equal(first.instructions, second.instructions, 'two runs of the same program');

    const heavier = await editedFixture('echo_model', (source) =>
      source.replace('#define ECHO_PASSES 1', '#define ECHO_PASSES 10'),
    );
    try {
      const tenfold = await runModel(board, heavier.dir, inputs);
      assertEchoOutputs(tenfold, `${target} x10`);
      first.instructions!.forEach((once, n) => {
        const ten = tenfold.instructions![n]!;
        assert.ok(ten > 5 * once, `${target} input ${n}: 10 passes took ${ten} instructions, 1 pass ${once}`);
      });
    } finally {
      await heavier.cleanup();
    }
  });
}

test('an input of the wrong length is refused before anything is built', async () => {
  const error = await rejectionOf(
    runModel(getBoard('cortex-m4'), fixture('echo_model'), [new Uint8Array(FIXTURE_INPUT_BYTES), new Uint8Array(39)]),
  );
  assert.match(error.message, 'input 1 has 39 bytes');
  assert.match(error.message, 'TF_MODEL_INPUT_BYTES 40');
});

test('no inputs is an error', async () => {
  const error = await rejectionOf(runModel(getBoard('host'), fixture('echo_model'), []));
  assert.match(error.message, 'at least one input');
});

// QEMU writes its stdout without blocking: through a pipe, whatever did not fit while Node.js was not reading was lost.
test('cortex-m7: a guest printing far more than a pipe holds is read whole, however late Node.js reads', async () => {
  const board = getBoard('cortex-m7');
  const many = Array.from({ length: 800 }, (_, n) => lcgBytes(FIXTURE_INPUT_BYTES, n + 10));
  const work = await tempDir('long-output');
  try {
    const modelDir = fixture('echo_model');
    const header = await readModelHeader(modelDir);
    await writeFile(join(work.dir, 'run_inputs.h'), renderRunInputs(header, many));
    const build = await buildProgram(board, { sourceDir: modelDir, workDir: work.dir });
    const running = runProgram(board, build.executable, { timeoutMs: 60_000 });
    const busyUntil = Date.now() + 3000;
    while (Date.now() < busyUntil); // nothing reads the guest's output meanwhile
    const run = await running;
    assert.is(run.exitCode, 0, run.stderr);
    assert.ok(run.stdout.length > 65536, `${run.stdout.length} characters`);
    const report = parseHarnessOutput(run.stdout, header, many.length);
    many.forEach((input, n) => {
      const expected = echoExpected(input);
      assert.equal(Array.from(report.outputs[n]![0]!), Array.from(expected[0]!), `output 0 of input ${n}`);
    });
  } finally {
    await work.cleanup();
  }
});

test.run();
