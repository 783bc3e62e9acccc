/**
 * Learning works: the pretrained MLPerf Tiny ResNet-8 (CIFAR-10 features) gets a new 10-class head and learns
 * Fashion-MNIST (28x28 padded to 32x32, grey replicated to 3 channels) from 400 training images, in the
 * WebAssembly build (the numerics of the device, bit for bit; see train_step tests). Trained are the classifier
 * alone, then the paper's kind of sparse update (every bias plus the classifier's weights). The training loss
 * falls epoch after epoch and held-out accuracy on 200 unseen images rises from chance to well above it.
 */
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { pathToFileURL } from 'node:url';
import { loadModelFile } from '../../compiler/load_model.ts';
import { buildTrainingGraph } from '../../compiler/train/index.ts';
import { compileGraph } from '../../compiler/compile.ts';
import { writeOutputDir } from '../../compiler/output.ts';
import { getBoard } from '../../targets/boards.ts';
import { loadFashionMnist, RESNET8_INPUT_QUANT } from '../helpers/fashion_mnist.ts';
import { SHARED } from '../helpers/shared.ts';

interface TrainableModel {
  invoke(input: Int8Array): Int8Array;
  trainStep(input: Int8Array, label: number, lr: number): number;
}

const work = mkdtempSync(join(tmpdir(), 'tinyforge-learn-'));
test.after(() => rmSync(work, { recursive: true, force: true }));

const data = loadFashionMnist({ train: 400, test: 200, quantization: RESNET8_INPUT_QUANT });
const EPOCHS = 5;

function accuracy(model: TrainableModel): number {
  let correct = 0;
  data.test.images.forEach((image, i) => {
    const logits = model.invoke(image);
    let best = 0;
    for (let c = 1; c < logits.length; c++) if (logits[c]! > logits[best]!) best = c;
    if (best === data.test.labels[i]) correct++;
  });
  return correct / data.test.images.length;
}

async function learn(update: string, lr: number): Promise<{ before: number; after: number; epochLosses: number[] }> {
  const model = loadModelFile(`${SHARED}/models/mlperf-tiny/pretrainedResnet_quant.tflite`);
  const graph = buildTrainingGraph(model, { update, classes: 10 });
  const compiled = await compileGraph(graph, { board: getBoard('wasm'), rounding: 'double' });
  const dir = join(work, update);
  writeOutputDir(dir, compiled.files);
  const { load } = (await import(pathToFileURL(join(dir, 'model.js')).href)) as { load(): Promise<TrainableModel> };
  const m = await load();
  const before = accuracy(m);
  const epochLosses: number[] = [];
  for (let epoch = 0; epoch < EPOCHS; epoch++) {
    let sum = 0;
    data.train.images.forEach((image, i) => (sum += m.trainStep(image, data.train.labels[i]!, lr)));
    epochLosses.push(sum / data.train.images.length);
  }
  return { before, after: accuracy(m), epochLosses };
}

for (const [update, lr] of [['last:1', 0.01], ['last:3', 0.02]] as const) {
  test(`ResNet-8 learns Fashion-MNIST with --update ${update}: loss falls, held-out accuracy rises well above chance`, async () => {
    const { before, after, epochLosses } = await learn(update, lr);
    console.log(`  ${update}: held-out accuracy ${before} -> ${after}; mean training loss per epoch ${epochLosses.map((l) => l.toFixed(3)).join(', ')}`);
    for (let e = 1; e < EPOCHS; e++) assert.ok(epochLosses[e]! < epochLosses[e - 1]!, `epoch ${e} loss ${epochLosses[e]} not below ${epochLosses[e - 1]}`);
    assert.ok(before < 0.25, `a fresh head is near chance, got ${before}`);
    assert.ok(after >= 0.45, `held-out accuracy ${after} after ${EPOCHS} epochs`);
  });
}

test.run();
