/** Board descriptors, budget overrides and the generated linker script (no tools needed). */
import { test } from 'uvu';
import * as assert from 'uvu/assert';

import { DEFAULT_BUDGET, getBoard, TARGET_NAMES, withBudget } from '../../targets/boards.ts';
import { linkerScript } from '../../targets/cortex-m/linker.ts';

test('every target name resolves to its board', () => {
  for (const name of TARGET_NAMES) {
    assert.is(getBoard(name).name, name);
  }
  assert.is(getBoard('cortex-m4').qemuMachine, 'mps2-an386');
  assert.is(getBoard('cortex-m7').qemuMachine, 'mps2-an500');
  assert.is(getBoard('cortex-m55').qemuMachine, 'mps3-an547');
  assert.is(getBoard('host').kind, 'host');
});

test('an unknown target lists the valid ones', () => {
  assert.throws(() => getBoard('cortex-m0'), /unknown target 'cortex-m0': valid targets are cortex-m4, cortex-m7, cortex-m55, host/);
});

test('core flags match the brief', () => {
  assert.equal(getBoard('cortex-m4').cflags, ['-mcpu=cortex-m4', '-mthumb', '-mfloat-abi=hard', '-mfpu=fpv4-sp-d16']);
  assert.equal(getBoard('cortex-m7').cflags, ['-mcpu=cortex-m7', '-mthumb', '-mfpu=fpv5-d16', '-mfloat-abi=hard']);
  assert.equal(getBoard('cortex-m55').cflags, ['-mcpu=cortex-m55', '-mthumb', '-mfloat-abi=hard']);
});

test('default budget is 256 KB SRAM / 1 MB flash, except the M55 flash (512 KB ITCM)', () => {
  for (const name of TARGET_NAMES) {
    assert.is(getBoard(name).ram.bytes, DEFAULT_BUDGET.sramBytes);
  }
  assert.is(getBoard('cortex-m4').flash.bytes, 1024 * 1024);
  assert.is(getBoard('cortex-m7').flash.bytes, 1024 * 1024);
  assert.is(getBoard('cortex-m55').flash.bytes, 512 * 1024);
  assert.is(getBoard('cortex-m55').flash.origin, 0);
});

test('withBudget overrides the budget and leaves the original alone', () => {
  const m7 = getBoard('cortex-m7');
  const big = withBudget(m7, { sramBytes: 320 * 1024, flashBytes: 2 * 1024 * 1024 });
  assert.is(big.ram.bytes, 320 * 1024);
  assert.is(big.flash.bytes, 2 * 1024 * 1024);
  assert.is(big.ram.origin, m7.ram.origin);
  assert.is(m7.ram.bytes, 256 * 1024);
  assert.is(withBudget(m7, { stackBytes: 8192 }).stackBytes, 8192);
});

test('withBudget refuses budgets the machine cannot back, or that are not multiples of 8', () => {
  const m55 = getBoard('cortex-m55');
  assert.throws(() => withBudget(m55, { flashBytes: 1024 * 1024 }), /flashBytes = 1048576 exceeds the 524288 bytes available/);
  assert.throws(() => withBudget(m55, { sramBytes: 1024 * 1024 }), /sramBytes = 1048576 exceeds/);
  assert.throws(() => withBudget(m55, { sramBytes: 1001 }), /positive multiple of 8/);
  assert.throws(() => withBudget(m55, { sramBytes: 4096, stackBytes: 8192 }), /stackBytes = 8192 exceeds/);
});

test('the linker script uses the budget as its regions and reserves the stack at the top', () => {
  const board = withBudget(getBoard('cortex-m4'), { sramBytes: 128 * 1024, stackBytes: 2048 });
  const script = linkerScript(board);
  assert.match(script, 'FLASH (rx)  : ORIGIN = 0x00000000, LENGTH = 1048576');
  assert.match(script, 'RAM   (rwx) : ORIGIN = 0x20000000, LENGTH = 131072');
  assert.match(script, '__stack_size = 2048;');
  assert.match(script, 'ASSERT(_estack == ORIGIN(RAM) + LENGTH(RAM)');
  assert.match(script, 'KEEP(*(.isr_vector))');
});

test.run();
