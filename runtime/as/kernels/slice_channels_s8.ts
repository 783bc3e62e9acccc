/* SliceChannels (compiler/ops/train/slice_channels.ts): the first `keep` channels of each pixel, packed. */

export function slice_channels_s8(x: usize, out: usize, pixels: i32, channels: i32, keep: i32): void {
  for (let p = 0; p < pixels; ++p) memory.copy(out + <usize>(p * keep), x + <usize>(p * channels), <usize>keep);
}
