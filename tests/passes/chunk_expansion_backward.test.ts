/**
 * chunk_expansion_backward + ExpansionBackward: the backward run from a depthwise layer's input gradient into the 1x1
 * layer before it, fused into one node that works a chunk of channels at a time, trains exactly as the unfused
 * nodes (reference against reference, over steps, on the paper's models: a stride-2 block of mcunet-5fps and a
 * residual block of mbv2-w0.35 whose gradient sum sits between the 1x1 layer's nodes), and the compiler uses it where
 * it lowers the training step's peak, with chunks narrowed at the peak and widened below it. The C and
 * wasm kernels (host C with sanitizers, wasm SIMD) train built blocks as the unfused reference does, byte for byte,
 * with every combination of parts: input gradient or not, bias or folded bias, weights or not, a partial last chunk;
 * tests/e2e/training_backends.test.ts holds mcunet-5fps's chunked build to the unfused reference on every backend.
 */
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { Graph } from '../../compiler/ir/graph.ts';
import { elementCount } from '../../compiler/ir/graph.ts';
import { loadModelFile } from '../../compiler/load_model.ts';
import { buildTrainingGraph, DEFAULT_SEED } from '../../compiler/train/index.ts';
import { trainableLayers } from '../../compiler/train/layers.ts';
import { TrainingStepBuilder } from '../../compiler/train/autodiff.ts';
import { prepareGraph } from '../../compiler/passes/prepare.ts';
import { planMemory } from '../../compiler/plan/memory.ts';
import { chunkExpansionBackward } from '../../compiler/passes/chunk_expansion_backward.ts';
import type { ExpansionBackwardParams } from '../../compiler/ops/train/expansion_backward.ts';
import { partNodes } from '../../compiler/ops/train/expansion_backward.ts';
import { ReferenceTrainer } from '../../compiler/reference/training.ts';
import { Random } from '../../compiler/frontend/builder/random.ts';
import { analyze, compileGraph } from '../../compiler/compile.ts';
import { writeOutputDir } from '../../compiler/output.ts';
import { GraphBuilder } from '../../compiler/frontend/builder/builder.ts';
import type { TensorRef } from '../../compiler/frontend/builder/builder.ts';
import { getBoard } from '../../targets/boards.ts';
import { trainModel } from '../../targets/run.ts';
import { SHARED } from '../helpers/shared.ts';

const SCHEMES = `${SHARED}/models/paper/schemes.json`;
const trainingGraph = (model: string, scheme: string): Graph =>
  buildTrainingGraph(loadModelFile(`${SHARED}/models/paper/${model}.qdq.onnx`), { update: `${SCHEMES}#${model}/${scheme}`, classes: 10 });

/** Parameters and losses after `steps` reference steps on seeded images. */
function train(graph: Graph, steps: number): { losses: number[]; params: string } {
  const trainer = new ReferenceTrainer(prepareGraph(graph, { rounding: 'float32' }));
  const random = new Random(7);
  const size = elementCount(graph.tensors[graph.training!.image]!.shape);
  const losses = Array.from({ length: steps }, (_, i) => trainer.step(new Uint8Array(random.int8Array(size).buffer), (3 * i + 1) % 10, 0.05));
  return { losses, params: Buffer.from(trainer.params()).toString('hex') };
}

/** The graph with the run that starts at the depthwise input gradient of `layer` (the first one: '') fused. */
function fusedAt(graph: Graph, layer: string): Graph {
  const at = graph.nodes.findIndex((n) => n.op === 'DepthwiseConv2DBackpropInput' && n.origin.includes(layer));
  assert.ok(at >= 0, layer);
  const fused = chunkExpansionBackward(graph, { at });
  assert.is(fused.nodes.filter((n) => n.op === 'ExpansionBackward').length, 1, `${layer}: one run fused`);
  return fused;
}

test('mcunet-5fps 49kb, stride-2 block 10 (weights of its 1x1 layer trained): fused trains as unfused', () => {
  const graph = trainingGraph('mcunet-5fps', '49kb');
  const fused = fusedAt(graph, 'conv31_b10_dw');
  const node = fused.nodes.find((n) => n.op === 'ExpansionBackward')!;
  assert.equal(partNodes(node).map((p) => p.part), ['projection', 'depthwiseMask', 'depthwiseBias', 'depthwise', 'mask', 'inputGradient', 'bias', 'weights']);
  assert.is(fused.nodes.length, graph.nodes.length - 7);
  assert.match(node.origin, /conv32_b10_pw2.*conv30_b10_pw1/);
  assert.equal(train(fused, 3), train(graph, 3));
});

test('mbv2-w0.35 49kb, residual block 12: the gradient sum between the 1x1 layer\'s nodes moves after the fused node', () => {
  const graph = trainingGraph('mbv2-w0.35', '49kb');
  const fused = fusedAt(graph, 'conv37_b12_dw');
  const at = fused.nodes.findIndex((n) => n.op === 'ExpansionBackward');
  assert.is(fused.nodes[at + 1]!.op, 'AddGradients');
  assert.equal(train(fused, 2), train(graph, 2));
});

test('the compiler chunks where it lowers the peak: mcunet-5fps 49kb and proxyless-w0.3 98kb', () => {
  for (const [model, scheme] of [['mcunet-5fps', '49kb'], ['proxyless-w0.3', '98kb']] as const) {
    const { prepared, plan } = analyze(trainingGraph(model, scheme), { board: getBoard('cortex-m7'), rounding: 'float32' });
    const compiled = prepared.graph;
    assert.ok(compiled.nodes.some((n) => n.op === 'ExpansionBackward'), `${model} ${scheme}`);
    // The same schedule with each fused node's parts in its place.
    const unchunked = { ...compiled, nodes: compiled.nodes.flatMap((n) => (n.op === 'ExpansionBackward' ? partNodes(n).map((p) => p.node) : [n])) };
    const before = planMemory(prepareGraph(unchunked, { rounding: 'float32' })).arenaBytes;
    assert.ok(plan.arenaBytes < before, `${model} ${scheme}: arena ${before} -> ${plan.arenaBytes}`);
  }
});

test('the compiler narrows chunks at the peak and widens them below it as far as the peak holds: mcunet-5fps 74kb', () => {
  const { prepared, plan } = analyze(trainingGraph('mcunet-5fps', '74kb'), { board: getBoard('cortex-m7'), rounding: 'float32' });
  const graph = prepared.graph;
  const withChunk = (chunk: (n: Graph['nodes'][number]) => boolean) => prepareGraph({
    ...graph,
    nodes: graph.nodes.map((n) => (chunk(n) ? n : { ...n, attrs: Object.fromEntries(Object.entries(n.attrs).filter(([name]) => name !== 'chunk')) })),
  }, { rounding: 'float32' });
  const firstWidths = withChunk(() => false);
  const chunkOf = (g: typeof prepared, id: number) => (g.nodes.find((n) => n.node.id === id)!.prepared.params as ExpansionBackwardParams).chunk;
  const fused = prepared.nodes.filter((n) => n.node.op === 'ExpansionBackward').map((n) => n.node);
  const narrowed = fused.filter((n) => chunkOf(prepared, n.id) < chunkOf(firstWidths, n.id));
  const widened = fused.filter((n) => chunkOf(prepared, n.id) > chunkOf(firstWidths, n.id));
  assert.ok(narrowed.length > 0 && widened.length > 0, `${narrowed.length} narrowed, ${widened.length} widened`);
  const peak = (g: typeof prepared) => planMemory(g, { searchIterations: 0 }).lowerBoundBytes;
  for (const n of narrowed) assert.ok(peak(withChunk((m) => m !== n)) > plan.lowerBoundBytes, `${n.origin} at its first width raises the peak`);
  assert.is(peak(withChunk((m) => !widened.includes(m))), plan.lowerBoundBytes, 'the widened ones at their first widths: the same peak');
});

/**
 * [stem 3x3 conv] -> 1x1 expansion to 26 channels -> 3x3 depthwise, stride 2 -> 1x1 projection -> pool -> 10 logits;
 * or `residual` (with the stem): the depthwise layer with stride 1 and the projection added to the stem's output.
 */
function block(stem: boolean, residual = false): Graph {
  const b = new GraphBuilder(stem ? 'stem_block' : 'block', 5);
  const conv = (x: TensorRef, name: string, shape: number[], inScale: number, outScale: number, attrs: object, axis = 0) => {
    const channels = shape[axis]!;
    return b.add(axis === 3 ? 'DepthwiseConv2D' : 'Conv2D', [x, b.weights(`${name}_w`, shape, 0.02, axis), b.bias(`${name}_b`, channels, inScale, 0.02)], attrs, { scale: outScale, zeroPoint: -128 });
  };
  const window = (stride: number, padding: string, activation: string) => ({ padding, strideH: stride, strideW: stride, dilationH: 1, dilationW: 1, activation });
  let x = b.input('x', [1, 10, 10, 4], { scale: 0.05, zeroPoint: 0 });
  if (stem) x = conv(x, 'stem', [8, 3, 3, 4], 0.05, 0.04, window(1, 'same', 'relu'));
  const expanded = conv(x, 'expand', [26, 1, 1, stem ? 8 : 4], stem ? 0.04 : 0.05, 0.03, window(1, 'valid', 'relu6'));
  const depthwise = conv(expanded, 'dw', [1, 3, 3, 26], 0.03, 0.03, { ...window(residual ? 1 : 2, 'same', 'relu6'), depthMultiplier: 1 }, 3);
  let projected = b.add('Conv2D', [depthwise, b.weights('project_w', [8, 1, 1, 26], 0.02), b.bias('project_b', 8, 0.03, 0.02)], window(1, 'valid', 'none'), { scale: 0.05, zeroPoint: 3 });
  if (residual) projected = b.add('Add', [x, projected], { activation: 'none' }, { scale: 0.05, zeroPoint: 3 });
  const side = residual ? 10 : 5;
  const pool = b.add('AveragePool2D', [projected], { padding: 'valid', strideH: 1, strideW: 1, filterH: side, filterW: side, activation: 'none' }, { scale: 0.05, zeroPoint: 3 });
  const flat = b.add('Reshape', [pool, b.int32Constant('shape', [1, 8])], { newShape: [1, 8] }, { scale: 0.05, zeroPoint: 3 });
  b.output(b.add('FullyConnected', [flat, b.weights('fc_w', [10, 8], 0.02), b.bias('fc_b', 10, 0.05, 0.02)], { activation: 'none', keepNumDims: false }, { scale: 0.1, zeroPoint: 0 }));
  return b.build();
}

const work = mkdtempSync(join(tmpdir(), 'tinyforge-chunks-'));
test.after(() => rmSync(work, { recursive: true, force: true }));

/**
 * Every layer's bias, and of each layer (by position) the first `channels(layer)` input channels of its weights; a
 * layer that `frozen` names stays as it is.
 */
function withWeights(channels: (position: number, all: number) => number, frozen = (_position: number) => false): (model: Graph) => Graph {
  return (model) => {
    const layers = trainableLayers(model);
    const plan = new Map(layers.flatMap((l, i) => (frozen(i) ? [] : [[l.nodeIndex, { bias: true, weightChannels: channels(i, l.channels) }] as const])));
    return new TrainingStepBuilder(model, layers, plan, DEFAULT_SEED).build();
  };
}
// Layers with a stem: 0 stem, 1 expansion, 2 depthwise, 3 projection, 4 classifier; without, one less in front. The
// depthwise layer's weights stay frozen: their steps would draw between the expansion's.
const DEPTHWISE_FROZEN = (stem: boolean) => withWeights((i, all) => (i === (stem ? 2 : 1) ? 0 : all));

// `front`: the projection's input gradient joins the run, unless its own weight steps would then draw after the
// expansion's.
const CASES = [
  { stem: true, train: DEPTHWISE_FROZEN(true), front: false, parts: 'input gradient, bias, weights' },
  { stem: true, train: (m: Graph) => buildTrainingGraph(m, { update: 'bias-only' }), front: true, parts: 'projection in front; input gradient, folded bias' },
  { stem: false, train: DEPTHWISE_FROZEN(false), front: false, parts: 'bias and weights of the first layer' },
  { stem: true, train: withWeights((i, all) => [all, 0, 0, 10, all][i]!), front: true, parts: 'projection in front, its weights split at 10 of 26' },
  // A residual block: the gradient before the projection's mask is read again for the skip path.
  { stem: true, residual: true, train: (m: Graph) => buildTrainingGraph(m, { update: 'bias-only' }), front: true, parts: 'residual, the projection\'s mask in front, its node kept for its bias step' },
  { stem: true, residual: true, train: withWeights((i, all) => [all, all, 0, 0, all][i]!, (i) => i === 3), front: true, parts: 'residual, the projection\'s mask in front, its node dropped' },
] as const;

test('the depthwise layer\'s own weight steps keep the run apart: their draws come before the 1x1 layer\'s', () => {
  const graph = buildTrainingGraph(block(true), { update: 'full' });
  const at = graph.nodes.findIndex((n) => n.op === 'DepthwiseConv2DBackpropInput');
  assert.is(chunkExpansionBackward(graph, { at }), graph);
});

for (const c of CASES) {
  test(`built block (${c.parts}; 26 channels, a partial chunk last): host C and wasm train as the unfused reference`, async () => {
    const residual = 'residual' in c;
    const graph = c.train(block(c.stem, residual));
    const fused = fusedAt(graph, '');
    const parts = partNodes(fused.nodes.find((n) => n.op === 'ExpansionBackward')!).map((p) => p.part);
    assert.is(parts.includes('projection'), c.front, parts.join());
    assert.is(parts.includes('projectionMask'), residual, parts.join());
    if (residual) {
      // The two masks of the run, and the projection's when nothing else reads what it writes.
      const masks = (g: Graph) => g.nodes.filter((n) => n.op === 'ApplyMask').length;
      assert.is(masks(graph) - masks(fused), c.parts.endsWith('dropped') ? 3 : 2, 'ApplyMask nodes fused');
    }
    const random = new Random(3);
    const images = [0, 1].map(() => new Uint8Array(random.int8Array(400).buffer));
    const labels = [2, 7];
    const reference = new ReferenceTrainer(prepareGraph(graph, { rounding: 'double' }));
    const losses = [0, 1, 2].map((i) => reference.step(images[i % 2]!, labels[i % 2]!, 0.05));
    const params = Buffer.from(reference.params()).toString('hex');
    for (const [target, simd] of [['host', undefined], ['wasm', true]] as const) {
      const dir = join(work, `${c.parts}-${target}`.replace(/[^a-z0-9]+/g, '_'));
      const compiled = await compileGraph(fused, { board: getBoard(target), rounding: 'double' });
      const chunks = compiled.prepared.nodes.filter((n) => n.node.op === 'ExpansionBackward').map((n) => (n.prepared.params as ExpansionBackwardParams).chunk);
      assert.ok(chunks.length === 1 && 26 % chunks[0]! !== 0, `${target}: chunks of ${chunks.join()} channels`);
      writeOutputDir(dir, compiled.files);
      const run = await trainModel(getBoard(target), dir, images, { labels, learningRate: 0.05, steps: 3 }, { simd });
      assert.equal(run.losses, losses, `${target} losses`);
      assert.is(Buffer.from(run.params).toString('hex'), params, `${target} parameters`);
    }
  });
}

test.run();
