// Emits a single-subgraph .tflite file that the TFLite runtimes load. Inputs are validated against the
// same rules readTflite enforces, so every file written here reads back to the same model.
import { Builder } from 'flatbuffers';
import { TfliteWriteError } from './errors.ts';
import {
  BUILTIN_OPERATOR_MAX, OPTIONS_FOR_OPERATOR, OPTIONS_TABLES, TENSOR_TYPE_MAX, builtinOperatorName,
  builtinOptionsName, enumHas, type OptionsTable,
} from './schema.ts';

export interface TfliteQuantInput {
  readonly scale: readonly number[];
  readonly zeroPoint: readonly number[];
  readonly quantizedDimension: number;
}
export interface TfliteTensorInput {
  readonly name?: string;
  readonly shape: readonly number[];
  readonly type: number;
  /** Index into buffers; 0 (the default) = no data. */
  readonly buffer?: number;
  readonly quant?: TfliteQuantInput | null;
  readonly isVariable?: boolean;
  readonly hasSparsity?: boolean;
}
export interface TfliteOperatorInput {
  readonly opcode: number;
  readonly customCode?: string | null;
  readonly version?: number;
  readonly inputs: readonly number[];
  readonly outputs: readonly number[];
  /** Defaults to the converter's tag for the opcode (OPTIONS_FOR_OPERATOR), else NONE. */
  readonly optionsType?: number;
  /** Missing fields take schema defaults. */
  readonly options?: Readonly<Record<string, number | boolean | readonly number[]>>;
}
/** A TfliteModel (as returned by readTflite) satisfies this. */
export interface TfliteModelInput {
  readonly description?: string;
  readonly tensors: readonly TfliteTensorInput[];
  readonly operators: readonly TfliteOperatorInput[];
  readonly inputs: readonly number[];
  readonly outputs: readonly number[];
  /** buffers[0] must be null or empty: TFLite reserves it as the "no data" sentinel. */
  readonly buffers: readonly (Uint8Array | null)[];
  readonly subgraphCount?: number;
}

const SCHEMA_VERSION = 3;
const INT32_MIN = -0x80000000;
const INT32_MAX = 0x7fffffff;

function fail(msg: string): never {
  throw new TfliteWriteError(msg);
}

function checkInt(what: string, v: unknown, min = INT32_MIN, max = INT32_MAX): number {
  if (typeof v !== 'number' || !Number.isInteger(v) || v < min || v > max) {
    fail(`${what}: ${String(v)} is not an integer in [${min}, ${max}]`);
  }
  return v;
}

function int32Vector(b: Builder, xs: readonly number[]): number {
  b.startVector(4, xs.length, 4);
  for (let i = xs.length - 1; i >= 0; i--) b.addInt32(xs[i]!);
  return b.endVector();
}

function offsetVector(b: Builder, xs: readonly number[]): number {
  b.startVector(4, xs.length, 4);
  for (let i = xs.length - 1; i >= 0; i--) b.addOffset(xs[i]!);
  return b.endVector();
}

function writeBuffer(b: Builder, data: Uint8Array | null): number {
  let dataOff = 0;
  if (data && data.length > 0) {
    // Buffer.data is force_align: 16 in the schema; runtimes map weights in place and rely on it.
    b.prep(16, data.length);
    dataOff = b.createByteVector(data);
  }
  b.startObject(3);
  if (dataOff) b.addFieldOffset(0, dataOff, 0);
  return b.endObject();
}

function writeQuant(b: Builder, what: string, q: TfliteQuantInput, shape: readonly number[]): number {
  const n = q.scale.length;
  if (n === 0 || q.zeroPoint.length !== n) fail(`${what}: need matching non-empty scale and zeroPoint lists`);
  checkInt(`${what} quantizedDimension`, q.quantizedDimension, 0);
  if (n > 1 && shape[q.quantizedDimension] !== n) {
    fail(`${what}: ${n} scales do not match dimension ${q.quantizedDimension} of shape [${shape.join(', ')}]`);
  }
  b.startVector(4, n, 4);
  for (let i = n - 1; i >= 0; i--) b.addFloat32(q.scale[i]!);
  const scale = b.endVector();
  b.startVector(8, n, 8);
  for (let i = n - 1; i >= 0; i--) b.addInt64(BigInt(checkInt(`${what} zeroPoint`, q.zeroPoint[i])));
  const zeroPoint = b.endVector();
  b.startObject(7);
  b.addFieldOffset(2, scale, 0);
  b.addFieldOffset(3, zeroPoint, 0);
  // Slots 4/5 are the `details` union; quantized_dimension is slot 6.
  b.addFieldInt32(6, q.quantizedDimension, 0);
  return b.endObject();
}

function writeTensor(b: Builder, t: TfliteTensorInput, i: number, bufferCount: number): number {
  const what = `tensor ${i}`;
  if (t.hasSparsity) fail(`${what}: sparse tensors are not supported by the writer`);
  t.shape.forEach((d) => checkInt(`${what} shape`, d, 0));
  checkInt(`${what} type`, t.type, 0, TENSOR_TYPE_MAX);
  const buffer = checkInt(`${what} buffer`, t.buffer ?? 0, 0, bufferCount - 1);
  const shape = int32Vector(b, t.shape);
  const name = t.name ? b.createString(t.name) : 0;
  const quant = t.quant ? writeQuant(b, `${what} quant`, t.quant, t.shape) : 0;
  b.startObject(6);
  b.addFieldOffset(0, shape, 0);
  b.addFieldInt8(1, t.type, 0);
  b.addFieldInt32(2, buffer, 0);
  if (name) b.addFieldOffset(3, name, 0);
  if (quant) b.addFieldOffset(4, quant, 0);
  b.addFieldInt8(5, t.isVariable ? 1 : 0, 0);
  return b.endObject();
}

type OptionsInput = TfliteOperatorInput['options'];

function writeOptions(b: Builder, what: string, spec: OptionsTable, options: OptionsInput): number {
  const given = options ?? {};
  for (const k of Object.keys(given)) {
    if (!spec.fields.some(([name]) => name === k)) fail(`${what}: ${spec.name} has no field "${k}"`);
  }
  const values = spec.fields.map(([name, kind, def, enumeration]) => {
    const v = given[name] ?? def;
    const fieldWhat = `${what} ${spec.name}.${name}`;
    if (kind === 'bool') {
      if (typeof v !== 'boolean') fail(`${fieldWhat}: expected a boolean`);
    } else if (kind === 'float32') {
      if (typeof v !== 'number') fail(`${fieldWhat}: expected a number`);
    } else if (kind === 'int32[]') {
      if (!Array.isArray(v)) fail(`${fieldWhat}: expected an array of integers`);
      (v as readonly unknown[]).forEach((x) => checkInt(fieldWhat, x));
    } else {
      checkInt(fieldWhat, v, kind === 'int8' ? -128 : INT32_MIN, kind === 'int8' ? 127 : INT32_MAX);
      if (enumeration && !enumHas(enumeration, v as number)) fail(`${fieldWhat}: ${String(v)} is not a valid enum value`);
    }
    return v;
  });
  // Vectors must be finished before the table that points at them is started.
  const vectors = spec.fields.map(([, kind], id) => {
    const v = values[id] as readonly number[];
    return kind === 'int32[]' && v.length > 0 ? int32Vector(b, v) : 0;
  });
  b.startObject(spec.fields.length);
  spec.fields.forEach(([, kind, def], id) => {
    const v = values[id];
    if (kind === 'int32') b.addFieldInt32(id, v as number, def as number);
    else if (kind === 'float32') b.addFieldFloat32(id, v as number, def as number);
    else if (kind === 'bool') b.addFieldInt8(id, v ? 1 : 0, def ? 1 : 0);
    else if (kind === 'int8') b.addFieldInt8(id, v as number, def as number);
    else if (vectors[id]) b.addFieldOffset(id, vectors[id]!, 0);
  });
  return b.endObject();
}

function writeOperator(b: Builder, op: TfliteOperatorInput, i: number, codeIndex: number, tensorCount: number): number {
  const what = `operator ${i} (${builtinOperatorName(op.opcode)})`;
  op.inputs.forEach((x) => checkInt(`${what} inputs`, x, -1, tensorCount - 1));
  op.outputs.forEach((x) => checkInt(`${what} outputs`, x, 0, tensorCount - 1));
  const tag = op.optionsType ?? OPTIONS_FOR_OPERATOR[op.opcode] ?? 0;
  let options = 0;
  if (tag !== 0) {
    const spec = OPTIONS_TABLES[tag];
    if (!spec) fail(`${what}: cannot write ${builtinOptionsName(tag)}, its fields are not in OPTIONS_TABLES`);
    options = writeOptions(b, what, spec, op.options);
  } else if (op.options && Object.keys(op.options).length > 0) {
    fail(`${what}: options given but optionsType is NONE`);
  }
  const inputs = int32Vector(b, op.inputs);
  const outputs = int32Vector(b, op.outputs);
  b.startObject(5);
  b.addFieldInt32(0, codeIndex, 0);
  b.addFieldOffset(1, inputs, 0);
  b.addFieldOffset(2, outputs, 0);
  // A union takes two slots: its type byte, then the table offset.
  b.addFieldInt8(3, tag, 0);
  if (options) b.addFieldOffset(4, options, 0);
  return b.endObject();
}

/** Encodes `model` as a TFLite flatbuffer ("TFL3", schema version 3, one subgraph). */
export function writeTflite(model: TfliteModelInput): Uint8Array {
  if ((model.subgraphCount ?? 1) > 1) fail('model: only the first of several subgraphs would be written');
  const buffers = model.buffers.length > 0 ? model.buffers : [null];
  if (buffers[0] && buffers[0].length > 0) fail('buffer 0: must be empty, TFLite reserves it for "no data"');
  const tensorCount = model.tensors.length;
  model.inputs.forEach((x) => checkInt('subgraph inputs', x, 0, tensorCount - 1));
  model.outputs.forEach((x) => checkInt('subgraph outputs', x, 0, tensorCount - 1));

  // Operator codes are shared by every operator with the same (opcode, custom code, version).
  const codeKeys = new Map<string, number>();
  const codes: { opcode: number; customCode: string | null; version: number }[] = [];
  const codeIndex = model.operators.map((op, i) => {
    const opcode = checkInt(`operator ${i} opcode`, op.opcode, 0, BUILTIN_OPERATOR_MAX);
    const version = checkInt(`operator ${i} version`, op.version ?? 1, 1);
    const customCode = op.customCode ?? null;
    const key = JSON.stringify([opcode, customCode, version]);
    let index = codeKeys.get(key);
    if (index === undefined) {
      index = codes.length;
      codeKeys.set(key, index);
      codes.push({ opcode, customCode, version });
    }
    return index;
  });

  const dataBytes = buffers.reduce((n, d) => n + (d ? d.length + 16 : 0), 0);
  const b = new Builder(dataBytes + 1024 + 256 * (tensorCount + model.operators.length));
  const bufferOffsets = buffers.map((d) => writeBuffer(b, d));
  const tensorOffsets = model.tensors.map((t, i) => writeTensor(b, t, i, buffers.length));
  const operatorOffsets = model.operators.map((op, i) => writeOperator(b, op, i, codeIndex[i]!, tensorCount));
  const codeOffsets = codes.map((c) => {
    const custom = c.customCode !== null ? b.createString(c.customCode) : 0;
    b.startObject(4);
    // Old runtimes read only the byte field; 127 there means "look at builtin_code".
    b.addFieldInt8(0, Math.min(c.opcode, 127), 0);
    if (custom) b.addFieldOffset(1, custom, 0);
    b.addFieldInt32(2, c.version, 1);
    b.addFieldInt32(3, c.opcode, 0);
    return b.endObject();
  });

  const sgTensors = offsetVector(b, tensorOffsets);
  const sgInputs = int32Vector(b, model.inputs);
  const sgOutputs = int32Vector(b, model.outputs);
  const sgOperators = offsetVector(b, operatorOffsets);
  const sgName = b.createString('main');
  b.startObject(5);
  b.addFieldOffset(0, sgTensors, 0);
  b.addFieldOffset(1, sgInputs, 0);
  b.addFieldOffset(2, sgOutputs, 0);
  b.addFieldOffset(3, sgOperators, 0);
  b.addFieldOffset(4, sgName, 0);
  const subgraph = b.endObject();

  const opCodes = offsetVector(b, codeOffsets);
  const subgraphs = offsetVector(b, [subgraph]);
  const description = model.description ? b.createString(model.description) : 0;
  const bufferVec = offsetVector(b, bufferOffsets);
  b.startObject(5);
  b.addFieldInt32(0, SCHEMA_VERSION, 0);
  b.addFieldOffset(1, opCodes, 0);
  b.addFieldOffset(2, subgraphs, 0);
  if (description) b.addFieldOffset(3, description, 0);
  b.addFieldOffset(4, bufferVec, 0);
  b.finish(b.endObject(), 'TFL3');
  return b.asUint8Array().slice();
}
