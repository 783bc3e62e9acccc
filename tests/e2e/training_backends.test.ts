/**
 * The bar for the training step: after 10 steps on the same seeded images and labels, the trainable
 * parameters of the reference interpreter, the host C build, the cortex-m7 build in QEMU and the wasm build (SIMD
 * and scalar) are byte-identical, and so is every step's loss. On a paper model with its published sparse scheme
 * (mcunet-5fps 49kb: trailing biases, three partial pointwise layers, a new 10-class head) and on ResNet-8 with
 * its last three layers trained (residual add, average pool, fully connected).
 */
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { Graph } from '../../compiler/ir/graph.ts';
import { elementCount } from '../../compiler/ir/graph.ts';
import { loadModelFile } from '../../compiler/load_model.ts';
import { buildTrainingGraph } from '../../compiler/train/index.ts';
import { compileGraph } from '../../compiler/compile.ts';
import { writeOutputDir } from '../../compiler/output.ts';
import { prepareGraph } from '../../compiler/passes/prepare.ts';
import { ReferenceTrainer } from '../../compiler/reference/training.ts';
import { Random } from '../../compiler/frontend/builder/random.ts';
import { getBoard } from '../../targets/boards.ts';
import { trainModel } from '../../targets/run.ts';
import { SHARED } from '../helpers/shared.ts';

const STEPS = 10;
const work = mkdtempSync(join(tmpdir(), 'tinyforge-train-backends-'));
test.after(() => rmSync(work, { recursive: true, force: true }));

const hex = (bytes: Uint8Array) => Buffer.from(bytes).toString('hex');

async function checkBackends(name: string, model: Graph, update: string, learningRate: number): Promise<void> {
  const graph = buildTrainingGraph(model, { update, classes: 10 });
  const rounding = model.rounding ?? 'double';
  const random = new Random(42);
  const images = [0, 1, 2, 3].map(() => new Uint8Array(random.int8Array(elementCount(graph.tensors[graph.training!.image]!.shape)).buffer));
  const labels = [3, 7, 0, 9];
  const reference = new ReferenceTrainer(prepareGraph(graph, { rounding }));
  const losses = Array.from({ length: STEPS }, (_, i) => reference.step(images[i % 4]!, labels[i % 4]!, learningRate));
  const params = hex(reference.params());
  assert.ok(losses.every(Number.isFinite) && new Set(losses).size > 1, `${name}: the reference trains (${losses.join(', ')})`);

  for (const [target, simd] of [['host', undefined], ['cortex-m7', undefined], ['wasm', true], ['wasm', false]] as const) {
    const board = getBoard(target);
    const dir = join(work, `${name}-${target}`);
    writeOutputDir(dir, (await compileGraph(graph, { board, rounding })).files);
    const run = await trainModel(board, dir, images, { labels, learningRate, steps: STEPS }, { simd });
    const what = `${name} on ${target}${simd === undefined ? '' : simd ? ' (SIMD)' : ' (scalar)'}`;
    assert.equal(run.losses, losses, `${what}: losses`);
    assert.ok(hex(run.params) === params, `${what}: parameters after ${STEPS} steps differ from the reference`);
    if (target === 'cortex-m7') assert.is(run.instructions!.length, STEPS, `${what}: instructions of every step`);
  }
}

test('mcunet-5fps, paper scheme 49kb, new 10-class head: reference, host C, QEMU cortex-m7 and wasm agree byte for byte after 10 steps', async () => {
  await checkBackends('mcunet-49kb', loadModelFile(`${SHARED}/models/paper/mcunet-5fps.qdq.onnx`), `${SHARED}/models/paper/schemes.json#mcunet-5fps/49kb`, 0.05);
});

test('ResNet-8, last three layers: reference, host C, QEMU cortex-m7 and wasm agree byte for byte after 10 steps', async () => {
  await checkBackends('resnet8-last3', loadModelFile(`${SHARED}/models/mlperf-tiny/pretrainedResnet_quant.tflite`), 'last:3', 0.02);
});

test.run();
