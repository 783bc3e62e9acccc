/**
 * SaveMask: the one-bit masks of lo < y < hi equal the reference's on the host (with sanitizers) and on a Cortex-M7 in
 * QEMU, whose kernel takes eight bytes at a time with USUB8/SEL, for the ranges activations give (ReLU at the bottom
 * of the int8 range, ReLU6 below its top, relu_n1_to_1 in the middle, the whole range) and counts that leave a tail.
 * Every byte value is an input.
 */
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import type { Graph, Node, Tensor } from '../../compiler/ir/graph.ts';
import { Random } from '../../compiler/frontend/builder/random.ts';
import { prepareGraph } from '../../compiler/passes/prepare.ts';
import { runReference } from '../../compiler/reference/interpreter.ts';
import { runCompiled } from '../helpers/backends.ts';

const RANGES: readonly { lo: number; hi: number; count: number }[] = [
  { lo: -128, hi: 127, count: 256 },
  { lo: -128, hi: 63, count: 300 },
  { lo: -12, hi: 40, count: 261 },
  { lo: 126, hi: 127, count: 256 },
  { lo: -128, hi: -127, count: 13 },
];

const random = new Random(17);
const tensors: Tensor[] = [];
const nodes: Node[] = [];
const inputs: number[] = [];
const outputs: number[] = [];
const runInputs: Uint8Array[] = [];
RANGES.forEach(({ lo, hi, count }, k) => {
  const y = tensors.push({ id: tensors.length, name: `y${k}`, shape: [count], dtype: 'int8', quant: { scale: [0.1], zeroPoint: [0], axis: 0 }, data: null }) - 1;
  const mask = tensors.push({ id: tensors.length, name: `mask${k}`, shape: [Math.ceil(count / 8)], dtype: 'uint8', quant: null, data: null }) - 1;
  nodes.push({ id: k, op: 'SaveMask', inputs: [y], outputs: [mask], attrs: { lo, hi }, origin: `range ${k}` });
  inputs.push(y);
  outputs.push(mask);
  // Every byte value, then random ones, in a shuffled order.
  const values = Int8Array.from({ length: count }, (_, i) => (i < 256 ? i - 128 : random.int(-128, 127)));
  for (let i = count - 1; i > 0; i--) {
    const j = random.int(0, i);
    [values[i], values[j]] = [values[j]!, values[i]!];
  }
  runInputs.push(new Uint8Array(values.buffer));
});
const graph: Graph = { name: 'mask_cases', tensors, nodes, inputs, outputs };
const reference = runReference(prepareGraph(graph, { rounding: 'float32' }), runInputs);

test('the ranges set some bits and clear others', () => {
  reference.slice(0, 3).forEach((mask, k) => {
    const ones = mask.reduce((n, b) => n + b.toString(2).split('1').length - 1, 0);
    assert.ok(ones > 0 && ones < RANGES[k]!.count, `range ${k}: ${ones} of ${RANGES[k]!.count}`);
  });
});

for (const target of ['host', 'cortex-m7'] as const) {
  test(`${target} == reference, byte for byte`, async () => {
    const run = await runCompiled(graph, [runInputs], target, 'float32');
    reference.forEach((want, i) => assert.equal(Buffer.from(run.outputs[0]![i]!), Buffer.from(want), `range ${i}`));
  });
}

test.run();
