/*
 * Elementwise uint8 -> int8 through a 256-entry table fixed at compile time (QUANTIZE of a uint8 input,
 * TFLM's Requantize<uint8_t, int8_t>), as runtime/c/kernels/lut_u8_s8.c; entry x holds the output for x.
 */

export function lut_u8_s8(input: usize, output: usize, size: i32, table: usize): void {
  for (let i = 0; i < size; ++i) {
    store<i8>(output + i, load<i8>(table + <usize>load<u8>(input + i)));
  }
}
