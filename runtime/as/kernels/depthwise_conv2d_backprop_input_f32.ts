/*
 * DepthwiseConv2DBackpropInput (compiler/ops/train/backprop_input.ts), depth multiplier 1, weights 1HWC: each
 * output gradient, times its channel's weight scale, is scattered into the taps of the same channel, in the
 * reference's order (n, oy, ox, c, ky, kx).
 */

export function depthwise_conv2d_backprop_input_f32(
  dy: usize, w: usize, w_scale: usize, dx: usize, batches: i32, in_h: i32, in_w: i32, channels: i32, out_h: i32,
  out_w: i32, filter_h: i32, filter_w: i32, stride_h: i32, stride_w: i32, dilation_h: i32, dilation_w: i32, pad_top: i32,
  pad_left: i32,
): void {
  memory.fill(dx, 0, <usize>(batches * in_h * in_w * channels) << 2);
  let src = dy;
  for (let n = 0; n < batches; ++n) {
    for (let oy = 0; oy < out_h; ++oy) {
      for (let ox = 0; ox < out_w; ++ox) {
        for (let c = 0; c < channels; ++c, src += 4) {
          const g = load<f32>(src) * load<f32>(w_scale + (<usize>c << 2));
          if (g == 0) continue;
          for (let ky = 0; ky < filter_h; ++ky) {
            const iy = oy * stride_h - pad_top + ky * dilation_h;
            if (iy < 0 || iy >= in_h) continue;
            for (let kx = 0; kx < filter_w; ++kx) {
              const ix = ox * stride_w - pad_left + kx * dilation_w;
              if (ix < 0 || ix >= in_w) continue;
              const at = dx + (<usize>(((n * in_h + iy) * in_w + ix) * channels + c) << 2);
              store<f32>(at, load<f32>(at) + g * <f32>load<i8>(w + <usize>((ky * filter_w + kx) * channels + c)));
            }
          }
        }
      }
    }
  }
}
