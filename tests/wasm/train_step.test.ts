/**
 * The wasm training step end to end: a --train build of a small model (conv, depthwise, 1x1 conv, pooling, fully
 * connected), run through its generated wrapper, gives step for step the losses and finally the parameters of
 * ReferenceTrainer, bit for bit, in both builds and for full, partial and bias-only updates, and so does a paper
 * model's sparse scheme (partial channels, sliced saved inputs), and a scheme whose partial updates split the weights of
 * a 1x1 convolution and a fully connected layer (only the trained part is state); inference afterwards sees the trained parameters;
 * trainStep refuses bad arguments without touching memory.
 */
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { pathToFileURL } from 'node:url';
import { Project, ts } from 'ts-morph';
import { tinyKws } from '../../examples/tiny_kws.ts';
import type { Graph } from '../../compiler/ir/graph.ts';
import { loadModelFile } from '../../compiler/load_model.ts';
import { compileGraph } from '../../compiler/compile.ts';
import { writeOutputDir } from '../../compiler/output.ts';
import { prepareGraph } from '../../compiler/passes/prepare.ts';
import { ReferenceTrainer } from '../../compiler/reference/training.ts';
import { buildTrainingGraph } from '../../compiler/train/index.ts';
import { Random } from '../../compiler/frontend/builder/random.ts';
import { GraphBuilder } from '../../compiler/frontend/builder/builder.ts';
import { runReference } from '../../compiler/reference/interpreter.ts';
import { getBoard } from '../../targets/boards.ts';
import { runWasmTraining } from '../../targets/wasm/run_node.ts';
import { SHARED } from '../helpers/shared.ts';

const work = mkdtempSync(join(tmpdir(), 'tinyforge-train-'));
test.after(() => rmSync(work, { recursive: true, force: true }));

const STEPS = 3;
// Small enough that the logits of this random model do not all saturate after a step (gradients keep flowing).
const LR = 0.002;
const random = new Random(11);
const images = [0, 1, 2].map(() => new Uint8Array(random.int8Array(490).buffer));
const labels = [3, 0, 5];
const hex = (b: Uint8Array) => Buffer.from(b).toString('hex');

interface TrainingModel {
  simd: boolean;
  memory: WebAssembly.Memory;
  invoke(input: Int8Array): Int8Array;
  trainStep(input: unknown, label: unknown, lr: unknown): number;
  params(): Uint8Array;
}

async function build(update: string, model: Graph = tinyKws(), classes?: number): Promise<{ dir: string; trainer: () => ReferenceTrainer }> {
  const graph = buildTrainingGraph(model, { update, ...(classes === undefined ? {} : { classes }) });
  const dir = join(work, `${model.name}-${update}`.replace(/[^a-zA-Z0-9]/g, '_'));
  writeOutputDir(dir, (await compileGraph(graph, { board: getBoard('wasm'), rounding: 'double' })).files);
  return { dir, trainer: () => new ReferenceTrainer(prepareGraph(graph, { rounding: 'double' })) };
}

for (const update of ['full', 'last:2', 'bias-only']) {
  test(`update ${update}: ${STEPS} steps give the reference's losses and parameters, SIMD and scalar`, async () => {
    const { dir, trainer } = await build(update);
    const reference = trainer();
    const losses = Array.from({ length: STEPS }, (_, i) => reference.step(images[i]!, labels[i]!, LR));
    const params = reference.params();
    for (const simd of [true, false]) {
      const run = await runWasmTraining(dir, images, labels, LR, STEPS, { simd });
      assert.equal(run.losses, losses, `${simd ? 'SIMD' : 'scalar'} losses`);
      assert.is(hex(run.params), hex(params), `${simd ? 'SIMD' : 'scalar'} parameters`);
      assert.ok(run.msPerStep > 0);
    }
    assert.is.not(hex(params), hex(trainer().params()), 'training changed the parameters');
  });
}

test('a paper scheme (MCUNet, 49kb: partial channels of several layers, new 10-class head) trains as the reference', async () => {
  const paper = join(SHARED, 'models/paper');
  const { dir, trainer } = await build(`${paper}/schemes.json#mcunet-5fps/49kb`, loadModelFile(join(paper, 'mcunet-5fps.qdq.onnx')), 10);
  const reference = trainer();
  const image = new Uint8Array(new Random(5).int8Array(3 * 128 * 128).buffer);
  const losses = [0, 1].map((i) => reference.step(image, 3 + i, 0.01));
  for (const simd of [true, false]) {
    const run = await runWasmTraining(dir, [image], [3, 4], 0.01, 2, { simd });
    assert.equal(run.losses, losses, `${simd ? 'SIMD' : 'scalar'} losses`);
    assert.is(hex(run.params), hex(reference.params()), `${simd ? 'SIMD' : 'scalar'} parameters`);
  }
});

/** 1x1 conv (stride 2), pad, 1x1 conv, fully connected, classifier; origins name the nodes as a scheme file does. */
function pointwiseModel(): Graph {
  const b = new GraphBuilder('pointwise', 21);
  const x = b.input('x', [1, 6, 6, 8], { scale: 0.05, zeroPoint: -3 });
  const conv = (name: string, input: typeof x, inC: number, outC: number, stride: number, inScale: number, outScale: number) =>
    b.add('Conv2D', [input, b.weights(`${name}_w`, [outC, 1, 1, inC], 0.02), b.bias(`${name}_b`, outC, inScale, 0.02)],
      { padding: 'valid', strideH: stride, strideW: stride, dilationH: 1, dilationW: 1, activation: 'relu' }, { scale: outScale, zeroPoint: -128 });
  const c0 = conv('strided', x, 8, 12, 2, 0.05, 0.04);
  const padded = b.add('Pad', [c0, b.constant('paddings', [4, 2], 'int32', Int32Array.of(0, 0, 1, 0, 0, 1, 0, 0))], {}, { scale: 0.04, zeroPoint: -128 });
  const c1 = conv('pointwise', padded, 12, 16, 1, 0.04, 0.05);
  const flat = b.add('Reshape', [c1, b.int32Constant('flat_shape', [1, 256])], { newShape: [1, 256] }, { scale: 0.05, zeroPoint: -128 });
  const fc = b.add('FullyConnected', [flat, b.weights('fc_w', [20, 256], 0.01), b.bias('fc_b', 20, 0.05, 0.01)], { activation: 'relu', keepNumDims: false }, { scale: 0.1, zeroPoint: -128 });
  b.output(b.add('FullyConnected', [fc, b.weights('head_w', [5, 20], 0.02), b.bias('head_b', 5, 0.1, 0.02)], { activation: 'none', keepNumDims: false }, { scale: 0.2, zeroPoint: 0 }));
  const g = b.build();
  const names = ['strided', 'pad', 'pointwise', 'flat', 'fc', 'head'];
  return { ...g, nodes: g.nodes.map((n, i) => ({ ...n, origin: `node '${names[i]}'` })) };
}

test('partial updates that split the weights of a 1x1 convolution and a fully connected layer, and a gradient through a pad, train as the reference', async () => {
  const scheme = join(work, 'pointwise.json');
  writeFileSync(scheme, JSON.stringify({ models: { pointwise: { schemes: { split: {
    bias_update_onnx_nodes: ['strided', 'pointwise', 'fc'],
    weight_update: [{ onnx_node: 'strided', n_channels_updated: 3 }, { onnx_node: 'pointwise', n_channels_updated: 5 }, { onnx_node: 'fc', n_channels_updated: 50 }],
  } } } } }));
  const model = pointwiseModel();
  const graph = buildTrainingGraph(model, { update: `${scheme}#pointwise/split` });
  const stateWeights = graph.training!.state.map((id) => graph.tensors[id]!).filter((t) => t.dtype === 'int8').map((t) => t.shape.join('x'));
  assert.equal(stateWeights, ['12x1x1x8', '16x1x1x5', '20x50', '5x20'], 'the strided 1x1 convolution stays whole; the others keep only their trained channels');
  assert.is(graph.nodes.filter((n) => n.op === 'SplitConv1x1').length, 2);
  assert.is(graph.nodes.filter((n) => n.op === 'PadBackprop').length, 1, 'the strided layer trains through the pad');

  const { dir, trainer } = await build(`${scheme}#pointwise/split`, model);
  const reference = trainer();
  const random = new Random(8);
  const inputs = [0, 1, 2].map(() => new Uint8Array(random.int8Array(288).buffer));
  const original = prepareGraph(model, { rounding: 'double' });
  for (const image of inputs) assert.equal(reference.invoke(image), runReference(original, [image])[0], 'before training, the split layers compute the model');
  const losses = inputs.map((image, i) => reference.step(image, i + 1, 0.05));
  for (const simd of [true, false]) {
    const run = await runWasmTraining(dir, inputs, [1, 2, 3], 0.05, 3, { simd });
    assert.equal(run.losses, losses, `${simd ? 'SIMD' : 'scalar'} losses`);
    assert.is(hex(run.params), hex(reference.params()), `${simd ? 'SIMD' : 'scalar'} parameters`);
  }
  assert.is.not(hex(reference.params()), hex(trainer().params()), 'training changed the parameters');
});

test('invoke runs the inference program on the trained parameters', async () => {
  const { dir, trainer } = await build('full');
  const reference = trainer();
  const { load } = (await import(pathToFileURL(join(dir, 'model.js')).href)) as { load(o?: { simd?: boolean }): Promise<TrainingModel> };
  for (const simd of [true, false]) {
    const m = await load({ simd });
    const fresh = trainer();
    assert.is(hex(new Uint8Array(m.invoke(new Int8Array(images[0]!.buffer)).buffer)), hex(fresh.invoke(images[0]!)), 'before training');
    m.trainStep(new Int8Array(images[1]!.buffer), labels[1]!, LR);
    if (simd) reference.step(images[1]!, labels[1]!, LR);
    assert.is(hex(new Uint8Array(m.invoke(new Int8Array(images[0]!.buffer)).buffer)), hex(reference.invoke(images[0]!)), 'after a step');
  }
});

test('trainStep refuses a wrong input, label or learning rate before touching memory', async () => {
  const { dir } = await build('bias-only');
  const { load } = (await import(pathToFileURL(join(dir, 'model.js')).href)) as { load(o?: { simd?: boolean }): Promise<TrainingModel> };
  const m = await load();
  const ok = new Int8Array(490);
  const before = new Uint8Array(m.memory.buffer).slice();
  const bad: [unknown[], ErrorConstructor, RegExp][] = [
    [[new Int8Array(489), 0, LR], TypeError, /input 0 must be a Int8Array \(mfcc: int8 \[1x49x10x1\], 490 elements\); got Int8Array of 489 elements/],
    [[new Uint8Array(490), 0, LR], TypeError, /input 0 must be a Int8Array/],
    [[ok, 8, LR], RangeError, /label must be an integer in \[0, 8\); got 8/],
    [[ok, -1, LR], RangeError, /label must be an integer in \[0, 8\); got -1/],
    [[ok, 1.5, LR], RangeError, /got 1.5/],
    [[ok, '1', LR], RangeError, /got 1/],
    [[ok, 1, NaN], TypeError, /learning rate must be a finite number; got NaN/],
    [[ok, 1, '0.1'], TypeError, /learning rate must be a finite number/],
  ];
  for (const [args, type, message] of bad) {
    assert.throws(() => m.trainStep(...(args as [unknown, unknown, unknown])), (e: Error) => e instanceof type && message.test(e.message), String(message));
  }
  assert.equal(new Uint8Array(m.memory.buffer), before);
  assert.ok(Number.isFinite(m.trainStep(ok, 7, LR)));
});

test('model.d.ts types trainStep and params', async () => {
  const { dir } = await build('bias-only');
  const project = new Project({ compilerOptions: { strict: true, module: ts.ModuleKind.NodeNext, moduleResolution: ts.ModuleResolutionKind.NodeNext, target: ts.ScriptTarget.ES2022, noEmit: true } });
  project.addSourceFileAtPath(join(dir, 'model.d.ts'));
  const use = (body: string) => {
    const file = project.createSourceFile(join(dir, 'use.mts'), `import { load, parameters } from './model.js';\nconst m = await load();\n${body}\nexport {};\n`, { overwrite: true });
    return file.getPreEmitDiagnostics().map((d) => ts.flattenDiagnosticMessageText(d.compilerObject.messageText, '\n'));
  };
  assert.equal(use('const loss: number = m.trainStep(new Int8Array(490), 1, 0.01);\nconst p: Uint8Array = m.params();\nconst n: number = parameters[0].bytes;\nconst l: Int8Array = m.invoke(new Int8Array(490));'), []);
  assert.ok(use('m.trainStep(new Float32Array(490), 1, 0.01);').some((d) => /Float32Array/.test(d)));
});

test.run();
