// writeTflite: round trips of the shared models, every declared options table, and input validation.
import { readFileSync } from 'node:fs';
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { readTflite, type TfliteModel } from '../../compiler/frontend/tflite/reader.ts';
import { writeTflite, type TfliteModelInput, type TfliteOperatorInput } from '../../compiler/frontend/tflite/writer.ts';
import { TfliteWriteError } from '../../compiler/frontend/tflite/errors.ts';
import {
  BuiltinOperator as Op, BuiltinOptions, OPTIONS_FOR_OPERATOR, OPTIONS_TABLES, TensorType, type OptionValue,
} from '../../compiler/frontend/tflite/schema.ts';

const MODELS = new URL('../../../shared/models/', import.meta.url);
const FILES = ['mlperf-tiny/kws_ref_model.tflite', 'mlperf-tiny/pretrainedResnet_quant.tflite',
  'mlperf-tiny/vww_96_int8.tflite', 'tflm/hello_world_int8.tflite'];
const load = (rel: string): Uint8Array => new Uint8Array(readFileSync(new URL(rel, MODELS)));

for (const file of FILES) {
  test(`round trip ${file}`, () => {
    const m = readTflite(load(file));
    const out = writeTflite(m);
    assert.is(String.fromCharCode(...out.subarray(4, 8)), 'TFL3');
    const back = readTflite(out);
    assert.equal(back, m);
    // Deterministic: writing the re-read model gives the same bytes.
    assert.equal(writeTflite(back), out);
    // Weights stay 16-byte aligned (schema force_align) so runtimes can map them in place.
    for (const data of back.buffers) if (data) assert.is((data.byteOffset - out.byteOffset) % 16, 0);
  });
}

const q = (scale: number, zp = 0): { scale: number[]; zeroPoint: number[]; quantizedDimension: number } =>
  ({ scale: [scale], zeroPoint: [zp], quantizedDimension: 0 });

/** A small conv net in the shape the compiler's model builder produces. */
function tinyModel(ops?: TfliteOperatorInput[]): TfliteModelInput {
  const weights = new Uint8Array(4 * 3 * 3 * 2).map((_, i) => (i * 7) & 0xff);
  const bias = new Uint8Array(16);
  return {
    description: 'tinyforge test',
    tensors: [
      { name: 'input', shape: [1, 8, 8, 2], type: TensorType.INT8, quant: q(0.5, -3) },
      { name: 'w', shape: [4, 3, 3, 2], type: TensorType.INT8, buffer: 1,
        quant: { scale: [0.1, 0.2, 0.3, 0.4], zeroPoint: [0, 0, 0, 0], quantizedDimension: 0 } },
      { name: 'b', shape: [4], type: TensorType.INT32, buffer: 2,
        quant: { scale: [0.05, 0.1, 0.15, 0.2], zeroPoint: [0, 0, 0, 0], quantizedDimension: 0 } },
      { name: 'conv', shape: [1, 8, 8, 4], type: TensorType.INT8, quant: q(0.25, 1) },
      { name: 'out', shape: [1, 8, 8, 4], type: TensorType.INT8, quant: q(0.25, 1) },
    ],
    operators: ops ?? [
      { opcode: Op.CONV_2D, version: 3, inputs: [0, 1, 2], outputs: [3], options: { stride_w: 1, stride_h: 1, padding: 0 } },
      { opcode: Op.ADD, inputs: [3, 3], outputs: [4] },
    ],
    inputs: [0],
    outputs: [4],
    buffers: [null, weights, bias],
  };
}

test('fills options defaults and the options tag from the opcode', () => {
  const m = readTflite(writeTflite(tinyModel()));
  assert.is(m.description, 'tinyforge test');
  assert.is(m.operators[0]!.optionsType, BuiltinOptions.Conv2DOptions);
  assert.equal(m.operators[0]!.options, {
    padding: 0, stride_w: 1, stride_h: 1, fused_activation_function: 0, dilation_w_factor: 1, dilation_h_factor: 1,
    quantized_bias_type: 0,
  });
  assert.is(m.operators[1]!.optionsType, BuiltinOptions.AddOptions);
  assert.equal(m.operators[1]!.options, { fused_activation_function: 0, pot_scale_int16: true });
  assert.equal(m.tensors[1]!.quant, { scale: [0.1, 0.2, 0.3, 0.4].map(Math.fround), zeroPoint: [0, 0, 0, 0], quantizedDimension: 0 });
  assert.equal(m.buffers[0], null);
  assert.is(m.buffers[1]!.length, 72);
});

test('deduplicates operator codes and writes both opcode fields', () => {
  const ops: TfliteOperatorInput[] = [
    { opcode: Op.ADD, inputs: [0, 0], outputs: [3] },
    { opcode: Op.ADD, inputs: [3, 3], outputs: [4] },
    { opcode: Op.GELU, inputs: [4], outputs: [3] },
    { opcode: Op.ADD, version: 2, inputs: [3, 3], outputs: [4] },
    { opcode: Op.CUSTOM, customCode: 'MyOp', inputs: [4], outputs: [3] },
  ];
  const bytes = writeTflite(tinyModel(ops));
  const m = readTflite(bytes);
  assert.equal(m.operators.map((o) => [o.opcode, o.version, o.customCode]),
    [[Op.ADD, 1, null], [Op.ADD, 1, null], [Op.GELU, 1, null], [Op.ADD, 2, null], [Op.CUSTOM, 1, 'MyOp']]);
  // Count OperatorCode tables and check deprecated_builtin_code: 127 marks opcodes that only fit builtin_code.
  const dv = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  const field = (t: number, id: number): number => {
    const vt = t - dv.getInt32(t, true);
    return 4 + 2 * id < dv.getUint16(vt, true) ? dv.getUint16(vt + 4 + 2 * id, true) : 0;
  };
  const root = dv.getUint32(0, true);
  const codesVec = root + field(root, 1) + dv.getUint32(root + field(root, 1), true);
  assert.is(dv.getUint32(codesVec, true), 4);
  const deprecated = [0, 1, 2, 3].map((i) => {
    const e = codesVec + 4 + 4 * i;
    const t = e + dv.getUint32(e, true);
    return field(t, 0) ? dv.getInt8(t + field(t, 0)) : 0;
  });
  assert.equal(deprecated, [Op.ADD, 127, Op.ADD, Op.CUSTOM]);
});

/** A value different from the default for each field kind, so every slot is really written. */
function nonDefault(kind: string, def: unknown, enumeration?: Readonly<Record<string, number>>): OptionValue {
  if (kind === 'bool') return !def;
  if (kind === 'float32') return 0.75;
  if (kind === 'int32[]') return [3, -1, 7];
  if (enumeration) return Object.values(enumeration).find((v) => v !== def) ?? (def as number);
  return (def as number) + 5;
}

test('every declared options table round trips with non-default values', () => {
  const opcodeFor = new Map<number, number>();
  for (const [code, tag] of Object.entries(OPTIONS_FOR_OPERATOR)) if (!opcodeFor.has(tag!)) opcodeFor.set(tag!, Number(code));
  const ops: TfliteOperatorInput[] = Object.entries(OPTIONS_TABLES).map(([tag, spec]) => {
    const options: Record<string, OptionValue> = {};
    for (const [name, kind, def, enumeration] of spec.fields) options[name] = nonDefault(kind, def, enumeration);
    const opcode = opcodeFor.get(Number(tag));
    assert.ok(opcode !== undefined, `no opcode maps to ${spec.name}`);
    return { opcode: opcode!, inputs: [0], outputs: [3], optionsType: Number(tag), options };
  });
  const model = tinyModel(ops);
  const m = readTflite(writeTflite(model));
  assert.is(m.operators.length, Object.keys(OPTIONS_TABLES).length);
  m.operators.forEach((op, i) => assert.equal(op.options, ops[i]!.options, OPTIONS_TABLES[op.optionsType]!.name));
});

function throwsWrite(model: TfliteModelInput, message: RegExp): void {
  try {
    writeTflite(model);
  } catch (e) {
    assert.instance(e, TfliteWriteError);
    assert.match((e as Error).message, message);
    return;
  }
  assert.unreachable(`expected TfliteWriteError matching ${message}`);
}

test('refuses models it cannot encode faithfully', () => {
  const base = tinyModel();
  const conv = base.operators[0]!;
  throwsWrite({ ...base, buffers: [new Uint8Array(4), ...base.buffers.slice(1)] }, /buffer 0: must be empty/);
  throwsWrite({ ...base, outputs: [9] }, /subgraph outputs: 9/);
  throwsWrite({ ...base, operators: [{ ...conv, inputs: [0, 1, 7] }] }, /operator 0 \(CONV_2D\) inputs: 7/);
  throwsWrite({ ...base, operators: [{ ...conv, options: { stride: 2 } }] }, /Conv2DOptions has no field "stride"/);
  throwsWrite({ ...base, operators: [{ ...conv, options: { padding: 5 } }] }, /Conv2DOptions.padding: 5 is not a valid enum/);
  throwsWrite({ ...base, operators: [{ ...conv, options: { stride_w: 1.5 } }] }, /stride_w: 1.5 is not an integer/);
  throwsWrite({ ...base, operators: [{ ...conv, optionsType: BuiltinOptions.SVDFOptions }] }, /cannot write SVDFOptions/);
  throwsWrite({ ...base, operators: [{ ...conv, opcode: 999 }] }, /operator 0 opcode: 999/);
  const tensors = [...base.tensors];
  tensors[1] = { ...tensors[1]!, quant: { scale: [1, 2, 3], zeroPoint: [0, 0, 0], quantizedDimension: 0 } };
  throwsWrite({ ...base, tensors }, /tensor 1 quant: 3 scales do not match dimension 0/);
  tensors[1] = { ...tensors[1]!, quant: null, hasSparsity: true };
  throwsWrite({ ...base, tensors }, /sparse tensors are not supported/);
  tensors[1] = { ...tensors[1]!, hasSparsity: false, buffer: 3 };
  throwsWrite({ ...base, tensors }, /tensor 1 buffer: 3/);
  const multi: TfliteModel = { ...readTflite(writeTflite(base)), subgraphCount: 2 };
  throwsWrite(multi, /only the first of several subgraphs/);
});

test('an empty buffer list still gets the buffer 0 sentinel', () => {
  const m = readTflite(writeTflite({ tensors: [{ shape: [1], type: TensorType.INT8 }], operators: [], inputs: [0], outputs: [0], buffers: [] }));
  assert.equal(m.buffers, [null]);
  assert.equal(m.tensors[0]!.name, '');
});

test.run();
