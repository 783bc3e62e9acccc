/*
 * DepthwiseConv2DBackpropInput (compiler/ops/train/backprop_input.ts), depth multiplier 1, weights 1HWC: each
 * output gradient, times its channel's weight scale, is scattered into the taps of the same channel; each dx element
 * receives its terms in the reference's order, (n, oy, ox) ascending, each a fused multiply-add.
 * dx may be dy's own buffer (stride 1, equal shapes), so the dx rows still receiving terms are accumulated in
 * `scratch`, a ring of min((filter_h - 1) * dilation_h + 1, in_h) rows, and each is copied out once the output rows'
 * windows have moved past it: with stride 1 never before its own dy row has been read. Without scratch (0: dx has a
 * buffer of its own) the same loop accumulates in dx itself, a ring of in_h rows whose slot of each row is the row
 * (runtime/c/kernels/depthwise_conv2d_backprop_input_f32.c does the same).
 */
import { tf_fmaf } from "../float32_math";

export function depthwise_conv2d_backprop_input_f32(
  dy: usize, w: usize, w_scale: usize, dx: usize, scratch: usize, batches: i32, in_h: i32, in_w: i32, channels: i32,
  out_h: i32, out_w: i32, filter_h: i32, filter_w: i32, stride_h: i32, stride_w: i32, dilation_h: i32, dilation_w: i32,
  pad_top: i32, pad_left: i32,
): void {
  const span = (filter_h - 1) * dilation_h + 1;
  const ringRows = scratch == 0 ? in_h : min(span, in_h);
  // ky steps through the ring by this many slots: dilation_h may exceed a ring cut short by in_h.
  const slotStep = dilation_h % ringRows;
  const rowBytes = <usize>(in_w * channels) << 2;
  let src = dy;
  for (let n = 0; n < batches; ++n) {
    const image = dx + <usize>(n * in_h) * rowBytes;
    const ring = scratch == 0 ? image : scratch;
    // dx rows below `done` are in dx; rows in [done, opened) are in ring slot (row % ringRows).
    let done = 0;
    let opened = 0;
    for (let oy = 0; oy <= out_h; ++oy) {
      const iy0 = oy * stride_h - pad_top;
      const complete = oy == out_h || iy0 > in_h ? in_h : iy0;
      for (; done < complete; ++done) {
        const to = image + <usize>done * rowBytes;
        const from = ring + <usize>(done % ringRows) * rowBytes;
        if (done >= opened) memory.fill(to, 0, rowBytes);
        else if (from != to) memory.copy(to, from, rowBytes);
      }
      if (oy == out_h) break;
      const last = min(iy0 + span - 1, in_h - 1);
      if (opened < done) opened = done;
      for (; opened <= last; ++opened) memory.fill(ring + <usize>(opened % ringRows) * rowBytes, 0, rowBytes);
      let slot0 = iy0 % ringRows;
      if (slot0 < 0) slot0 += ringRows;
      for (let ox = 0; ox < out_w; ++ox) {
        const ix0 = ox * stride_w - pad_left;
        for (let c = 0; c < channels; ++c, src += 4) {
          const g = load<f32>(src) * load<f32>(w_scale + (<usize>c << 2));
          if (g == 0) continue;
          let slot = slot0;
          for (let ky = 0; ky < filter_h; ++ky) {
            const iy = iy0 + ky * dilation_h;
            const ringRow = ring + <usize>slot * rowBytes + (<usize>c << 2);
            slot += slotStep;
            if (slot >= ringRows) slot -= ringRows;
            if (iy < 0 || iy >= in_h) continue;
            for (let kx = 0; kx < filter_w; ++kx) {
              const ix = ix0 + kx * dilation_w;
              if (ix < 0 || ix >= in_w) continue;
              const at = ringRow + (<usize>(ix * channels) << 2);
              store<f32>(at, tf_fmaf(g, <f32>load<i8>(w + <usize>((ky * filter_w + kx) * channels + c)), load<f32>(at)));
            }
          }
        }
      }
    }
  }
}
