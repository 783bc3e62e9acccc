/**
 * FoldBias with weights that train (a runtime input, as trainable state is): the C kernel sums them itself, on
 * Cortex-M with USADA8 over conv rows. Its folded and saturated biases equal the reference's on the host (with
 * sanitizers) and on a Cortex-M7 in QEMU, with biases on both sides of the saturation limit, where an error in the
 * sum of magnitudes would show. (Through a training step it would not: a bias near the limit saturates the output.)
 */
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import type { Graph, Node, Tensor } from '../../compiler/ir/graph.ts';
import { Random } from '../../compiler/frontend/builder/random.ts';
import { prepareGraph } from '../../compiler/passes/prepare.ts';
import { runReference } from '../../compiler/reference/interpreter.ts';
import { runCompiled } from '../helpers/backends.ts';

const INT32_MAX = 2 ** 31 - 1;
const random = new Random(31);

interface Case {
  readonly depthwise: boolean;
  readonly channels: number;
  readonly taps: number;
  readonly inputOffset: number;
}

const CASES: readonly Case[] = [
  { depthwise: false, channels: 7, taps: 37, inputOffset: 5 },
  { depthwise: false, channels: 4, taps: 96, inputOffset: 128 },
  { depthwise: false, channels: 3, taps: 3, inputOffset: -127 },
  { depthwise: true, channels: 9, taps: 25, inputOffset: 128 },
];

const tensors: Tensor[] = [];
const add = (name: string, shape: number[], dtype: 'int8' | 'int32'): number => {
  const channels = shape[0]!;
  const quant = dtype === 'int8' ? { scale: Array<number>(channels).fill(0.01), zeroPoint: Array<number>(channels).fill(0), axis: 0 } : null;
  tensors.push({ id: tensors.length, name, shape, dtype, quant, data: null });
  return tensors.length - 1;
};
const nodes: Node[] = [];
const inputs: number[] = [];
const outputs: number[] = [];
const runInputs: Uint8Array[] = [];
CASES.forEach((c, k) => {
  const w = add(`w${k}`, c.depthwise ? [1, c.taps, 1, c.channels] : [c.channels, c.taps, 1, 1], 'int8');
  const bias = add(`bias${k}`, [c.channels], 'int32');
  const folded = [add(`folded${k}`, [c.channels], 'int32'), ...(c.depthwise ? [add(`saturated${k}`, [c.channels], 'int32')] : [])];
  const maxInput = Math.max(Math.abs(-128 + c.inputOffset), Math.abs(127 + c.inputOffset));
  nodes.push({ id: k, op: 'FoldBias', inputs: [w, bias], outputs: folded, attrs: { depthwise: c.depthwise, inputOffset: c.inputOffset, maxInput }, origin: `case ${k}` });
  inputs.push(w, bias);
  outputs.push(...folded);
  const weights = random.int8Array(c.channels * c.taps);
  const magnitude = (ch: number) => {
    let sum = 0;
    for (let t = 0; t < c.taps; t++) sum += Math.abs(weights[c.depthwise ? t * c.channels + ch : ch * c.taps + t]!);
    return sum;
  };
  // Channel ch's bias sits at -1, 0 or +1 from its limit, either sign; some are ordinary.
  const biases = Int32Array.from({ length: c.channels }, (_, ch) => {
    if (ch % 4 === 3) return random.int(-100000, 100000);
    const limit = INT32_MAX - magnitude(ch) * maxInput;
    return (ch % 2 === 0 ? 1 : -1) * (limit + (ch % 3) - 1);
  });
  runInputs.push(new Uint8Array(weights.buffer), new Uint8Array(biases.buffer));
});

const graph: Graph = { name: 'fold_bias_cases', tensors, nodes, inputs, outputs };
const reference = runReference(prepareGraph(graph, { rounding: 'float32' }), runInputs);

for (const target of ['host', 'cortex-m7'] as const) {
  test(`${target} == reference, byte for byte`, async () => {
    const run = await runCompiled(graph, [runInputs], target, 'float32');
    reference.forEach((want, i) => assert.equal(Buffer.from(run.outputs[0]![i]!), Buffer.from(want), `output ${tensors[graph.outputs[i]!]!.name}`));
  });
}

test('the limits bite: the depthwise case saturates the biases set beyond them, and only those', () => {
  const k = CASES.findIndex((c) => c.depthwise);
  const biases = new Int32Array(runInputs[2 * k + 1]!.slice().buffer);
  const saturated = new Int32Array(reference[graph.outputs.indexOf(tensors.find((t) => t.name === `saturated${k}`)!.id)]!.slice().buffer);
  const beyond = Array.from(biases, (_, ch) => ch % 4 !== 3 && ch % 3 === 2);
  beyond.forEach((clamped, ch) => assert.is(saturated[ch] !== biases[ch], clamped, `channel ${ch}`));
});

test.run();
