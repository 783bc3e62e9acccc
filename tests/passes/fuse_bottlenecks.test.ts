/**
 * fuse_bottlenecks + InvertedBottleneck: the fused graph computes the unfused graph's bytes (reference against
 * reference, on the paper's three models and on built bottlenecks of every shape the kernel distinguishes: 1x1 and
 * KxK expand convolutions, NCHW inputs transposed row by row), the C kernel inverted_bottleneck_s8 (windows of input
 * and expanded rows, one depthwise row at a time) equals the reference on the host with sanitizers, on a Cortex-M4 in
 * QEMU (the kernels' DSP paths) and in wasm (SIMD and scalar), also where its output streams over its input (an
 * NCHW input transposed in place first), and the pass fuses only where it may: single-consumer, non-output, non-kept
 * intermediates, a transpose only of an input nothing else reads, and only where memory goes down.
 */
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { join } from 'node:path';
import type { Activation, Graph, Padding } from '../../compiler/ir/graph.ts';
import { elementCount } from '../../compiler/ir/graph.ts';
import { GraphBuilder } from '../../compiler/frontend/builder/builder.ts';
import type { TensorRef } from '../../compiler/frontend/builder/builder.ts';
import { Random } from '../../compiler/frontend/builder/random.ts';
import type { Rounding } from '../../compiler/ops/common/fixed_point.ts';
import type { Conv2DAttrs } from '../../compiler/ops/conv2d.ts';
import type { DepthwiseConv2DAttrs } from '../../compiler/ops/depthwise_conv2d.ts';
import { planMemory } from '../../compiler/plan/memory.ts';
import { prepareGraph } from '../../compiler/passes/prepare.ts';
import { fuseBottlenecks } from '../../compiler/passes/fuse_bottlenecks.ts';
import { transposeCycles } from '../../compiler/ops/inverted_bottleneck.ts';
import { runReference } from '../../compiler/reference/interpreter.ts';
import { analyze } from '../../compiler/compile.ts';
import { loadModelFile } from '../../compiler/load_model.ts';
import { getBoard } from '../../targets/boards.ts';
import type { TargetName } from '../../targets/boards.ts';
import { SHARED } from '../helpers/shared.ts';
import { runCompiled } from '../helpers/backends.ts';

interface Case {
  readonly name: string;
  /** NHWC; the graph input is its NCHW form, transposed by the graph, with `nchw`. */
  readonly input: readonly [number, number, number, number];
  readonly nchw?: boolean;
  /** Expansion factor; absent: no expand convolution. */
  readonly expand?: number;
  readonly expandStride?: number;
  /** The expand convolution's filter (1 unless given), dilation and padding ('same' unless given). */
  readonly expandFilter?: number;
  readonly expandDilation?: number;
  readonly expandPadding?: Padding;
  readonly filter: number;
  readonly stride?: number;
  readonly dilation?: number;
  readonly padding?: Padding;
  readonly multiplier?: number;
  /** Output channels of the project convolution; absent: no project convolution. */
  readonly project?: number;
  readonly projectStride?: number;
  /** Adds the block input to its output, which keeps the input live across the block. */
  readonly residual?: boolean;
  readonly noBias?: boolean;
}

const CASES: readonly Case[] = [
  { name: '3x3 stride 1, expand 6, project, residual', input: [1, 9, 11, 8], expand: 6, filter: 3, project: 8, residual: true },
  { name: '3x3 stride 2 on odd sizes', input: [1, 13, 10, 5], expand: 6, filter: 3, stride: 2, project: 7 },
  { name: '5x5 stride 1, expand only', input: [1, 12, 7, 4], expand: 6, filter: 5 },
  { name: '7x7 stride 2, project only', input: [1, 15, 9, 16], filter: 7, stride: 2, project: 8 },
  { name: '7x7 stride 1 taller than the image, expand and project', input: [1, 3, 6, 4], expand: 4, filter: 7, project: 4 },
  { name: '5x5 stride 2 valid, no biases', input: [1, 11, 12, 6], expand: 4, filter: 5, stride: 2, padding: 'valid', project: 6, noBias: true },
  { name: '3x3 dilation 2', input: [1, 10, 9, 4], expand: 6, filter: 3, dilation: 2, project: 4 },
  { name: 'explicit asymmetric padding, stride 2', input: [1, 10, 10, 6], expand: 4, filter: 3, stride: 2, padding: [0, 1, 2, 0], project: 6 },
  { name: 'depth multiplier 2, project only', input: [1, 8, 7, 3], filter: 3, multiplier: 2, project: 2 },
  { name: 'strided expand and project', input: [1, 12, 11, 4], expand: 8, expandStride: 2, filter: 3, project: 4, projectStride: 2 },
  { name: '1x1 depthwise, stride 2', input: [1, 7, 7, 4], expand: 6, filter: 1, stride: 2, project: 4 },
  { name: 'batch 2, 5x5', input: [2, 6, 5, 4], expand: 6, filter: 5, project: 5 },
  { name: 'NCHW input, 3x3 stride 2 expand (a first convolution)', input: [1, 17, 16, 3], nchw: true, expand: 5, expandFilter: 3, expandStride: 2, filter: 3, project: 8 },
  { name: '5x5 expand, dilated depthwise', input: [1, 10, 9, 4], expand: 3, expandFilter: 5, filter: 3, dilation: 2, project: 4 },
  { name: 'dilated 3x3 expand, valid padding, expand only', input: [1, 12, 11, 3], expand: 4, expandFilter: 3, expandDilation: 2, expandPadding: 'valid', filter: 3, stride: 2 },
  { name: 'explicit asymmetric padding on a 3x3 stride 2 expand', input: [1, 11, 10, 3], expand: 6, expandFilter: 3, expandStride: 2, expandPadding: [2, 0, 0, 1], filter: 3, project: 4 },
  { name: 'batch 2, NCHW input, 3x3 expand, stride 2 depthwise', input: [2, 9, 8, 3], nchw: true, expand: 4, expandFilter: 3, filter: 3, stride: 2, project: 4 },
  { name: 'NCHW input, 1x1 expand', input: [1, 9, 8, 4], nchw: true, expand: 6, filter: 3, project: 4 },
  { name: 'NCHW input, project only', input: [1, 8, 7, 6], nchw: true, filter: 3, stride: 2, project: 4 },
  // Rows wide enough to go by chunks of 16 depthwise pixels, the last one partial.
  { name: 'by chunks: NCHW input, 3x3 stride 2 expand', input: [1, 20, 42, 3], nchw: true, expand: 2, expandFilter: 3, expandStride: 2, filter: 3, project: 2 },
  { name: 'by chunks: 1x1 expand, stride 2, expand only', input: [1, 9, 69, 4], expand: 1, filter: 3, stride: 2 },
  { name: 'by chunks: dilation 2, valid padding', input: [1, 8, 40, 4], expand: 2, filter: 3, dilation: 2, padding: 'valid', project: 4 },
  { name: 'by chunks: 5x5 valid, 3x3 expand', input: [1, 10, 30, 4], expand: 1, expandFilter: 3, filter: 5, padding: 'valid', project: 2 },
];

function conv(stride: number, activation: Activation, dilation = 1, padding: Padding = 'same'): Conv2DAttrs {
  return { padding, strideH: stride, strideW: stride, dilationH: dilation, dilationW: dilation, activation };
}

/** One bottleneck: the chain the pass fuses, written as three (or two) ordinary operators. */
function addBottleneck(b: GraphBuilder, c: Case, x: TensorRef, xScale: number, tag: string): TensorRef {
  const r = b.random;
  const layer = (op: string, input: TensorRef, inScale: number, weightShape: number[], axis: number, attrs: object, taps: number) => {
    const outC = weightShape[axis]!;
    const wScales = Array.from({ length: outC }, () => 0.002 + r.next() * 0.02);
    const bias = c.noBias ? null : b.bias(`${tag}_${op}_b`, outC, inScale, wScales, 3000);
    const w = b.weights(`${tag}_${op}_w`, weightShape, wScales, axis);
    const outScale = inScale * 0.01 * Math.sqrt(taps) * (3 + r.next() * 6);
    return { y: b.add(op, [input, w, bias], attrs, { scale: outScale, zeroPoint: r.int(-20, 20) }), scale: outScale };
  };
  let current = { y: x, scale: xScale };
  const inC = c.input[3];
  if (c.expand) {
    const k = c.expandFilter ?? 1;
    const attrs = conv(c.expandStride ?? 1, 'relu6', c.expandDilation, c.expandPadding);
    current = layer('Conv2D', current.y, current.scale, [inC * c.expand, k, k, inC], 0, attrs, k * k * inC);
  }
  const dwC = current.y.shape[3]! * (c.multiplier ?? 1);
  const dw: DepthwiseConv2DAttrs = {
    padding: c.padding ?? 'same', strideH: c.stride ?? 1, strideW: c.stride ?? 1, dilationH: c.dilation ?? 1, dilationW: c.dilation ?? 1,
    depthMultiplier: c.multiplier ?? 1, activation: 'relu6',
  };
  current = layer('DepthwiseConv2D', current.y, current.scale, [1, c.filter, c.filter, dwC], 3, dw, c.filter * c.filter);
  if (c.project) current = layer('Conv2D', current.y, current.scale, [c.project, 1, 1, dwC], 0, conv(c.projectStride ?? 1, 'none'), dwC);
  if (!c.residual) return current.y;
  return b.add('Add', [x, current.y], { activation: 'none' }, { scale: current.scale * 1.5, zeroPoint: 3 });
}

/** The case's input, NHWC: a graph input, or the transpose of an NCHW one. */
function addInput(b: GraphBuilder, c: Case, name: string, scale: number): TensorRef {
  const [n, h, w, ch] = c.input;
  const quant = { scale, zeroPoint: b.random.int(-30, 30) };
  if (!c.nchw) return b.input(name, c.input, quant);
  return b.add('Transpose', [b.input(name, [n, ch, h, w], quant), b.int32Constant(`${name}_perm`, [0, 2, 3, 1])], {}, quant);
}

/** Every case side by side (input i -> output i), so that one C build covers them all. */
function buildGraph(cases: readonly Case[], seed: number): Graph {
  const b = new GraphBuilder('bottleneck_cases', seed);
  cases.forEach((c, i) => {
    const scale = 0.02 + b.random.next() * 0.03;
    b.output(addBottleneck(b, c, addInput(b, c, `x${i}`, scale), scale, `c${i}`));
  });
  return b.build();
}

/** Seeded inputs for every graph input: random bytes, plus one run of all -128 and one of all 127. */
function makeRuns(graph: Graph, count: number, seed: number): Uint8Array[][] {
  const r = new Random(seed);
  const sizes = graph.inputs.map((id) => elementCount(graph.tensors[id]!.shape));
  const runs = Array.from({ length: count }, () => sizes.map((n) => new Uint8Array(r.int8Array(n).buffer)));
  runs.push(sizes.map((n) => new Uint8Array(n).fill(0x80)));
  runs.push(sizes.map((n) => new Uint8Array(n).fill(0x7f)));
  return runs;
}

const reference = (graph: Graph, rounding: Rounding, runs: readonly Uint8Array[][]) => {
  const pg = prepareGraph(graph, { rounding });
  return runs.map((inputs) => runReference(pg, inputs));
};

const same = (a: Uint8Array[][], b: Uint8Array[][], what: string) =>
  a.forEach((outs, k) => outs.forEach((o, i) => assert.equal(Buffer.from(o), Buffer.from(b[k]![i]!), `${what}: run ${k}, output ${i}`)));

const fusedOps = (g: Graph) => g.nodes.filter((n) => n.op === 'InvertedBottleneck');

/** The compiled program of `graph` (the compiler fuses on its own) on `target`: [run#][output#] bytes. */
async function runC(graph: Graph, runs: readonly Uint8Array[][], target: TargetName, rounding: Rounding): Promise<Uint8Array[][]> {
  return (await runCompiled(graph, runs, target, rounding)).outputs;
}

// Without the residual case: its Add would be the largest layer outside every chain, and chains that cannot lower
// the peak do not fuse (the residual case fuses in its own graph, below).
const graph = buildGraph(CASES.filter((c) => !c.residual), 41);
const fused = fuseBottlenecks(graph);
const runs = makeRuns(graph, 3, 5);

test('every built bottleneck fuses into one node', () => {
  assert.is(fusedOps(fused).length, CASES.length - 1);
  assert.ok(fused.nodes.every((n) => n.op === 'InvertedBottleneck' || n.op === 'Add'), fused.nodes.map((n) => n.op).join());
  assert.equal(fused.outputs, graph.outputs);
  const transposing = fusedOps(fused).filter((n) => Number(n.attrs['transposed']) >= 0);
  assert.is(transposing.length, CASES.filter((c) => c.nchw).length);
  assert.ok(transposing.every((n) => graph.inputs.includes(n.inputs[0]!)), 'a transposing node reads the NCHW graph input');
});

// Alone, a bottleneck whose every output row ends before the input rows later rows read takes its input's buffer; an
// NCHW input is first transposed in place.
const STREAMING = ['NCHW input, 3x3 stride 2 expand (a first convolution)', 'NCHW input, project only', 'strided expand and project', 'dilated 3x3 expand, valid padding, expand only'];
const CHUNKED = CASES.filter((c) => c.name.startsWith('by chunks')).map((c) => c.name);
const READS_BACK = ['7x7 stride 2, project only', 'batch 2, 5x5'];

test('alone, a bottleneck streams its output over its input where the rows allow: host C and wasm == reference', async () => {
  const alone = (name: string) => {
    const g = buildGraph([CASES.find((c) => c.name === name)!], 12);
    const { prepared, plan } = analyze(g, { board: getBoard('host'), rounding: 'double' });
    assert.equal(prepared.nodes.map(({ node }) => node.op), ['InvertedBottleneck'], name);
    const { node, prepared: p } = prepared.nodes[0]!;
    const shared = plan.tensorOffsets.get(node.outputs[0]!) === plan.tensorOffsets.get(node.inputs[0]!);
    return { g, overwrites: p.overwritesInput, shared, chunks: node.attrs['chunk'] === true };
  };
  for (const name of READS_BACK) assert.equal(alone(name).overwrites, false, name);
  // The in-place transpose follows each cycle of its permutation from a compile-time table: 14 for a 3x128x128
  // image; a permutation of too many cycles (x2 mod 8191 has order 13: 630 cycles) keeps the input apart.
  assert.is(transposeCycles(3, 128 * 128)!.length, 14);
  assert.is(transposeCycles(2, 64 * 64), null);
  // Alone, each is the peak: those with rows wide enough go by chunks there, the least scratch.
  for (const name of [...STREAMING, ...CHUNKED]) {
    const { g, overwrites, shared, chunks } = alone(name);
    assert.ok(overwrites && shared, name);
    assert.is(chunks, CHUNKED.includes(name), name);
    const r = makeRuns(g, 1, 13);
    const expected = reference(g, 'double', r);
    same(await runC(g, r, 'host', 'double'), expected, `${name}: host C`);
    same((await runCompiled(g, r, 'wasm', 'double')).outputs, expected, `${name}: wasm`);
  }
});

// Its output may take its input's buffer, but the planner is free not to give it: beside this 5x5 block, the one
// reading an NCHW image keeps its own output buffer, and its kernel then needs the window of transposed rows too.
test('a streaming bottleneck the planner leaves apart from its input gets its whole scratch: host C == reference', async () => {
  const pair = ['NCHW input, 3x3 stride 2 expand (a first convolution)', '5x5 stride 2 valid, no biases'];
  const g = buildGraph(pair.map((name) => CASES.find((c) => c.name === name)!), 1);
  const { prepared, plan } = analyze(g, { board: getBoard('host'), rounding: 'double' });
  const step = prepared.nodes.findIndex(({ prepared: p }) => p.scratchBytesInPlace !== undefined);
  const { node, prepared: p } = prepared.nodes[step]!;
  assert.ok(plan.tensorOffsets.get(node.outputs[0]!) !== plan.tensorOffsets.get(node.inputs[0]!), 'the planner declines the share here');
  assert.is(plan.scratchSizes.get(step), p.scratchBytes);
  const r = makeRuns(g, 2, 9);
  same(await runC(g, r, 'host', 'double'), reference(g, 'double', r), 'host C');
});

for (const rounding of ['double', 'single', 'float32'] as const) {
  test(`built bottlenecks: fused reference == unfused reference (${rounding} rounding)`, () => {
    same(reference(fused, rounding, runs), reference(graph, rounding, runs), rounding);
  });
  test(`built bottlenecks: host C (sanitizers) == reference (${rounding} rounding)`, async () => {
    same(await runC(graph, runs, 'host', rounding), reference(graph, rounding, runs), rounding);
  });
}

test('built bottlenecks: Cortex-M4 (QEMU, DSP paths) == reference', async () => {
  for (const rounding of ['double', 'float32'] as const) {
    same(await runC(graph, runs.slice(0, 2), 'cortex-m4', rounding), reference(graph, rounding, runs.slice(0, 2)), `cortex-m4 ${rounding}`);
  }
});

test('a kept, shared or output intermediate stays materialized', () => {
  const b = new GraphBuilder('shared', 3);
  const x = b.input('x', [1, 8, 8, 8], { scale: 0.03, zeroPoint: 1 });
  const y = addBottleneck(b, CASES[0]!, x, 0.03, 'a');
  b.output(y);
  const g = b.build();
  const [expandNode, depthwiseNode] = g.nodes;
  const expanded = expandNode!.outputs[0]!;
  const dwOut = depthwiseNode!.outputs[0]!;

  const keptExpanded = fuseBottlenecks(g, { keep: new Set([expanded]) });
  assert.equal(keptExpanded.nodes.map((n) => n.op), ['Conv2D', 'InvertedBottleneck', 'Add']);
  assert.is(keptExpanded.nodes[1]!.inputs[0], expanded);
  assert.equal(fuseBottlenecks(g, { keep: new Set([expanded, dwOut]) }).nodes.map((n) => n.op), g.nodes.map((n) => n.op));
  assert.equal(fuseBottlenecks({ ...g, outputs: [...g.outputs, dwOut] }).nodes.map((n) => n.op), ['InvertedBottleneck', 'Conv2D', 'Add']);

  const rounding = 'double';
  const r = makeRuns(g, 2, 9);
  same(reference(keptExpanded, rounding, r), reference(g, rounding, r), 'expand kept');
});

test('a transpose fuses only as the NCHW -> NHWC transpose of an input nothing else reads', () => {
  const c = CASES.find((k) => k.nchw && k.expandFilter === 3)!;
  const single = buildGraph([c], 8);
  const transposed = single.nodes[0]!.outputs[0]!;
  assert.equal(fuseBottlenecks(single).nodes.map((n) => n.op), ['InvertedBottleneck']);
  assert.equal(fuseBottlenecks(single, { keep: new Set([transposed]) }).nodes.map((n) => n.op), ['Transpose', 'InvertedBottleneck']);

  // The NCHW input read twice: its NHWC copy would still be made (and the input live) for the other reader.
  const b = new GraphBuilder('shared_input', 8);
  const [n, h, w, ch] = c.input;
  const x = b.input('x', [n, ch, h, w], { scale: 0.03, zeroPoint: 2 });
  const perm = b.int32Constant('perm', [0, 2, 3, 1]);
  b.output(addBottleneck(b, c, b.add('Transpose', [x, perm], {}, { scale: 0.03, zeroPoint: 2 }), 0.03, 'a'));
  b.output(b.add('Transpose', [x, b.int32Constant('perm2', [0, 2, 3, 1])], {}, { scale: 0.03, zeroPoint: 2 }));
  const twice = b.build();
  assert.equal(fuseBottlenecks(twice).nodes.map((node) => node.op), ['Transpose', 'InvertedBottleneck', 'Transpose']);

  // Another permutation (here the identity, of an NHWC input) is not the fused node's transpose.
  const i = new GraphBuilder('identity', 8);
  const y = i.input('x', c.input, { scale: 0.03, zeroPoint: 2 });
  i.output(addBottleneck(i, c, i.add('Transpose', [y, i.int32Constant('perm', [0, 1, 2, 3])], {}, { scale: 0.03, zeroPoint: 2 }), 0.03, 'a'));
  const identity = i.build();
  assert.equal(fuseBottlenecks(identity).nodes.map((node) => node.op), ['Transpose', 'InvertedBottleneck']);

  const r = makeRuns(twice, 2, 9);
  same(reference(fuseBottlenecks(twice), 'double', r), reference(twice, 'double', r), 'input read twice');
  const kept = fuseBottlenecks(single, { keep: new Set([transposed]) });
  same(reference(kept, 'double', r.map((k) => k.slice(0, 1))), reference(single, 'double', r.map((k) => k.slice(0, 1))), 'transposed input kept');
});

test('a chain that would not lower memory stays unfused', () => {
  // Depthwise stride 1 into a widening 1x1: fused, the input and the (wider) output are live together, plus a row.
  const b = new GraphBuilder('widening', 4);
  const x = b.input('x', [1, 8, 8, 8], { scale: 0.03, zeroPoint: 0 });
  b.output(addBottleneck(b, { name: 'widening', input: [1, 8, 8, 8], filter: 3, project: 32 }, x, 0.03, 'w'));
  const g = b.build();
  assert.is(fuseBottlenecks(g), g);
});

for (const simd of [true, false]) {
  test(`built bottlenecks: wasm (${simd ? 'SIMD' : 'scalar'}) == reference`, async () => {
    for (const rounding of ['double', 'float32'] as const) {
      same((await runCompiled(graph, runs, 'wasm', rounding, { simd })).outputs, reference(graph, rounding, runs), `wasm ${rounding}`);
    }
  });
}

const PAPER = ['mbv2-w0.35', 'mcunet-5fps', 'proxyless-w0.3'] as const;
for (const model of PAPER) {
  test(`${model}: fused reference == unfused reference; arena down`, () => {
    const g = loadModelFile(join(SHARED, 'models/paper', `${model}.qdq.onnx`));
    const rounding = g.rounding ?? 'double';
    assert.is(rounding, 'float32');
    const f = fuseBottlenecks(g);
    assert.ok(fusedOps(f).length > 0);
    // The head streams: the input's NHWC copy and the first convolution's output are never materialized.
    const head = f.nodes[0]!;
    assert.is(head.op, 'InvertedBottleneck');
    assert.ok(Number(head.attrs['transposed']) >= 0 && Number(head.attrs['expanded']) >= 0, head.origin);
    assert.is(head.inputs[0], g.inputs[0]);
    const r = makeRuns(g, 1, 17);
    same(reference(f, rounding, r), reference(g, rounding, r), model);
    const before = planMemory(prepareGraph(g, { rounding })).arenaBytes;
    const after = planMemory(prepareGraph(f, { rounding })).arenaBytes;
    assert.ok(after < before, `${model}: arena ${before} -> ${after}`);
    // The compiler fuses on its own, and then the head, the peak, goes by chunks.
    const { prepared, plan } = analyze(g, { board: getBoard('cortex-m4'), rounding });
    const { node: headNode, prepared: headPrepared } = prepared.nodes[0]!;
    assert.is(headNode.op, 'InvertedBottleneck');
    assert.is(headNode.attrs['chunk'], true);
    // The head transposes the input in place and streams its output over it: the arena is the input and its windows,
    // without the window of transposed input rows it would need elsewhere, and by chunks of 16 depthwise pixels.
    const input = g.inputs[0]!;
    assert.is(plan.tensorOffsets.get(headNode.outputs[0]!), plan.tensorOffsets.get(input));
    const [, channels, , width] = g.tensors[input]!.shape as [number, number, number, number];
    const expanded = g.tensors[headNode.inputs[1]!]!.shape[0]!;
    const columns = 2 * 3 * 3 * channels;
    const expandedWidth = width / 2;
    assert.is(headPrepared.scratchBytes, columns + 3 * width * channels + 3 * expandedWidth * expanded + expandedWidth * expanded, 'a 3x3 first layer reads 3 input rows');
    // Two expanded rows one pixel wider and the 18 tap columns of a 3x3 chunk of 16 pixels.
    assert.is(headPrepared.scratchBytesInPlace, columns + (2 * (expandedWidth + 1) + 18) * expanded);
    assert.is(plan.scratchSizes.get(0), headPrepared.scratchBytesInPlace);
    assert.is(plan.arenaBytes, elementCount(g.tensors[input]!.shape) + Math.ceil(headPrepared.scratchBytesInPlace! / 16) * 16, `${model} arena`);
    assert.ok(plan.arenaBytes < after, `${model}: by chunks, arena ${after} -> ${plan.arenaBytes}`);
  });
}

for (const model of PAPER) {
  test(`${model} fused: host C (sanitizers) == reference`, async () => {
    const g = loadModelFile(join(SHARED, 'models/paper', `${model}.qdq.onnx`));
    const r = makeRuns(g, 1, 23);
    same(await runC(g, r, 'host', 'float32'), reference(g, 'float32', r), `${model} host C`);
  });
}

test('mbv2-w0.35 fused: Cortex-M4 (QEMU) and wasm (SIMD, scalar) == reference', async () => {
  const g = loadModelFile(join(SHARED, 'models/paper', 'mbv2-w0.35.qdq.onnx'));
  const r = makeRuns(g, 1, 29).slice(0, 1);
  const expected = reference(g, 'float32', r);
  same(await runC(g, r, 'cortex-m4', 'float32'), expected, 'mbv2-w0.35 cortex-m4');
  for (const simd of [true, false]) same((await runCompiled(g, r, 'wasm', 'float32', { simd })).outputs, expected, `mbv2-w0.35 wasm simd=${simd}`);
});

test.run();
