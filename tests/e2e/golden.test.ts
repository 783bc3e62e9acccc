/**
 * Every model with TFLM golden vectors: the reference interpreter, the host C build (with
 * ASan/UBSan), the QEMU builds for every Cortex-M target and the wasm module (SIMD and scalar
 * builds) produce TFLM's bytes exactly.
 */
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { loadModelFile } from '../../compiler/load_model.ts';
import { prepareGraph } from '../../compiler/passes/prepare.ts';
import { runReference } from '../../compiler/reference/interpreter.ts';
import { runCompiled } from '../helpers/backends.ts';
import { GOLDEN_CASES, GOLDEN_MODELS, concatBytes, goldenInput, goldenOutput } from '../helpers/shared.ts';
import type { TargetName } from '../../targets/boards.ts';

const TARGETS: readonly TargetName[] = ['host', 'cortex-m4', 'cortex-m7', 'cortex-m55'];
const cases = Array.from({ length: GOLDEN_CASES }, (_, k) => k);

for (const model of GOLDEN_MODELS) {
  const graph = loadModelFile(model.path);
  const inputs = cases.map((k) => goldenInput(model.name, k));
  const golden = cases.map((k) => goldenOutput(model.name, k));

  test(`${model.name}: reference interpreter == TFLM golden`, () => {
    const pg = prepareGraph(graph, { rounding: 'double' });
    cases.forEach((k) => assert.equal(Buffer.from(concatBytes(runReference(pg, [inputs[k]!]))), Buffer.from(golden[k]!), `input ${k}`));
  });

  for (const target of TARGETS) {
    test(`${model.name}: ${target} C build == TFLM golden`, async () => {
      const run = await runCompiled(graph, inputs, target);
      cases.forEach((k) => assert.equal(Buffer.from(concatBytes(run.outputs[k]!)), Buffer.from(golden[k]!), `input ${k}`));
      if (target !== 'host') assert.ok(run.instructions!.every((n) => n > 0), 'instruction counts');
    });
  }

  for (const simd of [true, false]) {
    test(`${model.name}: wasm ${simd ? 'SIMD' : 'scalar'} build == TFLM golden`, async () => {
      const run = await runCompiled(graph, inputs, 'wasm', 'double', { simd });
      cases.forEach((k) => assert.equal(Buffer.from(concatBytes(run.outputs[k]!)), Buffer.from(golden[k]!), `input ${k}`));
    });
  }
}

test.run();
