/*
 * ApplyMask (compiler/ops/train/mask.ts): out[i] = bit i of the mask ? dy[i] : +0. SIMD: a mask byte becomes two
 * lane masks of four floats; and-ing the float bits with all-ones or zero keeps dy or gives +0, as the scalar code.
 */

export function apply_mask_f32(dy: usize, mask: usize, out: usize, n: i32): void {
  let i = 0;
  if (ASC_FEATURE_SIMD) {
    const low = i32x4(1, 2, 4, 8);
    const high = i32x4(16, 32, 64, 128);
    for (; i + 8 <= n; i += 8) {
      const bits = i32x4.splat(<i32>load<u8>(mask + (i >> 3)));
      const at = <usize>i << 2;
      v128.store(out + at, v128.and(v128.load(dy + at), i32x4.eq(v128.and(bits, low), low)));
      v128.store(out + at + 16, v128.and(v128.load(dy + at + 16), i32x4.eq(v128.and(bits, high), high)));
    }
  }
  for (; i < n; ++i) {
    const on = (<i32>load<u8>(mask + (i >> 3)) >> (i & 7)) & 1;
    store<f32>(out + (<usize>i << 2), on ? load<f32>(dy + (<usize>i << 2)) : 0);
  }
}
