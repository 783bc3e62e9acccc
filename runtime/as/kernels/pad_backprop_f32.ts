/*
 * Gradient of PAD / PADV2 (compiler/ops/train/pad_backprop.ts), as runtime/c/kernels/pad_backprop_f32.c: the output
 * gradient cropped to where the input sits. The outer dimensions run in pad_s8's right-aligned 5-level nest; each
 * output row lies all in the padding or holds one contiguous input row after `before` elements. Pure data movement.
 */
import { hiAt, loAt, outAt } from './pad_s8';

export function pad_backprop_f32(dy: usize, dx: usize, rank: i32, out_dims: usize, in_dims: usize, before: usize): void {
  const inner = rank - 1;
  const outRow = <usize>load<i32>(out_dims + (<usize>inner << 2)) << 2;
  const inRow = <usize>load<i32>(in_dims + (<usize>inner << 2)) << 2;
  const left = <usize>load<i32>(before + (<usize>inner << 2)) << 2;
  const first = 5 - inner;
  const n0 = outAt(out_dims, 0, first), lo0 = loAt(before, 0, first), hi0 = hiAt(in_dims, before, 0, first);
  const n1 = outAt(out_dims, 1, first), lo1 = loAt(before, 1, first), hi1 = hiAt(in_dims, before, 1, first);
  const n2 = outAt(out_dims, 2, first), lo2 = loAt(before, 2, first), hi2 = hiAt(in_dims, before, 2, first);
  const n3 = outAt(out_dims, 3, first), lo3 = loAt(before, 3, first), hi3 = hiAt(in_dims, before, 3, first);
  const n4 = outAt(out_dims, 4, first), lo4 = loAt(before, 4, first), hi4 = hiAt(in_dims, before, 4, first);
  for (let i0 = 0; i0 < n0; ++i0) {
    const in0 = i0 >= lo0 && i0 < hi0;
    for (let i1 = 0; i1 < n1; ++i1) {
      const in1 = in0 && i1 >= lo1 && i1 < hi1;
      for (let i2 = 0; i2 < n2; ++i2) {
        const in2 = in1 && i2 >= lo2 && i2 < hi2;
        for (let i3 = 0; i3 < n3; ++i3) {
          const in3 = in2 && i3 >= lo3 && i3 < hi3;
          for (let i4 = 0; i4 < n4; ++i4) {
            if (in3 && i4 >= lo4 && i4 < hi4) {
              memory.copy(dx, dy + left, inRow);
              dx += inRow;
            }
            dy += outRow;
          }
        }
      }
    }
  }
}
