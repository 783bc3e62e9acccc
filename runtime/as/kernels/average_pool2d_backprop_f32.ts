/*
 * AveragePool2DBackprop (compiler/ops/train/average_pool_backprop.ts): each output gradient divided by its window's
 * count of valid taps, added to each of them, in the reference's order (n, oy, ox, c, then the taps).
 */

export function average_pool2d_backprop_f32(
  dy: usize, dx: usize, batches: i32, in_h: i32, in_w: i32, channels: i32, out_h: i32, out_w: i32,
  filter_h: i32, filter_w: i32, stride_h: i32, stride_w: i32, pad_top: i32, pad_left: i32,
): void {
  memory.fill(dx, 0, <usize>(batches * in_h * in_w * channels) << 2);
  let src = dy;
  for (let n = 0; n < batches; ++n) {
    for (let oy = 0; oy < out_h; ++oy) {
      const y0 = max(0, oy * stride_h - pad_top);
      const y1 = min(in_h, oy * stride_h - pad_top + filter_h);
      for (let ox = 0; ox < out_w; ++ox) {
        const x0 = max(0, ox * stride_w - pad_left);
        const x1 = min(in_w, ox * stride_w - pad_left + filter_w);
        const count = <f32>((y1 - y0) * (x1 - x0));
        for (let c = 0; c < channels; ++c, src += 4) {
          const g = load<f32>(src) / count;
          for (let iy = y0; iy < y1; ++iy) {
            for (let ix = x0; ix < x1; ++ix) {
              const at = dx + (<usize>(((n * in_h + iy) * in_w + ix) * channels + c) << 2);
              store<f32>(at, load<f32>(at) + g);
            }
          }
        }
      }
    }
  }
}
