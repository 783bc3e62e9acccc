/*
 * PAD / PADV2, int8 (TFLite reference_ops::Pad), as runtime/c/kernels/pad_s8.c: the input placed at offset
 * `before` inside an output filled with `pad_value`. The compiler merges every dimension that is not padded
 * into the one outside it, so each output row is written once: all padding, or left padding + one
 * contiguous input row + right padding; the input is read sequentially. rank is 1..6.
 * The C kernel tracks the outer indices in an array; here the (at most 5) outer dimensions are right-aligned
 * into a fixed 5-level loop nest whose unused levels have extent 1 and never pad, which writes the same rows
 * in the same order. Pure data movement, so bit-exact by construction.
 */

// Output extent, first and end (exclusive) input index of outer level `level` (0..4) of the right-aligned nest.
// @ts-ignore: decorator
@inline
export function outAt(out_dims: usize, level: i32, first: i32): i32 {
  return level >= first ? load<i32>(out_dims + (<usize>(level - first) << 2)) : 1;
}

// @ts-ignore: decorator
@inline
export function loAt(before: usize, level: i32, first: i32): i32 {
  return level >= first ? load<i32>(before + (<usize>(level - first) << 2)) : 0;
}

// @ts-ignore: decorator
@inline
export function hiAt(in_dims: usize, before: usize, level: i32, first: i32): i32 {
  return level >= first
    ? load<i32>(before + (<usize>(level - first) << 2)) + load<i32>(in_dims + (<usize>(level - first) << 2))
    : 1;
}

export function pad_s8(input: usize, output: usize, pad_value: i32, rank: i32, out_dims: usize, in_dims: usize,
                       before: usize): void {
  const inner = rank - 1;
  const outRow = load<i32>(out_dims + (<usize>inner << 2));
  const inRow = load<i32>(in_dims + (<usize>inner << 2));
  const left = load<i32>(before + (<usize>inner << 2));
  const right = outRow - inRow - left;
  const value = <u8>pad_value;
  const first = 5 - inner;
  const n0 = outAt(out_dims, 0, first), lo0 = loAt(before, 0, first), hi0 = hiAt(in_dims, before, 0, first);
  const n1 = outAt(out_dims, 1, first), lo1 = loAt(before, 1, first), hi1 = hiAt(in_dims, before, 1, first);
  const n2 = outAt(out_dims, 2, first), lo2 = loAt(before, 2, first), hi2 = hiAt(in_dims, before, 2, first);
  const n3 = outAt(out_dims, 3, first), lo3 = loAt(before, 3, first), hi3 = hiAt(in_dims, before, 3, first);
  const n4 = outAt(out_dims, 4, first), lo4 = loAt(before, 4, first), hi4 = hiAt(in_dims, before, 4, first);
  for (let i0 = 0; i0 < n0; ++i0) {
    const in0 = i0 >= lo0 && i0 < hi0;
    for (let i1 = 0; i1 < n1; ++i1) {
      const in1 = in0 && i1 >= lo1 && i1 < hi1;
      for (let i2 = 0; i2 < n2; ++i2) {
        const in2 = in1 && i2 >= lo2 && i2 < hi2;
        for (let i3 = 0; i3 < n3; ++i3) {
          const in3 = in2 && i3 >= lo3 && i3 < hi3;
          for (let i4 = 0; i4 < n4; ++i4) {
            if (in3 && i4 >= lo4 && i4 < hi4) {
              memory.fill(output, value, left);
              memory.copy(output + left, input, inRow);
              memory.fill(output + left + inRow, value, right);
              input += inRow;
            } else {
              memory.fill(output, value, outRow);
            }
            output += outRow;
          }
        }
      }
    }
  }
}
