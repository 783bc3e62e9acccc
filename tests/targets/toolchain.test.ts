/**
 * The external tools the targets need. If one is missing every other test here fails too; this
 * file says which tool and which apt package to install, first.
 */
import { test } from 'uvu';
import * as assert from 'uvu/assert';

import { runTool, ToolMissingError } from '../../targets/tools.ts';

for (const tool of ['cc', 'arm-none-eabi-gcc', 'arm-none-eabi-objdump', 'qemu-system-arm']) {
  test(`${tool} is installed`, async () => {
    const result = await runTool(tool, ['--version']);
    assert.is(result.exitCode, 0, `${tool} --version failed:\n${result.stderr}`);
  });
}

test('a missing tool is reported with its apt package', async () => {
  try {
    await runTool('arm-none-eabi-gcc-that-does-not-exist', ['--version']);
    assert.unreachable('should have thrown');
  } catch (error) {
    assert.instance(error, ToolMissingError);
    assert.match((error as Error).message, 'is not installed or not on PATH');
  }
  const known = new ToolMissingError('qemu-system-arm');
  assert.match(known.message, 'apt-get install -y --no-install-recommends qemu-system-arm');
});

test('newlib for arm-none-eabi is installed (nano + rdimon specs)', async () => {
  const result = await runTool('arm-none-eabi-gcc', ['--specs=nano.specs', '-print-file-name=librdimon_nano.a']);
  assert.is(result.exitCode, 0, result.stderr);
  assert.ok(
    result.stdout.trim().startsWith('/'),
    'librdimon_nano.a not found: apt-get install -y --no-install-recommends libnewlib-arm-none-eabi',
  );
});

test.run();
