/**
 * The command line on an ONNX model, as a user meets it: compile / run / inspect of a small QDQ model (written to a
 * temp dir with OnnxModelBuilder), the default rounding per model format, --rounding and --input-layout, and the
 * report's numerics notes. Outputs are checked against onnxruntime (within 1 LSB) and the reference interpreter
 * (byte for byte).
 */
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { tinyforge } from '../helpers/cli.ts';
import { SHARED } from '../helpers/shared.ts';
import { OnnxModelBuilder, encodeModel } from '../helpers/onnx_models.ts';
import type { ModelProto } from '../helpers/onnx_models.ts';
import { runOnnx } from '../oracles/onnxruntime.ts';
import { Random } from '../../compiler/frontend/builder/random.ts';
import { importOnnx } from '../../compiler/frontend/onnx/import.ts';
import { prepareGraph } from '../../compiler/passes/prepare.ts';
import { runReference } from '../../compiler/reference/interpreter.ts';
import type { Rounding } from '../../compiler/ops/common/fixed_point.ts';

const HELLO = join(SHARED, 'models/tflm/hello_world_int8.tflite');
const work = mkdtempSync(join(tmpdir(), 'tinyforge-onnx-cli-'));

test.after(() => rmSync(work, { recursive: true, force: true }));

const INPUT_SHAPE: readonly number[] = [1, 3, 8, 8];
const CLASSES = 10;

/**
 * conv 3x3 -> relu -> conv 1x1 -> global average pool -> flatten -> gemm, NCHW input [1, 3, 8, 8]. The 1x1 conv's
 * NCHW output is a second graph output: 768 more elements to compare, in the layout the file declares.
 */
function buildModel(): { bytes: Uint8Array; proto: ModelProto; input: string } {
  const b = new OnnxModelBuilder('onnx_cli', 11);
  const x = b.input(INPUT_SHAPE);
  const c1 = b.conv(x, { outChannels: 8, kernel: [3, 3], pads: [1, 1, 1, 1], perChannel: true, activation: 'relu' });
  const c2 = b.conv(c1, { outChannels: 12, kernel: [1, 1], perChannel: true });
  const y = b.gemm(b.flatten(b.globalAveragePool(c2)), { outFeatures: CLASSES, transB: 1 });
  b.output(y);
  b.output(c2);
  return { bytes: b.build(), proto: b.toProto(), input: x.name };
}

/**
 * The model with what quantization tools give a dead channel: the first conv's output channel 0 has a near-zero
 * weight scale, so its float bias quantizes to INT32_MAX. The compiler must saturate it, and say so.
 */
function buildHugeBiasModel(): Uint8Array {
  const proto = buildModel().proto;
  const graph = proto.graph!;
  const conv = graph.node!.find((n) => n.opType === 'Conv')!;
  const producer = (name: string) => graph.node!.find((n) => n.output!.includes(name))!;
  const initializer = (name: string) => graph.initializer!.find((t) => t.name === name)!;
  const patch = <T extends Float32Array | Int32Array>(name: string, View: new (b: ArrayBuffer) => T, value: number) => {
    const t = initializer(name);
    const values = new View(new Uint8Array(t.rawData!).slice().buffer);
    values[0] = value;
    t.rawData = new Uint8Array(values.buffer);
  };
  const [, weightScale] = producer(conv.input![1]!).input!;
  const [bias, biasScale] = producer(conv.input![2]!).input!;
  const xScale = new Float32Array(new Uint8Array(initializer(producer(conv.input![0]!).input![1]!).rawData!).slice().buffer)[0]!;
  patch(weightScale!, Float32Array, 1e-9);
  patch(biasScale!, Float32Array, Math.fround(xScale * Math.fround(1e-9)));
  patch(bias!, Int32Array, 2 ** 31 - 1);
  return encodeModel(proto);
}

/** NCHW bytes of an [N, C, H, W] tensor in NHWC order. */
function nchwToNhwc(data: Int8Array, [n, c, h, w]: readonly number[]): Int8Array {
  const out = new Int8Array(data.length);
  for (let b = 0; b < n!; b++)
    for (let ch = 0; ch < c!; ch++)
      for (let y = 0; y < h!; y++) for (let x = 0; x < w!; x++) out[((b * h! + y) * w! + x) * c! + ch] = data[((b * c! + ch) * h! + y) * w! + x]!;
  return out;
}

const bytesOf = (a: Int8Array) => new Uint8Array(a.buffer, a.byteOffset, a.byteLength);
const int8Of = (a: Uint8Array) => Array.from(new Int8Array(a.buffer, a.byteOffset, a.byteLength));

const model = buildModel();
const MODEL = join(work, 'model.onnx');
writeFileSync(MODEL, model.bytes);
const HUGE_BIAS = join(work, 'huge_bias.onnx');
writeFileSync(HUGE_BIAS, buildHugeBiasModel());

/** Seeded NCHW images, and the same images in NHWC order, each in its own file. */
const RUNS = 4;
const random = new Random(2024);
const images = Array.from({ length: RUNS }, () => random.int8Array(INPUT_SHAPE.reduce((a, b) => a * b, 1)));
const nchwFiles = images.map((img, i) => {
  const f = join(work, `x${i}.bin`);
  writeFileSync(f, bytesOf(img));
  return f;
});
const nhwcFiles = images.map((img, i) => {
  const f = join(work, `x${i}.nhwc.bin`);
  writeFileSync(f, bytesOf(nchwToNhwc(img, INPUT_SHAPE)));
  return f;
});

/** The reference interpreter's outputs for every image (NCHW graph, as the CLI compiles by default). */
function reference(rounding: Rounding): number[][][] {
  const pg = prepareGraph(importOnnx(model.bytes, 'model'), { rounding });
  return images.map((img) => runReference(pg, [bytesOf(img)]).map(int8Of));
}

interface RunJson {
  target: string;
  outputs: number[][];
  runs: { input: string; outputs: number[][] }[];
}

function runJson(dir: string, inputs: readonly string[], extra: readonly string[] = []): RunJson {
  const r = tinyforge(['run', dir, ...inputs.flatMap((f) => ['--input', f]), '--json', ...extra]);
  assert.is(r.status, 0, r.stderr);
  return JSON.parse(r.stdout) as RunJson;
}

function compile(out: string, flags: readonly string[], modelPath = MODEL): void {
  const r = tinyforge(['compile', modelPath, ...flags, '-o', out]);
  assert.is(r.status, 0, r.stderr);
}

const manifest = (dir: string) => JSON.parse(readFileSync(join(dir, 'tinyforge.json'), 'utf8'));

/** Outputs of the host build of test 1, per run: what the other builds must equal. */
let hostOutputs: number[][][] = [];

test('compile -t host, run --input (NCHW bytes) --json: within 1 LSB of onnxruntime, equal to runReference', async () => {
  const out = join(work, 'host');
  compile(out, ['-t', 'host']);
  const m = manifest(out);
  assert.equal(m.inputs.map((i: { shape: number[] }) => i.shape), [[...INPUT_SHAPE]]);
  assert.equal(m.outputs.map((o: { shape: number[] }) => o.shape), [[1, CLASSES], [1, 12, 8, 8]]);
  const json = runJson(out, nchwFiles);
  assert.is(json.target, 'host');
  assert.is(json.runs.length, RUNS);
  hostOutputs = json.runs.map((r) => r.outputs);
  assert.equal(json.outputs, hostOutputs[0]);

  assert.equal(hostOutputs, reference('float32'), 'CLI host output == runReference (rounding float32)');

  const theirs = await runOnnx(model.bytes, images.map((img) => ({ [model.input]: img })));
  let offByOne = 0;
  theirs.forEach((outs, r) =>
    outs.forEach((want, o) => {
      const got = hostOutputs[r]![o]!;
      assert.is(got.length, want.length);
      got.forEach((v, k) => {
        const d = Math.abs(v - want[k]!);
        assert.ok(d <= 1, `run ${r}, output ${o}, element ${k}: tinyforge ${v}, onnxruntime ${want[k]}`);
        if (d === 1) offByOne++;
      });
    }),
  );
  // The comparison proves little if the outputs are all alike or saturated.
  for (const o of [0, 1]) {
    const values = hostOutputs.flatMap((run) => run[o]!);
    assert.ok(new Set(values).size >= 10, `output ${o}: only ${new Set(values).size} distinct values`);
    assert.ok(values.filter((v) => v === 127 || v === -128).length <= values.length / 4, `output ${o}: mostly saturated`);
  }
  const values = hostOutputs.flat(2);
  console.log(`onnx cli: ${offByOne} of ${values.length} output elements 1 LSB off onnxruntime`);
});

test('--input-layout nhwc: the program takes NHWC bytes; fed the transposed images it gives the same outputs', () => {
  const out = join(work, 'host-nhwc');
  compile(out, ['-t', 'host', '--input-layout', 'nhwc']);
  const [n, c, h, w] = INPUT_SHAPE;
  assert.equal(manifest(out).inputs[0].shape, [n, h, w, c]);
  assert.match(readFileSync(join(out, 'model.h'), 'utf8'), /--input-layout nhwc/);
  assert.ok(readFileSync(join(out, 'report.txt'), 'utf8').includes(`\n  ${NHWC_NOTE}\n`));
  const json = runJson(out, nhwcFiles);
  assert.equal(
    json.runs.map((r) => r.outputs),
    hostOutputs,
  );
  // The NCHW files are the right size but the wrong order: the outputs differ (else the test shows nothing).
  const wrong = runJson(out, nchwFiles);
  assert.not.equal(
    wrong.runs.map((r) => r.outputs),
    hostOutputs,
  );
});

const INPUT_NOTE = `input '${model.input}' is read as NCHW, as the file declares, and transposed to NHWC by the program`;
const NHWC_NOTE = `input '${model.input}' is read as NHWC (--input-layout nhwc)`;
const LOWERING_NOTE = /^ONNX quantization: the float scales become per-channel multipliers.*each op is within 1 LSB of onnxruntime/;

/** The lines of the report's "numerics notes" section (the last section), without their indent. */
function notesSection(text: string): string[] {
  const at = text.indexOf('\n\nnumerics notes\n');
  assert.ok(at >= 0, `no numerics notes section in:\n${text}`);
  return text
    .slice(at + '\n\nnumerics notes\n'.length)
    .split('\n')
    .filter((l) => l !== '')
    .map((l) => {
      assert.match(l, /^ {2}\S/);
      return l.slice(2);
    });
}

test('inspect model.onnx prints the layer table and the numerics notes; inspect --json has notes', () => {
  const r = tinyforge(['inspect', MODEL]);
  assert.is(r.status, 0, r.stderr);
  assert.match(r.stdout, /^model model for cortex-m4 /);
  assert.match(r.stdout, /\n#\s+operator\s+kernel\s+output\s+MACs\s+const B/);
  // NCHW input: the program's first layer transposes it to NHWC.
  assert.match(r.stdout, /\n0\s+Transpose\s+\S+\s+\[1x8x8x3\] int8/);
  assert.match(r.stdout, /\n\d+\s+Conv2D\s+conv2d_s8\s+\[1x8x8x8\] int8/);
  assert.match(r.stdout, /\n\d+\s+FullyConnected\s+\S+\s+\[1x10\] int8/);
  const notes = notesSection(r.stdout);
  assert.ok(notes.includes(INPUT_NOTE), notes.join('\n'));
  assert.ok(notes.some((n) => LOWERING_NOTE.test(n)), notes.join('\n'));
  assert.not.ok(notes.some((n) => /saturated/.test(n)), 'no bias is saturated in this model');
  assert.not.ok(existsSync(join(work, 'model')), 'inspect writes nothing');

  const j = tinyforge(['inspect', MODEL, '--json']);
  assert.is(j.status, 0, j.stderr);
  const json = JSON.parse(j.stdout);
  assert.equal(json.notes, notes, 'the same notes as the text');
  assert.equal(
    json.layers.map((l: { op: string }) => l.op),
    ['Transpose', 'Conv2D', 'Conv2D', 'Mean', 'Reshape', 'FullyConnected', 'Transpose'],
  );
  assert.is(json.text, undefined);

  // With --input-layout nhwc there is no transpose, and the note says how the input is read.
  const nhwc = JSON.parse(tinyforge(['inspect', MODEL, '--input-layout', 'nhwc', '--json']).stdout);
  assert.is(nhwc.layers[0].op, 'Conv2D');
  assert.ok(nhwc.notes.includes(NHWC_NOTE), nhwc.notes.join('\n'));
});

test('a bias that could overflow the accumulator is saturated, the numerics notes say so, and the output stays within 1 LSB', async () => {
  const r = tinyforge(['inspect', HUGE_BIAS]);
  assert.is(r.status, 0, r.stderr);
  const saturated = notesSection(r.stdout).filter((n) => /saturated/.test(n));
  assert.is(saturated.length, 1, saturated.join('\n'));
  const m = /^node '\S+' \(Conv\): bias of output channel 0 saturated so the int32 accumulator cannot overflow \(output moves by at most (\S+) LSB before rounding\)$/.exec(saturated[0]!);
  assert.ok(m, saturated[0]);
  assert.ok(Number(m![1]) < 0.01, `moves by ${m![1]} LSB`);
  const json = JSON.parse(tinyforge(['inspect', HUGE_BIAS, '--json']).stdout);
  assert.ok(json.notes.includes(saturated[0]), json.notes.join('\n'));
  // It compiles; report.txt has the note; the program still agrees with onnxruntime.
  const out = join(work, 'huge-bias');
  compile(out, ['-t', 'host'], HUGE_BIAS);
  assert.ok(notesSection(readFileSync(join(out, 'report.txt'), 'utf8')).includes(saturated[0]!));
  const ours = runJson(out, nchwFiles).runs.map((run) => run.outputs);
  const theirs = await runOnnx(readFileSync(HUGE_BIAS), images.map((img) => ({ [model.input]: img })));
  theirs.forEach((outs, r) =>
    outs.forEach((want, o) =>
      ours[r]![o]!.forEach((v, k) => assert.ok(Math.abs(v - want[k]!) <= 1, `run ${r}, output ${o}, element ${k}: tinyforge ${v}, onnxruntime ${want[k]}`)),
    ),
  );
});

// The rounding is recorded in the manifest and in the provenance header of the generated files (model.h here).
test('rounding: float32 by default for ONNX, double for .tflite; --rounding double is accepted and recorded', () => {
  const defaultOnnx = manifest(join(work, 'host'));
  assert.is(defaultOnnx.rounding, 'float32');
  assert.match(readFileSync(join(work, 'host', 'model.h'), 'utf8'), /rounding float32/);

  const tfl = join(work, 'hello');
  compile(tfl, ['-t', 'host'], HELLO);
  assert.is(manifest(tfl).rounding, 'double');
  assert.match(readFileSync(join(tfl, 'model.h'), 'utf8'), /rounding double/);

  const dbl = join(work, 'host-double');
  const r = tinyforge(['compile', MODEL, '-t', 'host', '--rounding', 'double', '--json', '-o', dbl]);
  assert.is(r.status, 0, r.stderr);
  assert.is(JSON.parse(r.stdout).out, dbl);
  assert.is(manifest(dbl).rounding, 'double');
  assert.match(readFileSync(join(dbl, 'model.h'), 'utf8'), /rounding double/);
  // It is really used: the program equals the reference interpreter with rounding 'double', which differs from the
  // default build in a few elements.
  const doubled = runJson(dbl, nchwFiles).runs.map((run) => run.outputs);
  assert.equal(doubled, reference('double'));
  const changed = doubled.flat(2).filter((v, k) => v !== hostOutputs.flat(2)[k]).length;
  assert.ok(changed > 0, 'rounding double gives the same bytes as float32 on every element');

  const insp = tinyforge(['inspect', MODEL, '--rounding', 'double']);
  assert.is(insp.status, 0, insp.stderr);
  const bad = tinyforge(['compile', MODEL, '--rounding', 'up', '-o', join(work, 'bad-rounding')]);
  assert.is(bad.status, 2);
  assert.not.ok(existsSync(join(work, 'bad-rounding')));
});

test('--input-layout on a .tflite model: exit 1, a message naming --input-layout, no output folder', () => {
  const out = join(work, 'hello-nhwc');
  const r = tinyforge(['compile', HELLO, '--input-layout', 'nhwc', '-o', out]);
  assert.is(r.status, 1);
  assert.match(r.stderr, /--input-layout/);
  assert.not.match(r.stderr, /internal error/);
  assert.not.ok(existsSync(out));
  const i = tinyforge(['inspect', HELLO, '--input-layout', 'nchw']);
  assert.is(i.status, 1);
  assert.match(i.stderr, /--input-layout/);
});

test('compile -t wasm, run --json: the same bytes as host (SIMD and scalar)', () => {
  const out = join(work, 'wasm');
  compile(out, ['-t', 'wasm']);
  assert.is(manifest(out).rounding, 'float32');
  for (const flags of [[], ['--no-simd']]) {
    const json = runJson(out, nchwFiles, flags);
    assert.is(json.target, 'wasm');
    assert.equal(
      json.runs.map((r) => r.outputs),
      hostOutputs,
      `wasm ${flags.join(' ') || 'SIMD'}`,
    );
  }
});

test.run();
