/**
 * @fileoverview DEQUANTIZE int8 -> float32, as TFLM's reference_ops::Dequantize: scale * (q - zp) in
 * float32 (kernel dequantize_s8_f32).
 */
import { describeNode, describeTensor, elementCount } from '../ir/graph.ts';
import type { Node } from '../ir/graph.ts';
import { UnsupportedError } from '../errors.ts';
import type { OpDef } from './op.ts';
import { arg } from './op.ts';
import { elementwiseInfer, requireElementwise } from './common/lut.ts';
import { scaleOf, zeroPointOf } from './common/quant.ts';
import { float32Bits } from './quantize.ts';

export interface DequantizeParams {
  readonly size: number;
  /** float32 value. */
  readonly scale: number;
  readonly zeroPoint: number;
}

/** Dequantize<int8_t, float> for one value: the float32 product of the scale and the integer q - zp. */
export function dequantizeS8(q: number, scale: number, zeroPoint: number): number {
  return Math.fround(scale * (q - zeroPoint));
}

export const dequantize: OpDef<Record<string, never>, DequantizeParams> = {
  name: 'Dequantize',
  tflite: { code: 6, optionsType: 0, attrs: () => ({}), options: () => ({}) },

  infer: (inputs) => elementwiseInfer('dequantize', inputs, 'float32'),

  prepare(ctx) {
    const { input } = requireElementwise(ctx, ['int8'], ['float32']);
    const scale = Math.fround(scaleOf(input));
    if (!Number.isFinite(scale)) throw new UnsupportedError(`${describeNode(ctx.node as Node)}: ${describeTensor(input)} has scale ${scale}`);
    const zeroPoint = zeroPointOf(input);
    const size = elementCount(input.shape);
    return {
      params: { size, scale, zeroPoint },
      kernel: {
        name: 'dequantize_s8_f32',
        args: [arg.input(ctx, 0), arg.output(ctx), arg.int(size), arg.int(float32Bits(scale)), arg.int(zeroPoint)],
      },
      scratchBytes: 0,
      macs: 0,
    };
  },

  evaluate(p, [input], [output]) {
    const x = input as Int8Array;
    const y = output as Float32Array;
    for (let i = 0; i < p.size; i++) y[i] = dequantizeS8(x[i]!, p.scale, p.zeroPoint);
  },
};
