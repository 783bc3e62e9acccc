/*
 * MaxPoolArgmax (compiler/ops/train/max_pool_backprop.ts), as runtime/c/kernels/max_pool2d_argmax_s8.c: per output
 * element, the tap fy * filter_w + fx of its window holding the maximum, the first in row-major order among equal
 * values; taps off the image never win.
 */

export function max_pool2d_argmax_s8(
  x: usize, argmax: usize, batches: i32, in_h: i32, in_w: i32, channels: i32, out_h: i32, out_w: i32,
  filter_h: i32, filter_w: i32, stride_h: i32, stride_w: i32, pad_top: i32, pad_left: i32,
): void {
  let out = argmax;
  for (let n = 0; n < batches; ++n) {
    const image = x + <usize>(n * in_h * in_w * channels);
    for (let oy = 0; oy < out_h; ++oy) {
      const y0 = oy * stride_h - pad_top;
      const fy0 = max(0, -y0);
      const fy1 = min(filter_h, in_h - y0);
      for (let ox = 0; ox < out_w; ++ox) {
        const x0 = ox * stride_w - pad_left;
        const fx0 = max(0, -x0);
        const fx1 = min(filter_w, in_w - x0);
        for (let c = 0; c < channels; ++c, ++out) {
          let best = 0;
          let largest = -129;
          for (let fy = fy0; fy < fy1; ++fy) {
            const row = image + <usize>(((y0 + fy) * in_w + x0) * channels + c);
            for (let fx = fx0; fx < fx1; ++fx) {
              const v = <i32>load<i8>(row + <usize>(fx * channels));
              if (v > largest) {
                largest = v;
                best = fy * filter_w + fx;
              }
            }
          }
          store<u8>(out, <u8>best);
        }
      }
    }
  }
}
