/**
 * @fileoverview The float32 arithmetic of the training ops, bit-exact with runtime/c/tf_float32.h and
 * runtime/as/float32_math.ts. Every operation is one IEEE binary32 operation rounded to nearest even: `f32` of the
 * double result of +, -, * or / on float32 values is the correctly rounded float32 result (a double has more than
 * twice float32's precision, so the double rounding is harmless). exp and log are tinyforge's own, made of such operations and integer bit manipulation only, because libm
 * results differ between C libraries, JavaScript engines and WebAssembly. Constants are given by their bits, so that
 * no decimal-to-float conversion (double rounding in JavaScript) can differ between the three languages.
 */

export const f32 = Math.fround;

const floatView = new Float32Array(1);
const intView = new Int32Array(floatView.buffer);

/** The float32 whose IEEE bits are `bits` (an int32 or uint32). */
export function floatFromBits(bits: number): number {
  intView[0] = bits;
  return floatView[0]!;
}

/** The IEEE bits of float32(x), as an int32. */
export function floatBits(x: number): number {
  floatView[0] = x;
  return intView[0]!;
}

/** The float32 after x toward `up` (true) or down; ±0 step to the smallest subnormal. */
function nextFloat(x: number, up: boolean): number {
  if (x === 0) return up ? floatFromBits(1) : -floatFromBits(1);
  return floatFromBits(floatBits(x) + (up === x > 0 ? 1 : -1));
}

/** A float32 as a rounding candidate: ±inf stands for ±2^128, where float32 rounds to it. */
const candidate = (x: number): number => (x === Infinity ? 2 ** 128 : x === -Infinity ? -(2 ** 128) : x);

/**
 * float32(a * b + c) with one rounding (IEEE 754 fusedMultiplyAdd), for float32 a, b, c. The product is exact in a
 * double (two 24-bit significands); the double sum s and its error e (Knuth's two-sum) are exactly a * b + c. f32(s)
 * is then the correctly rounded result except where s is a tie between two float32 values and e is not 0: rounding
 * to double never crosses a float32 tie, since ties are doubles, so only landing on one can mislead. e then says on
 * which side of the tie the exact sum lies.
 */
export function fmaF32(a: number, b: number, c: number): number {
  const p = a * b;
  const s = p + c;
  const r = f32(s);
  if (r === s || !Number.isFinite(s)) return r;
  const v = s - p;
  const e = p - (s - v) + (c - v);
  if (e === 0) return r;
  const other = nextFloat(r, s > r);
  if (s - candidate(r) !== candidate(other) - s) return r;
  return (e > 0) === (other > r) ? other : r;
}

const LOG2E = floatFromBits(0x3fb8aa3b);
// ln 2 = LN2_HI + LN2_LO; LN2_HI has 9 significant bits, so k * LN2_HI is exact for every |k| <= 128.
const EXP_LN2_HI = floatFromBits(0x3f318000);
const EXP_LN2_LO = floatFromBits(0xb95e8083 | 0);
// Cephes' minimax polynomial for (e^r - 1 - r) / r^2 on |r| <= ln(2) / 2, highest degree first.
const EXP_P = [0x39506967, 0x3ab743ce, 0x3c088908, 0x3d2aa9c1, 0x3e2aaaaa, 0x3f000000].map(floatFromBits);
// Below ln(FLT_MIN) the result would be subnormal; it is flushed to 0 (a softmax term that small is 0 anyway).
const EXP_UNDERFLOW = floatFromBits(0xc2aeac4f | 0);
// Above ln(FLT_MAX) the result is +inf; just above it, the scaling below overflows to +inf by itself.
const EXP_OVERFLOW = floatFromBits(0x42b17220);
// 1.5 * 2^23: adding and subtracting it rounds |t| < 2^22 to an integer, half to even.
const ROUNDER = floatFromBits(0x4b400000);

/**
 * e^x in float32 (within 1 ulp of the exact value). x = k ln2 + r with k = round(x / ln2), r by Cody and Waite's
 * two-part ln2 (exact first step by Sterbenz); e^r = 1 + r + r^2 P(r); 2^k is applied in two halves so that k = 128
 * and k = -126 need no special case and the result rounds once.
 */
export function expF32(x: number): number {
  x = f32(x);
  if (x !== x) return x;
  if (x < EXP_UNDERFLOW) return 0;
  if (x > EXP_OVERFLOW) return Infinity;
  const kf = f32(f32(f32(x * LOG2E) + ROUNDER) - ROUNDER);
  const r = f32(f32(x - f32(kf * EXP_LN2_HI)) - f32(kf * EXP_LN2_LO));
  let p = EXP_P[0]!;
  for (let i = 1; i < EXP_P.length; i++) p = f32(f32(p * r) + EXP_P[i]!);
  const e = f32(f32(f32(p * f32(r * r)) + r) + 1);
  const k = kf | 0;
  const k1 = k >> 1;
  return f32(f32(e * floatFromBits((k1 + 127) << 23)) * floatFromBits((k - k1 + 127) << 23));
}

const LOG_LN2_HI = floatFromBits(0x3f317180);
const LOG_LN2_LO = floatFromBits(0x3717f7d1);
// Minimax coefficients of log((1 + s) / (1 - s)) = 2s + s^3 (LG1 + s^2 LG2 + ...) (FreeBSD's e_logf.c).
const LG1 = floatFromBits(0x3f2aaaaa);
const LG2 = floatFromBits(0x3eccce13);
const LG3 = floatFromBits(0x3e91e9ee);
const LG4 = floatFromBits(0x3e789e26);
// The bits of sqrt(1/2): the mantissa is moved into [sqrt(1/2), sqrt(2)) so that |f| = |m - 1| < 0.42.
const SQRT_HALF_BITS = 0x3f3504f3;
const TWO_POW_25 = floatFromBits(0x4c000000);

/**
 * The natural logarithm in float32 (within 1 ulp). x = 2^k m, m in [sqrt(1/2), sqrt(2)), f = m - 1 (exact), and
 * log(1 + f) = f - f^2/2 + s (f^2/2 + R(s^2)) with s = f / (2 + f). Subnormals are scaled by 2^25 first.
 */
export function logF32(x: number): number {
  x = f32(x);
  let ix = floatBits(x);
  let k = 0;
  if (ix < 0x00800000) {
    if ((ix & 0x7fffffff) === 0) return -Infinity;
    if (ix < 0) return NaN;
    k = -25;
    ix = floatBits(f32(x * TWO_POW_25));
  } else if (ix >= 0x7f800000) {
    return x;
  }
  ix += 0x3f800000 - SQRT_HALF_BITS;
  k += (ix >> 23) - 0x7f;
  const m = floatFromBits((ix & 0x007fffff) + SQRT_HALF_BITS);
  const f = f32(m - 1);
  const s = f32(f / f32(2 + f));
  const z = f32(s * s);
  const w = f32(z * z);
  const t1 = f32(w * f32(LG2 + f32(w * LG4)));
  const t2 = f32(z * f32(LG1 + f32(w * LG3)));
  const r = f32(t2 + t1);
  const hfsq = f32(f32(0.5 * f) * f);
  const dk = k;
  return f32(f32(f32(f32(f32(s * f32(hfsq + r)) + f32(dk * LOG_LN2_LO)) - hfsq) + f) + f32(dk * LOG_LN2_HI));
}

/** One step of Marsaglia's xorshift32 (13, 17, 5) on a uint32 state; a non-zero state stays non-zero. */
export function xorshift32(s: number): number {
  s ^= s << 13;
  s ^= s >>> 17;
  s ^= s << 5;
  return s >>> 0;
}

/** The top 24 bits of a uint32 state as a float32 in [0, 1), exactly. */
export function uniformFromState(s: number): number {
  return f32((s >>> 8) * 2 ** -24);
}

/** A float rounded to the nearest integer, ties to even, saturated to the int32 range; NaN gives 0. */
export function roundHalfEvenToInt32(x: number): number {
  if (x !== x) return 0;
  if (x >= 2147483648) return 2147483647;
  if (x <= -2147483648) return -2147483648;
  const lo = Math.floor(x);
  const frac = x - lo;
  if (frac > 0.5) return lo + 1;
  if (frac < 0.5) return lo;
  return lo + (lo & 1);
}
