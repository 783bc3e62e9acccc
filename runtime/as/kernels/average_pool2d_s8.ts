/*
 * AVERAGE_POOL_2D, int8, NHWC (TFLM reference_integer_ops::AveragePool), as
 * runtime/c/kernels/average_pool2d_s8.c: the sum of each window's in-image inputs divided by their count,
 * rounded to nearest with ties away from zero or, with ties_to_even, to even, clamped to [act_min, act_max]. Input and output share their quantization, so
 * there is no rescaling. The window bounds and count are computed once per output pixel.
 *
 * With SIMD, 16 channels are summed at once, exactly: in int16 lanes when count <= 256 (|sum| <= 256 * 128),
 * else in int32 lanes. The division (sum +- count / 2) / count, truncating, is done in float32: for integers
 * |a| < 2^24 and 1 <= b < 2^24 the float32 quotient is within |a / b| * 2^-24 < 1 / b of a / b, so it never
 * crosses the integer that truncation stops at, and trunc(fl(a / b)) equals the C int32 division. Here
 * |a| <= 128 * count + count / 2, hence the count < 65536 bound; larger windows take the scalar path. Ties to even
 * round fl(sum / count) with f32x4.nearest: an exact .5 quotient is representable and stays one, and any other
 * quotient is at least 1 / (2 * count) > 2^-17 away from a .5 while the float32 error is at most 2^-17 (|q| <= 128). The
 * quotient lies in [-128, 127], so the saturating narrows are exact, and the clamp becomes max_s/min_s, equal to
 * the scalar clamp when -128 <= act_min <= act_max <= 127 (always true of the compiler's activation range; the
 * vector path checks it).
 */
import { clamp } from "../fixed_point";

// Rounded int32 division of 4 lanes, as described above.
// @ts-ignore: decorator
@inline
function roundedDivide4(sum: v128, half: v128, count: v128): v128 {
  const rounded = v128.bitselect(i32x4.add(sum, half), i32x4.sub(sum, half), i32x4.gt_s(sum, i32x4.splat(0)));
  return i32x4.trunc_sat_f32x4_s(f32x4.div(f32x4.convert_i32x4_s(rounded), count));
}

// Ties-to-even division of 4 lanes, as described above.
// @ts-ignore: decorator
@inline
function evenDivide4(sum: v128, count: v128): v128 {
  return i32x4.trunc_sat_f32x4_s(f32x4.nearest(f32x4.div(f32x4.convert_i32x4_s(sum), count)));
}

function divideTiesToEven(sum: i32, count: i32): i32 {
  let quotient = sum / count;
  let remainder = sum % count;
  if (remainder < 0) {
    quotient -= 1;
    remainder += count;
  }
  const twice = 2 * remainder;
  return quotient + (twice > count || (twice == count && (quotient & 1) != 0) ? 1 : 0);
}

export function average_pool2d_s8(input: usize, output: usize, batches: i32, in_h: i32, in_w: i32, channels: i32,
                                  out_h: i32, out_w: i32, filter_h: i32, filter_w: i32, stride_h: i32,
                                  stride_w: i32, pad_top: i32, pad_left: i32, act_min: i32, act_max: i32,
                                  ties_to_even: i32): void {
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
        const count = rows * cols;
        const half = count / 2;
        const window = image + (iy + fy0) * rowStride + (ix + fx0) * channels;
        let c = 0;
        if (ASC_FEATURE_SIMD) {
          if (count < 65536) {
            const halfV = i32x4.splat(half);
            const countV = f32x4.splat(<f32>count);
            const lo = i8x16.splat(<i8>act_min);
            const hi = i8x16.splat(<i8>act_max);
            for (; c < vectorChannels; c += 16) {
              let s0: v128, s1: v128, s2: v128, s3: v128;
              let row = window + c;
              if (count <= 256) {
                let h0 = i16x8.splat(0);
                let h1 = i16x8.splat(0);
                for (let y = 0; y < rows; ++y) {
                  let p = row;
                  for (let x = 0; x < cols; ++x) {
                    const v = v128.load(p);
                    h0 = i16x8.add(h0, i16x8.extend_low_i8x16_s(v));
                    h1 = i16x8.add(h1, i16x8.extend_high_i8x16_s(v));
                    p += channels;
                  }
                  row += rowStride;
                }
                s0 = i32x4.extend_low_i16x8_s(h0);
                s1 = i32x4.extend_high_i16x8_s(h0);
                s2 = i32x4.extend_low_i16x8_s(h1);
                s3 = i32x4.extend_high_i16x8_s(h1);
              } else {
                s0 = i32x4.splat(0);
                s1 = i32x4.splat(0);
                s2 = i32x4.splat(0);
                s3 = i32x4.splat(0);
                for (let y = 0; y < rows; ++y) {
                  let p = row;
                  for (let x = 0; x < cols; ++x) {
                    const v = v128.load(p);
                    const l = i16x8.extend_low_i8x16_s(v);
                    const h = i16x8.extend_high_i8x16_s(v);
                    s0 = i32x4.add(s0, i32x4.extend_low_i16x8_s(l));
                    s1 = i32x4.add(s1, i32x4.extend_high_i16x8_s(l));
                    s2 = i32x4.add(s2, i32x4.extend_low_i16x8_s(h));
                    s3 = i32x4.add(s3, i32x4.extend_high_i16x8_s(h));
                    p += channels;
                  }
                  row += rowStride;
                }
              }
              const q = ties_to_even
                ? i8x16.narrow_i16x8_s(
                  i16x8.narrow_i32x4_s(evenDivide4(s0, countV), evenDivide4(s1, countV)),
                  i16x8.narrow_i32x4_s(evenDivide4(s2, countV), evenDivide4(s3, countV)),
                )
                : i8x16.narrow_i16x8_s(
                  i16x8.narrow_i32x4_s(roundedDivide4(s0, halfV, countV), roundedDivide4(s1, halfV, countV)),
                  i16x8.narrow_i32x4_s(roundedDivide4(s2, halfV, countV), roundedDivide4(s3, halfV, countV)),
                );
              v128.store(output, i8x16.min_s(i8x16.max_s(q, lo), hi));
              output += 16;
            }
          }
        }
        for (; c < channels; ++c) {
          let acc = 0;
          let row = window + c;
          for (let y = 0; y < rows; ++y) {
            let p = row;
            for (let x = 0; x < cols; ++x) {
              acc += <i32>load<i8>(p);
              p += channels;
            }
            row += rowStride;
          }
          acc = ties_to_even ? divideTiesToEven(acc, count) : acc > 0 ? (acc + half) / count : (acc - half) / count;
          store<i8>(output, clamp(acc, act_min, act_max));
          output += 1;
        }
      }
    }
  }
}
