/**
 * QUANTIZE to int8, as TFLM does it: int8 -> int8 and uint8 -> int8 requantization (Requantize, as a
 * 256-entry table) and float32 -> int8 (AffineQuantize: round(x / scale) in float32, halves away from
 * zero). Reference vs TFLite runtime and host C vs reference. TFLite's optimized float path divides by
 * the scale in double instead of float, so the two may differ where the float32 quotient rounds onto a
 * .5 tie; those elements are checked against TFLM's float32 formula instead.
 */
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { UnsupportedError } from '../../compiler/errors.ts';
import type { UnaryCase } from './elementwise_harness.ts';
import { buildCases, buildUnary, expectError, expectHostC, expectTflite, makeRuns, prepare, reference } from './elementwise_harness.ts';
import { loadTfliteRuntime } from '../oracles/tflite_runtime.ts';
import { graphToTflite } from '../../compiler/frontend/builder/to_tflite.ts';
import { Random } from '../../compiler/frontend/builder/random.ts';

// [input scale, input zero point, output scale, output zero point, input type]
const REQUANT: readonly (readonly [number, number, number, number, 'int8' | 'uint8'])[] = [
  [0.05, -5, 0.05, -5, 'int8'], // identity
  [0.05, -5, 0.05, 100, 'int8'], // a shift of the zero point, saturating
  [0.05, -128, 0.0371, 127, 'int8'],
  [0.02, 127, 0.1, -3, 'int8'],
  [1.5, 0, 0.003, 0, 'int8'], // output scale << input scale: nearly everything saturates
  [0.0078125, 128, 0.0078125, 0, 'uint8'], // TFLM's xor-0x80 fast path
  [0.0392157, 0, 0.0235, -128, 'uint8'],
  [0.01, 255, 0.02, 10, 'uint8'],
];
const SHAPES = [[256], [3, 91], [1, 5, 5, 11]];
const REQUANT_CASES: UnaryCase[] = REQUANT.map(([si, zi, so, zo, type], i) => ({
  op: 'Quantize', input: { scale: si, zeroPoint: zi }, output: { scale: so, zeroPoint: zo }, shape: SHAPES[i % SHAPES.length]!, inputType: type,
}));
// float32 -> int8: [output scale, output zero point]
const FLOAT: readonly (readonly [number, number])[] = [[0.0371, 3], [0.1, -128], [0.02, 127], [0.5, 0], [0.00392157, -128]];
const FLOAT_CASES: UnaryCase[] = FLOAT.map(([s, z], i) => ({ op: 'Quantize', input: null, output: { scale: s, zeroPoint: z }, shape: SHAPES[i % SHAPES.length]!, inputType: 'float32' }));

/** TFLM AffineQuantize: static_cast<int32_t>(std::round(x / (float)scale)) + zp, clamped. */
function tflmQuantize(x: number, scale: number, zeroPoint: number): number {
  const q = Math.fround(x / Math.fround(scale));
  return Math.max(-128, Math.min(127, Math.sign(q) * Math.round(Math.abs(q)) + zeroPoint));
}

test('quantize: int8 and uint8 requantization equals the TFLite runtime', async () => {
  const g = buildCases('requantize', REQUANT_CASES);
  await expectTflite(g, makeRuns(g, 3, 71));
});

test('quantize: float32 -> int8 equals the TFLite runtime except where its double division breaks a float32 tie', async () => {
  const runtime = await loadTfliteRuntime();
  const random = new Random(72);
  for (const [scale, zeroPoint] of FLOAT) {
    const s = Math.fround(scale);
    const g = buildUnary({ op: 'Quantize', input: null, output: { scale, zeroPoint }, shape: [2048], inputType: 'float32' });
    // Random values, plus values on the rounding ties of the float32 quotient and just beside them.
    const x = Float32Array.from({ length: 2048 }, (_, i) => {
      if (i < 512) return (random.next() * 2 - 1) * 300 * s;
      const k = random.int(-200, 200) + 0.5;
      return i % 3 === 0 ? k * s : i % 3 === 1 ? Math.fround(k * s) + 1e-7 * s : Math.fround(Math.fround(k) * s);
    });
    const bytes = new Uint8Array(x.buffer);
    const ref = new Int8Array(reference(g, [bytes])[0]!.buffer);
    const tfl = new Int8Array(runtime.run(graphToTflite(g), [bytes])[0]!.buffer);
    for (let i = 0; i < x.length; i++) {
      assert.is(ref[i], tflmQuantize(x[i]!, s, zeroPoint), `TFLM formula, x = ${x[i]}, scale ${s}`);
      if (ref[i] === tfl[i]) continue;
      const qf = Math.fround(x[i]! / s);
      const qd = x[i]! / s;
      // Only a float32 quotient on an exact .5 tie that the double quotient lands beside may differ, by 1.
      assert.ok(Math.abs(qf % 1) === 0.5 && qd !== qf && Math.abs(ref[i]! - tfl[i]!) === 1, `x = ${x[i]}: reference ${ref[i]}, TFLite ${tfl[i]}`);
    }
  }
});

test('quantize: float32 -> int8 saturates infinities and huge values, NaN gives the zero point', () => {
  const g = buildUnary({ op: 'Quantize', input: null, output: { scale: 0.1, zeroPoint: 5 }, shape: [8], inputType: 'float32' });
  const x = Float32Array.from([Infinity, -Infinity, NaN, 3e38, -3e38, -0, 1e-45, 12.75]);
  const y = new Int8Array(reference(g, [new Uint8Array(x.buffer)])[0]!.buffer);
  assert.equal(Array.from(y), [127, -128, 5, 127, -128, 5, 5, 127]);
});

test('quantize: host C and wasm (SIMD, scalar) equal the reference (requantization and float32, including non-finite inputs)', async () => {
  const g = buildCases('quantize', [...REQUANT_CASES, ...FLOAT_CASES]);
  const runs = makeRuns(g, 2, 73, 20);
  const lastFloat = g.inputs.length - 1;
  const special = (n: number) => Float32Array.from({ length: n }, (_, i) => [Infinity, -Infinity, NaN, 3e38, -3e38, -0, 0.05, -0.05][i % 8]! * (i < 8 ? 1 : (i % 13) / 7));
  const third = runs[1]!.map((b, k) => (k === lastFloat ? new Uint8Array(special(b.length / 4).buffer) : b));
  // Quotients on and beside the float32 rounding ties of every float case's scale.
  const ties = runs[1]!.map((b, k) => {
    const c = [...REQUANT_CASES, ...FLOAT_CASES][k]!;
    if (c.inputType !== 'float32') return b;
    const s = Math.fround(c.output!.scale as number);
    return new Uint8Array(Float32Array.from({ length: b.length / 4 }, (_, i) => {
      const t = (i % 300) - 150 + 0.5;
      return i % 2 ? Math.fround(t * s) : Math.fround(Math.fround(t) * s) * (1 + 1e-7);
    }).buffer);
  });
  await expectHostC(g, [...runs, third, ties]);
});

test('quantize: refuses other types', () => {
  expectError(() => prepare(buildUnary({ op: 'Quantize', input: { scale: 0.1, zeroPoint: 0 }, output: { scale: 0.1, zeroPoint: 0 }, shape: [4], inputType: 'int16' })), UnsupportedError, /int16/);
});

test.run();
