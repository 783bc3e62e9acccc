/** The command line as a user meets it: exit codes, messages, JSON contract, all-or-nothing output. */
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { existsSync, mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { tinyforge } from '../helpers/cli.ts';
import { SHARED, goldenInput, goldenOutput } from '../helpers/shared.ts';
import { readTflite } from '../../compiler/frontend/tflite/reader.ts';
import { writeTflite } from '../../compiler/frontend/tflite/writer.ts';

const HELLO = join(SHARED, 'models/tflm/hello_world_int8.tflite');
const KWS = join(SHARED, 'models/mlperf-tiny/kws_ref_model.tflite');
const VWW = join(SHARED, 'models/mlperf-tiny/vww_96_int8.tflite');
const work = mkdtempSync(join(tmpdir(), 'tinyforge-cli-'));

test.after(() => rmSync(work, { recursive: true, force: true }));

test('compile writes the C library, its manifest and report', () => {
  const out = join(work, 'kws');
  const r = tinyforge(['compile', KWS, '--target', 'cortex-m4', '-o', out]);
  assert.is(r.status, 0, r.stderr);
  for (const f of ['model.h', 'model.c', 'tf_kernels.h', 'tinyforge.json', 'report.txt']) assert.ok(existsSync(join(out, f)), f);
  assert.match(r.stdout, /arena:\s+16,000 bytes/);
  assert.match(r.stdout, /lower bound:\s+16,000 bytes/);
  assert.match(readFileSync(join(out, 'model.h'), 'utf8'), /int tf_model_invoke\(const int8_t \*input, int8_t \*output\);/);
});

test('run --json on cortex-m4 gives outputs, instructions and linker sizes; --output writes raw bytes', () => {
  const out = join(work, 'kws');
  const input = join(work, 'in0.bin');
  const outFile = join(work, 'out0.bin');
  writeFileSync(input, goldenInput('kws_ref_model', 0));
  const r = tinyforge(['run', out, '--input', input, '--output', outFile, '--json']);
  assert.is(r.status, 0, r.stderr);
  const json = JSON.parse(r.stdout);
  assert.is(json.target, 'cortex-m4');
  assert.equal(json.outputs, [Array.from(new Int8Array(Uint8Array.from(goldenOutput('kws_ref_model', 0)).buffer))]);
  assert.ok(Number.isInteger(json.instructions) && json.instructions > 100_000, `instructions ${json.instructions}`);
  for (const key of ['arenaBytes', 'flashBytes', 'sramBytes']) assert.ok(json[key] > 0, key);
  assert.equal(readFileSync(outFile), goldenOutput('kws_ref_model', 0));
});

test('run --target host gives null instructions and sizes', () => {
  const r = tinyforge(['run', join(work, 'kws'), '--target', 'host', '--json']);
  assert.is(r.status, 0, r.stderr);
  const json = JSON.parse(r.stdout);
  assert.is(json.target, 'host');
  assert.is(json.instructions, null);
  assert.is(json.flashBytes, null);
});

test('run refuses an input of the wrong size, naming both sizes', () => {
  const input = join(work, 'short.bin');
  writeFileSync(input, new Uint8Array(10));
  const r = tinyforge(['run', join(work, 'kws'), '--input', input]);
  assert.is(r.status, 1);
  assert.match(r.stderr, /has 10 bytes; the model's input .* needs 490/);
});

test('compile --target wasm writes both modules, the typed wrapper, and model.wat on request', () => {
  const out = join(work, 'kws-wasm');
  const r = tinyforge(['compile', KWS, '--target', 'wasm', '--wat', '-o', out]);
  assert.is(r.status, 0, r.stderr);
  for (const f of ['model.wasm', 'model.scalar.wasm', 'model.js', 'model.d.ts', 'model.wat', 'tinyforge.json', 'report.txt']) assert.ok(existsSync(join(out, f)), f);
  assert.not.ok(existsSync(join(out, 'model.c')), 'no C sources in a wasm build');
  assert.match(r.stdout, /wasm module\s+model\.wasm \d+ B \(SIMD\), model\.scalar\.wasm \d+ B/);
  assert.match(r.stdout, /wasm linear memory\s+\d+ B, fixed/);
  assert.match(readFileSync(join(out, 'model.wat'), 'utf8'), /^\(module/);
  assert.match(readFileSync(join(out, 'model.d.ts'), 'utf8'), /invoke\(input: Int8Array\): Int8Array;/);
});

test('the KWS model.wasm is under 100 KB; compile --json states the module sizes', () => {
  const bytes = readFileSync(join(work, 'kws-wasm', 'model.wasm')).length;
  assert.ok(bytes < 100_000, `${bytes} B`);
  const r = tinyforge(['compile', KWS, '--target', 'wasm', '--json', '-o', join(work, 'kws-wasm-json')]);
  assert.is(r.status, 0, r.stderr);
  const json = JSON.parse(r.stdout);
  assert.is(json.wasm.wasmBytes, readFileSync(join(work, 'kws-wasm-json', 'model.wasm')).length);
  assert.is(json.wasm.scalarWasmBytes, readFileSync(join(work, 'kws-wasm-json', 'model.scalar.wasm')).length);
  assert.is(json.wasm.memoryBytes % 65536, 0);
  assert.ok(json.wasm.memoryBytes >= json.wasm.constantBytes + json.wasm.arenaBytes);
});

test('run on a wasm build: golden outputs, msPerInference and wasmBytes in the JSON, SIMD and --no-simd', () => {
  const out = join(work, 'kws-wasm');
  const input = join(work, 'in0-wasm.bin');
  writeFileSync(input, goldenInput('kws_ref_model', 0));
  const expected = [Array.from(new Int8Array(Uint8Array.from(goldenOutput('kws_ref_model', 0)).buffer))];
  const sizes = new Set<number>();
  for (const flags of [[], ['--no-simd']]) {
    const r = tinyforge(['run', out, '--input', input, '--json', ...flags]);
    assert.is(r.status, 0, r.stderr);
    const json = JSON.parse(r.stdout);
    assert.is(json.target, 'wasm');
    assert.equal(json.outputs, expected);
    assert.ok(json.msPerInference > 0 && json.msPerInference < 1000, `msPerInference ${json.msPerInference}`);
    assert.is(json.instructions, null);
    sizes.add(json.wasmBytes);
  }
  assert.equal([...sizes].sort(), [readFileSync(join(out, 'model.scalar.wasm')).length, readFileSync(join(out, 'model.wasm')).length].sort());
  const text = tinyforge(['run', out, '--input', input]);
  assert.match(text.stdout, /time: \d+\.\d+ ms per inference \(median/);
});

test('a wasm build cannot run on a C target, nor a C build on wasm; --wat needs --target wasm', () => {
  const r = tinyforge(['run', join(work, 'kws-wasm'), '--target', 'cortex-m4']);
  assert.is(r.status, 1);
  assert.match(r.stderr, /compiled for wasm and cannot run on cortex-m4/);
  const c = tinyforge(['run', join(work, 'kws'), '--target', 'wasm']);
  assert.is(c.status, 1);
  assert.match(c.stderr, /compiled for cortex-m4 and cannot run on wasm/);
  const wat = tinyforge(['compile', KWS, '--target', 'cortex-m4', '--wat', '-o', join(work, 'nowat')]);
  assert.is(wat.status, 1);
  assert.match(wat.stderr, /--wat needs --target wasm/);
  assert.not.ok(existsSync(join(work, 'nowat')));
});

test('usage errors exit 2', () => {
  assert.is(tinyforge(['compile', HELLO]).status, 2);
  assert.is(tinyforge(['compile', HELLO, '-o', join(work, 'x'), '--target', 'pdp11']).status, 2);
  assert.is(tinyforge(['frobnicate']).status, 2);
});

test('a truncated model fails with a message and writes nothing', () => {
  const bad = join(work, 'truncated.tflite');
  writeFileSync(bad, readFileSync(KWS).subarray(0, 20000));
  const out = join(work, 'truncated-out');
  const r = tinyforge(['compile', bad, '-o', out]);
  assert.is(r.status, 1);
  assert.match(r.stderr, /truncated\.tflite: /);
  assert.not.ok(existsSync(out));
  assert.equal(readdirSync(work).filter((f) => f.startsWith('.tinyforge-')), []);
});

test('an unsupported operator is named with its index and tensors', () => {
  const model = readTflite(readFileSync(HELLO));
  const EXP = 47;
  const patched = { ...model, operators: model.operators.map((op, i) => (i === 1 ? { ...op, opcode: EXP, optionsType: 0, options: {} } : op)) };
  const bad = join(work, 'exp.tflite');
  writeFileSync(bad, writeTflite(patched));
  const r = tinyforge(['compile', bad, '-o', join(work, 'exp-out')]);
  assert.is(r.status, 1);
  assert.match(r.stderr, /operator 1 \(EXP\) is not supported/);
  assert.match(r.stderr, /inputs: tensor \d+ '/);
  assert.not.ok(existsSync(join(work, 'exp-out')));
});

test('a model over the SRAM budget fails at compile time with the peak, the live tensors and the overshoot', () => {
  const out = join(work, 'vww-small');
  const r = tinyforge(['compile', VWW, '--sram', '32768', '-o', out]);
  assert.is(r.status, 1);
  assert.match(r.stderr, /needs \d+ bytes of SRAM .* but the target has 32768: \d+ bytes over\. Peak at operator \d+/);
  assert.match(r.stderr, /live: tensor \d+ /);
  assert.not.ok(existsSync(out));
});

test('inspect prints the per-layer table without writing anything', () => {
  const r = tinyforge(['inspect', VWW]);
  assert.is(r.status, 0, r.stderr);
  assert.match(r.stdout, /Conv2D/);
  assert.match(r.stdout, /DepthwiseConv2D/);
  // The first bottleneck (operators 2-4) streams, so the peak moves to the first convolution.
  assert.match(r.stdout, /InvertedBottleneck\s+inverted_bottleneck_s8/);
  assert.match(r.stdout, /peak\s+at operator 0 \(CONV_2D\)/);
});

test.run();
