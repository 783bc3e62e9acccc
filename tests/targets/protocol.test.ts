/** model.h parsing and the harness protocol (run_inputs.h out, printed lines in). */
import { test } from 'uvu';
import * as assert from 'uvu/assert';

import { parseHarnessOutput, renderRunInputs } from '../../targets/harness/protocol.ts';
import { parseModelHeader, readModelHeader } from '../../targets/model_header.ts';
import { fixture } from './support.ts';

const HEADER = `
#define TF_MODEL_INPUT_COUNT 1
#define TF_MODEL_INPUT_BYTES 3
#define TF_MODEL_OUTPUT_COUNT 2
#define TF_MODEL_OUTPUT_BYTES 5
#define TF_MODEL_OUTPUT0_BYTES 2      /* first */
#define TF_MODEL_OUTPUT1_BYTES 3
#define TF_MODEL_ARENA_BYTES 16384
`;

test('model.h sizes are read from the defines', async () => {
  const header = parseModelHeader(HEADER);
  assert.equal(header, {
    inputCount: 1,
    inputBytes: 3,
    outputCount: 2,
    outputBytes: 5,
    outputTensorBytes: [2, 3],
    arenaBytes: 16384,
  });
  const echo = await readModelHeader(fixture('echo_model'));
  assert.is(echo.inputBytes, 40);
  assert.equal(echo.outputTensorBytes, [40, 2]);
  assert.is(parseModelHeader('#define TF_MODEL_ARENA_BYTES (300 * 1024)\n' + HEADER.replace(/.*ARENA.*/, '')).arenaBytes, 307200);
  assert.throws(() => parseModelHeader(HEADER.replace('BYTES 16384', 'BYTES (1 << 14)')), /no '#define TF_MODEL_ARENA_BYTES <integer>'/);
});

test('a model.h missing a define or with inconsistent sizes is refused', () => {
  assert.throws(() => parseModelHeader(HEADER.replace(/.*OUTPUT1_BYTES.*/, '')), /no '#define TF_MODEL_OUTPUT1_BYTES <integer>'/);
  assert.throws(() => parseModelHeader(HEADER.replace('OUTPUT_BYTES 5', 'OUTPUT_BYTES 6')), /add up to 5/);
});

test('run_inputs.h holds the inputs as int8 and the per-output sizes', () => {
  const text = renderRunInputs(parseModelHeader(HEADER), [Uint8Array.of(0, 127, 255), Int8Array.of(-128, 1, -1)]);
  assert.match(text, '#define TF_RUN_INPUT_COUNT 2');
  assert.match(text, '0, 127, -1,');
  assert.match(text, '-128, 1, -1,');
  assert.match(text, 'tf_run_output_bytes[TF_MODEL_OUTPUT_COUNT] = { TF_MODEL_OUTPUT0_BYTES, TF_MODEL_OUTPUT1_BYTES }');
});

test('harness lines parse into outputs, counts and stack figures', () => {
  const header = parseModelHeader(HEADER);
  const report = parseHarnessOutput(
    ['out 0 0 ff00', 'out 0 1 7f8001', 'instructions 0 1240', 'a stray debug print', 'stack 96', 'stack_total 480', ''].join('\n'),
    header,
    1,
  );
  assert.equal(Array.from(report.outputs[0]![0]!), [-1, 0]);
  assert.equal(Array.from(report.outputs[0]![1]!), [127, -128, 1]);
  assert.equal(report.instructions, [1240]);
  assert.is(report.stackBytes, 96);
  assert.is(report.stackTotalBytes, 480);
});

test('missing or mis-sized outputs are errors, not silent gaps', () => {
  const header = parseModelHeader(HEADER);
  assert.throws(() => parseHarnessOutput('out 0 0 ff00\n', header, 1), /printed no output 1 for input 0/);
  assert.throws(() => parseHarnessOutput('out 0 0 ff\nout 0 1 000000\n', header, 1), /output 0 of input 0 has 1 bytes, model.h declares 2/);
  assert.throws(() => parseHarnessOutput('out 0 0 fg00\n', header, 1), /malformed/);
  const host = parseHarnessOutput('out 0 0 0000\nout 0 1 000000\n', header, 1);
  assert.is(host.instructions, null);
  assert.is(host.stackBytes, null);
});

test.run();
