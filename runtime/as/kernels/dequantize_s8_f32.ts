/*
 * DEQUANTIZE int8 -> float32 (TFLM reference_ops::Dequantize): scale * (q - zero_point) in float32, as
 * runtime/c/kernels/dequantize_s8_f32.c. The scale arrives as the bits of a float32; q - zero_point is an
 * exact int32 and one IEEE float32 multiply gives the C result.
 */

export function dequantize_s8_f32(input: usize, output: usize, size: i32, scale_bits: i32, zero_point: i32): void {
  const scale = reinterpret<f32>(scale_bits);
  for (let i = 0; i < size; ++i) {
    store<f32>(output + (<usize>i << 2), scale * <f32>(<i32>load<i8>(input + i) - zero_point));
  }
}
