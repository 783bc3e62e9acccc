/*
 * tinyforge runtime: the float32 arithmetic of the training kernels, in AssemblyScript. Bit-exact with
 * runtime/c/tf_float32.h and compiler/ops/common/float32_math.ts (the algorithms are explained there): WebAssembly's
 * f32 instructions are IEEE binary32 operations rounded to nearest even; the fused multiply-add, which it has no
 * instruction for, is computed exactly in f64 (tf_fmaf). Constants are given by their bits.
 */

// @ts-ignore: decorator
@inline const LOG2E: f32 = reinterpret<f32>(0x3fb8aa3b);
// @ts-ignore: decorator
@inline const EXP_LN2_HI: f32 = reinterpret<f32>(0x3f318000);
// @ts-ignore: decorator
@inline const EXP_LN2_LO: f32 = reinterpret<f32>(0xb95e8083);
// @ts-ignore: decorator
@inline const EXP_P0: f32 = reinterpret<f32>(0x39506967);
// @ts-ignore: decorator
@inline const EXP_P1: f32 = reinterpret<f32>(0x3ab743ce);
// @ts-ignore: decorator
@inline const EXP_P2: f32 = reinterpret<f32>(0x3c088908);
// @ts-ignore: decorator
@inline const EXP_P3: f32 = reinterpret<f32>(0x3d2aa9c1);
// @ts-ignore: decorator
@inline const EXP_P4: f32 = reinterpret<f32>(0x3e2aaaaa);
// @ts-ignore: decorator
@inline const EXP_UNDERFLOW: f32 = reinterpret<f32>(0xc2aeac4f);
// @ts-ignore: decorator
@inline const EXP_OVERFLOW: f32 = reinterpret<f32>(0x42b17220);
// @ts-ignore: decorator
@inline const ROUNDER: f32 = reinterpret<f32>(0x4b400000);

/** e^x; results below FLT_MIN are flushed to 0. */
// @ts-ignore: decorator
@inline
export function tf_expf(x: f32): f32 {
  if (x != x) return x;
  if (x < EXP_UNDERFLOW) return 0;
  if (x > EXP_OVERFLOW) return f32.POSITIVE_INFINITY;
  const kf: f32 = (x * LOG2E + ROUNDER) - ROUNDER;
  const r: f32 = (x - kf * EXP_LN2_HI) - kf * EXP_LN2_LO;
  let p: f32 = EXP_P0;
  p = p * r + EXP_P1;
  p = p * r + EXP_P2;
  p = p * r + EXP_P3;
  p = p * r + EXP_P4;
  p = p * r + <f32>0.5;
  const e: f32 = (p * (r * r) + r) + <f32>1;
  const k = <i32>kf;
  const k1 = k >> 1;
  return e * reinterpret<f32>((k1 + 127) << 23) * reinterpret<f32>((k - k1 + 127) << 23);
}

// @ts-ignore: decorator
@inline const LOG_LN2_HI: f32 = reinterpret<f32>(0x3f317180);
// @ts-ignore: decorator
@inline const LOG_LN2_LO: f32 = reinterpret<f32>(0x3717f7d1);
// @ts-ignore: decorator
@inline const LG1: f32 = reinterpret<f32>(0x3f2aaaaa);
// @ts-ignore: decorator
@inline const LG2: f32 = reinterpret<f32>(0x3eccce13);
// @ts-ignore: decorator
@inline const LG3: f32 = reinterpret<f32>(0x3e91e9ee);
// @ts-ignore: decorator
@inline const LG4: f32 = reinterpret<f32>(0x3e789e26);
// @ts-ignore: decorator
@inline const SQRT_HALF_BITS: u32 = 0x3f3504f3;

/** The natural logarithm. */
// @ts-ignore: decorator
@inline
export function tf_logf(x: f32): f32 {
  let ix = reinterpret<u32>(x);
  let k: i32 = 0;
  if (ix < 0x00800000 || (ix >> 31) != 0) {
    if ((ix << 1) == 0) return f32.NEGATIVE_INFINITY;
    if ((ix >> 31) != 0) return f32.NaN;
    k = -25;
    x *= reinterpret<f32>(0x4c000000);
    ix = reinterpret<u32>(x);
  } else if (ix >= 0x7f800000) {
    return x;
  }
  ix += 0x3f800000 - SQRT_HALF_BITS;
  k += <i32>(ix >> 23) - 0x7f;
  const f: f32 = reinterpret<f32>((ix & 0x007fffff) + SQRT_HALF_BITS) - <f32>1;
  const s: f32 = f / (<f32>2 + f);
  const z: f32 = s * s;
  const w: f32 = z * z;
  const r: f32 = z * (LG1 + w * LG3) + w * (LG2 + w * LG4);
  const hfsq: f32 = <f32>0.5 * f * f;
  const dk = <f32>k;
  return s * (hfsq + r) + dk * LOG_LN2_LO - hfsq + f + dk * LOG_LN2_HI;
}

/** One step of Marsaglia's xorshift32 (13, 17, 5); a non-zero state stays non-zero. */
// @ts-ignore: decorator
@inline
export function tf_xorshift32(s: u32): u32 {
  s ^= s << 13;
  s ^= s >> 17;
  s ^= s << 5;
  return s;
}

/** The top 24 bits of a state as a float in [0, 1), exactly. */
// @ts-ignore: decorator
@inline
export function tf_uniform(s: u32): f32 {
  return <f32>(s >> 8) * reinterpret<f32>(0x33800000);
}

/** Advances the generator whose uint32 state is the int32 at `state` and returns its uniform draw. */
// @ts-ignore: decorator
@inline
export function tf_next_uniform(state: usize): f32 {
  const s = tf_xorshift32(load<u32>(state));
  store<u32>(state, s);
  return tf_uniform(s);
}

/** Round to nearest, ties to even (f32.nearest), saturated to the int32 range; NaN gives 0. */
// @ts-ignore: decorator
@inline
export function tf_round_half_even_to_int32(x: f32): i32 {
  if (x != x) return 0;
  if (x >= <f32>2147483648) return i32.MAX_VALUE;
  if (x <= <f32>-2147483648) return i32.MIN_VALUE;
  return <i32>nearest<f32>(x);
}

// @ts-ignore: decorator
@inline
export function tf_saturating_sub_int32(a: i32, b: i32): i32 {
  const d = <i64>a - <i64>b;
  return d > <i64>i32.MAX_VALUE ? i32.MAX_VALUE : d < <i64>i32.MIN_VALUE ? i32.MIN_VALUE : <i32>d;
}

/** floor(v) + (u < v - floor(v)), clamped to [-127, 127]; NaN gives 0 (as runtime/c/tf_float32.h). */
// @ts-ignore: decorator
@inline
export function tf_stochastic_round_weight(v: f32, u: f32): i32 {
  if (v != v) return 0;
  if (v >= <f32>127) return 127;
  if (v <= <f32>-127) return -127;
  const lo = floor<f32>(v);
  return <i32>lo + (u < v - lo ? 1 : 0);
}

/**
 * float32(a * b + c) with one rounding (IEEE 754 fusedMultiplyAdd), which WebAssembly has no instruction for: the
 * exact double product, the double sum and its two-sum error, as compiler/ops/common/float32_math.ts (fmaF32)
 * explains. Only a sum that lands on a float32 tie with an error left over needs fma_tie.
 */
// @ts-ignore: decorator
@inline
export function tf_fmaf(a: f32, b: f32, c: f32): f32 {
  const p = <f64>a * <f64>b;
  const s = p + <f64>c;
  const r = <f32>s;
  if (<f64>r == s) return r;
  const v = s - p;
  const e = p - (s - v) + (<f64>c - v);
  return e == 0 ? r : fma_tie(s, r, e);
}

// @ts-ignore: decorator
@inline const TWO_POW_128: f64 = reinterpret<f64>(0x47f0000000000000);

/** A float32 as a rounding candidate: ±inf stands for ±2^128, where float32 rounds to it. */
function fma_candidate(x: f32): f64 {
  return isFinite<f32>(x) ? <f64>x : x > 0 ? TWO_POW_128 : -TWO_POW_128;
}

/** r = f32(s), s not a float32: r, or the float32 on the other side of s where s is a tie and e says so. */
function fma_tie(s: f64, r: f32, e: f64): f32 {
  if (s != s) return r;
  const up = s > <f64>r;
  const other = r == 0 ? reinterpret<f32>(1) * (up ? <f32>1 : <f32>-1) : reinterpret<f32>(reinterpret<i32>(r) + (up == r > 0 ? 1 : -1));
  if (s - fma_candidate(r) != fma_candidate(other) - s) return r;
  return (e > 0) == (other > r) ? other : r;
}
