/**
 * @fileoverview MAX_POOL_2D, int8 (TFLM pooling.cc + reference_integer_ops::MaxPool), NHWC: the largest
 * in-image input of each window (padding never wins), clamped to the fused activation's range. Input and
 * output quantization must be equal, as TFLM requires. Kernel: `max_pool2d_s8`.
 */
import type { TensorData } from '../ir/dtype.ts';
import type { OpDef } from './op.ts';
import { saturate } from './common/fixed_point.ts';
import { inferPool, poolBinding, poolKernel, preparePool, runPool } from './average_pool2d.ts';
import type { PoolAttrs, PoolParams } from './average_pool2d.ts';

export const maxPool2d: OpDef<PoolAttrs, PoolParams> = {
  name: 'MaxPool2D',
  tflite: poolBinding(17),
  infer: (inputs, attrs) => inferPool(inputs, attrs, 'max pool 2d'),

  prepare(ctx) {
    const params = preparePool(ctx, 'max pool 2d');
    return { params, kernel: poolKernel(ctx, 'max_pool2d_s8', params), scratchBytes: 0, macs: 0 };
  },

  evaluate(p, [input]: readonly (TensorData | null)[], [output]: readonly TensorData[]) {
    runPool(p, input as Int8Array, output as Int8Array, (values) => saturate(values.reduce((m, v) => Math.max(m, v), -128), p.actMin, p.actMax));
  },
};
