/**
 * @fileoverview The straight-through gradient of requantization and clamping: an int8 output passes its gradient
 * where it lies strictly inside its clamp range and stops it where it saturated (a ReLU's zero, a ReLU6's top, an
 * int8 limit). The forward pass saves that as one bit per element (`SaveMask`, kernel `mask_s8`); the backward pass
 * applies it (`ApplyMask`, kernel `apply_mask_f32`).
 */
import type { Attrs } from '../../ir/graph.ts';
import { elementCount } from '../../ir/graph.ts';
import type { OpDef } from '../op.ts';
import { arg } from '../op.ts';
import { requireDType, requireInt8 } from '../common/checks.ts';

export interface SaveMaskAttrs extends Attrs {
  /** Exclusive bounds of the unsaturated range. */
  readonly lo: number;
  readonly hi: number;
}

export function maskBytes(elements: number): number {
  return Math.ceil(elements / 8);
}

export const saveMask: OpDef<SaveMaskAttrs, SaveMaskAttrs & { readonly count: number }> = {
  name: 'SaveMask',
  infer: ([y]) => [{ shape: [maskBytes(elementCount(y!.shape))], dtype: 'uint8' }],
  prepare(ctx) {
    const y = requireInt8(ctx.inputs[0], ctx.node, 'input');
    const { lo, hi } = ctx.node.attrs;
    const count = elementCount(y.shape);
    return {
      params: { lo, hi, count },
      kernel: { name: 'mask_s8', args: [arg.input(ctx, 0), arg.output(ctx), arg.int(count), arg.int(lo), arg.int(hi)] },
      scratchBytes: 0,
      macs: 0,
    };
  },
  evaluate(p, [y], [mask]) {
    const q = y as Int8Array;
    const bits = mask as Uint8Array;
    bits.fill(0);
    for (let i = 0; i < p.count; i++) if (p.lo < q[i]! && q[i]! < p.hi) bits[i >> 3]! |= 1 << (i & 7);
  },
};

export const applyMask: OpDef<object, { readonly count: number }> = {
  name: 'ApplyMask',
  inPlace: true,
  infer: ([dy]) => [{ shape: dy!.shape, dtype: 'float32' }],
  prepare(ctx) {
    const dy = requireDType(ctx.inputs[0], ctx.node, 'gradient', ['float32']);
    requireDType(ctx.inputs[1], ctx.node, 'mask', ['uint8']);
    const count = elementCount(dy.shape);
    return {
      params: { count },
      kernel: { name: 'apply_mask_f32', args: [arg.input(ctx, 0), arg.input(ctx, 1), arg.output(ctx), arg.int(count)] },
      scratchBytes: 0,
      macs: 0,
    };
  },
  evaluate(p, [dy, mask], [out]) {
    const g = dy as Float32Array;
    const bits = mask as Uint8Array;
    const o = out as Float32Array;
    for (let i = 0; i < p.count; i++) o[i] = (bits[i >> 3]! >> (i & 7)) & 1 ? g[i]! : 0;
  },
};
