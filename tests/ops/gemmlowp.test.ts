/**
 * The fixed-point helpers of compiler/ops/common/gemmlowp.ts against real-valued math (their bit-exactness
 * with gemmlowp itself is checked through the operators' golden tables), and the int16 primitives against
 * their C++ definitions written with 32-bit integers.
 */
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import {
  expOnNegativeValues, fpLogistic, fpTanh, getReciprocal, oneOverOnePlusXForXIn01, roundingDivideByPOT16, saturatingLeftShift16, srdhm16, toInt16,
} from '../../compiler/ops/common/gemmlowp.ts';
import { Random } from '../../compiler/frontend/builder/random.ts';

const random = new Random(5);
const Q31 = 2 ** 31;

test('exp_on_negative_values approximates exp to 5e-7', () => {
  for (const bits of [4, 5]) {
    for (let i = 0; i < 20000; i++) {
      const raw = -random.int(0, 2 ** 31 - 1);
      const x = raw / 2 ** (31 - bits);
      assert.ok(Math.abs(expOnNegativeValues(raw, bits) / Q31 - Math.exp(x)) < 5e-7, `exp(${x})`);
    }
    assert.is(expOnNegativeValues(0, bits), 2147483647);
  }
});

test('logistic, tanh and 1/(1+x) approximate their real values (to 3e-7, 3e-7, 1e-8)', () => {
  for (let i = 0; i < 20000; i++) {
    const raw = random.int(-2147483648, 2147483647);
    const x = raw / 2 ** 27;
    assert.ok(Math.abs(fpLogistic(raw, 4) / Q31 - 1 / (1 + Math.exp(-x))) < 3e-7, `logistic(${x})`);
    assert.ok(Math.abs(fpTanh(raw, 4) / Q31 - Math.tanh(x)) < 3e-7, `tanh(${x})`);
    const a = random.int(0, 2 ** 31 - 1);
    assert.ok(Math.abs(oneOverOnePlusXForXIn01(a) / Q31 - 1 / (1 + a / Q31)) < 1e-8, `1/(1+${a / Q31})`);
  }
  assert.is(fpLogistic(0, 4), 2 ** 30);
  assert.is(fpTanh(0, 4), 0);
});

test('getReciprocal returns 1/x as a Q0.31 scale and a power of two', () => {
  for (let i = 0; i < 20000; i++) {
    const x = random.int(2 ** 19, 2 ** 31 - 1); // a Q12.19 sum of exps is at least 1.0
    const { raw, numBitsOverUnit } = getReciprocal(x, 12);
    const real = x / 2 ** 19;
    assert.ok(Math.abs((raw / Q31) * 2 ** -numBitsOverUnit * real - 1) < 1e-8, `1/${real}`);
  }
});

test('int16 primitives follow their 32-bit C++ definitions', () => {
  for (let i = 0; i < 50000; i++) {
    const a = random.int(-32768, 32767);
    const b = random.int(-32768, 32767);
    const ab = a * b;
    const expected = a === -32768 && b === -32768 ? 32767 : toInt16(Math.trunc((ab + (ab >= 0 ? 1 << 14 : 1 - (1 << 14))) / 32768));
    assert.is(srdhm16(a, b), expected);
    const e = random.int(0, 15);
    // For exponents below 16 the int16 rounding divide is the int32 one.
    const mask = (1 << e) - 1;
    const rdbpot = (a >> e) + ((a & mask) > (mask >> 1) + (a < 0 ? 1 : 0) ? 1 : 0);
    assert.is(roundingDivideByPOT16(a, e), rdbpot);
    assert.is(saturatingLeftShift16(a, e), Math.max(-32768, Math.min(32767, a * 2 ** e)));
  }
  // From exponent 16 the mask narrows to -1 in int16: non-negative values give 1, negative ones -1.
  assert.is(roundingDivideByPOT16(0, 16), 1);
  assert.is(roundingDivideByPOT16(1000, 20), 1);
  assert.is(roundingDivideByPOT16(-1000, 20), -1);
});

test.run();
