/*
 * MaxPool2DBackprop (compiler/ops/train/max_pool_backprop.ts), as runtime/c/kernels/max_pool2d_backprop_f32.c: each
 * output gradient added to the input element its saved argmax names, outputs in ascending order.
 */

export function max_pool2d_backprop_f32(
  dy: usize, argmax: usize, dx: usize, batches: i32, in_h: i32, in_w: i32, channels: i32, out_h: i32, out_w: i32,
  filter_h: i32, filter_w: i32, stride_h: i32, stride_w: i32, pad_top: i32, pad_left: i32,
): void {
  memory.fill(dx, 0, <usize>(batches * in_h * in_w * channels) << 2);
  let src = dy;
  let tapAt = argmax;
  for (let n = 0; n < batches; ++n) {
    const image = dx + (<usize>(n * in_h * in_w * channels) << 2);
    for (let oy = 0; oy < out_h; ++oy) {
      for (let ox = 0; ox < out_w; ++ox) {
        for (let c = 0; c < channels; ++c, src += 4, ++tapAt) {
          const tap = <i32>load<u8>(tapAt);
          const iy = oy * stride_h - pad_top + tap / filter_w;
          const ix = ox * stride_w - pad_left + tap % filter_w;
          const at = image + (<usize>((iy * in_w + ix) * channels + c) << 2);
          store<f32>(at, load<f32>(at) + load<f32>(src));
        }
      }
    }
  }
}
