/*
 * int8 -> int16, same values: the wasm backend's copy of trained convolution weights into the int16 form the
 * conv2d_s8 and conv2d_1x1_s8 kernels read (compiler/backend/wasm/layout.ts), made before each call so that the
 * kernel sees the weights as training left them.
 */

export function widen_s8_s16(src: usize, dst: usize, n: i32): void {
  let i = 0;
  if (ASC_FEATURE_SIMD) {
    for (; i + 16 <= n; i += 16) {
      const v = v128.load(src + <usize>i);
      v128.store(dst + (<usize>i << 1), i16x8.extend_low_i8x16_s(v));
      v128.store(dst + (<usize>i << 1) + 16, i16x8.extend_high_i8x16_s(v));
    }
  }
  for (; i < n; ++i) store<i16>(dst + (<usize>i << 1), <i16>load<i8>(src + <usize>i));
}
