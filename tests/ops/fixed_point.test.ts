/** The split-product arithmetic of fixed_point.ts against a direct 64-bit BigInt port of TFLite's common.h. */
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { multiplyByQuantizedMultiplier, quantizeMultiplier, roundingDivideByPOT, saturatingRoundingDoublingHighMul } from '../../compiler/ops/common/fixed_point.ts';
import { Random } from '../../compiler/frontend/builder/random.ts';

const I32_MIN = -(2n ** 31n);
const I32_MAX = 2n ** 31n - 1n;

function srdhmBig(a: number, b: number): number {
  if (a === -2147483648 && b === -2147483648) return 2147483647;
  const ab = BigInt(a) * BigInt(b);
  const nudge = ab >= 0n ? 1n << 30n : 1n - (1n << 30n);
  return Number((ab + nudge) / (1n << 31n)); // BigInt division truncates toward zero, like C++
}

function singleBig(x: number, m: number, shift: number): number {
  const total = BigInt(31 - shift);
  return Number((BigInt(x) * BigInt(m) + (1n << (total - 1n))) >> total);
}

const random = new Random(7);
const int32 = () => (random.next() < 0.1 ? [-2147483648, 2147483647, 0, -1, 1][random.int(0, 4)]! : random.int(-2147483648, 2147483647));

test('saturatingRoundingDoublingHighMul equals the 64-bit definition', () => {
  for (let i = 0; i < 200_000; i++) {
    const a = int32();
    const b = int32();
    assert.is(saturatingRoundingDoublingHighMul(a, b), srdhmBig(a, b), `${a} * ${b}`);
  }
  assert.is(saturatingRoundingDoublingHighMul(-2147483648, -2147483648), 2147483647);
});

test('roundingDivideByPOT rounds half away from zero', () => {
  assert.is(roundingDivideByPOT(5, 1), 3);
  assert.is(roundingDivideByPOT(-5, 1), -3);
  assert.is(roundingDivideByPOT(-6, 2), -2);
  assert.is(roundingDivideByPOT(6, 2), 2);
  for (let i = 0; i < 50_000; i++) {
    const x = int32();
    const e = random.int(0, 31);
    const exact = x / 2 ** e;
    const expected = Math.sign(exact) * Math.round(Math.abs(exact));
    assert.is(roundingDivideByPOT(x, e), expected, `${x} >> ${e}`);
  }
});

test('single rounding equals the 64-bit definition', () => {
  for (let i = 0; i < 100_000; i++) {
    const x = int32();
    const m = random.int(1 << 30, 2147483647);
    const shift = random.int(-31, 30);
    const got = multiplyByQuantizedMultiplier(x, m, shift, 'single');
    const want = singleBig(x, m, shift);
    if (BigInt(want) >= I32_MIN && BigInt(want) <= I32_MAX) assert.is(got, want, `${x} * ${m} shift ${shift}`);
  }
});

test('quantizeMultiplier matches frexp + round', () => {
  assert.equal(quantizeMultiplier(0.5), { multiplier: 1073741824, shift: 0 });
  assert.equal(quantizeMultiplier(1), { multiplier: 1073741824, shift: 1 });
  assert.equal(quantizeMultiplier(0.75), { multiplier: 1610612736, shift: 0 });
  for (let i = 0; i < 10_000; i++) {
    const real = random.next() * 2 ** random.int(-40, 10);
    const { multiplier, shift } = quantizeMultiplier(real);
    if (multiplier === 0) continue;
    assert.ok(multiplier >= 2 ** 30 && multiplier < 2 ** 31, `${real}`);
    assert.ok(Math.abs(multiplier * 2 ** (shift - 31) - real) <= 2 ** (shift - 32), `${real}`);
  }
  assert.throws(() => quantizeMultiplier(Infinity), /not finite/);
});

test.run();
