/**
 * @fileoverview The wasm-only channels-in-lanes form of the convolutions (runtime/as/gemm_lanes.ts): when its
 * exactness conditions can be checked at compile time, a conv call becomes a call of `<name>_lanes` with the weights
 * packed and the requantization constants precomputed. The numbers are the same; only the layout and the kernel differ.
 */
import type { Graph } from '../../ir/graph.ts';
import { isState } from '../../ir/graph.ts';
import type { KernelCall } from '../../ops/op.ts';
import type { Rounding } from '../../ops/common/fixed_point.ts';
import { convArithmetic, multiplyByQuantizedMultiplier, realMultiplier } from '../../ops/common/fixed_point.ts';

/**
 * Argument positions of the convolutions that have a channels-in-lanes form (runtime/as/gemm_lanes.ts, kernel
 * `<name>_lanes`, measured 5-35% faster on every convolution of the MLPerf Tiny models): it takes the same arguments
 * without multipliers, shifts and output_offset (`requant`, the three in a row), `weights` and `folded_bias` becoming
 * that GEMM's packed weights and constants.
 */
const LANES: ReadonlyMap<string, { inC: number; outC: number; filterH?: number; filterW?: number; requant: number }> = new Map([
  ['conv2d_s8', { inC: 8, outC: 11, filterH: 12, filterW: 13, requant: 21 }],
  ['conv2d_1x1_s8', { inC: 7, outC: 10, requant: 13 }],
]);

/**
 * The call of `<name>_lanes` equivalent to `call`, when runtime/as/gemm_lanes.ts's conditions hold: out_c % 4 == 0,
 * runs of at least 2 taps, an int8 activation range, and per channel |folded_bias| + 128 * sum |w| < 2^29 (so the
 * doubled sum never wraps) and, for the 'double' and 'single' roundings, a multiplier >= 0 and an exponent
 * e = -shift in [2, 31] with (|output_offset| + 1) * 2^e < 2^30. The 'float32' rounding has no shifts: instead each
 * multiplier m must be finite with m / 2 a float32 (the kernel multiplies the doubled sum by m / 2: the same
 * product), and |output_offset| <= 2^16. A channel whose weights are all 0
 * or whose multiplier is 0 has a constant output, computed here: it becomes a channel of multiplier 0 whose rounding
 * term gives that constant (models have such channels, with saturated biases that no bound would admit).
 */
export function lanesCall(call: KernelCall, graph: Graph, rounding: Rounding): KernelCall | null {
  const at = LANES.get(call.name);
  if (!at) return null;
  if (call.args.length !== at.requant + 5) throw new Error(`${call.name}: ${call.args.length} arguments, LANES expects ${at.requant + 5}`);
  const int = (i: number): number => {
    const a = call.args[i]!;
    if (a.kind !== 'int') throw new Error(`${call.name}: argument ${i} should be an int`);
    return a.value;
  };
  const table = (i: number): readonly number[] => {
    const a = call.args[i]!;
    if (a.kind !== 'table') throw new Error(`${call.name}: argument ${i} should be a table`);
    return a.values;
  };
  const weightsArg = call.args[1]!;
  const w = weightsArg.kind === 'tensor' && weightsArg.tensor >= 0 ? graph.tensors[weightsArg.tensor]! : undefined;
  // Packing happens here, at compile time: a layer whose weights or folded bias training updates cannot use it.
  if (!w?.data || w.dtype !== 'int8' || isState(graph, w.id) || call.args[2]!.kind !== 'table') return null;
  const weights = w.data as Int8Array;
  const outC = int(at.outC);
  const rows = at.filterH === undefined ? 1 : int(at.filterH);
  const run = (at.filterW === undefined ? 1 : int(at.filterW)) * int(at.inC);
  const k = rows * run;
  if (outC % 4 !== 0 || run < 2) return null;
  const folded = table(2);
  const multipliers = table(at.requant);
  const shifts = table(at.requant + 1);
  const outputOffset = int(at.requant + 2);
  const [actMin, actMax] = [int(at.requant + 3), int(at.requant + 4)];
  if (actMin < -128 || actMax > 127 || actMin > actMax) return null;
  const arithmetic = convArithmetic(rounding);
  const float32 = arithmetic === 'float32';
  if (float32 && Math.abs(outputOffset) > 2 ** 16) return null;
  // Per channel: its output when constant, else null (its bounds checked).
  const constant = new Array<number | null>(outC).fill(null);
  const output = (acc: number, oc: number): number => {
    const y = multiplyByQuantizedMultiplier(acc, multipliers[oc]!, shifts[oc]!, arithmetic) + outputOffset;
    return Math.min(Math.max(y, actMin), actMax);
  };
  for (let oc = 0; oc < outC; oc++) {
    // sum |w|, and the least and greatest sums over every int8 input (padding reads the input zero point, an int8).
    let sumAbs = 0;
    let low = folded[oc]!;
    let high = folded[oc]!;
    for (let i = 0; i < k; i++) {
      const v = weights[oc * k + i]!;
      sumAbs += Math.abs(v);
      low += v > 0 ? -128 * v : 127 * v;
      high += v > 0 ? 127 * v : -128 * v;
    }
    const real = realMultiplier(multipliers[oc]!, shifts[oc]!, arithmetic);
    if (float32 && !Number.isFinite(real)) return null;
    if (sumAbs === 0 || real === 0) {
      constant[oc] = output(folded[oc]!, oc);
      continue;
    }
    // 'float32': the requantization is monotone in the sum, so a channel whose least and greatest sums give the same
    // output is constant (so are channels with saturated biases and near-zero multipliers, which the bound refuses).
    if (float32 && low >= -(2 ** 31) && high < 2 ** 31 && output(low, oc) === output(high, oc)) {
      constant[oc] = output(low, oc);
      continue;
    }
    if (float32) {
      if (Math.fround(real / 2) !== real / 2) return null;
    } else {
      const e = -shifts[oc]!;
      if (multipliers[oc]! < 0 || e < 2 || e > 31 || (Math.abs(outputOffset) + 1) * 2 ** e >= 2 ** 30) return null;
    }
    if (Math.abs(folded[oc]!) + 128 * sumAbs >= 2 ** 29) return null;
  }
  // Weights: [chunk of 16 channels][row][pair][channel][2], doubled; an odd run's pairs start at tap -1, of weight 0.
  const pairs = Math.ceil(run / 2);
  const first = -(run % 2);
  const packed = new Array<number>(rows * pairs * outC * 2).fill(0);
  for (let r = 0; r < rows; r++) {
    for (let j = 0; j < pairs; j++) {
      for (let oc = 0; oc < outC; oc++) {
        if (constant[oc] !== null) continue;
        const tap = oc * k + r * run;
        const chunk = oc - (oc % 16);
        const to = (chunk * rows * pairs + (r * pairs + j) * Math.min(16, outC - chunk) + oc - chunk) * 2;
        if (first + 2 * j >= 0) packed[to] = 2 * weights[tap + first + 2 * j]!;
        packed[to + 1] = 2 * weights[tap + first + 2 * j + 1]!;
      }
    }
  }
  // Constants per group of 4 channels: 2 * folded_bias, m, 2^(32-e), then the rounding term with the output offset
  // (a constant channel: 0, 0, e = 2 and its output as the offset). 'float32': 2 * folded_bias, the bits of m / 2,
  // bits(1.5 * 2^23) - output_offset (a constant channel: 0, 0 and its output as the offset).
  const single = arithmetic === 'single';
  const words = float32 ? 12 : single ? 20 : 16;
  const params = new Array<number>((outC / 4) * words).fill(0);
  for (let oc = 0; oc < outC; oc++) {
    const base = (oc >> 2) * words;
    const lane = oc & 3;
    const fixed = constant[oc];
    if (float32) {
      params[base + lane] = fixed === null ? 2 * folded[oc]! : 0;
      params[base + 4 + lane] = fixed === null ? float32Bits(realMultiplier(multipliers[oc]!, 0, 'float32') / 2) : 0;
      params[base + 8 + lane] = MAGIC_BITS - (fixed ?? outputOffset);
      continue;
    }
    const e = fixed === null ? -shifts[oc]! : 2;
    const offset = fixed ?? outputOffset;
    params[base + lane] = fixed === null ? 2 * folded[oc]! : 0;
    params[base + 4 + lane] = fixed === null ? multipliers[oc]! : 0;
    params[base + 8 + lane] = 2 ** (32 - e);
    if (single) {
      const term = BigInt.asUintN(64, (1n << BigInt(31 + e)) + BigInt(offset) * (1n << BigInt(32 + e)));
      params[base + 12 + 2 * lane] = Number(BigInt.asIntN(32, term));
      params[base + 13 + 2 * lane] = Number(BigInt.asIntN(32, term >> 32n));
    } else {
      params[base + 12 + lane] = 2 ** (e - 1) + offset * 2 ** e;
    }
  }
  const args = call.args.filter((_, i) => i < at.requant || i > at.requant + 2);
  args[1] = { kind: 'table', dtype: 'int16', values: packed };
  args[2] = { kind: 'table', dtype: 'int32', values: params };
  return { name: `${call.name}_lanes`, args };
}

/** The bits of 1.5 * 2^23 as a float32 (runtime/as/gemm_lanes.ts rounds with it). */
const MAGIC_BITS = 0x4b400000;

const float32View = new Float32Array(1);
const int32View = new Int32Array(float32View.buffer);

function float32Bits(x: number): number {
  float32View[0] = x;
  return int32View[0]!;
}
