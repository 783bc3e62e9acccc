/*
 * Conv2DWeightUpdate (compiler/ops/train/parameter_update.ts): the weights of input channels ic < keep, OHWI, each
 * updated in place as soon as its gradient is summed (no gradient buffer), one random draw per weight in
 * (oc, ky, kx, ic) order. `rng` is the uint32 xorshift state. A fully connected layer is the 1x1 case. The saved
 * input's first keep channels are dequantized once into scratch ([pixel][keep] f32), as the C kernel does, with
 * `dequantize` 0; with 1, scratch holds instead the dequantized value of each of the 256 codes (f32, at code + 128);
 * with 2, it still holds the copy an earlier call on the same input made.
 */
import { tf_fmaf } from "../float32_math";
import { applyWeightStep } from "./weight_update";

export function conv2d_weight_update_f32(
  dy: usize, x: usize, w: usize, inv_w_scale: usize, lr: usize, rng: usize, scratch: usize, batches: i32, in_h: i32,
  in_w: i32, x_c: i32, in_c: i32, out_h: i32, out_w: i32, out_c: i32, filter_h: i32, filter_w: i32, stride_h: i32,
  stride_w: i32, dilation_h: i32, dilation_w: i32, pad_top: i32, pad_left: i32, x_zero_point: i32, x_scale_bits: i32,
  keep: i32, dequantize: i32,
): void {
  const rate = load<f32>(lr);
  const xScale = reinterpret<f32>(x_scale_bits);
  const pixels = batches * in_h * in_w;
  const byTable = dequantize == 1;
  if (byTable) {
    for (let code = -128; code < 128; ++code) store<f32>(scratch + (<usize>(code + 128) << 2), <f32>(code - x_zero_point) * xScale);
  } else if (dequantize == 0) {
    for (let q = 0; q < pixels; ++q) {
      for (let ic = 0; ic < keep; ++ic) {
        const v = <f32>(<i32>load<i8>(x + <usize>(q * x_c + ic)) - x_zero_point) * xScale;
        store<f32>(scratch + (<usize>(q * keep + ic) << 2), v);
      }
    }
  }
  let state = load<u32>(rng);
  for (let oc = 0; oc < out_c; ++oc) {
    const inv = load<f32>(inv_w_scale + (<usize>oc << 2));
    for (let ky = 0; ky < filter_h; ++ky) {
      for (let kx = 0; kx < filter_w; ++kx) {
        const row = w + <usize>(((oc * filter_h + ky) * filter_w + kx) * in_c);
        for (let ic = 0; ic < keep; ++ic) {
          let g: f32 = 0;
          for (let n = 0; n < batches; ++n) {
            for (let oy = 0; oy < out_h; ++oy) {
              const iy = oy * stride_h - pad_top + ky * dilation_h;
              if (iy < 0 || iy >= in_h) continue;
              for (let ox = 0; ox < out_w; ++ox) {
                const ix = ox * stride_w - pad_left + kx * dilation_w;
                if (ix < 0 || ix >= in_w) continue;
                const d = load<f32>(dy + (<usize>(((n * out_h + oy) * out_w + ox) * out_c + oc) << 2));
                const pixel = (n * in_h + iy) * in_w + ix;
                const at = byTable ? <i32>load<i8>(x + <usize>(pixel * x_c + ic)) + 128 : pixel * keep + ic;
                g = tf_fmaf(d, load<f32>(scratch + (<usize>at << 2)), g);
              }
            }
          }
          state = applyWeightStep(row + <usize>ic, rate * g * inv, state);
        }
      }
    }
  }
  store<u32>(rng, state);
}
