/**
 * The bundled example, built by the TypeScript builder: its .tflite loads in the real TFLite
 * runtime, which agrees byte for byte with the reference (single rounding); the QEMU build and
 * both wasm builds agree with the reference (default rounding).
 */
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { tinyKws } from '../../examples/tiny_kws.ts';
import { graphToTflite } from '../../compiler/frontend/builder/to_tflite.ts';
import { importTflite } from '../../compiler/frontend/tflite/import.ts';
import { prepareGraph } from '../../compiler/passes/prepare.ts';
import { runReference } from '../../compiler/reference/interpreter.ts';
import { Random } from '../../compiler/frontend/builder/random.ts';
import { loadTfliteRuntime } from '../oracles/tflite_runtime.ts';
import { runCompiled } from '../helpers/backends.ts';

const graph = tinyKws();
const random = new Random(99);
const inputs = Array.from({ length: 6 }, () => new Uint8Array(random.int8Array(490).buffer));

test('the example written as .tflite imports back to the same graph', () => {
  const again = importTflite(graphToTflite(graph), graph.name);
  assert.is(again.nodes.length, graph.nodes.length);
  assert.equal(again.nodes.map((n) => n.op), graph.nodes.map((n) => n.op));
  assert.equal(again.nodes.map((n) => n.attrs), graph.nodes.map((n) => n.attrs));
});

test('TFLite runtime == reference (single rounding) on the example', async () => {
  const tflite = await loadTfliteRuntime();
  const bytes = graphToTflite(graph);
  const pg = prepareGraph(graph, { rounding: 'single' });
  const spread = new Set<number>();
  for (const input of inputs) {
    const expected = tflite.run(bytes, [input])[0]!;
    assert.equal(Buffer.from(runReference(pg, [input])[0]!), Buffer.from(expected));
    expected.forEach((v) => spread.add(v));
  }
  assert.ok(spread.size > 3, 'the example produces varied outputs, not a constant');
});

test('cortex-m4 build == reference on the example', async () => {
  const pg = prepareGraph(graph, { rounding: 'double' });
  const run = await runCompiled(graph, inputs, 'cortex-m4');
  inputs.forEach((input, k) => assert.equal(Buffer.from(run.outputs[k]![0]!), Buffer.from(runReference(pg, [input])[0]!), `input ${k}`));
});

for (const simd of [true, false]) {
  test(`wasm ${simd ? 'SIMD' : 'scalar'} build == reference on the example`, async () => {
    const pg = prepareGraph(graph, { rounding: 'double' });
    const run = await runCompiled(graph, inputs, 'wasm', 'double', { simd });
    inputs.forEach((input, k) => assert.equal(Buffer.from(run.outputs[k]![0]!), Buffer.from(runReference(pg, [input])[0]!), `input ${k}`));
  });
}

test.run();
