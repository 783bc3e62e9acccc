/*
 * RESIZE_NEAREST_NEIGHBOR, int8 (TFLite reference_ops::ResizeNearestNeighbor), NHWC, as
 * runtime/c/kernels/resize_nearest_s8.c. The source row and column of every output row and column are fixed
 * at compile time: y_offsets[y] = in_y * in_w * depth and x_offsets[x] = in_x * depth. Pure data movement:
 * an output row whose source row equals the previous one's is a copy of the previous output row.
 */

export function resize_nearest_s8(input: usize, output: usize, batches: i32, out_h: i32, out_w: i32, depth: i32,
                                  in_batch_stride: i32, y_offsets: usize, x_offsets: usize): void {
  const outRow = out_w * depth;
  for (let b = 0; b < batches; ++b) {
    for (let y = 0; y < out_h; ++y) {
      const yOffset = load<i32>(y_offsets + (<usize>y << 2));
      if (y > 0 && yOffset == load<i32>(y_offsets + (<usize>(y - 1) << 2))) {
        memory.copy(output, output - outRow, outRow);
      } else {
        const inRow = input + yOffset;
        if (depth == 1) {
          for (let x = 0; x < out_w; ++x) {
            store<i8>(output + x, load<i8>(inRow + load<i32>(x_offsets + (<usize>x << 2))));
          }
        } else {
          for (let x = 0; x < out_w; ++x) {
            memory.copy(output + x * depth, inRow + load<i32>(x_offsets + (<usize>x << 2)), depth);
          }
        }
      }
      output += outRow;
    }
    input += in_batch_stride;
  }
}
