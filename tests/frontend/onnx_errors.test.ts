/**
 * ONNX frontend, bad and unsupported models: each is refused with a UserError (never a crash or a TypeError) whose
 * message says why and, for a node's problem, names the node and its op type (`node 'NAME' (OpType): reason`).
 * The unsupported-op models are valid ONNX (onnxruntime runs them), so the refusal is ours. The CLI exits non-zero,
 * prints the message and leaves no output directory.
 */
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { existsSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Random } from '../../compiler/frontend/builder/random.ts';
import { importOnnx } from '../../compiler/frontend/onnx/import.ts';
import { loadModelBytes } from '../../compiler/load_model.ts';
import { UserError } from '../../compiler/errors.ts';
import { OnnxDataType, OnnxModelBuilder, decodeModel, encodeModel } from '../helpers/onnx_models.ts';
import type { ModelProto } from '../helpers/onnx_models.ts';
import { tinyforge } from '../helpers/cli.ts';
import { runOnnx } from '../oracles/onnxruntime.ts';

/** The error `load` throws; fails unless it is a UserError whose message matches every pattern. */
function refusal(load: () => unknown, patterns: readonly RegExp[], what: string): UserError {
  let error: unknown = null;
  try {
    load();
  } catch (e) {
    error = e;
  }
  assert.ok(error !== null, `${what}: accepted`);
  assert.ok(error instanceof UserError, `${what}: threw ${(error as Error).name}: ${(error as Error).message} (not a UserError)`);
  for (const p of patterns) assert.match(error.message, p, `${what}: message`);
  return error;
}

const escape = (s: string) => s.replace(/[.*+?^${}()|[\]\\]/g, '\\$&');
/** The contract's form for a node's problem, followed by a reason. */
const nodeProblem = (name: string, opType: string) => new RegExp(`node '${escape(name)}' \\(${escape(opType)}\\): \\S`);

/** A valid model: QDQ conv -> global average pool. */
function validModel(): { bytes: Uint8Array; input: string } {
  const b = new OnnxModelBuilder('valid', 1);
  const x = b.input([1, 3, 6, 6]);
  b.output(b.globalAveragePool(b.conv(x, { outChannels: 4, kernel: [3, 3], pads: [1, 1, 1, 1], perChannel: true })));
  return { bytes: b.build(), input: x.name };
}

interface UnsupportedNodeModel {
  readonly bytes: Uint8Array;
  readonly input: string;
  readonly inputSize: number;
  readonly node: string;
}

/** DQ -> Sigmoid -> Q: a float op that the importer has no int8 form for. */
function sigmoidModel(): UnsupportedNodeModel {
  const b = new OnnxModelBuilder('sigmoid', 2);
  const x = b.input([1, 4, 3, 3]);
  const y = b.fresh('sigmoid');
  b.node('Sigmoid', [b.dequantize(x)], [y], OnnxDataType.FLOAT, x.shape);
  const node = b.lastNodeName;
  b.output(b.quantize(y, x.shape, 1 / 256, -128));
  return { bytes: b.build(), input: x.name, inputSize: 36, node };
}

/** DQ -> LSTM (float weights) -> Q: an op outside the supported set. */
function lstmModel(): UnsupportedNodeModel {
  const b = new OnnxModelBuilder('lstm', 3);
  const [seq, batch, inSize, hidden] = [5, 1, 4, 3];
  const x = b.input([seq, batch, inSize]);
  const floats = (n: number) => Float32Array.from({ length: n }, () => b.random.next() - 0.5);
  const w = b.initializer('W', OnnxDataType.FLOAT, [1, 4 * hidden, inSize], floats(4 * hidden * inSize));
  const r = b.initializer('R', OnnxDataType.FLOAT, [1, 4 * hidden, hidden], floats(4 * hidden * hidden));
  const y = b.fresh('lstm');
  const yShape = [seq, 1, batch, hidden];
  b.node('LSTM', [b.dequantize(x), w, r], [y], OnnxDataType.FLOAT, yShape, { hidden_size: hidden });
  const node = b.lastNodeName;
  b.output(b.quantize(y, yShape, 1 / 128, 0));
  return { bytes: b.build(), input: x.name, inputSize: seq * batch * inSize, node };
}

/** `validModel` with its proto altered by `edit`. */
function altered(edit: (model: ModelProto) => void): Uint8Array {
  const model = decodeModel(validModel().bytes);
  edit(model);
  return encodeModel(model);
}

test('a valid model imports, directly and through loadModelBytes (the baseline of the cases below)', () => {
  const { bytes } = validModel();
  assert.is(importOnnx(bytes, 'valid').inputs.length, 1);
  assert.is(loadModelBytes(bytes, 'valid').outputs.length, 1);
});

test('a truncated file is refused wherever it is cut', () => {
  const { bytes } = validModel();
  for (const cut of [0, 1, 2, 9, Math.floor(bytes.length / 4), Math.floor(bytes.length / 2), bytes.length - 3, bytes.length - 1]) {
    const part = bytes.slice(0, cut);
    refusal(() => importOnnx(part, 'cut'), [/ONNX/], `importOnnx, cut at ${cut} of ${bytes.length} bytes`);
    refusal(() => loadModelBytes(part, 'cut'), [/ONNX/], `loadModelBytes, cut at ${cut} of ${bytes.length} bytes`);
  }
});

test('random bytes are refused', () => {
  const random = new Random(8);
  for (const length of [1, 16, 300, 5000]) {
    const garbage = new Uint8Array(random.int8Array(length).buffer);
    refusal(() => importOnnx(garbage, 'garbage'), [/ONNX/], `importOnnx, ${length} random bytes`);
    refusal(() => loadModelBytes(garbage, 'garbage'), [/ONNX/], `loadModelBytes, ${length} random bytes`);
  }
});

for (const [what, opType, make] of [
  ['a float-only op between DQ and Q', 'Sigmoid', sigmoidModel],
  ['an op outside the supported set', 'LSTM', lstmModel],
] as const) {
  test(`${what} (${opType}) is refused naming the node and its op type; onnxruntime runs the model`, async () => {
    const m = make();
    const [[out]] = await runOnnx(m.bytes, [{ [m.input]: new Random(1).int8Array(m.inputSize) }]);
    assert.ok(out!.length > 0, 'onnxruntime gives an output');
    refusal(() => importOnnx(m.bytes, 'model'), [nodeProblem(m.node, opType)], what);
  });
}

test('an unknown ai.onnx opset version (99) is refused, saying which', () => {
  const bytes = altered((model) => {
    model.opsetImport = [{ domain: '', version: 99 }];
  });
  refusal(() => importOnnx(bytes, 'opset99'), [/opset/i, /99/], 'opset 99');
});

test('a node of an unknown domain is refused naming the node, its op type and the domain', () => {
  const b = new OnnxModelBuilder('domain', 4);
  const x = b.input([1, 2, 3, 3]);
  const y = b.fresh('frob');
  b.node('Frobnicate', [x.name], [y], OnnxDataType.INT8, x.shape, {}, 'com.example');
  const node = b.lastNodeName;
  b.output({ ...x, name: y });
  const model = b.toProto();
  model.opsetImport!.push({ domain: 'com.example', version: 1 });
  refusal(() => importOnnx(encodeModel(model), 'domain'), [nodeProblem(node, 'Frobnicate'), /com\.example/], 'unknown domain');
});

test("a dynamic input dimension (dim_param 'N') is refused, naming the input and the dimension", () => {
  const { input } = validModel();
  const bytes = altered((model) => {
    model.graph!.input![0]!.type!.tensorType!.shape!.dim![0] = { dimParam: 'N' };
  });
  refusal(() => importOnnx(bytes, 'dynamic'), [new RegExp(escape(input)), /\bN\b/], 'dim_param N');
});

test('uint8 activations are refused, saying uint8', () => {
  // The valid model with its input, and every activation zero point, made uint8 (zero points 128 = int8 0).
  const bytes = altered((model) => {
    const graph = model.graph!;
    graph.input![0]!.type!.tensorType!.elemType = OnnxDataType.UINT8;
    graph.output![0]!.type!.tensorType!.elemType = OnnxDataType.UINT8;
    for (const v of graph.valueInfo!) if (v.type!.tensorType!.elemType === OnnxDataType.INT8) v.type!.tensorType!.elemType = OnnxDataType.UINT8;
    const constants = new Set(graph.initializer!.map((t) => t.name!));
    const activationZeroPoints = new Set(
      graph.node!.filter((n) => n.opType === 'QuantizeLinear' || (n.opType === 'DequantizeLinear' && !constants.has(n.input![0]!))).map((n) => n.input![2]!),
    );
    for (const t of graph.initializer!) {
      if (activationZeroPoints.has(t.name!)) {
        t.dataType = OnnxDataType.UINT8;
        t.rawData = Uint8Array.of((new Int8Array(t.rawData!.buffer, t.rawData!.byteOffset, 1)[0]! + 128) & 0xff);
      }
    }
  });
  refusal(() => importOnnx(bytes, 'uint8'), [/uint8/i], 'uint8 activations');
});

test('a grouped convolution (neither group 1 nor depthwise) is refused naming the node and the group', () => {
  const b = new OnnxModelBuilder('grouped', 4);
  b.output(b.conv(b.input([1, 4, 6, 6]), { outChannels: 6, kernel: [3, 3], pads: [1, 1, 1, 1], group: 2, perChannel: true }));
  refusal(() => importOnnx(b.build(), 'grouped'), [/node '[^']+' \(Conv\): .*group 2/], 'group 2 conv');
});

test('CLI: compile of an unsupported .onnx exits non-zero, prints the error and writes no directory', () => {
  const work = mkdtempSync(join(tmpdir(), 'tinyforge-onnx-'));
  try {
    const m = lstmModel();
    const bad = join(work, 'bad.onnx');
    writeFileSync(bad, m.bytes);
    const out = join(work, 'out');
    const r = tinyforge(['compile', bad, '-o', out]);
    assert.ok(r.status !== 0 && r.status !== null, `exit status ${r.status}`);
    assert.match(r.stderr, nodeProblem(m.node, 'LSTM'));
    assert.not.ok(existsSync(out), 'output directory exists');

    const truncated = join(work, 'truncated.onnx');
    writeFileSync(truncated, m.bytes.subarray(0, Math.floor(m.bytes.length / 2)));
    const t = tinyforge(['compile', truncated, '-o', out]);
    assert.ok(t.status !== 0 && t.status !== null, `truncated: exit status ${t.status}`);
    assert.match(t.stderr, /truncated\.onnx: \S/);
    assert.not.ok(existsSync(out), 'output directory exists after the truncated model');
  } finally {
    rmSync(work, { recursive: true, force: true });
  }
});

test.run();
