/**
 * The C training step end to end: a --train model directory built with the harness in training mode (host with
 * ASan/UBSan, Cortex-M in QEMU) gives, step for step, the losses and finally the parameters of ReferenceTrainer,
 * bit for bit; the C API refuses a bad label without touching anything; the harness protocol is parsed strictly.
 */
import { writeFile } from 'node:fs/promises';
import { join } from 'node:path';

import { test } from 'uvu';
import * as assert from 'uvu/assert';

import { tensorBytes, type Graph } from '../../compiler/ir/graph.ts';
import { GraphBuilder } from '../../compiler/frontend/builder/builder.ts';
import { compileGraph } from '../../compiler/compile.ts';
import { writeOutputDir } from '../../compiler/output.ts';
import { prepareGraph } from '../../compiler/passes/prepare.ts';
import { runReference } from '../../compiler/reference/interpreter.ts';
import { ReferenceTrainer } from '../../compiler/reference/training.ts';
import { buildTrainingGraph } from '../../compiler/train/index.ts';
import { getBoard, type TargetName } from '../../targets/boards.ts';
import { buildProgram } from '../../targets/build.ts';
import { parseTrainingOutput, renderRunInputs } from '../../targets/harness/protocol.ts';
import { parseModelHeader } from '../../targets/model_header.ts';
import { RunError, runProgram, trainModel } from '../../targets/run.ts';
import { lcgBytes, rejectionOf, tempDir } from './support.ts';

const hex = (bytes: Uint8Array): string => Buffer.from(bytes).toString('hex');

/**
 * Not a real training step: two trainable tensors (int8 weights and an int32 bias, read by the forward kernels) and a
 * "loss" that is the dequantized output of a second layer. It needs no training kernel, so it pins down the C side
 * alone: state arrays, the inference program, the train_step entry, the parameter dump order.
 */
function handMadeTrainingGraph(): Graph {
  const b = new GraphBuilder('hand_made_training', 3);
  const image = b.input('image', [1, 12], { scale: 0.05, zeroPoint: 3 });
  const label = b.input('label', [1], { scale: 1 }, 'int32');
  const lr = b.input('lr', [1], { scale: 1 }, 'float32');
  const w1 = b.weights('w1', [4, 12], 0.01);
  const bias1 = b.bias('b1', 4, 0.05, 0.01);
  const logits = b.add('FullyConnected', [image, w1, bias1], { activation: 'none', keepNumDims: false }, { scale: 0.1, zeroPoint: -2 });
  const w2 = b.weights('w2', [1, 4], 0.02);
  const score = b.add('FullyConnected', [logits, w2, null], { activation: 'none', keepNumDims: false }, { scale: 0.05, zeroPoint: 1 });
  const loss = b.add('Dequantize', [score], {}, null);
  b.output(loss);
  const graph = b.build();
  return {
    ...graph,
    training: { image: image.id, label: label.id, learningRate: lr.id, loss: loss.id, logits: logits.id, state: [bias1.id, w1.id], inferenceNodes: [0] },
  };
}

/** Conv (ReLU6) -> depthwise (ReLU) -> spatial mean -> fully connected: every kind of trainable layer, 4 classes. */
function smallModel(): Graph {
  const b = new GraphBuilder('small_model', 5);
  const x = b.input('image', [1, 6, 6, 2], { scale: 0.03, zeroPoint: 5 });
  const s1 = [0.02, 0.015, 0.03, 0.01];
  const c1 = b.add(
    'Conv2D',
    [x, b.weights('conv_w', [4, 3, 3, 2], s1, 0), b.bias('conv_b', 4, 0.03, s1, 500)],
    { padding: 'same', strideH: 1, strideW: 1, dilationH: 1, dilationW: 1, activation: 'relu6' },
    { scale: 6 / 255, zeroPoint: -128 },
  );
  const s2 = [0.03, 0.02, 0.025, 0.04];
  const c2 = b.add(
    'DepthwiseConv2D',
    [c1, b.weights('dw_w', [1, 3, 3, 4], s2, 3), b.bias('dw_b', 4, 6 / 255, s2, 300)],
    { padding: 'valid', strideH: 2, strideW: 2, dilationH: 1, dilationW: 1, depthMultiplier: 1, activation: 'relu' },
    { scale: 0.05, zeroPoint: -128 },
  );
  const m = b.add('Mean', [c2, b.int32Constant('axis', [1, 2])], { keepDims: false }, { scale: 0.04, zeroPoint: -128 });
  b.output(b.add('FullyConnected', [m, b.weights('fc_w', [4, 4], 0.02), b.bias('fc_b', 4, 0.04, 0.02, 200)], { activation: 'none', keepNumDims: false }, { scale: 0.06, zeroPoint: 0 }));
  return b.build();
}

async function compileTo(graph: Graph, target: TargetName, dir: string): Promise<string> {
  const compiled = await compileGraph(graph, { board: getBoard(target), rounding: 'double' });
  const modelDir = join(dir, `model-${target}`);
  writeOutputDir(modelDir, compiled.files);
  return modelDir;
}

test('the C side of a hand-made training graph: state arrays, loss per step and the parameters in state order', async () => {
  const graph = handMadeTrainingGraph();
  const pg = prepareGraph(graph, { rounding: 'double' });
  const images = [lcgBytes(12, 1), lcgBytes(12, 2)];
  const expectedLoss = images.map((image) => new Float32Array(runReference(pg, [image, new Uint8Array(4), new Uint8Array(4)])[0]!.buffer)[0]!);
  const t = graph.tensors;
  const expectedParams = hex(Buffer.concat([new Uint8Array(t[graph.training!.state[0]!]!.data!.buffer), new Uint8Array(t[graph.training!.state[1]!]!.data!.buffer)]));
  const work = await tempDir('hand-train');
  try {
    for (const target of ['host', 'cortex-m7'] as const) {
      const modelDir = await compileTo(graph, target, work.dir);
      const run = await trainModel(getBoard(target), modelDir, images, { labels: [1, 3], learningRate: 0.5, steps: 3 }, { sanitize: target === 'host' });
      assert.equal(run.losses, [expectedLoss[0], expectedLoss[1], expectedLoss[0]], target);
      assert.is(hex(run.params), expectedParams, target);
      if (target === 'host') assert.is(run.instructions, null);
      else assert.ok(run.instructions!.length === 3 && run.instructions!.every((n) => n > 0), `${run.instructions}`);
    }
  } finally {
    await work.cleanup();
  }
});

/** The trained int8 weights among the parameters (in state order) that sit at the int8 limits, -127 or 127. */
function weightsAtLimits(graph: Graph, params: Uint8Array): number {
  let offset = 0;
  let count = 0;
  for (const id of graph.training!.state) {
    const t = graph.tensors[id]!;
    const bytes = tensorBytes(t);
    if (t.dtype === 'int8') count += params.subarray(offset, offset + bytes).filter((b) => b === 0x7f || b === 0x81).length;
    offset += bytes;
  }
  return count;
}

// The last learning rate steps weights past the int8 limits, so the clamp is part of what must agree, besides the
// floor and the draw comparison: Cortex-M7 and M55 clamp with VMAXNM/VMINNM, floor with VRINTM and compare the draw
// as an integer; the others use comparisons, truncation and the float draw.
for (const [update, lr] of [['last:1', 0.1], ['full', 0.1], ['full', 300]] as const) {
  test(`--update ${update}, lr ${lr}: host C and every Cortex-M give the reference's losses and parameters, bit for bit`, async () => {
    const graph = buildTrainingGraph(smallModel(), { update });
    const images = [lcgBytes(72, 7), lcgBytes(72, 8)];
    const labels = [2, 0];
    const learningRate = Math.fround(lr);
    const steps = 3;
    const trainer = new ReferenceTrainer(prepareGraph(graph, { rounding: 'double' }));
    const before = weightsAtLimits(graph, trainer.params());
    const losses = Array.from({ length: steps }, (_, s) => trainer.step(images[s % 2]!, labels[s % 2]!, learningRate));
    const params = hex(trainer.params());
    if (learningRate > 1) assert.ok(weightsAtLimits(graph, trainer.params()) > before + 10, 'the steps drive weights to the limits');
    const work = await tempDir('train-small');
    try {
      for (const target of ['host', 'cortex-m4', 'cortex-m7', 'cortex-m55'] as const) {
        const modelDir = await compileTo(graph, target, work.dir);
        const run = await trainModel(getBoard(target), modelDir, images, { labels, learningRate, steps }, { sanitize: target === 'host' });
        assert.equal(run.losses, losses, `${target} losses`);
        assert.is(hex(run.params), params, `${target} parameters`);
      }
    } finally {
      await work.cleanup();
    }
  });
}

test('tf_model_train_step refuses a label outside [0, classes) with -1 and leaves the parameters alone', async () => {
  const graph = handMadeTrainingGraph();
  const work = await tempDir('bad-label');
  try {
    const modelDir = await compileTo(graph, 'host', work.dir);
    const main = join(work.dir, 'check_labels.c');
    await writeFile(
      main,
      `#include <stdio.h>
#include <string.h>
#include "model.h"
static const int8_t image[TF_MODEL_INPUT_BYTES] = { 1, 2, 3 };
int main(void)
{
    static uint8_t before[TF_MODEL_PARAMS_BYTES], after[TF_MODEL_PARAMS_BYTES];
    static const int32_t bad[] = { -1, TF_MODEL_CLASSES, 1000 };
    tf_model_init();
    tf_model_read_params(before);
    for (unsigned i = 0; i < sizeof bad / sizeof bad[0]; ++i) {
        const float loss = tf_model_train_step(image, bad[i], 0.5f);
        tf_model_read_params(after);
        printf("%d %g %d\\n", (int)bad[i], (double)loss, memcmp(before, after, sizeof before) == 0);
    }
    return 0;
}
`,
    );
    const build = await buildProgram(getBoard('host'), { sourceDir: modelDir, workDir: join(work.dir, 'build'), extraSources: [main], harness: false, sanitize: true });
    const run = await runProgram(getBoard('host'), build.executable);
    assert.is(run.exitCode, 0, run.stderr);
    assert.is(run.stdout, '-1 -1 1\n4 -1 1\n1000 -1 1\n');

    const error = await rejectionOf(trainModel(getBoard('host'), modelDir, [lcgBytes(12, 1)], { labels: [7], learningRate: 0.5, steps: 1 }));
    assert.instance(error, RunError);
    assert.match(error.message, 'tf_model_train_step rejected a label');
    assert.match(error.message, 'rejected label 7 of input 0 (classes: 4)');
  } finally {
    await work.cleanup();
  }
});

test('trainModel refuses a model compiled without --train and inputs of the wrong size', async () => {
  const graph = handMadeTrainingGraph();
  const work = await tempDir('train-refusals');
  try {
    const inference = await compileTo({ ...graph, training: undefined, inputs: [graph.inputs[0]!] }, 'host', work.dir);
    let error = await rejectionOf(trainModel(getBoard('host'), inference, [lcgBytes(12, 1)], { labels: [0], learningRate: 0.5, steps: 1 }));
    assert.match(error.message, 'declares no training step');
    const modelDir = await compileTo(graph, 'host', work.dir);
    error = await rejectionOf(trainModel(getBoard('host'), modelDir, [lcgBytes(11, 1)], { labels: [0], learningRate: 0.5, steps: 1 }));
    assert.match(error.message, 'input 0 has 11 bytes');
  } finally {
    await work.cleanup();
  }
});

const TRAIN_HEADER = parseModelHeader(`
#define TF_MODEL_INPUT_COUNT 1
#define TF_MODEL_INPUT_BYTES 3
#define TF_MODEL_OUTPUT_COUNT 1
#define TF_MODEL_OUTPUT_BYTES 4
#define TF_MODEL_OUTPUT0_BYTES 4
#define TF_MODEL_ARENA_BYTES 64
#define TF_MODEL_CLASSES 4
#define TF_MODEL_PARAMS_BYTES 5
`);

test('run_inputs.h in training mode: steps, one label per input, the learning rate as an exact float literal', () => {
  assert.equal(TRAIN_HEADER.training, { classes: 4, paramsBytes: 5 });
  const text = renderRunInputs(TRAIN_HEADER, [Uint8Array.of(1, 2, 3), Uint8Array.of(4, 5, 6)], { labels: [3, -2147483648], learningRate: 0.1, steps: 7 });
  assert.match(text, '#define TF_RUN_TRAIN_STEPS 7u');
  assert.match(text, 'tf_run_labels[TF_RUN_INPUT_COUNT] = { 3, (-2147483647 - 1) }');
  assert.match(text, 'tf_run_learning_rate = 0x1.99999ap-4f;');
  assert.throws(() => renderRunInputs(TRAIN_HEADER, [Uint8Array.of(1, 2, 3)], { labels: [1, 2], learningRate: 0.1, steps: 1 }), /2 labels for 1 inputs/);
  assert.throws(() => renderRunInputs(TRAIN_HEADER, [Uint8Array.of(1, 2, 3)], { labels: [1], learningRate: 0.1, steps: 0 }), /positive whole number of steps/);
});

test('training lines parse into exact losses, per-step counts and the parameter bytes; anything amiss is refused', () => {
  const good = 'loss 0 3f800000\ninstructions 0 1200\nloss 1 3e000001\ninstructions 1 1100\nparams 0 0102\nparams 2 ff0080\nstack 96\nstack_total 800\n';
  const report = parseTrainingOutput(good, 2, 5);
  assert.equal(report.losses, [1, Math.fround(0.125 * (1 + 2 ** -23))]);
  assert.equal(report.instructions, [1200, 1100]);
  assert.is(hex(report.params), '0102ff0080');
  assert.is(report.stackBytes, 96);
  assert.is(parseTrainingOutput('loss 0 00000000\nparams 0 0102030405\n', 1, 5).instructions, null);
  const refused: [string, RegExp][] = [
    ['loss 0 3f800000\nparams 0 0102\n', /printed 2 of the 5 parameter bytes/],
    ['loss 0 3f800000\nparams 2 0102030405\n', /out of order/],
    ['loss 0 3f800000\nparams 0 010203040506\n', /beyond the 5 bytes/],
    ['params 0 0102030405\n', /no loss for step 0/],
    ['loss 0 3f8000\nparams 0 0102030405\n', /malformed line: 'loss 0 3f8000'/],
    ['loss 0 3f800000\nloss 0 3f800000\nparams 0 0102030405\n', /malformed/],
    ['loss 1 3f800000\nparams 0 0102030405\n', /malformed/],
  ];
  for (const [stdout, message] of refused) assert.throws(() => parseTrainingOutput(stdout, 1, 5), message);
  assert.throws(() => parseTrainingOutput('loss 0 00000000\nloss 1 00000000\ninstructions 0 5\nparams 0 0102030405\n', 2, 5), /instruction counts for 1 of 2 steps/);
});

test.run();
