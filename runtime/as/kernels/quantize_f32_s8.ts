/*
 * QUANTIZE float32 -> int8 (TFLM reference_ops::AffineQuantize), as runtime/c/kernels/quantize_f32_s8.c:
 * round(x / scale) in float32, halves away from zero, plus the zero point, clamped to int8. The scale arrives
 * as the bits of a float32. Quotients of magnitude >= 256 saturate; NaN gives the zero point. The division is
 * one IEEE float32 operation and the rounding is exact integer work, so the result equals the C kernel's.
 */
import { clamp } from "../fixed_point";

export function quantize_f32_s8(input: usize, output: usize, size: i32, scale_bits: i32, zero_point: i32): void {
  const scale = reinterpret<f32>(scale_bits);
  for (let i = 0; i < size; ++i) {
    const v = load<f32>(input + (<usize>i << 2)) / scale;
    let q: i32;
    if (v >= 256.0) {
      q = 256;
    } else if (v <= -256.0) {
      q = -256;
    } else if (v == v) {
      // |v| < 256, so the truncation and v - q are exact (roundf without libm, as in C).
      q = <i32>v;
      const frac = v - <f32>q;
      if (frac >= 0.5) {
        q += 1;
      } else if (frac <= -0.5) {
        q -= 1;
      }
    } else {
      q = 0;
    }
    store<i8>(output + i, clamp(q + zero_point, -128, 127));
  }
}
