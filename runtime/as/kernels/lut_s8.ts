/*
 * Elementwise int8 -> int8 through a 256-entry table fixed at compile time (LOGISTIC, TANH, HARD_SWISH,
 * LEAKY_RELU, RELU, RELU6, int8 QUANTIZE), as runtime/c/kernels/lut_s8.c. The compiler fills the table by
 * running TFLM's integer algorithm on every input byte; entry (uint8_t)x holds the output for x.
 */

export function lut_s8(input: usize, output: usize, size: i32, table: usize): void {
  for (let i = 0; i < size; ++i) {
    store<i8>(output + i, load<i8>(table + <usize>load<u8>(input + i)));
  }
}
