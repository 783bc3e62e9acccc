/**
 * @fileoverview RESIZE_NEAREST_NEIGHBOR, int8, NHWC, constant size input [out_h, out_w]
 * (TFLite reference_ops::ResizeNearestNeighbor). The source index of every output row and column
 * is computed at compile time exactly as GetNearestNeighbor does, in float32:
 * scale = align_corners && out > 1 ? (in - 1) / (out - 1) : in / out, then
 * min(align_corners ? round((i + offset) * scale) : floor((i + offset) * scale), in - 1), with
 * offset 0.5 and a lower clamp at 0 when half_pixel_centers. Bytes are copied unchanged.
 */
import type { Tensor } from '../ir/graph.ts';
import { describeTensor } from '../ir/graph.ts';
import { InvalidModelError, UnsupportedError } from '../errors.ts';
import type { OpDef } from './op.ts';
import { arg } from './op.ts';
import { requireConstant, requireInt8 } from './common/checks.ts';
import { roundHalfAwayFromZero } from './common/fixed_point.ts';
import { constantIntsOf } from './common/shape.ts';

export interface ResizeNearestNeighborAttrs {
  readonly alignCorners: boolean;
  readonly halfPixelCenters: boolean;
}

export interface ResizeNearestNeighborParams {
  readonly batches: number;
  readonly inH: number;
  readonly inW: number;
  readonly depth: number;
  /** Source row of each output row, source column of each output column. */
  readonly rows: readonly number[];
  readonly cols: readonly number[];
}

const f32 = Math.fround;

/** tflite::reference_ops::GetNearestNeighbor, float32 arithmetic step by step. */
export function nearestNeighbor(i: number, inSize: number, outSize: number, alignCorners: boolean, halfPixelCenters: boolean): number {
  const scale = alignCorners && outSize > 1 ? f32((inSize - 1) / f32(outSize - 1)) : f32(inSize / f32(outSize));
  const offset = halfPixelCenters ? 0.5 : 0;
  const x = f32(f32(i + offset) * scale);
  let v = Math.min(alignCorners ? roundHalfAwayFromZero(x) : Math.floor(x), inSize - 1);
  if (halfPixelCenters) v = Math.max(0, v);
  return v;
}

function outputSize(input: Tensor, size: Tensor | null | undefined): [number, number] {
  if (input.shape.length !== 4) throw new UnsupportedError(`resize nearest neighbor needs a 4-D NHWC input, found ${describeTensor(input)}`);
  const values = constantIntsOf(size, 'size');
  if (size!.dtype !== 'int32' || size!.shape.length !== 1 || values.length !== 2) {
    throw new InvalidModelError(`resize size ${describeTensor(size!)} must be a 1-D int32 tensor of 2 values`);
  }
  const [h, w] = values as [number, number];
  if (h <= 0 || w <= 0) throw new InvalidModelError(`resize size [${h}, ${w}] must be positive`);
  return [h, w];
}

export const resizeNearestNeighbor: OpDef<ResizeNearestNeighborAttrs, ResizeNearestNeighborParams> = {
  name: 'ResizeNearestNeighbor',
  tflite: {
    code: 97,
    optionsType: 74,
    attrs: (o) => ({ alignCorners: Boolean(o['align_corners']), halfPixelCenters: Boolean(o['half_pixel_centers']) }),
    options: (a) => ({ align_corners: a.alignCorners, half_pixel_centers: a.halfPixelCenters }),
  },

  infer([input, size]) {
    if (!input) throw new InvalidModelError('resize nearest neighbor needs an input');
    const [h, w] = outputSize(input, size);
    return [{ shape: [input.shape[0]!, h, w, input.shape[3]!], dtype: input.dtype }];
  },

  prepare(ctx) {
    const { alignCorners, halfPixelCenters } = ctx.node.attrs;
    const x = requireInt8(ctx.inputs[0], ctx.node, 'input');
    requireInt8(ctx.outputs[0], ctx.node, 'output');
    const [outH, outW] = outputSize(x, requireConstant(ctx.inputs[1], ctx.node, 'size'));
    const [batches, inH, inW, depth] = x.shape as [number, number, number, number];
    const rows = Array.from({ length: outH }, (_, y) => nearestNeighbor(y, inH, outH, alignCorners, halfPixelCenters));
    const cols = Array.from({ length: outW }, (_, c) => nearestNeighbor(c, inW, outW, alignCorners, halfPixelCenters));
    return {
      params: { batches, inH, inW, depth, rows, cols },
      kernel: {
        name: 'resize_nearest_s8',
        args: [
          arg.input(ctx, 0), arg.output(ctx), arg.int(batches), arg.int(outH), arg.int(outW), arg.int(depth),
          arg.int(inH * inW * depth), arg.table('int32', rows.map((r) => r * inW * depth)), arg.table('int32', cols.map((c) => c * depth)),
        ],
      },
      scratchBytes: 0,
      macs: 0,
    };
  },

  evaluate(p, [input], [output]) {
    const x = input as Int8Array;
    const y = output as Int8Array;
    let o = 0;
    for (let b = 0; b < p.batches; b++) {
      for (const r of p.rows) {
        for (const c of p.cols) {
          const at = ((b * p.inH + r) * p.inW + c) * p.depth;
          for (let d = 0; d < p.depth; d++) y[o++] = x[at + d]!;
        }
      }
    }
  },
};
