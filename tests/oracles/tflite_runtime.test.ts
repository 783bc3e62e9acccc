/**
 * Checks the TFLite-in-WASM oracle (tests/oracles/tflite_runtime.ts) against what is known about it:
 * - end to end against TFLM golden vectors: exact where TFLM's double rounding and this runtime's single rounding in
 *   CONV_2D / FULLY_CONNECTED happen not to change the final bytes, small recorded differences elsewhere;
 * - on an exposed intermediate tensor (first CONV_2D of the KWS model, then the DEPTHWISE_CONV_2D after it): bit-exact
 *   with an independent JS implementation using single rounding for conv and double rounding for depthwise, which
 *   XNNPACK (float requantization) is not.
 */
import { readFileSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { createTfliteRuntime, loadTfliteRuntime, type TfliteRuntime } from './tflite_runtime.ts';

const repoRoot = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../..');
const shared = path.resolve(repoRoot, '../shared');
const modelPath = (dir: string, name: string) => path.join(shared, 'models', dir, `${name}.tflite`);
const golden = (name: string, file: string) => new Uint8Array(readFileSync(path.join(shared, 'golden/tflm', name, file)));
const i8 = (u: Uint8Array) => new Int8Array(u.buffer, u.byteOffset, u.byteLength);
const concat = (parts: readonly Uint8Array[]) => new Uint8Array(Buffer.concat(parts));

/** Elements that differ, and the largest |a - b|, as int8. */
function diff(a: Uint8Array, b: Uint8Array): { count: number; max: number } {
  assert.is(a.length, b.length, 'length');
  const x = i8(a);
  const y = i8(b);
  let count = 0;
  let max = 0;
  for (let i = 0; i < x.length; i++) {
    const d = Math.abs(x[i]! - y[i]!);
    if (d) count++;
    if (d > max) max = d;
  }
  return { count, max };
}

// ---------------------------------------------------------------------------------------------------------------------
// 1. End to end against TFLM golden vectors (inputs 0..7).
//
// Measured: `[k, differing elements, max |diff|]` for every input whose output is not byte-identical to TFLM. Outputs
// are the final softmax (12 / 10 / 2 classes), where a ±1 difference inside one conv can compound (resnet input 7:
// the all-127 input saturates activations). Any change in the oracle's numerics (XNNPACK back on, another rounding,
// wrong tensor, garbage) changes this table: e.g. with XNNPACK on, vww input 1 and resnet input 2 differ.

const GOLDEN: { name: string; dir: string; outputBytes: number; mismatches: [number, number, number][] }[] = [
  { name: 'hello_world_int8', dir: 'tflm', outputBytes: 1, mismatches: [] },
  { name: 'kws_ref_model', dir: 'mlperf-tiny', outputBytes: 12, mismatches: [[4, 2, 1], [6, 2, 8]] },
  {
    name: 'pretrainedResnet_quant',
    dir: 'mlperf-tiny',
    outputBytes: 10,
    mismatches: [[1, 2, 7], [2, 2, 1], [3, 2, 1], [5, 2, 1], [7, 5, 25]],
  },
  { name: 'vww_96_int8', dir: 'mlperf-tiny', outputBytes: 2, mismatches: [[3, 2, 1]] },
];

for (const g of GOLDEN) {
  test(`golden ${g.name}: exact except the recorded cases`, async () => {
    const rt = await loadTfliteRuntime();
    const model = new Uint8Array(readFileSync(modelPath(g.dir, g.name)));
    let exact = 0;
    for (let k = 0; k < 8; k++) {
      const out = rt.run(model, [golden(g.name, `input${k}.bin`)]);
      assert.is(out.length, 1, 'one output tensor');
      assert.is(out[0]!.length, g.outputBytes, 'output bytes');
      const want = golden(g.name, `output${k}.bin`);
      assert.is(want.length, g.outputBytes, 'golden length');
      const d = diff(out[0]!, want);
      const rec = g.mismatches.find(([kk]) => kk === k);
      assert.equal([k, d.count, d.max], rec ?? [k, 0, 0], `${g.name} input${k}: [k, differing, max|diff|]`);
      if (d.count === 0) exact++;
    }
    assert.is(exact, 8 - g.mismatches.length);
  });
}

// ---------------------------------------------------------------------------------------------------------------------
// 2. Intermediate tensors, against an independent implementation.
//
// A minimal read-only FlatBuffers walker over the TFLite schema (field ids from tensorflow/lite/schema/schema.fbs),
// plus one write: a new `SubGraph.outputs` vector appended at the end of the file (uoffsets point forward, so the
// field can be redirected there), which exposes intermediate tensors as extra model outputs.

class Fb {
  readonly dv: DataView;
  constructor(readonly buf: Uint8Array) {
    this.dv = new DataView(buf.buffer, buf.byteOffset, buf.byteLength);
  }
  u32(p: number): number {
    return this.dv.getUint32(p, true);
  }
  root(): number {
    return this.u32(0);
  }
  field(t: number, id: number): number {
    const vt = t - this.dv.getInt32(t, true);
    if (4 + 2 * id >= this.dv.getUint16(vt, true)) return 0;
    const o = this.dv.getUint16(vt + 4 + 2 * id, true);
    return o ? t + o : 0;
  }
  table(t: number, id: number): number {
    const p = this.field(t, id);
    return p ? p + this.u32(p) : 0;
  }
  vec(t: number, id: number): { len: number; at: number } {
    const p = this.field(t, id);
    if (!p) return { len: 0, at: 0 };
    const v = p + this.u32(p);
    return { len: this.u32(v), at: v + 4 };
  }
  tables(t: number, id: number): number[] {
    const { len, at } = this.vec(t, id);
    return Array.from({ length: len }, (_, k) => at + 4 * k + this.u32(at + 4 * k));
  }
  i32s(t: number, id: number): number[] {
    const { len, at } = this.vec(t, id);
    return Array.from({ length: len }, (_, k) => this.dv.getInt32(at + 4 * k, true));
  }
  f32s(t: number, id: number): number[] {
    const { len, at } = this.vec(t, id);
    return Array.from({ length: len }, (_, k) => this.dv.getFloat32(at + 4 * k, true));
  }
  i64s(t: number, id: number): number[] {
    const { len, at } = this.vec(t, id);
    return Array.from({ length: len }, (_, k) => Number(this.dv.getBigInt64(at + 8 * k, true)));
  }
  bytes(t: number, id: number): Uint8Array {
    const { len, at } = this.vec(t, id);
    return this.buf.subarray(at, at + len);
  }
  int(t: number, id: number, size: 1 | 4, def: number): number {
    const p = this.field(t, id);
    if (!p) return def;
    return size === 1 ? this.dv.getInt8(p) : this.dv.getInt32(p, true);
  }
}

interface QTensor {
  shape: number[];
  scale: number[];
  zeroPoint: number[];
  data: Uint8Array;
}
interface ConvOp {
  code: number;
  inputs: number[];
  outputs: number[];
  padding: number; // 0 SAME, 1 VALID
  strideW: number;
  strideH: number;
  depthMultiplier: number;
  activation: number; // 0 NONE, 1 RELU, 3 RELU6
}

function parseModel(bytes: Uint8Array) {
  const fb = new Fb(bytes);
  const root = fb.root();
  const codes = fb.tables(root, 1).map((c) => Math.max(fb.int(c, 0, 1, 0), fb.int(c, 3, 4, 0)));
  const buffers = fb.tables(root, 4);
  const sg = fb.tables(root, 2)[0]!;
  const tensor = (i: number): QTensor => {
    const t = fb.tables(sg, 0)[i]!;
    const q = fb.table(t, 4);
    const b = fb.int(t, 2, 4, 0);
    return {
      shape: fb.i32s(t, 0),
      scale: q ? fb.f32s(q, 2) : [],
      zeroPoint: q ? fb.i64s(q, 3) : [],
      data: b ? fb.bytes(buffers[b]!, 0) : new Uint8Array(0),
    };
  };
  const ops = fb.tables(sg, 3).map((o): ConvOp => {
    const code = codes[fb.int(o, 0, 4, 0)]!;
    const opt = fb.table(o, 4);
    const dw = code === 4; // DepthwiseConv2DOptions has depth_multiplier at id 3, shifting the activation to id 4
    return {
      code,
      inputs: fb.i32s(o, 1),
      outputs: fb.i32s(o, 2),
      padding: opt ? fb.int(opt, 0, 1, 0) : 0,
      strideW: opt ? fb.int(opt, 1, 4, 1) : 1,
      strideH: opt ? fb.int(opt, 2, 4, 1) : 1,
      depthMultiplier: dw && opt ? fb.int(opt, 3, 4, 1) : 1,
      activation: opt ? fb.int(opt, dw ? 4 : 3, 1, 0) : 0,
    };
  });
  /** A copy of the model whose graph outputs are `outputs` (tensor indices). */
  const withOutputs = (outputs: readonly number[]): Uint8Array => {
    const field = fb.field(sg, 2);
    assert.ok(field, 'subgraph has an outputs field');
    const at = (bytes.length + 3) & ~3;
    const out = new Uint8Array(at + 4 + 4 * outputs.length);
    out.set(bytes);
    const dv = new DataView(out.buffer);
    dv.setUint32(at, outputs.length, true);
    outputs.forEach((t, k) => dv.setInt32(at + 4 + 4 * k, t, true));
    dv.setUint32(field, at - field, true);
    return out;
  };
  return { tensor, ops, withOutputs, outputs: fb.i32s(sg, 2) };
}

/** tflite::QuantizeMultiplier: M in Q31 and a power-of-two exponent (negative = right shift). */
function quantizeMultiplier(real: number): { m: bigint; shift: number } {
  if (real === 0) return { m: 0n, shift: 0 };
  let shift = Math.floor(Math.log2(real)) + 1; // frexp: real = frac * 2^shift, frac in [0.5, 1)
  while (real / 2 ** shift >= 1) shift++;
  while (real / 2 ** shift < 0.5) shift--;
  let q = Math.round((real / 2 ** shift) * 2 ** 31);
  if (q === 2 ** 31) {
    q /= 2;
    shift++;
  }
  return { m: BigInt(q), shift };
}

/** TFLM / gemmlowp: SaturatingRoundingDoublingHighMul then RoundingDivideByPOT. */
function requantDouble(acc: number, m: bigint, shift: number): number {
  const left = shift > 0 ? shift : 0;
  const right = shift > 0 ? 0 : -shift;
  const a = BigInt(acc) * (1n << BigInt(left));
  const ab = a * m;
  const nudge = ab >= 0n ? 1n << 30n : 1n - (1n << 30n);
  const high = (ab + nudge) / (1n << 31n); // BigInt division truncates toward zero, as the C++ does
  const x = Number(high);
  if (right === 0) return x;
  const mask = (1 << right) - 1;
  const rem = x & mask;
  const threshold = (mask >> 1) + (x < 0 ? 1 : 0);
  return (x >> right) + (rem > threshold ? 1 : 0);
}

/** TFLite built with TFLITE_SINGLE_ROUNDING: (acc * M + 2^(30 - shift)) >> (31 - shift). */
function requantSingle(acc: number, m: bigint, shift: number): number {
  const total = BigInt(31 - shift);
  return Number((BigInt(acc) * m + (1n << (total - 1n))) >> total);
}

/** Reference int8 CONV_2D / DEPTHWISE_CONV_2D (NHWC, batch 1, no dilation). */
function convRef(
  op: ConvOp,
  input: Uint8Array,
  tensor: (i: number) => QTensor,
  requant: (acc: number, m: bigint, shift: number) => number,
): Uint8Array {
  const inT = tensor(op.inputs[0]!);
  const wT = tensor(op.inputs[1]!);
  const bT = tensor(op.inputs[2]!);
  const outT = tensor(op.outputs[0]!);
  const [, H, W, C] = inT.shape as [number, number, number, number];
  const [, OH, OW, OC] = outT.shape as [number, number, number, number];
  const dw = op.code === 4;
  const KH = wT.shape[1]!;
  const KW = wT.shape[2]!;
  const padH = op.padding === 0 ? Math.floor(Math.max((OH - 1) * op.strideH + KH - H, 0) / 2) : 0;
  const padW = op.padding === 0 ? Math.floor(Math.max((OW - 1) * op.strideW + KW - W, 0) / 2) : 0;
  const x = i8(input);
  const w = i8(wT.data);
  const bias = new Int32Array(bT.data.slice().buffer);
  const inZp = inT.zeroPoint[0]!;
  const outZp = outT.zeroPoint[0]!;
  const outScale = outT.scale[0]!;
  let lo = -128;
  let hi = 127;
  if (op.activation === 1 || op.activation === 3) lo = Math.max(lo, outZp);
  if (op.activation === 3) hi = Math.min(hi, outZp + Math.round(6 / outScale));
  const mults = Array.from({ length: OC }, (_, c) => {
    const ws = wT.scale.length === 1 ? wT.scale[0]! : wT.scale[c]!;
    return quantizeMultiplier((Math.fround(inT.scale[0]!) * Math.fround(ws)) / Math.fround(outScale));
  });
  const out = new Int8Array(OH * OW * OC);
  for (let oy = 0; oy < OH; oy++) {
    for (let ox = 0; ox < OW; ox++) {
      for (let oc = 0; oc < OC; oc++) {
        let acc = bias[oc]!;
        for (let ky = 0; ky < KH; ky++) {
          const iy = oy * op.strideH - padH + ky;
          if (iy < 0 || iy >= H) continue;
          for (let kx = 0; kx < KW; kx++) {
            const ix = ox * op.strideW - padW + kx;
            if (ix < 0 || ix >= W) continue;
            if (dw) {
              const ic = Math.floor(oc / op.depthMultiplier);
              acc += (x[(iy * W + ix) * C + ic]! - inZp) * w[(ky * KW + kx) * OC + oc]!;
            } else {
              for (let ic = 0; ic < C; ic++) {
                acc += (x[(iy * W + ix) * C + ic]! - inZp) * w[((oc * KH + ky) * KW + kx) * C + ic]!;
              }
            }
          }
        }
        const { m, shift } = mults[oc]!;
        out[(oy * OW + ox) * OC + oc] = Math.min(hi, Math.max(lo, requant(acc, m, shift) + outZp));
      }
    }
  }
  return new Uint8Array(out.buffer);
}

test('kws intermediates: CONV_2D single rounding, DEPTHWISE_CONV_2D double rounding, bit-exact; XNNPACK off', async () => {
  const rt = await loadTfliteRuntime();
  const bytes = new Uint8Array(readFileSync(modelPath('mlperf-tiny', 'kws_ref_model')));
  const { tensor, ops, withOutputs, outputs } = parseModel(bytes);
  const [conv, dwc] = ops as [ConvOp, ConvOp];
  assert.is(conv.code, 3, 'op 0 is CONV_2D');
  assert.is(dwc.code, 4, 'op 1 is DEPTHWISE_CONV_2D');
  assert.is(dwc.inputs[0], conv.outputs[0]);
  // Several outputs: the original one plus both intermediates.
  const exposed = withOutputs([...outputs, conv.outputs[0]!, dwc.outputs[0]!]);
  const xnnpack = await createTfliteRuntime({ xnnpack: true });

  let convVsDouble = 0;
  let xnnVsOracle = 0;
  let elements = 0;
  for (let k = 0; k < 8; k++) {
    const input = golden('kws_ref_model', `input${k}.bin`);
    const [final, convOut, dwOut] = rt.run(exposed, [input]) as [Uint8Array, Uint8Array, Uint8Array];
    assert.equal(final, rt.run(bytes, [input])[0], 'original output unchanged by exposing intermediates');
    assert.is(convOut.length, 25 * 5 * 64);
    assert.is(dwOut.length, 25 * 5 * 64);

    assert.equal(diff(convOut, convRef(conv, input, tensor, requantSingle)), { count: 0, max: 0 }, `conv single, input${k}`);
    const d = diff(convOut, convRef(conv, input, tensor, requantDouble));
    assert.ok(d.max <= 1, `conv vs double rounding within ±1 (input${k})`);
    convVsDouble += d.count;
    elements += convOut.length;
    // Depthwise from the oracle's own conv output: TFLite's depthwise kernel rounds like TFLM.
    assert.equal(diff(dwOut, convRef(dwc, convOut, tensor, requantDouble)), { count: 0, max: 0 }, `dw double, input${k}`);

    const [, xConv, xDw] = xnnpack.run(exposed, [input]) as [Uint8Array, Uint8Array, Uint8Array];
    xnnVsOracle += diff(xConv, convOut).count + diff(xDw, dwOut).count;
  }
  // Single and double rounding disagree on a few conv outputs (measured: 103 of 64000 over inputs 0..7), so the exact
  // match above is not vacuous; and XNNPACK's float requantization differs from the oracle on these same tensors
  // (measured: 151 of 128000 conv + depthwise outputs; with XNNPACK on, the depthwise check above already fails).
  assert.ok(convVsDouble > 0 && convVsDouble < elements / 100, `single vs double rounding: ${convVsDouble}/${elements}`);
  assert.ok(xnnVsOracle > 0, 'XNNPACK on gives different intermediates (so it is really off in the oracle)');
});

// ---------------------------------------------------------------------------------------------------------------------
// 3. API behaviour.

test('repeated runs are deterministic; bad inputs and models throw', async () => {
  const rt: TfliteRuntime = await loadTfliteRuntime();
  assert.is(await loadTfliteRuntime(), rt, 'cached');
  const model = new Uint8Array(readFileSync(modelPath('tflm', 'hello_world_int8')));
  const outs = Array.from({ length: 8 }, (_, k) => concat(rt.run(model, [golden('hello_world_int8', `input${k}.bin`)])));
  for (let rep = 0; rep < 50; rep++) {
    const k = rep % 8;
    assert.equal(concat(rt.run(model, [golden('hello_world_int8', `input${k}.bin`)])), outs[k]);
  }
  assert.throws(() => rt.run(model, [new Uint8Array(2)]), /input 0 .*needs 1 bytes, got 2/);
  assert.throws(() => rt.run(model, []), /1 inputs, got 0/);
  assert.throws(() => rt.run(new Uint8Array(64), [new Uint8Array(1)]), /cannot create interpreter/);
  assert.equal(concat(rt.run(model, [golden('hello_world_int8', 'input0.bin')])), outs[0], 'still usable after errors');
});

test.run();
