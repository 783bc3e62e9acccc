/*
 * An inverted bottleneck, [TRANSPOSE NCHW -> NHWC] -> [CONV_2D (expand)] -> DEPTHWISE_CONV_2D -> [CONV_2D 1x1
 * (project)], that never holds the transposed input, the expanded tensor nor the depthwise output whole; the port of
 * runtime/c/kernels/inverted_bottleneck_s8.c (see it for the scratch layout and why the row ranges compute exactly
 * the unfused layers' bytes). expand_weights == 0: no expand layer; project_weights == 0: no project layer.
 * expand_weights and project_weights are int16, as conv2d_s8 and conv2d_1x1_s8 take them in wasm (the backend
 * widens them). output == input: one buffer, an NCHW input first transposed in place, and with chunk_in_place > 0
 * each depthwise row by chunks (see the C kernel).
 */
import { conv2d_1x1_s8 } from "./conv2d_1x1_s8";
import { conv2d_s8 } from "./conv2d_s8";
import { depthwise_conv2d_s8 } from "./depthwise_conv2d_s8";

/* The window holding rows [first, end) moves to start at row n0 (rows only grow): the rows it keeps go to its top.
 * Returns its first row; its end becomes max(end, n0). */
function slide(window: usize, first: i32, end: i32, n0: i32, rowBytes: i32): i32 {
  if (n0 >= end) return n0;
  if (n0 > first) memory.copy(window, window + <usize>((n0 - first) * rowBytes), <usize>((end - n0) * rowBytes));
  return max(first, n0);
}

/* NHWC rows [from, to) of NCHW image x, transposed into the window that starts at row `first`. */
function transposeRows(x: usize, window: usize, first: i32, from: i32, to: i32, inH: i32, inW: i32, inC: i32): void {
  for (let row = from; row < to; ++row) {
    const dst = window + <usize>((row - first) * inW * inC);
    for (let c = 0; c < inC; ++c) {
      const src = x + <usize>((c * inH + row) * inW);
      for (let i = 0; i < inW; ++i) store<i8>(dst + <usize>(i * inC + c), load<i8>(src + <usize>i));
    }
  }
}

// The window of transposed input rows [transposedFirst, transposedEnd) of the kernel call running.
let transposedFirst = 0;
let transposedEnd = 0;

/* NHWC rows [from, to) of image x: in place, or transposed from NCHW into `window` (sliding down to row from). */
function inputRows(x: usize, transpose: bool, window: usize, from: i32, to: i32, inH: i32, inW: i32, inC: i32): usize {
  const inRow = inW * inC;
  if (!transpose) return x + <usize>(from * inRow);
  transposedFirst = slide(window, transposedFirst, transposedEnd, from, inRow);
  transposedEnd = max(transposedEnd, from);
  transposeRows(x, window, transposedFirst, transposedEnd, to, inH, inW, inC);
  transposedEnd = max(transposedEnd, to);
  return window;
}

/* The planes x[c][pixels] become pixels of channels, in place: the byte at i moves to i * channels mod (n - 1). */
function transposeInPlace(x: usize, channels: u32, pixels: u32, cycles: usize, count: i32): void {
  const last = channels * pixels - 1;
  for (let k = 0; k < count; ++k) {
    const start = load<u32>(cycles + (<usize>k << 2));
    let carried = load<i8>(x + <usize>start);
    let i = start;
    do {
      i = i * channels % last;
      const displaced = load<i8>(x + <usize>i);
      store<i8>(x + <usize>i, carried);
      carried = displaced;
    } while (i != start);
  }
}

export function inverted_bottleneck_s8(
  input: usize, expand_weights: usize, dw_weights: usize, project_weights: usize, output: usize, scratch: usize,
  expand_folded_bias: usize, expand_multipliers: usize, expand_shifts: usize,
  dw_bias: usize, dw_folded_bias: usize, dw_multipliers: usize, dw_shifts: usize,
  project_folded_bias: usize, project_multipliers: usize, project_shifts: usize, transpose_cycles: usize,
  batches: i32, in_h: i32, in_w: i32, in_c: i32, transpose_input: i32, transpose_cycle_count: i32,
  expand_filter_h: i32, expand_filter_w: i32, expand_stride_h: i32, expand_stride_w: i32,
  expand_dilation_h: i32, expand_dilation_w: i32, expand_pad_top: i32, expand_pad_left: i32,
  expand_input_zero_point: i32, expand_output_offset: i32, expand_act_min: i32, expand_act_max: i32,
  exp_h: i32, exp_w: i32, exp_c: i32, dw_out_h: i32, dw_out_w: i32, depth_multiplier: i32,
  filter_h: i32, filter_w: i32, stride_h: i32, stride_w: i32, dilation_h: i32, dilation_w: i32,
  pad_top: i32, pad_left: i32, dw_input_offset: i32, dw_output_offset: i32, dw_act_min: i32, dw_act_max: i32,
  project_stride_h: i32, project_stride_w: i32, project_output_offset: i32, project_act_min: i32, project_act_max: i32,
  out_h: i32, out_w: i32, out_c: i32, chunk_in_place: i32,
): void {
  const span = (filter_h - 1) * dilation_h + 1;
  const dwC = exp_c * depth_multiplier;
  const pointwise = expand_filter_h == 1 && expand_filter_w == 1;
  const inPlace = output == input;
  if (inPlace && transpose_input != 0) transposeInPlace(output, <u32>in_c, <u32>(in_h * in_w), transpose_cycles, transpose_cycle_count);
  const transpose = transpose_input != 0 && !inPlace;
  // conv2d_1x1_s8 reads output row r from input row r * stride_h: it has no padding.
  const ePadTop = pointwise ? 0 : expand_pad_top;
  const eSpan = (expand_filter_h - 1) * expand_dilation_h + 1;
  const expRows = expand_weights != 0 ? min(span, exp_h) : 0;
  const firstRows = expand_weights != 0 ? eSpan : span;
  // The window's positions, by chunks padded with a pixel of the depthwise zero point before each row (see the C kernel).
  const columnBytes = expand_weights != 0 && !pointwise ? 2 * expand_filter_h * expand_filter_w * in_c : 0;
  const padded = inPlace && chunk_in_place > 0 ? 1 : 0;
  const pitch = exp_w + padded;
  const chunk = padded != 0 ? chunk_in_place : dw_out_w;
  const capacity = padded != 0 ? (expRows - 1) * pitch + (chunk - 1) * stride_w + (filter_w - 1) * dilation_w + 1 : expRows * exp_w;
  const columns = scratch;
  const inWindow = columns + <usize>columnBytes;
  const window = inWindow + (transpose ? <usize>(min(firstRows, in_h) * in_w * in_c) : 0);
  const dwRow = window + <usize>(capacity * exp_c);
  // With a project layer only the depthwise rows it reads are computed: row r * project_stride_h for its row r.
  const rows = project_weights != 0 ? out_h : dw_out_h;
  const dwRowStep = project_weights != 0 ? project_stride_h : 1;
  for (let b = 0; b < batches; ++b) {
    const x = input + <usize>(b * in_h * in_w * in_c);
    const y = output + <usize>(b * out_h * out_w * out_c);
    // The window holds positions [base, done).
    let base = 0;
    let done = 0;
    transposedFirst = 0;
    transposedEnd = 0;
    for (let r = 0; r < rows; ++r) {
      const origin = r * dwRowStep * stride_h - pad_top;
      const n0 = max(origin, 0);
      const n1 = min(origin + span, exp_h);
      for (let x0 = 0; x0 < dw_out_w; x0 += chunk) {
        const n = min(chunk, dw_out_w - x0);
        let image: usize;
        if (expand_weights != 0) {
          // The chunk's taps are positions [first, last).
          const tap0 = x0 * stride_w - pad_left;
          const tap1 = (x0 + n - 1) * stride_w - pad_left + (filter_w - 1) * dilation_w + 1;
          const first = n0 * pitch + (padded != 0 ? tap0 + 1 : 0);
          const last = padded != 0 ? (n1 - 1) * pitch + tap1 + 1 : n1 * pitch;
          if (done <= first) {
            base = first;
            done = first;
          } else if (last - base > capacity) {
            memory.copy(window, window + <usize>((first - base) * exp_c), <usize>((done - first) * exp_c));
            base = first;
          }
          // One expanded row's run at a time: the input window then holds one row's taps, eSpan rows.
          while (done < last) {
            const dst = window + <usize>((done - base) * exp_c);
            const row = done / pitch;
            const col = done % pitch - padded;
            if (col < 0) {
              memory.fill(dst, <u8>(-dw_input_offset), <usize>exp_c);
              ++done;
              continue;
            }
            const end = min(col + last - done, exp_w);
            const eOrigin = row * expand_stride_h - ePadTop;
            const i0 = max(eOrigin, 0);
            const i1 = min(eOrigin + eSpan, in_h);
            const rowsIn = inputRows(x, transpose, inWindow, i0, i1, in_h, in_w, in_c);
            if (pointwise) {
              conv2d_1x1_s8(rowsIn + <usize>(col * expand_stride_w * in_c), expand_weights, expand_folded_bias, dst, 1, 1,
                in_w - col * expand_stride_w, in_c, 1, end - col, exp_c, expand_stride_h, expand_stride_w,
                expand_multipliers, expand_shifts, expand_output_offset, expand_act_min, expand_act_max);
            } else {
              conv2d_s8(rowsIn, expand_weights, expand_folded_bias, dst, columns, 1, i1 - i0, in_w, in_c, 1, end - col,
                exp_c, expand_filter_h, expand_filter_w, expand_stride_h, expand_stride_w, expand_dilation_h,
                expand_dilation_w, i0 - eOrigin, expand_pad_left - col * expand_stride_w, expand_input_zero_point,
                expand_multipliers, expand_shifts, expand_output_offset, expand_act_min, expand_act_max);
            }
            done += end - col;
          }
          image = window + <usize>((first - base) * exp_c);
        } else {
          image = inputRows(x, transpose, inWindow, n0, n1, in_h, in_w, in_c);
        }
        // By chunks, the depthwise chunk goes in the output buffer, past where the project layer writes the chunk.
        const outChunk = y + <usize>((r * out_w + x0) * out_c);
        const dwOut = project_weights == 0 ? y + <usize>((r * dw_out_w + x0) * dwC) : padded != 0 ? outChunk + <usize>(n * out_c) : dwRow;
        depthwise_conv2d_s8(image, dw_weights, dw_bias, dw_folded_bias, dwOut, 1, n1 - n0, pitch, exp_c, 1, n,
          depth_multiplier, filter_h, filter_w, stride_h, stride_w, dilation_h, dilation_w, n0 - origin,
          padded != 0 ? 0 : pad_left, dw_input_offset, dw_multipliers, dw_shifts, dw_output_offset, dw_act_min,
          dw_act_max);
        if (project_weights != 0) {
          // By chunks the project layer has stride 1 across (the compiler checks): pixel for pixel.
          conv2d_1x1_s8(dwOut, project_weights, project_folded_bias, outChunk, 1, 1, n, dwC, 1, padded != 0 ? n : out_w,
            out_c, project_stride_h, project_stride_w, project_multipliers, project_shifts,
            project_output_offset, project_act_min, project_act_max);
        }
      }
    }
  }
}
