/*
 * SOFTMAX over the last axis, int8 -> int8 (output scale 1/256, zero point -128), bit-exact with TFLM's
 * reference_ops::Softmax<int8_t, int8_t>, as runtime/c/kernels/softmax_s8.c. exp_table[d] is TFLM's
 * fixed-point exp(x - max) for d = max - x (Q0.31, computed by the compiler with gemmlowp's
 * exp_on_negative_values; 0 where TFLM skips the element). Per row: the Q12.19 sum of exps, its reciprocal
 * (TFLite GetReciprocal, gemmlowp one_over_one_plus_x_for_x_in_0_1), then exp * reciprocal rounded to 1/256
 * steps. Every step is the C kernel's int32/int64 arithmetic (wasm i32 add/sub/mul wrap like its uint32 casts).
 */
import { saturatingRoundingDoublingHighMul, roundingDivideByPot, clamp } from "../fixed_point";

// gemmlowp SaturatingRoundingMultiplyByPOT<exponent> for 1 <= exponent <= 30.
// @ts-ignore: decorator
@inline
function saturatingShiftLeft(x: i32, exponent: i32): i32 {
  const threshold = <i32>((<u32>1 << (31 - exponent)) - 1);
  if (x > threshold) return i32.MAX_VALUE;
  if (x < -threshold) return i32.MIN_VALUE;
  return x << exponent;
}

// gemmlowp RoundingHalfSum.
// @ts-ignore: decorator
@inline
function roundingHalfSum(a: i32, b: i32): i32 {
  const sum = <i64>a + <i64>b;
  return <i32>((sum + (sum >= 0 ? 1 : -1)) / 2);
}

// gemmlowp one_over_one_plus_x_for_x_in_0_1: 1 / (1 + a), Q0.31 in and out (Newton-Raphson, 3 steps).
function oneOverOnePlusX(a: i32): i32 {
  const halfDenominator = roundingHalfSum(a, i32.MAX_VALUE);
  let x = 1515870810 + saturatingRoundingDoublingHighMul(halfDenominator, -1010580540);
  for (let i = 0; i < 3; ++i) {
    const halfDenominatorTimesX = saturatingRoundingDoublingHighMul(halfDenominator, x);
    const oneMinus = (1 << 29) - halfDenominatorTimesX;
    x = x + saturatingShiftLeft(saturatingRoundingDoublingHighMul(x, oneMinus), 2);
  }
  return saturatingShiftLeft(x, 1);
}

export function softmax_s8(input: usize, output: usize, outer: i32, depth: i32, exp_table: usize): void {
  for (let r = 0; r < outer; ++r) {
    const inRow = input + r * depth;
    const outRow = output + r * depth;
    let max = -128;
    for (let c = 0; c < depth; ++c) {
      const v = <i32>load<i8>(inRow + c);
      if (v > max) max = v;
    }
    // The Q12.19 sum: depth <= 4095 keeps it below 2^31.
    let sum = 0;
    for (let c = 0; c < depth; ++c) {
      sum += roundingDivideByPot(load<i32>(exp_table + (<usize>(max - <i32>load<i8>(inRow + c)) << 2)), 12);
    }
    // GetReciprocal(sum, 12): sum >= 2^19 (the maximum contributes exp(0)), so 1 <= headroomPlusOne <= 12.
    const headroomPlusOne = <i32>clz<u32>(sum);
    const shiftedSumMinusOne = <i32>((<u32>sum << headroomPlusOne) - 0x80000000);
    const shiftedScale = oneOverOnePlusX(shiftedSumMinusOne);
    let exponent = 12 - headroomPlusOne + 31 - 8;
    if (exponent > 31) exponent = 31; // TFLM aborts there: a sum of exps >= 512
    for (let c = 0; c < depth; ++c) {
      const e = load<i32>(exp_table + (<usize>(max - <i32>load<i8>(inRow + c)) << 2));
      const unsat = roundingDivideByPot(saturatingRoundingDoublingHighMul(shiftedScale, e), exponent);
      store<i8>(outRow + c, clamp(unsat - 128, -128, 127));
    }
  }
}
