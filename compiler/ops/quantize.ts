/**
 * @fileoverview QUANTIZE to int8, as TFLM's quantize kernel does it:
 *  - float32 -> int8: reference_ops::AffineQuantize, round(x / scale) in float32 (halves away from zero)
 *    plus the zero point, clamped (kernel quantize_f32_s8);
 *  - int8 -> int8 and uint8 -> int8: reference_ops::Requantize with the multiplier of scale_in / scale_out,
 *    precomputed for every input byte into a 256-entry table (kernels lut_s8, lut_u8_s8).
 */
import { describeNode, describeTensor, elementCount } from '../ir/graph.ts';
import type { Node } from '../ir/graph.ts';
import { UnsupportedError } from '../errors.ts';
import type { OpDef } from './op.ts';
import { arg } from './op.ts';
import { multiplyByQuantizedMultiplier, quantizeMultiplier, roundHalfAwayFromZero, saturate } from './common/fixed_point.ts';
import { applyLut, buildLut, elementwiseInfer, preparedLut, requireElementwise } from './common/lut.ts';
import type { LutParams } from './common/lut.ts';
import { scaleOf, zeroPointOf } from './common/quant.ts';

export type QuantizeParams =
  | ({ readonly kind: 'lut' } & LutParams)
  | { readonly kind: 'float'; readonly size: number; readonly scale: number; readonly zeroPoint: number };

/** The bits of a float32, as the int32 kernel argument that carries it. */
export function float32Bits(x: number): number {
  return new Int32Array(new Float32Array([x]).buffer)[0]!;
}

/**
 * AffineQuantize<float, int8_t> for one value: static_cast<int32_t>(TfLiteRound(x / scale)) + zp, clamped.
 * Where that conversion is undefined in C++ (|x / scale| >= 2^31, NaN), the result saturates like Arm's
 * VCVT: large values clamp to the int8 range and NaN gives the zero point.
 */
export function affineQuantizeS8(x: number, scale: number, zeroPoint: number): number {
  const v = Math.fround(x / scale);
  let r: number;
  if (v >= 256) r = 256;
  else if (v <= -256) r = -256;
  else if (v === v) r = roundHalfAwayFromZero(v);
  else r = 0;
  return saturate(r + zeroPoint, -128, 127);
}

/** reference_ops::Requantize<InputT, int8_t> for one value. */
export function requantizeS8(q: number, inputZeroPoint: number, multiplier: number, shift: number, outputZeroPoint: number): number {
  return saturate(multiplyByQuantizedMultiplier(q - inputZeroPoint, multiplier, shift, 'double') + outputZeroPoint, -128, 127);
}

export const quantize: OpDef<Record<string, never>, QuantizeParams> = {
  name: 'Quantize',
  tflite: { code: 114, optionsType: 0, attrs: () => ({}), options: () => ({}) },

  infer: (inputs) => elementwiseInfer('quantize', inputs, 'int8'),

  prepare(ctx) {
    const { input, output } = requireElementwise(ctx, ['float32', 'int8', 'uint8'], ['int8']);
    const outputScale = Math.fround(scaleOf(output));
    const outputZeroPoint = zeroPointOf(output);
    if (!(outputScale > 0)) {
      throw new UnsupportedError(`${describeNode(ctx.node as Node)}: ${describeTensor(output)} has scale ${outputScale}`);
    }
    if (input.dtype === 'float32') {
      const size = elementCount(input.shape);
      return {
        params: { kind: 'float', size, scale: outputScale, zeroPoint: outputZeroPoint },
        kernel: {
          name: 'quantize_f32_s8',
          args: [arg.input(ctx, 0), arg.output(ctx), arg.int(size), arg.int(float32Bits(outputScale)), arg.int(outputZeroPoint)],
        },
        scratchBytes: 0,
        macs: 0,
      };
    }
    // PrepareQuantizeReference: effective_scale = (double)scale_in / (double)scale_out.
    const m = quantizeMultiplier(Math.fround(scaleOf(input)) / outputScale);
    const inputZeroPoint = zeroPointOf(input);
    const inputType = input.dtype as 'int8' | 'uint8';
    const table = buildLut(inputType, (q) => requantizeS8(q, inputZeroPoint, m.multiplier, m.shift, outputZeroPoint));
    const prepared = preparedLut(ctx, table);
    return { ...prepared, params: { kind: 'lut', ...prepared.params } };
  },

  evaluate(p, [input], [output]) {
    if (p.kind === 'lut') {
      applyLut(p, input!, output!);
      return;
    }
    const x = input as Float32Array;
    const y = output as Int8Array;
    for (let i = 0; i < p.size; i++) y[i] = affineQuantizeS8(x[i]!, p.scale, p.zeroPoint);
  },
};

