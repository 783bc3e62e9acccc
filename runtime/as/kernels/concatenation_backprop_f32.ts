/*
 * ConcatenationBackprop (compiler/ops/train/concatenation_backprop.ts), as
 * runtime/c/kernels/concatenation_backprop_f32.c: from each outer slice of the output gradient (dy_row elements),
 * the dx_row elements from `start`.
 */

export function concatenation_backprop_f32(dy: usize, dx: usize, outer: i32, dy_row: i32, dx_row: i32, start: i32): void {
  const bytes = <usize>dx_row << 2;
  for (let o = 0; o < outer; ++o) {
    memory.copy(dx + <usize>(o * dx_row) * 4, dy + (<usize>(o * dy_row + start) << 2), bytes);
  }
}
