/**
 * `--rounding single` matches the real TFLite runtime (WASM, XNNPACK off) byte for byte on
 * seeded random inputs, for every shared TFLite model: in the reference on all of them, in the
 * wasm builds (SIMD and scalar) on all of them, and in the host C build on the first four.
 */
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { readFileSync } from 'node:fs';
import { loadModelFile } from '../../compiler/load_model.ts';
import { prepareGraph } from '../../compiler/passes/prepare.ts';
import { runReference } from '../../compiler/reference/interpreter.ts';
import { Random } from '../../compiler/frontend/builder/random.ts';
import { loadTfliteRuntime } from '../oracles/tflite_runtime.ts';
import { runCompiled, runHostAndWasm } from '../helpers/backends.ts';
import { GOLDEN_MODELS, concatBytes } from '../helpers/shared.ts';

const INPUTS_PER_MODEL = 24;

for (const model of GOLDEN_MODELS) {
  test(`${model.name}: single rounding == TFLite runtime on ${INPUTS_PER_MODEL} seeded inputs`, async () => {
    const bytes = readFileSync(model.path);
    const graph = loadModelFile(model.path);
    const pg = prepareGraph(graph, { rounding: 'single' });
    const tflite = await loadTfliteRuntime();
    const random = new Random(0x5eed + model.name.length);
    const inputBytes = graph.tensors[graph.inputs[0]!]!.shape.reduce((a, b) => a * b, 1);
    const inputs = Array.from({ length: INPUTS_PER_MODEL }, () => new Uint8Array(random.int8Array(inputBytes).buffer));
    const expected = inputs.map((input) => Buffer.from(concatBytes(tflite.run(bytes, [input]))));
    inputs.forEach((input, i) => assert.equal(Buffer.from(concatBytes(runReference(pg, [input]))), expected[i], `reference, input ${i}`));
    const host = await runHostAndWasm(graph, inputs.slice(0, 4), { rounding: 'single' });
    host.forEach((outs, i) => assert.equal(Buffer.from(concatBytes(outs)), expected[i], `host C, input ${i}`));
    for (const simd of [true, false]) {
      const wasm = await runCompiled(graph, inputs, 'wasm', 'single', { simd });
      wasm.outputs.forEach((outs, i) => assert.equal(Buffer.from(concatBytes(outs)), expected[i], `wasm ${simd ? 'SIMD' : 'scalar'}, input ${i}`));
    }
  });
}

test.run();
