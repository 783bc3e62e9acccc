/**
 * @fileoverview CONCATENATION, int8, along any axis, 1 to 10 inputs (TFLM's limit).
 *
 * Inputs quantized like the output are copied, as TFLite and TFLM do. TFLite refuses int8 inputs
 * quantized differently from the output, and TFLM silently copies their bytes; tinyforge
 * requantizes them like TFLite's reference ConcatenationWithScaling (written for uint8), in float32:
 * round(x * (s_in * (1 / s_out)) - z_in * scale) + z_out, clamped to int8 — as a 256-entry table
 * per such input, computed at compile time. Fused activations are refused, as in TFLite and TFLM.
 */
import type { Tensor } from '../ir/graph.ts';
import { describeNode, describeTensor } from '../ir/graph.ts';
import { InvalidModelError, UnsupportedError } from '../errors.ts';
import type { Activation } from '../ir/graph.ts';
import type { KernelArg, OpDef } from './op.ts';
import { arg } from './op.ts';
import { activationFromTflite, activationToTflite } from './common/activation.ts';
import { requireInt8 } from './common/checks.ts';
import { roundHalfAwayFromZero } from './common/fixed_point.ts';
import { INT8_MAX, INT8_MIN, scaleOf, zeroPointOf } from './common/quant.ts';
import { normalizeAxis } from './common/shape.ts';

export interface ConcatenationAttrs {
  readonly axis: number;
  readonly activation: Activation;
}

export interface ConcatenationParams {
  /** Product of the output dimensions before the axis. */
  readonly outer: number;
  /** Bytes each input contributes per outer slice. */
  readonly copySizes: readonly number[];
  /** Per input: null to copy, or a requantization table indexed by x + 128. */
  readonly luts: readonly (Int8Array | null)[];
}

/** TFLM's kMaxInputNum; also the number of input slots of concatenation_s8. */
export const MAX_CONCAT_INPUTS = 10;

const f32 = Math.fround;

/** ConcatenationWithScaling's per-element formula for one input, tabulated over int8. */
export function requantTable(inScale: number, inZeroPoint: number, outScale: number, outZeroPoint: number): Int8Array {
  const inverseOutputScale = f32(1 / f32(outScale));
  const scale = f32(f32(inScale) * inverseOutputScale);
  const bias = f32(-inZeroPoint * scale);
  const lut = new Int8Array(256);
  for (let x = INT8_MIN; x <= INT8_MAX; x++) {
    const value = roundHalfAwayFromZero(f32(f32(x * scale) + bias)) + outZeroPoint;
    lut[x + 128] = Math.max(INT8_MIN, Math.min(INT8_MAX, value));
  }
  return lut;
}

function concatShape(inputs: readonly (Tensor | null)[], axisAttr: number): { shape: number[]; axis: number } {
  if (inputs.length === 0 || inputs.some((t) => !t)) throw new InvalidModelError('concatenation needs at least one input, none absent');
  const first = inputs[0]!;
  const rank = first.shape.length;
  const axis = normalizeAxis(axisAttr, rank, 'concatenation axis');
  const shape = [...first.shape];
  shape[axis] = 0;
  for (const t of inputs as readonly Tensor[]) {
    if (t.dtype !== first.dtype) throw new InvalidModelError(`concatenation inputs have types ${first.dtype} and ${t.dtype}`);
    if (t.shape.length !== rank || t.shape.some((d, k) => k !== axis && d !== first.shape[k])) {
      throw new InvalidModelError(`${describeTensor(t)} cannot be concatenated with ${describeTensor(first)} along axis ${axis}`);
    }
    shape[axis] += t.shape[axis]!;
  }
  return { shape, axis };
}

export const concatenation: OpDef<ConcatenationAttrs, ConcatenationParams> = {
  name: 'Concatenation',
  tflite: {
    code: 2,
    optionsType: 10,
    attrs: (o) => ({ axis: Number(o['axis'] ?? 0), activation: activationFromTflite(o['fused_activation_function'] ?? 0) }),
    options: (a) => ({ axis: a.axis, fused_activation_function: activationToTflite(a.activation) }),
  },

  infer(inputs, attrs) {
    const { shape } = concatShape(inputs, attrs.axis);
    return [{ shape, dtype: inputs[0]!.dtype }];
  },

  prepare(ctx) {
    const where = describeNode(ctx.node);
    if (ctx.node.attrs.activation !== 'none') {
      throw new UnsupportedError(`${where}: fused activation ${ctx.node.attrs.activation.toUpperCase()} on concatenation is not supported (TFLite and TFLM require NONE)`);
    }
    if (ctx.inputs.length > MAX_CONCAT_INPUTS) throw new UnsupportedError(`${where}: ${ctx.inputs.length} inputs; at most ${MAX_CONCAT_INPUTS} are supported`);
    const inputs = ctx.inputs.map((t, i) => requireInt8(t, ctx.node, `input ${i}`));
    const output = requireInt8(ctx.outputs[0], ctx.node, 'output');
    const { shape, axis } = concatShape(inputs, ctx.node.attrs.axis);
    const outer = shape.slice(0, axis).reduce((a, b) => a * b, 1);
    const inner = shape.slice(axis + 1).reduce((a, b) => a * b, 1);
    const copySizes = inputs.map((t) => t.shape[axis]! * inner);
    const outScale = scaleOf(output);
    const outZeroPoint = zeroPointOf(output);
    const luts = inputs.map((t) =>
      scaleOf(t) === outScale && zeroPointOf(t) === outZeroPoint ? null : requantTable(scaleOf(t), zeroPointOf(t), outScale, outZeroPoint),
    );
    // Tables of the requantized inputs, back to back; identical tables are stored once.
    const tables: number[] = [];
    const tableAt = new Map<string, number>();
    const lutOffsets = luts.map((lut) => {
      if (!lut) return -1;
      const key = lut.join(',');
      let at = tableAt.get(key);
      if (at === undefined) {
        at = tables.length;
        tableAt.set(key, at);
        tables.push(...lut);
      }
      return at;
    });
    const slots: KernelArg[] = Array.from({ length: MAX_CONCAT_INPUTS }, (_, i) =>
      i < inputs.length ? arg.input(ctx, i) : { kind: 'tensor', tensor: -1, write: false },
    );
    const pad = (v: readonly number[]) => [...v, ...new Array<number>(MAX_CONCAT_INPUTS - v.length).fill(0)];
    return {
      params: { outer, copySizes, luts },
      kernel: {
        name: 'concatenation_s8',
        args: [
          ...slots, arg.output(ctx), arg.int(inputs.length), arg.int(outer),
          arg.table('int32', pad(copySizes)), arg.table('int32', pad(lutOffsets)), arg.table('int8', tables),
        ],
      },
      scratchBytes: 0,
      macs: 0,
    };
  },

  evaluate(p, inputs, [output]) {
    const y = output as Int8Array;
    let o = 0;
    for (let k = 0; k < p.outer; k++) {
      inputs.forEach((input, i) => {
        const x = input as Int8Array;
        const n = p.copySizes[i]!;
        const lut = p.luts[i];
        for (let j = 0; j < n; j++) {
          const v = x[k * n + j]!;
          y[o++] = lut ? lut[v + 128]! : v;
        }
      });
    }
  },
};
