/*
 * CONCATENATION, int8, up to 10 inputs (TFLM's limit; unused input slots are 0), as
 * runtime/c/kernels/concatenation_s8.c. For each of the `outer` slices before the axis, input i contributes
 * copy_sizes[i] contiguous bytes. An input quantized like the output is copied (TFLite
 * reference_ops::Concatenation); one quantized differently goes through the 256-entry table the compiler
 * computed with TFLite's ConcatenationWithScaling float arithmetic: luts[lut_offsets[i] + 128 + x] for input
 * byte x. lut_offsets[i] < 0 means plain copy. Pure data movement, so bit-exact by construction.
 */

// The C kernel keeps the inputs in an array; without allocation they are picked by index.
// @ts-ignore: decorator
@inline
function inputAt(i: i32, in0: usize, in1: usize, in2: usize, in3: usize, in4: usize, in5: usize, in6: usize,
                 in7: usize, in8: usize, in9: usize): usize {
  switch (i) {
    case 0: return in0;
    case 1: return in1;
    case 2: return in2;
    case 3: return in3;
    case 4: return in4;
    case 5: return in5;
    case 6: return in6;
    case 7: return in7;
    case 8: return in8;
    default: return in9;
  }
}

export function concatenation_s8(in0: usize, in1: usize, in2: usize, in3: usize, in4: usize, in5: usize,
                                 in6: usize, in7: usize, in8: usize, in9: usize, output: usize, count: i32,
                                 outer: i32, copy_sizes: usize, lut_offsets: usize, luts: usize): void {
  for (let k = 0; k < outer; ++k) {
    for (let i = 0; i < count; ++i) {
      const n = load<i32>(copy_sizes + (<usize>i << 2));
      const src = inputAt(i, in0, in1, in2, in3, in4, in5, in6, in7, in8, in9) + k * n;
      const lutOffset = load<i32>(lut_offsets + (<usize>i << 2));
      if (lutOffset < 0) {
        memory.copy(output, src, n);
      } else {
        const lut = luts + lutOffset + 128;
        for (let j = 0; j < n; ++j) store<i8>(output + j, load<i8>(lut + <i32>load<i8>(src + j)));
      }
      output += n;
    }
  }
}
