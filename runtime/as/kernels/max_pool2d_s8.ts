/*
 * MAX_POOL_2D, int8, NHWC (TFLM reference_integer_ops::MaxPool), as runtime/c/kernels/max_pool2d_s8.c: the
 * largest in-image input of each window, clamped to [act_min, act_max]. Window bounds are computed once per
 * output pixel. With SIMD, 16 channels are reduced at once with i8x16.max_s, which is the scalar max lane by
 * lane; the clamp becomes max_s/min_s, equal to the scalar clamp when -128 <= act_min <= act_max <= 127 (always
 * true of the compiler's activation range; the vector path checks it). Leftover channels take the scalar path.
 */
import { clamp } from "../fixed_point";

export function max_pool2d_s8(input: usize, output: usize, batches: i32, in_h: i32, in_w: i32, channels: i32,
                              out_h: i32, out_w: i32, filter_h: i32, filter_w: i32, stride_h: i32, stride_w: i32,
                              pad_top: i32, pad_left: i32, act_min: i32, act_max: i32): void {
  const rowStride = in_w * channels;
  const vectorChannels = ASC_FEATURE_SIMD && -128 <= act_min && act_min <= act_max && act_max <= 127
    ? channels & ~15 : 0;
  for (let b = 0; b < batches; ++b) {
    const image = input + b * in_h * rowStride;
    for (let oy = 0; oy < out_h; ++oy) {
      const iy = oy * stride_h - pad_top;
      const fy0 = iy < 0 ? -iy : 0;
      const fy1 = filter_h < in_h - iy ? filter_h : in_h - iy;
      const rows = fy1 - fy0;
      for (let ox = 0; ox < out_w; ++ox) {
        const ix = ox * stride_w - pad_left;
        const fx0 = ix < 0 ? -ix : 0;
        const fx1 = filter_w < in_w - ix ? filter_w : in_w - ix;
        const cols = fx1 - fx0;
        const window = image + (iy + fy0) * rowStride + (ix + fx0) * channels;
        let c = 0;
        if (ASC_FEATURE_SIMD) {
          const lo = i8x16.splat(<i8>act_min);
          const hi = i8x16.splat(<i8>act_max);
          for (; c < vectorChannels; c += 16) {
            let max = i8x16.splat(-128);
            let row = window + c;
            for (let y = 0; y < rows; ++y) {
              let p = row;
              for (let x = 0; x < cols; ++x) {
                max = i8x16.max_s(max, v128.load(p));
                p += channels;
              }
              row += rowStride;
            }
            v128.store(output, i8x16.min_s(i8x16.max_s(max, lo), hi));
            output += 16;
          }
        }
        for (; c < channels; ++c) {
          let max = -128;
          let row = window + c;
          for (let y = 0; y < rows; ++y) {
            let p = row;
            for (let x = 0; x < cols; ++x) {
              const v = <i32>load<i8>(p);
              if (v > max) max = v;
              p += channels;
            }
            row += rowStride;
          }
          store<i8>(output, clamp(max, act_min, act_max));
          output += 1;
        }
      }
    }
  }
}
