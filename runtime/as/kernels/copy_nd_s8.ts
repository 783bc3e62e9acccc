/*
 * Strided N-D copy, int8: the data movement of TRANSPOSE and STRIDED_SLICE, as runtime/c/kernels/copy_nd_s8.c.
 * output[i] = input[offset + sum_k idx_k * strides[k]], with i running row-major over dims. The compiler drops
 * size-1 dimensions and merges contiguous ones, so the innermost loop covers the longest possible row (a
 * memory.copy when its stride is 1). Strides are in elements and may be negative; rank is 1..6.
 * The C kernel's odometer needs an index array; here the (at most 5) outer dimensions are right-aligned into
 * a fixed 5-level loop nest whose unused levels have extent 1, which visits the same rows in the same order.
 */

// Extent and stride of outer level `level` (0..4) of the right-aligned nest; `first` is the first real level.
// @ts-ignore: decorator
@inline
function extentAt(dims: usize, level: i32, first: i32): i32 {
  return level >= first ? load<i32>(dims + (<usize>(level - first) << 2)) : 1;
}

// @ts-ignore: decorator
@inline
function strideAt(strides: usize, level: i32, first: i32): i32 {
  return level >= first ? load<i32>(strides + (<usize>(level - first) << 2)) : 0;
}

export function copy_nd_s8(input: usize, output: usize, rank: i32, dims: usize, strides: usize, offset: i32): void {
  const inner = rank - 1;
  const n = load<i32>(dims + (<usize>inner << 2));
  const step = load<i32>(strides + (<usize>inner << 2));
  const first = 5 - inner;
  const n0 = extentAt(dims, 0, first), s0 = strideAt(strides, 0, first);
  const n1 = extentAt(dims, 1, first), s1 = strideAt(strides, 1, first);
  const n2 = extentAt(dims, 2, first), s2 = strideAt(strides, 2, first);
  const n3 = extentAt(dims, 3, first), s3 = strideAt(strides, 3, first);
  const n4 = extentAt(dims, 4, first), s4 = strideAt(strides, 4, first);
  for (let i0 = 0, a0 = offset; i0 < n0; ++i0, a0 += s0) {
    for (let i1 = 0, a1 = a0; i1 < n1; ++i1, a1 += s1) {
      for (let i2 = 0, a2 = a1; i2 < n2; ++i2, a2 += s2) {
        for (let i3 = 0, a3 = a2; i3 < n3; ++i3, a3 += s3) {
          for (let i4 = 0, at = a3; i4 < n4; ++i4, at += s4) {
            if (step == 1) {
              memory.copy(output, input + at, n);
            } else {
              for (let j = 0, a = at; j < n; ++j, a += step) store<i8>(output + j, load<i8>(input + a));
            }
            output += n;
          }
        }
      }
    }
  }
}
