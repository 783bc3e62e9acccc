/**
 * ONNX frontend, op by op: small quantized ONNX models (QDQ and QOperator forms, a few 2-3 op chains) imported with
 * `importOnnx` and run on the reference interpreter agree with onnxruntime within 1 LSB per element (onnxruntime
 * requantizes in float, we in fixed point); host C, wasm SIMD and wasm scalar equal the reference byte for byte.
 *
 * Graph inputs and outputs keep the ONNX layout (NCHW), so the same bytes go to both and outputs compare elementwise;
 * the 4-D outputs check the layout conversion both ways. The count of elements 1 LSB off is printed per case.
 */
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import type { Graph } from '../../compiler/ir/graph.ts';
import { elementCount } from '../../compiler/ir/graph.ts';
import { Random } from '../../compiler/frontend/builder/random.ts';
import { importOnnx } from '../../compiler/frontend/onnx/import.ts';
import { prepareGraph } from '../../compiler/passes/prepare.ts';
import { runReference } from '../../compiler/reference/interpreter.ts';
import { runHostAndWasm } from '../helpers/backends.ts';
import { OnnxModelBuilder, decodeModel } from '../helpers/onnx_models.ts';
import type { QTensor } from '../helpers/onnx_models.ts';
import { exposeTensors, runOnnx } from '../oracles/onnxruntime.ts';
import type { GraphOptimizationLevel } from '../oracles/onnxruntime.ts';

interface OpCase {
  readonly name: string;
  /**
   * Adds the case's inputs, nodes and outputs. Returns the int8 tensors between its ops (chains only): they are
   * exposed as extra outputs, so a chain's ops are checked one by one and 1 LSB off in the middle may not add up.
   */
  readonly build: (b: OnnxModelBuilder) => readonly QTensor[];
}

const ODD_ZP = 7;

/** A case of one output and no intermediates to expose. */
const single =
  (add: (b: OnnxModelBuilder) => QTensor) =>
  (b: OnnxModelBuilder): readonly QTensor[] => {
    b.output(add(b));
    return [];
  };

const CASES: readonly OpCase[] = [
  // --- Conv (QDQ)
  {
    name: 'Conv 3x3 pads 1, C 3 -> 8, per-channel, input zp 0',
    build: single((b) => b.conv(b.input([1, 3, 8, 8], { zeroPoint: 0 }), { outChannels: 8, kernel: [3, 3], pads: [1, 1, 1, 1], perChannel: true })),
  },
  {
    // ONNX pads 1 all round; TFLite SAME on an even input would pad 0 before and 1 after.
    name: 'Conv 3x3 stride 2 pads 1 on 8x8, per-tensor, input zp -128',
    build: single((b) => b.conv(b.input([1, 4, 8, 8], { zeroPoint: -128 }), { outChannels: 6, kernel: [3, 3], strides: [2, 2], pads: [1, 1, 1, 1] })),
  },
  {
    name: 'Conv 3x2 asymmetric pads [1,0,2,1] stride [1,2], odd input zp',
    build: single((b) => b.conv(b.input([1, 4, 7, 9], { zeroPoint: ODD_ZP }), { outChannels: 5, kernel: [3, 2], strides: [1, 2], pads: [1, 0, 2, 1], perChannel: true })),
  },
  {
    name: 'Conv 1x1, C 16 -> 8, batch 2, per-channel, input zp -3',
    build: single((b) => b.conv(b.input([2, 16, 5, 6], { zeroPoint: -3 }), { outChannels: 8, kernel: [1, 1], perChannel: true })),
  },
  {
    name: 'Conv 3x3 + Relu, output zp -128',
    build: single((b) => b.conv(b.input([1, 3, 6, 7]), { outChannels: 4, kernel: [3, 3], pads: [1, 1, 1, 1], activation: 'relu', zeroPoint: -128, perChannel: true })),
  },
  {
    // The output quantization tools choose for Clip(0, 6); a small input scale puts ~4 % of the outputs above 6.
    name: 'Conv 3x3 + Clip(0, 6), stride 2',
    build: single((b) => b.conv(b.input([1, 3, 9, 9], { scale: 0.01 }), { outChannels: 4, kernel: [3, 3], strides: [2, 2], activation: { clip: [0, 6] }, scale: 6 / 255, zeroPoint: -128 })),
  },
  {
    name: 'Conv 1x1 + Clip(-1, 1), output scale 1/128',
    build: single((b) => b.conv(b.input([1, 8, 4, 4], { scale: 0.002 }), { outChannels: 4, kernel: [1, 1], activation: { clip: [-1, 1] }, scale: 1 / 128, zeroPoint: 0 })),
  },
  // --- depthwise Conv (QDQ)
  {
    name: 'depthwise 3x3 pads 1, C 8, per-channel',
    build: single((b) => b.depthwiseConv(b.input([1, 8, 6, 6]), { kernel: [3, 3], pads: [1, 1, 1, 1], perChannel: true })),
  },
  {
    name: 'depthwise 5x5 stride 2 pads 2 on 10x10, per-tensor, input zp -128',
    build: single((b) => b.depthwiseConv(b.input([1, 6, 10, 10], { zeroPoint: -128 }), { kernel: [5, 5], strides: [2, 2], pads: [2, 2, 2, 2] })),
  },
  {
    name: 'depthwise 7x7 pads 3 on 9x9, per-channel, odd input zp',
    build: single((b) => b.depthwiseConv(b.input([1, 4, 9, 9], { zeroPoint: ODD_ZP }), { kernel: [7, 7], pads: [3, 3, 3, 3], perChannel: true })),
  },
  {
    name: 'depthwise 3x3 stride 2 asymmetric pads [0,0,1,1] + Relu',
    build: single((b) => b.depthwiseConv(b.input([1, 5, 8, 8]), { kernel: [3, 3], strides: [2, 2], pads: [0, 0, 1, 1], perChannel: true, activation: 'relu', zeroPoint: -128 })),
  },
  {
    name: 'depthwise channel multiplier 2, C 3 -> 6',
    build: single((b) => b.depthwiseConv(b.input([1, 3, 5, 5]), { kernel: [3, 3], pads: [1, 1, 1, 1], outChannels: 6, perChannel: true })),
  },
  // --- Gemm / MatMul (QDQ)
  {
    name: 'Gemm transB 1, batch 2, K 20 -> 7, per-channel',
    build: single((b) => b.gemm(b.input([2, 20]), { outFeatures: 7, transB: 1, perChannel: true })),
  },
  {
    name: 'Gemm transB 0, K 33 -> 10, per-tensor, input zp -128, + Relu',
    build: single((b) => b.gemm(b.input([1, 33], { zeroPoint: -128 }), { outFeatures: 10, transB: 0, activation: 'relu', zeroPoint: -128 })),
  },
  {
    name: 'MatMul [3, 16] x [16, 5], odd input zp',
    build: single((b) => b.matMul(b.input([3, 16], { zeroPoint: ODD_ZP }), { outFeatures: 5 })),
  },
  // --- elementwise and pooling (QDQ)
  {
    name: 'Add, different input scales and zero points',
    build: single((b) => b.add(b.input([1, 4, 5, 5], { zeroPoint: -128 }), b.input([1, 4, 5, 5], { zeroPoint: ODD_ZP }))),
  },
  {
    name: 'Add + Relu',
    build: single((b) => b.add(b.input([1, 3, 4, 6]), b.input([1, 3, 4, 6]), { activation: 'relu', zeroPoint: -128 })),
  },
  {
    name: 'AveragePool 2x2 stride 2',
    build: single((b) => b.averagePool(b.input([1, 3, 6, 6]), { kernel: [2, 2], strides: [2, 2] })),
  },
  {
    // count_include_pad 0: the border windows average fewer values.
    name: 'AveragePool 3x3 pads 1, odd input zp',
    build: single((b) => b.averagePool(b.input([1, 2, 5, 7], { zeroPoint: ODD_ZP }), { kernel: [3, 3], pads: [1, 1, 1, 1] })),
  },
  {
    name: 'MaxPool 3x3 stride 2 pads 1 on 8x8',
    build: single((b) => b.maxPool(b.input([1, 4, 8, 8]), { kernel: [3, 3], strides: [2, 2], pads: [1, 1, 1, 1] })),
  },
  {
    name: 'MaxPool 2x2 stride 2, input zp -128',
    build: single((b) => b.maxPool(b.input([1, 3, 6, 4], { zeroPoint: -128 }), { kernel: [2, 2], strides: [2, 2] })),
  },
  {
    name: 'GlobalAveragePool 5x7, C 6',
    build: single((b) => b.globalAveragePool(b.input([1, 6, 5, 7]))),
  },
  {
    name: 'Concat axis 1, different input scales',
    build: single((b) => b.concat([b.input([1, 2, 4, 4]), b.input([1, 3, 4, 4], { zeroPoint: -128 })])),
  },
  {
    // Tools leave Reshape in int8 between a QuantizeLinear and its consumers; here after a MaxPool.
    name: 'Reshape (int8) and Flatten (QDQ) of NCHW tensors',
    build: (b) => {
      b.output(b.reshape(b.maxPool(b.input([1, 4, 6, 6]), { kernel: [2, 2], strides: [2, 2] }), [1, 36]));
      b.output(b.flatten(b.input([1, 2, 3, 5]), 'qdq'));
      return [];
    },
  },
  // --- chains
  {
    name: 'chain: Conv -> Add residual',
    build: (b) => {
      const x = b.input([1, 4, 6, 6]);
      const c = b.conv(x, { outChannels: 4, kernel: [3, 3], pads: [1, 1, 1, 1], perChannel: true });
      b.output(b.add(c, x));
      return [c];
    },
  },
  {
    name: 'chain: GlobalAveragePool -> Flatten -> Gemm',
    build: (b) => {
      const gap = b.globalAveragePool(b.input([1, 8, 5, 5]));
      b.output(b.gemm(b.flatten(gap), { outFeatures: 5, transB: 1, perChannel: true }));
      return [gap];
    },
  },
  {
    name: 'chain: Conv + Relu -> MaxPool -> depthwise + Clip(0, 6)',
    build: (b) => {
      // Scales that keep the Clip(0, 6) at the end mostly unsaturated.
      const x = b.input([1, 3, 8, 8], { scale: 0.004, zeroPoint: -128 });
      const c = b.conv(x, { outChannels: 4, kernel: [3, 3], pads: [1, 1, 1, 1], activation: 'relu', scale: 0.05, zeroPoint: -128, perChannel: true });
      const p = b.maxPool(c, { kernel: [2, 2], strides: [2, 2] });
      b.output(b.depthwiseConv(p, { kernel: [3, 3], pads: [1, 1, 1, 1], activation: { clip: [0, 6] }, scale: 6 / 255, zeroPoint: -128, perChannel: true }));
      return [c, p];
    },
  },
  // --- QOperator forms
  {
    name: 'QLinearConv 3x3 pads 1, per-channel',
    build: single((b) => b.qlinearConv(b.input([1, 3, 7, 7]), { outChannels: 5, kernel: [3, 3], pads: [1, 1, 1, 1], perChannel: true })),
  },
  {
    name: 'QLinearConv depthwise 3x3 stride 2 pads 1, per-tensor, input zp -128',
    build: single((b) => b.qlinearConv(b.input([1, 6, 8, 8], { zeroPoint: -128 }), { outChannels: 6, group: 6, kernel: [3, 3], strides: [2, 2], pads: [1, 1, 1, 1] })),
  },
  {
    name: 'QLinearMatMul [2, 24] x [24, 6]',
    build: single((b) => b.qlinearMatMul(b.input([2, 24]), { outFeatures: 6 })),
  },
  {
    name: 'QLinearAdd (com.microsoft)',
    build: single((b) => b.qlinearAdd(b.input([1, 4, 3, 5]), b.input([1, 4, 3, 5], { zeroPoint: ODD_ZP }))),
  },
  {
    name: 'QLinearGlobalAveragePool (com.microsoft)',
    build: single((b) => b.qlinearGlobalAveragePool(b.input([1, 5, 6, 4]))),
  },
];

interface BuiltModel {
  readonly bytes: Uint8Array;
  readonly inputs: readonly string[];
  readonly outputs: readonly string[];
}

/** Some cases (all of them for `ks` = every index) in one model, side by side, chain intermediates exposed. */
function buildModel(ks: readonly number[], seed: number): BuiltModel {
  const b = new OnnxModelBuilder(`onnx_ops_${ks.join('_')}`, seed);
  const exposed = ks.flatMap((k) => CASES[k]!.build(b).map((t) => t.name));
  const bytes = exposed.length > 0 ? exposeTensors(b.build(), exposed) : b.build();
  return { bytes, inputs: b.inputNames, outputs: [...b.outputNames, ...exposed] };
}

/** Per run, one int8 array per graph input: `count` seeded runs, then all -128 and all 127. */
function makeRuns(graph: Graph, count: number, seed: number): Int8Array[][] {
  const random = new Random(seed);
  const sizes = graph.inputs.map((id) => elementCount(graph.tensors[id]!.shape));
  const runs = Array.from({ length: count }, () => sizes.map((n) => random.int8Array(n)));
  runs.push(sizes.map((n) => new Int8Array(n).fill(-128)), sizes.map((n) => new Int8Array(n).fill(127)));
  return runs;
}

const bytesOf = (a: Int8Array) => new Uint8Array(a.buffer, a.byteOffset, a.byteLength);
const int8Of = (a: Uint8Array) => new Int8Array(a.buffer, a.byteOffset, a.byteLength);

/** Checks that the imported graph's inputs and outputs are the model's, in order, int8, with the ONNX shapes. */
function checkInterface(graph: Graph, model: BuiltModel): void {
  const onnxGraph = decodeModel(model.bytes).graph!;
  const onnxShapes = new Map<string, number[]>();
  for (const v of [...onnxGraph.input!, ...onnxGraph.output!]) onnxShapes.set(v.name!, v.type!.tensorType!.shape!.dim!.map((d) => Number(d.dimValue)));
  assert.equal(graph.inputs.map((id) => graph.tensors[id]!.name), [...model.inputs], 'graph input names and order');
  assert.equal(graph.outputs.map((id) => graph.tensors[id]!.name), [...model.outputs], 'graph output names and order');
  for (const id of [...graph.inputs, ...graph.outputs]) {
    const t = graph.tensors[id]!;
    assert.is(t.dtype, 'int8', `${t.name} dtype`);
    assert.equal([...t.shape], [...onnxShapes.get(t.name)!], `${t.name} keeps the ONNX shape (layout)`);
  }
}

interface Agreement {
  readonly elements: number;
  readonly offByOne: number;
}

/** Elementwise comparison of every run's every output; throws on any element more than 1 LSB off. */
function compare(ours: readonly (readonly Int8Array[])[], theirs: readonly (readonly Int8Array[])[], names: readonly string[]): Agreement {
  let elements = 0;
  let offByOne = 0;
  ours.forEach((outs, run) =>
    outs.forEach((got, k) => {
      const want = theirs[run]![k]!;
      assert.is(got.length, want.length, `run ${run} output '${names[k]}': element count`);
      got.forEach((v, i) => {
        const d = Math.abs(v - want[i]!);
        if (d > 1) assert.unreachable(`run ${run} output '${names[k]}' element ${i}: ours ${v}, onnxruntime ${want[i]} (${d} LSB)`);
        offByOne += d;
      });
      elements += got.length;
    }),
  );
  return { elements, offByOne };
}

/** The seeded runs must give varied outputs, or agreeing with onnxruntime would prove little. */
function checkVaried(outputs: readonly (readonly Int8Array[])[], seededRuns: number, names: readonly string[]): void {
  names.forEach((name, k) => {
    const values = outputs.slice(0, seededRuns).flatMap((outs) => [...outs[k]!]);
    const distinct = new Set(values).size;
    // Relu outputs sit at -128 (real 0) about half the time, so only the top end counts as saturation.
    const saturated = values.filter((v) => v === 127).length;
    assert.ok(distinct >= Math.min(8, values.length / 2), `output '${name}' has only ${distinct} distinct values`);
    assert.ok(saturated <= values.length / 4, `output '${name}': ${saturated} of ${values.length} values saturated at 127`);
  });
}

const SEEDED_RUNS = 3;

async function onnxruntimeVsReference(model: BuiltModel, optimization: GraphOptimizationLevel = 'disabled'): Promise<Agreement> {
  const graph = importOnnx(model.bytes, 'model');
  checkInterface(graph, model);
  const runs = makeRuns(graph, SEEDED_RUNS, 99);
  const theirs = await runOnnx(
    model.bytes,
    runs.map((run) => Object.fromEntries(model.inputs.map((name, i) => [name, run[i]!]))),
    { graphOptimizationLevel: optimization },
  );
  const pg = prepareGraph(graph, { rounding: 'double' });
  const ours = runs.map((run) => runReference(pg, run.map(bytesOf)).map(int8Of));
  checkVaried(theirs, SEEDED_RUNS, model.outputs);
  return compare(ours, theirs, model.outputs);
}

/**
 * Off-by-one elements allowed, as a fraction: float requantization (round half to even) and fixed point disagree
 * only near ties, except average pools, whose exact .5 averages (a quarter of 2x2 windows) round differently.
 */
const MAX_OFF_BY_ONE = 0.2;

/** Per case, how many elements were 1 LSB off, printed after the tests for the record. */
const offByOne: string[] = [];

function checkAgreement(what: string, a: Agreement): void {
  offByOne.push(`${what}: ${a.offByOne} of ${a.elements}`);
  assert.ok(a.offByOne <= a.elements * MAX_OFF_BY_ONE, `${a.offByOne} of ${a.elements} elements 1 LSB off`);
}

for (const [k, c] of CASES.entries()) {
  test(`${c.name}: reference within 1 LSB of onnxruntime`, async () => {
    checkAgreement(c.name, await onnxruntimeVsReference(buildModel([k], 100 + k)));
  });
}

const ALL = CASES.map((_, k) => k);

// onnxruntime's optimizer fuses QDQ groups into its own integer kernels: a second, differently rounded oracle.
test("every case in one model: reference within 1 LSB of onnxruntime with graph optimizations 'all'", async () => {
  checkAgreement("every case, optimizations 'all'", await onnxruntimeVsReference(buildModel(ALL, 7), 'all'));
});

test('every case in one program: host C == wasm SIMD == wasm scalar == reference', async () => {
  const graph = importOnnx(buildModel(ALL, 7).bytes, 'onnx_ops');
  const runs = makeRuns(graph, 2, 5).map((run) => run.map(bytesOf));
  const compiled = await runHostAndWasm(graph, runs);
  const pg = prepareGraph(graph, { rounding: 'double' });
  runs.forEach((run, r) =>
    runReference(pg, run).forEach((out, k) => assert.is(Buffer.from(compiled[r]![k]!).toString('hex'), Buffer.from(out).toString('hex'), `run ${r}, output ${k}`)),
  );
});

/** NCHW bytes of an [N, C, H, W] tensor in NHWC order. */
function nchwToNhwc(data: Int8Array, [n, c, h, w]: readonly number[]): Int8Array {
  const out = new Int8Array(data.length);
  for (let b = 0; b < n!; b++)
    for (let ch = 0; ch < c!; ch++)
      for (let y = 0; y < h!; y++) for (let x = 0; x < w!; x++) out[((b * h! + y) * w! + x) * c! + ch] = data[((b * c! + ch) * h! + y) * w! + x]!;
  return out;
}

test("inputLayout 'nhwc': the graph takes NHWC input; fed the transposed bytes it agrees with onnxruntime", async () => {
  // A 2-D output, so that only the input's layout changes.
  const b = new OnnxModelBuilder('nhwc_input', 3);
  const x = b.input([1, 3, 6, 5]);
  const c = b.conv(x, { outChannels: 4, kernel: [3, 3], strides: [2, 2], pads: [1, 1, 1, 1], perChannel: true });
  b.output(b.gemm(b.flatten(c), { outFeatures: 6, transB: 1 }));
  const bytes = b.build();
  const graph = importOnnx(bytes, 'nhwc_input', { inputLayout: 'nhwc' });
  assert.equal([...graph.tensors[graph.inputs[0]!]!.shape], [1, 6, 5, 3]);
  const runs = makeRuns(graph, SEEDED_RUNS, 4);
  const theirs = await runOnnx(bytes, runs.map(([data]) => ({ [x.name]: data! })));
  const pg = prepareGraph(graph, { rounding: 'double' });
  const ours = runs.map(([data]) => runReference(pg, [bytesOf(nchwToNhwc(data!, x.shape))]).map(int8Of));
  checkVaried(theirs, SEEDED_RUNS, b.outputNames);
  checkAgreement("inputLayout 'nhwc'", compare(ours, theirs, b.outputNames));
});

test.after(() => console.log(`elements 1 LSB off onnxruntime:\n  ${offByOne.join('\n  ')}`));

test.run();
