/**
 * The training step compiler/train builds: its inference program computes exactly what the model did; sparse
 * update prunes every backward op that feeds no update; each layer's updates follow its gradient at once; no
 * weight gradient buffer exists; partial updates save only the channels they need; every scheme of the paper's
 * three models fits a Cortex-M7's SRAM and flash, and its report lists the layers schemes.json trains and a peak
 * breakdown that adds up, a weight update at the memory peak taking its low-memory form; bad --update / --classes
 * options and layers training cannot differentiate through are refused with the reason.
 */
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import type { Graph } from '../../compiler/ir/graph.ts';
import { elementCount } from '../../compiler/ir/graph.ts';
import { loadModelFile } from '../../compiler/load_model.ts';
import { buildTrainingGraph } from '../../compiler/train/index.ts';
import { prepareGraph } from '../../compiler/passes/prepare.ts';
import { runReference } from '../../compiler/reference/interpreter.ts';
import { ReferenceTrainer } from '../../compiler/reference/training.ts';
import { GraphBuilder } from '../../compiler/frontend/builder/builder.ts';
import { Random } from '../../compiler/frontend/builder/random.ts';
import { UnsupportedError, UserError } from '../../compiler/errors.ts';
import { SHARED } from '../helpers/shared.ts';
import { analyze } from '../../compiler/compile.ts';
import { planMemory } from '../../compiler/plan/memory.ts';
import { getBoard } from '../../targets/boards.ts';
import { readFileSync } from 'node:fs';

const RESNET = `${SHARED}/models/mlperf-tiny/pretrainedResnet_quant.tflite`;
const MCUNET = `${SHARED}/models/paper/mcunet-5fps.qdq.onnx`;
const SCHEMES = `${SHARED}/models/paper/schemes.json`;

const randomImage = (g: Graph, seed: number) => new Uint8Array(new Random(seed).int8Array(elementCount(g.tensors[g.inputs[0]!]!.shape)).buffer);

function classifierOutput(g: Graph): number {
  const layers = g.nodes.filter((n) => ['Conv2D', 'FullyConnected'].includes(n.op));
  return layers[layers.length - 1]!.outputs[0]!;
}

for (const [name, file, update] of [['resnet-8', RESNET, 'full'], ['mcunet-5fps', MCUNET, `${SCHEMES}#mcunet-5fps/49kb`]] as const) {
  test(`${name}: before any step, the training build's inference equals the model's (trained layers read their state)`, () => {
    const model = loadModelFile(file);
    const rounding = model.rounding ?? 'double';
    const training = buildTrainingGraph(model, { update });
    const trainer = new ReferenceTrainer(prepareGraph(training, { rounding }));
    const original = prepareGraph({ ...model, outputs: [classifierOutput(model)] }, { rounding });
    for (const seed of [1, 2]) {
      const image = randomImage(model, seed);
      assert.equal(trainer.invoke(image), runReference(original, [image])[0]);
    }
  });
}

test('mcunet-5fps 49kb scheme: pruned, reordered, partial channels saved, no weight gradient buffer', () => {
  const training = buildTrainingGraph(loadModelFile(MCUNET), { update: `${SCHEMES}#mcunet-5fps/49kb`, classes: 10 });
  const { nodes, tensors } = training;
  const count = (op: string) => nodes.filter((n) => n.op === op).length;
  assert.is(count('BiasUpdate') + count('FoldedBiasUpdate'), 21, '20 trailing biases and the classifier');
  assert.is(count('BiasUpdate'), 4 + 7, 'layers whose weights train and depthwise layers keep their bias as such; the others only in their folded bias');
  assert.is(count('Conv2DWeightUpdate'), 4, 'conv24, conv27, conv30 and the classifier');
  assert.is(count('SliceChannels'), 3, 'the three partial updates save their first k input channels');
  assert.equal(nodes.filter((n) => n.op === 'SliceChannels').map((n) => n.attrs['keep']), [12, 24, 24]);
  const firstBackward = nodes.findIndex((n) => n.op === 'SoftmaxCrossEntropy');
  const backward = nodes.slice(firstBackward + 1);
  const layerOf = (origin: string) => Number(/'conv(\d+)_/.exec(origin)?.[1] ?? -1);
  assert.ok(backward.every((n) => layerOf(n.origin) >= 22 || layerOf(n.origin) === -1), 'no backward op before the first trained layer');
  assert.ok(!backward.some((n) => n.op === 'Conv2DBackpropInput' && layerOf(n.origin) === 22), 'no input gradient for the first trained layer');
  // Updates of a layer come right after its gradient: between a layer's first backward op and its last update, no other layer's op runs.
  for (const layer of new Set(backward.map((n) => layerOf(n.origin)).filter((l) => l >= 0))) {
    const at = backward.flatMap((n, i) => (layerOf(n.origin) === layer ? [i] : []));
    assert.is(at[at.length - 1]! - at[0]! + 1, at.length, `conv${layer}: its backward ops and updates are contiguous`);
  }
  const weightShapes = new Set(nodes.filter((n) => n.op.endsWith('WeightUpdate')).map((n) => tensors[n.inputs[2]!]!.shape.join('x')));
  assert.ok(!tensors.some((t) => t.dtype === 'float32' && weightShapes.has(t.shape.join('x'))), 'no float weight gradient tensor');

  // The partially trained 1x1 convolutions keep only their trained input channels in the state (SRAM).
  const state = new Set(training.training!.state);
  assert.equal(training.training!.state.map((id) => tensors[id]!).filter((t) => t.dtype === 'int8').map((t) => t.shape.join('x')),
    ['144x1x1x12', '192x1x1x24', '240x1x1x24', '10x1x1x160'], 'trainable weights: the first k input channels of conv24, 27, 30; the classifier');
  const split = nodes.filter((n) => n.op === 'SplitConv1x1');
  assert.equal(split.map((n) => layerOf(n.origin)), [24, 27, 30]);
  for (const n of split) {
    const [, head, tail] = n.inputs as [number, number, number];
    assert.ok(state.has(head) && !state.has(tail) && tensors[tail]!.data, `${n.origin}: trained head in the state, frozen tail a constant`);
    const readers = nodes.filter((m) => m !== n && m.inputs.includes(head));
    assert.equal(readers.map((m) => m.op), ['FoldBias', 'Conv2DBackpropInput', 'Conv2DWeightUpdate'], `${n.origin}: bias folded for the forward pass, input gradient, in-place update`);
    assert.ok(readers.every((m) => m.op === 'Conv2DWeightUpdate' || m.inputs.includes(tail)), `${n.origin}: the fold and the input gradient read the whole weights`);
  }
  const folds = nodes.filter((n) => n.op === 'FoldBias');
  assert.is(folds.length, 4 + 7, 'a fold before each layer whose weights train and each depthwise layer');
  assert.ok(folds.every((n) => n.outputs.every((id) => !state.has(id) && !tensors[id]!.data)), 'folded biases are arena tensors, not trainable state');
  const used = new Set(nodes.flatMap((n) => n.inputs));
  assert.ok(!nodes.some((n) => n.op === 'Conv2D' && [24, 27, 30].includes(layerOf(n.origin))), 'no unsplit forward node for a partial update');
  assert.ok(!tensors.some((t) => /^conv(24|27|30)_b\d+_pw1_w$/.test(t.name) && used.has(t.id)), 'the whole weight tensors are no longer read');
});

interface PaperScheme {
  readonly bias_update_onnx_nodes: readonly string[];
  readonly weight_update: readonly { readonly onnx_node: string; readonly cin: number; readonly n_channels_updated: number; readonly kind: string }[];
}

/** What the report should list for a layer of the scheme, from schemes.json's fields. */
function expectedUpdates(scheme: PaperScheme, classifier: string): Map<string, string> {
  const expected = new Map(scheme.bias_update_onnx_nodes.map((node) => [node, 'bias']));
  for (const w of scheme.weight_update) {
    if (w.n_channels_updated === 0) continue;
    const partial = `weights of the first ${w.n_channels_updated} ${w.kind === 'depthwise' ? 'channels' : 'input channels'} of ${w.cin}`;
    expected.set(w.onnx_node, `bias, ${w.n_channels_updated === w.cin ? 'weights' : partial}`);
  }
  expected.set(classifier, 'bias, weights');
  return expected;
}

test('every scheme of the three paper models, with a new 10-class head, fits cortex-m7: 256 KB SRAM, 1 MB flash; the report lists the layers schemes.json trains and a peak breakdown that adds up', () => {
  const models = (JSON.parse(readFileSync(SCHEMES, 'utf8')) as { models: Record<string, { classifier_node: string; schemes: Record<string, PaperScheme> }> }).models;
  let checked = 0;
  for (const [name, { classifier_node, schemes }] of Object.entries(models)) {
    const model = loadModelFile(`${SHARED}/models/paper/${name}.qdq.onnx`);
    for (const [scheme, fields] of Object.entries(schemes)) {
      const training = buildTrainingGraph(model, { update: `${SCHEMES}#${name}/${scheme}`, classes: 10 });
      const { report } = analyze(training, { board: getBoard('cortex-m7'), rounding: 'float32' });
      const { sram, flash } = report.budget;
      assert.ok(sram.needed <= sram.available, `${name} ${scheme}: ${sram.needed} B of SRAM`);
      assert.ok(flash.needed <= flash.available, `${name} ${scheme}: ${flash.needed} B of flash`);
      const section = /^trained layers +(\d+) .*\n((?:  node .*\n)*)/m.exec(report.text)!;
      const listed = Object.fromEntries([...section[2]!.matchAll(/^  node '([^']+)' \(Conv\): (.+)$/gm)].map((m) => [m[1]!, m[2]!]));
      assert.is(Number(section[1]), Object.keys(listed).length, `${name} ${scheme}: the count of trained layers`);
      assert.equal(listed, Object.fromEntries(expectedUpdates(fields, classifier_node)), `${name} ${scheme}: trained layers`);
      const { breakdown, peakSramBytes } = report.training!;
      assert.is(breakdown.reduce((sum, b) => sum + b.bytes, 0), peakSramBytes, `${name} ${scheme}: ${JSON.stringify(breakdown)}`);
      checked++;
    }
  }
  assert.is(checked, 15);
});

test('mcunet-5fps 99kb: the weight steps at the memory peak dequantize by table; the others keep their faster float copy', () => {
  const training = buildTrainingGraph(loadModelFile(MCUNET), { update: `${SCHEMES}#mcunet-5fps/99kb`, classes: 10 });
  const { prepared, plan } = analyze(training, { board: getBoard('cortex-m7'), rounding: 'float32' });
  const stepping = prepared.graph.nodes.filter((n) => n.op === 'Conv2DWeightUpdate' || (n.op === 'ExpansionBackward' && n.attrs['weights:op']));
  assert.is(stepping.length, 7);
  const byTable = stepping.filter((n) => n.attrs['dequantizeByTable']);
  assert.ok(byTable.length > 0 && byTable.length < stepping.length, `${byTable.length} of ${stepping.length} by table`);
  // Each one copying again grows the arena.
  for (const table of byTable) {
    const copying = { ...prepared.graph, nodes: prepared.graph.nodes.map((n) => (n === table ? { ...n, attrs: { ...n.attrs, dequantizeByTable: false } } : n)) };
    const arenaCopying = planMemory(prepareGraph(copying, { rounding: 'float32' })).arenaBytes;
    assert.ok(plan.arenaBytes < arenaCopying, `${table.origin}: arena ${arenaCopying} -> ${plan.arenaBytes}`);
  }
});

test('a fresh classifier learns one image: the loss falls over steps', () => {
  const model = loadModelFile(RESNET);
  const trainer = new ReferenceTrainer(prepareGraph(buildTrainingGraph(model, { update: 'last:1', classes: 4 }), { rounding: 'double' }));
  const image = randomImage(model, 3);
  const losses = Array.from({ length: 4 }, () => trainer.step(image, 2, 0.01));
  assert.ok(losses[3]! < losses[0]! * 0.8, `losses ${losses.join(', ')}`);
});

test('bad options and untrainable graphs are refused with the reason', () => {
  const model = loadModelFile(RESNET);
  const fails = (pattern: RegExp, type: new (...a: never[]) => Error = UserError) => (e: Error) => e instanceof type && pattern.test(e.message);
  assert.throws(() => buildTrainingGraph(model, { update: 'some' }), fails(/not bias-only, last:N, full/));
  assert.throws(() => buildTrainingGraph(model, { update: 'last:99' }), fails(/N must be 1 to 10/));
  assert.throws(() => buildTrainingGraph(model, { update: 'full', classes: 1 }), fails(/--classes 1/));
  assert.throws(() => buildTrainingGraph(model, { update: `${SCHEMES}#mcunet-5fps/49kb` }), fails(/node 'conv22_b07_dw', which is not a convolution of this model/));
  assert.throws(() => buildTrainingGraph(model, { update: `${SCHEMES}#nope/49kb` }), fails(/has no model 'nope'/));
  assert.throws(() => buildTrainingGraph(model, { update: `/nonexistent.json#m/s` }), fails(/cannot read the scheme file/));

  const b = new GraphBuilder('logistic-in-the-way', 4);
  const x = b.input('x', [1, 8, 8, 2], { scale: 0.1, zeroPoint: 0 });
  const c = b.add('Conv2D', [x, b.weights('w0', [4, 3, 3, 2], 0.01), b.bias('b0', 4, 0.1, 0.01)], { padding: 'same', strideH: 1, strideW: 1, dilationH: 1, dilationW: 1, activation: 'relu' }, { scale: 0.05, zeroPoint: -128 });
  const s = b.add('Logistic', [c], {}, { scale: 1 / 256, zeroPoint: -128 });
  const r = b.add('Reshape', [s, b.int32Constant('shape', [1, 256])], { newShape: [1, 256] }, { scale: 1 / 256, zeroPoint: -128 });
  b.output(b.add('FullyConnected', [r, b.weights('w1', [3, 256], 0.01), b.bias('b1', 3, 1 / 256, 0.01)], { activation: 'none', keepNumDims: false }, { scale: 0.2, zeroPoint: 0 }));
  assert.throws(() => buildTrainingGraph(b.build(), { update: 'full' }), fails(/operator 1 Logistic: training cannot take gradients through Logistic/, UnsupportedError));
  assert.not.throws(() => buildTrainingGraph(b.build(), { update: 'last:1' }));
});

test.run();
