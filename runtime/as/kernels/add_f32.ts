/* AddGradients (compiler/ops/train/add_gradients.ts): out = a + b, one float32 addition per element (SIMD lanes too). */

export function add_f32(a: usize, b: usize, out: usize, n: i32): void {
  let i = 0;
  if (ASC_FEATURE_SIMD) {
    for (; i + 4 <= n; i += 4) {
      const at = <usize>i << 2;
      v128.store(out + at, f32x4.add(v128.load(a + at), v128.load(b + at)));
    }
  }
  for (; i < n; ++i) {
    const at = <usize>i << 2;
    store<f32>(out + at, load<f32>(a + at) + load<f32>(b + at));
  }
}
