/**
 * `compile --train` and `run --train-steps` as a user meets them: a small TFLite model trains on host and on QEMU
 * cortex-m7 with the losses and dumped parameters of ReferenceTrainer byte for byte; every misuse is a clear error
 * with a non-zero exit and no partial output.
 */
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { tinyforge } from '../helpers/cli.ts';
import type { Graph } from '../../compiler/ir/graph.ts';
import { GraphBuilder } from '../../compiler/frontend/builder/builder.ts';
import { graphToTflite } from '../../compiler/frontend/builder/to_tflite.ts';
import { loadModelFile } from '../../compiler/load_model.ts';
import { prepareGraph } from '../../compiler/passes/prepare.ts';
import { ReferenceTrainer } from '../../compiler/reference/training.ts';
import { buildTrainingGraph } from '../../compiler/train/index.ts';
import { Random } from '../../compiler/frontend/builder/random.ts';

const work = mkdtempSync(join(tmpdir(), 'tinyforge-train-cli-'));
test.after(() => rmSync(work, { recursive: true, force: true }));

/** Conv (ReLU) -> spatial mean -> fully connected classifier: 8x8x3 images, 5 classes. */
function tinyClassifier(): Graph {
  const b = new GraphBuilder('tiny_classifier', 7);
  const x = b.input('image', [1, 8, 8, 3], { scale: 0.02, zeroPoint: -4 });
  const scales = Array.from({ length: 6 }, (_, i) => 0.01 + 0.002 * i);
  const h = b.add(
    'Conv2D',
    [x, b.weights('conv_w', [6, 3, 3, 3], scales, 0), b.bias('conv_b', 6, 0.02, scales, 300)],
    { padding: 'same', strideH: 2, strideW: 2, dilationH: 1, dilationW: 1, activation: 'relu' },
    { scale: 0.03, zeroPoint: -128 },
  );
  const m = b.add('Mean', [h, b.int32Constant('axis', [1, 2])], { keepDims: false }, { scale: 0.02, zeroPoint: -128 });
  b.output(b.add('FullyConnected', [m, b.weights('fc_w', [5, 6], 0.01), b.bias('fc_b', 5, 0.02, 0.01, 200)], { activation: 'none', keepNumDims: false }, { scale: 0.05, zeroPoint: 2 }));
  return b.build();
}

const MODEL = join(work, 'tiny_classifier.tflite');
const IMAGE_BYTES = 8 * 8 * 3;
const random = new Random(11);
const images = [0, 1, 2].map(() => new Uint8Array(random.int8Array(IMAGE_BYTES).buffer));
const IMAGES = join(work, 'images.bin');
const LABELS = [1, 4, 0];
const LR = 0.05;
const STEPS = 4;
const ONE_IMAGE = join(work, 'one_image.bin');
writeFileSync(MODEL, graphToTflite(tinyClassifier()));
writeFileSync(IMAGES, Buffer.concat(images));
writeFileSync(ONE_IMAGE, images[0]!);

/** What ReferenceTrainer says the same run gives. */
function reference(update: string): { losses: number[]; params: Uint8Array } {
  const loaded = loadModelFile(MODEL);
  const trainer = new ReferenceTrainer(prepareGraph(buildTrainingGraph(loaded, { update }), { rounding: loaded.rounding ?? 'double' }));
  const losses = Array.from({ length: STEPS }, (_, s) => trainer.step(images[s % images.length]!, LABELS[s % LABELS.length]!, Math.fround(LR)));
  return { losses, params: trainer.params() };
}

const hex = (bytes: Uint8Array): string => Buffer.from(bytes).toString('hex');

for (const target of ['host', 'cortex-m7', 'wasm'] as const) {
  test(`${target}: compile --train --update last:1, run --train-steps: losses and --dump-params equal the reference`, () => {
    const out = join(work, `train-${target}`);
    const c = tinyforge(['compile', MODEL, '--train', '--update', 'last:1', '--target', target, '-o', out]);
    assert.is(c.status, 0, c.stderr);
    if (target !== 'wasm') assert.match(readFileSync(join(out, 'model.h'), 'utf8'), 'float tf_model_train_step(const int8_t *input, int32_t label, float lr);');
    const manifest = JSON.parse(readFileSync(join(out, 'tinyforge.json'), 'utf8'));
    assert.equal(manifest.inputs.map((i: { bytes: number }) => i.bytes), [IMAGE_BYTES]);
    assert.is(manifest.training.classes, 5);
    assert.is(manifest.training.paramsBytes, manifest.training.state.reduce((n: number, s: { bytes: number }) => n + s.bytes, 0));

    const dump = join(work, `params-${target}.bin`);
    const r = tinyforge(['run', out, '--train-steps', String(STEPS), '--input', IMAGES, '--label', LABELS.join(','), '--lr', String(LR), '--dump-params', dump, '--json']);
    assert.is(r.status, 0, r.stderr);
    const json = JSON.parse(r.stdout);
    const expected = reference('last:1');
    assert.equal(json.losses, expected.losses);
    assert.is(hex(readFileSync(dump)), hex(expected.params));
    assert.is(json.peakSramBytes, manifest.training.peakSramBytes);
    assert.ok(json.peakSramBytes > manifest.arenaBytes, 'the trainable parameters are in SRAM');
    if (target !== 'cortex-m7') {
      assert.is(json.instructionsPerStep, null);
      assert.is(json.sramBytes, null);
      if (target === 'wasm') assert.ok(json.msPerStep > 0, `${json.msPerStep}`);
    } else {
      assert.is(json.instructionsPerStep.length, STEPS);
      assert.ok(json.instructionsPerStep.every((n: number) => Number.isInteger(n) && n > 1000), `${json.instructionsPerStep}`);
      assert.ok(json.sramBytes > json.peakSramBytes && json.flashBytes > 0, `${json.sramBytes} ${json.flashBytes}`);
    }
  });
}

test('run --train-steps without --json prints every step\'s loss; inference still runs on a training build', () => {
  const out = join(work, 'train-host');
  const r = tinyforge(['run', out, '--train-steps', '2', '--input', IMAGES, '--label', '3']);
  assert.is(r.status, 0, r.stderr);
  assert.match(r.stdout, /step 0: image 0, label 3, loss \d/);
  assert.match(r.stdout, /step 1: image 1, label 3, loss \d/);
  assert.match(r.stdout, /peak SRAM of a step: \d+ B/);
  const inference = tinyforge(['run', out, '--input', ONE_IMAGE, '--json']);
  assert.is(inference.status, 0, inference.stderr);
  assert.is(JSON.parse(inference.stdout).outputs[0].length, 5);
});

test('compile: --update and --classes need --train, --train needs --update, over budget gives the training breakdown; nothing is written', () => {
  const out = join(work, 'refused');
  const cases: [string[], RegExp][] = [
    [['--update', 'last:1'], /--update only make sense with --train/],
    [['--classes', '3'], /--classes only make sense with --train/],
    [['--train'], /--train needs --update <spec>: bias-only, last:N, full or FILE.json#model\/scheme/],
    [['--train', '--update', 'last:9'], /--update last:9: the model has \d+ trainable layers/],
    [['--train', '--update', 'full', '--target', 'cortex-m7', '--sram', '5632'], /SRAM \(arena \d+ \+ trainable parameters \d+ \+ stack[^]*training step peak\s+\d+ B SRAM[^]*gradients/],
  ];
  for (const [args, message] of cases) {
    const r = tinyforge(['compile', MODEL, '-o', out, ...(args.includes('--target') ? [] : ['--target', 'host']), ...args]);
    assert.is(r.status, 1, `${args.join(' ')}: ${r.stderr}`);
    assert.match(r.stderr, message);
    assert.not.ok(existsSync(out), args.join(' '));
  }
  assert.is(tinyforge(['compile', MODEL, '--train', '--update', 'full', '--classes', '0', '-o', out]).status, 2);
});

test('run --train-steps: misuse and bad inputs are clear errors and write no --dump-params file', () => {
  const out = join(work, 'train-host');
  const dump = join(work, 'never.bin');
  const odd = join(work, 'odd.bin');
  writeFileSync(odd, new Uint8Array(IMAGE_BYTES + 1));
  const inference = join(work, 'inference-host');
  assert.is(tinyforge(['compile', MODEL, '--target', 'host', '-o', inference]).status, 0);
  const cases: [string[], RegExp][] = [
    [['run', out, '--train-steps', '2', '--input', odd, '--label', '1'], /input file '.*odd.bin' has 193 bytes, which is not a whole number of images: .* has 192 bytes/],
    [['run', out, '--train-steps', '2', '--input', IMAGES, '--label', '5'], /--label 5: '5' is not a class of this model; labels are whole numbers 0 to 4/],
    [['run', out, '--train-steps', '2', '--input', IMAGES, '--label', '1,x,2'], /'x' is not a class/],
    [['run', out, '--train-steps', '2', '--input', IMAGES, '--label', '1,2'], /gives 2 labels for 3 input images/],
    [['run', out, '--train-steps', '2', '--input', IMAGES], /needs --label/],
    [['run', out, '--train-steps', '2', '--output', join(work, 'out.bin')], /--output writes inference outputs/],
    [['run', out, '--label', '1'], /--label, --dump-params only make sense with --train-steps/],
    [['run', inference, '--train-steps', '2'], /compiled without --train/],
    [['run', out, '--train-steps', '2', '--input', join(work, 'missing.bin'), '--label', '1'], /cannot read input file '.*missing.bin': ENOENT/],
  ];
  for (const [args, message] of cases) {
    const r = tinyforge([...args, '--dump-params', dump]);
    assert.is(r.status, 1, `${args.join(' ')}: ${r.stderr}`);
    assert.match(r.stderr, message);
    assert.not.ok(existsSync(dump), args.join(' '));
  }
  assert.is(tinyforge(['run', out, '--train-steps', '0']).status, 2);
  assert.is(tinyforge(['run', out, '--train-steps', '1', '--lr', '-1']).status, 2);
});

test('inspect --train shows the training step\'s memory without writing anything', () => {
  const r = tinyforge(['inspect', MODEL, '--train', '--update', 'full', '--classes', '3', '--target', 'cortex-m7']);
  assert.is(r.status, 0, r.stderr);
  assert.match(r.stdout, /training step peak\s+\d+ B SRAM/);
  assert.match(r.stdout, 'trainable parameters');
  const json = JSON.parse(tinyforge(['inspect', MODEL, '--train', '--update', 'bias-only', '--json']).stdout);
  assert.ok(json.training.peakSramBytes > json.arenaBytes);
  assert.is(tinyforge(['inspect', MODEL, '--update', 'full']).status, 1);
});

test('--help describes the training options', () => {
  const compile = tinyforge(['compile', '--help']);
  assert.is(compile.status, 0);
  for (const option of ['--train', '--update <spec>', 'last:N', '--classes <n>']) assert.match(compile.stdout, option);
  const run = tinyforge(['run', '--help']);
  for (const option of ['--train-steps <n>', '--label <k>', '--lr <x>', '--dump-params <file>']) assert.match(run.stdout, option);
});

test.run();
