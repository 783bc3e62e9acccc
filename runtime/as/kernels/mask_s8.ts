/*
 * SaveMask (compiler/ops/train/mask.ts): bit (i & 7) of mask[i >> 3] = lo < y[i] < hi, the unused bits of the last
 * byte 0. SIMD: 16 comparisons give 16 bits (i8x16.bitmask, lane i -> bit i), the same bits, two bytes at a time.
 */

export function mask_s8(y: usize, mask: usize, n: i32, lo: i32, hi: i32): void {
  let i = 0;
  if (ASC_FEATURE_SIMD) {
    // Bounds beyond the int8 range compare like the nearest int8 bound, except that a bound past it admits every value.
    const vlo = i8x16.splat(<i8>min(max(lo, -128), 127));
    const vhi = i8x16.splat(<i8>min(max(hi, -128), 127));
    const all = i8x16.splat(-1);
    for (; i + 16 <= n; i += 16) {
      const v = v128.load(y + i);
      const above = lo < -128 ? all : i8x16.gt_s(v, vlo);
      const below = hi > 127 ? all : i8x16.lt_s(v, vhi);
      store<u16>(mask + (i >> 3), <u16>i8x16.bitmask(v128.and(above, below)));
    }
  }
  for (; i < n; i += 8) {
    const end = min(i + 8, n);
    let bits = 0;
    for (let j = i; j < end; ++j) {
      const v = <i32>load<i8>(y + j);
      if (lo < v && v < hi) bits |= 1 << (j & 7);
    }
    store<u8>(mask + (i >> 3), <u8>bits);
  }
}
