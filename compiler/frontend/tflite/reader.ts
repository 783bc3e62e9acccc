// Reads a .tflite flatbuffer into plain JS objects. Files come from users and may be truncated or
// corrupted, and flatbuffers' ByteBuffer trusts every offset it is handed, so all reads go through
// SafeReader: any bad offset, length, vtable, enum or index becomes a TfliteFormatError naming the
// field, never a RangeError, a hang or a giant allocation.
import { ByteBuffer } from 'flatbuffers';
import { TfliteFormatError } from './errors.ts';
import {
  BUILTIN_OPERATOR_MAX, BUILTIN_OPTIONS_MAX, OPTIONS_TABLES, TENSOR_TYPE_MAX, builtinOptionsName, enumHas,
  type OptionValue,
} from './schema.ts';

export interface TfliteQuant { scale: number[]; zeroPoint: number[]; quantizedDimension: number }
export interface TfliteTensor {
  index: number; name: string; shape: number[]; type: number; buffer: number;
  quant: TfliteQuant | null; isVariable: boolean; hasSparsity: boolean;
}
export interface TfliteOperator {
  index: number;
  /** BuiltinOperator: max(deprecated_builtin_code, builtin_code), as the TFLite runtime resolves it. */
  opcode: number;
  customCode: string | null;
  version: number;
  /** Tensor indices; -1 marks an omitted optional input. */
  inputs: number[];
  outputs: number[];
  /** BuiltinOptions union tag (0 = none). */
  optionsType: number;
  /** Fields of the options table with schema defaults filled in; {} for tables not in OPTIONS_TABLES. */
  options: Record<string, OptionValue>;
}
export interface TfliteModel {
  version: number;
  description: string;
  /** Tensors, operators, inputs and outputs of the first subgraph only. */
  tensors: TfliteTensor[];
  operators: TfliteOperator[];
  inputs: number[];
  outputs: number[];
  /** Indexed by TfliteTensor.buffer; null = no data. Non-null entries are views into the input bytes. */
  buffers: (Uint8Array | null)[];
  /** Importers that handle only the main graph should refuse models where this is > 1. */
  subgraphCount: number;
}

const hex = (n: number): string => (n < 0 ? `-0x${(-n).toString(16)}` : `0x${n.toString(16)}`);
const utf8 = new TextDecoder('utf-8', { fatal: true, ignoreBOM: true });

interface Table { pos: number; vt: number; vtSize: number; objSize: number; what: string }
interface Vec { start: number; count: number; what: string }

class SafeReader {
  private readonly bb: ByteBuffer;
  readonly len: number;
  // Shared tables and vectors are legal, so a small file can describe billions of elements; every
  // element visited is charged here. Honest files use about len/4; 8x leaves ample room.
  private budget: number;

  constructor(readonly bytes: Uint8Array) {
    this.bb = new ByteBuffer(bytes);
    this.len = bytes.length;
    this.budget = 8 * bytes.length + 65536;
  }

  fail(what: string, msg: string): never {
    throw new TfliteFormatError(`${what}: ${msg}`);
  }

  charge(units: number, what: string): void {
    this.budget -= units;
    if (this.budget < 0) {
      this.fail(what, `more elements than a ${this.len}-byte file can hold (corrupt counts or offsets)`);
    }
  }

  u32(pos: number, what: string): number {
    if (pos < 0 || pos + 4 > this.len) this.fail(what, `4-byte read at ${hex(pos)} is past end of file (${this.len} bytes)`);
    return this.bb.readUint32(pos);
  }

  table(pos: number, what: string): Table {
    this.charge(1, what);
    if (pos < 0 || pos + 4 > this.len) this.fail(what, `table at ${hex(pos)} is past end of file (${this.len} bytes)`);
    const vt = pos - this.bb.readInt32(pos);
    if (vt < 0 || vt + 4 > this.len) {
      this.fail(what, `vtable at ${hex(vt)} of table at ${hex(pos)} is outside the file (${this.len} bytes)`);
    }
    const vtSize = this.bb.readUint16(vt);
    const objSize = this.bb.readUint16(vt + 2);
    if (vtSize < 4 || vtSize % 2 !== 0 || vt + vtSize > this.len) {
      this.fail(what, `bad vtable at ${hex(vt)} (size ${vtSize}, file ${this.len} bytes)`);
    }
    if (objSize < 4 || pos + objSize > this.len) {
      this.fail(what, `table at ${hex(pos)} of ${objSize} bytes runs past end of file (${this.len} bytes)`);
    }
    return { pos, vt, vtSize, objSize, what };
  }

  /** Absolute position of field `id`, or -1 when absent (an absent field means "default"). */
  private field(t: Table, id: number, size: number, name: string): number {
    const slot = 4 + 2 * id;
    if (slot + 2 > t.vtSize) return -1;
    const off = this.bb.readUint16(t.vt + slot);
    if (off === 0) return -1;
    if (off < 4 || off + size > t.objSize) {
      this.fail(`${t.what} ${name}`, `field at +${off} lies outside its ${t.objSize}-byte table at ${hex(t.pos)}`);
    }
    return t.pos + off;
  }

  int(t: Table, id: number, name: string, def: number): number {
    const p = this.field(t, id, 4, name);
    return p < 0 ? def : this.bb.readInt32(p);
  }

  uint(t: Table, id: number, name: string, def: number): number {
    const p = this.field(t, id, 4, name);
    return p < 0 ? def : this.bb.readUint32(p);
  }

  byte(t: Table, id: number, name: string, def: number, signed: boolean): number {
    const p = this.field(t, id, 1, name);
    if (p < 0) return def;
    return signed ? this.bb.readInt8(p) : this.bb.readUint8(p);
  }

  bool(t: Table, id: number, name: string, def: boolean): boolean {
    const p = this.field(t, id, 1, name);
    return p < 0 ? def : this.bb.readUint8(p) !== 0;
  }

  float(t: Table, id: number, name: string, def: number): number {
    const p = this.field(t, id, 4, name);
    return p < 0 ? def : this.bb.readFloat32(p);
  }

  /** ulong as a JS number; values beyond 2^53 cannot be file offsets or sizes anyway. */
  ulong(t: Table, id: number, name: string): number {
    const p = this.field(t, id, 8, name);
    if (p < 0) return 0;
    const v = this.bb.readUint64(p);
    if (v > BigInt(Number.MAX_SAFE_INTEGER)) this.fail(`${t.what} ${name}`, `value ${v} is absurdly large`);
    return Number(v);
  }

  /** Target of an offset field, or -1 when absent. */
  ref(t: Table, id: number, name: string): number {
    const p = this.field(t, id, 4, name);
    if (p < 0) return -1;
    const target = p + this.bb.readUint32(p);
    if (target + 4 > this.len) {
      this.fail(`${t.what} ${name}`, `offset at ${hex(p)} points to ${hex(target)}, past end of file (${this.len} bytes)`);
    }
    return target;
  }

  vec(t: Table, id: number, name: string, elemSize: number): Vec | null {
    const at = this.ref(t, id, name);
    if (at < 0) return null;
    const count = this.bb.readUint32(at);
    const what = `${t.what} ${name}`;
    if (count * elemSize > this.len - at - 4) {
      this.fail(what, `vector at offset ${hex(at)} runs past end of file (${this.len} bytes)`);
    }
    return { start: at + 4, count, what };
  }

  sub(t: Table, id: number, name: string, what: string): Table | null {
    const at = this.ref(t, id, name);
    return at < 0 ? null : this.table(at, what);
  }

  ints(t: Table, id: number, name: string): number[] {
    const v = this.vec(t, id, name, 4);
    if (!v) return [];
    this.charge(v.count, v.what);
    const out = new Array<number>(v.count);
    for (let i = 0; i < v.count; i++) out[i] = this.bb.readInt32(v.start + 4 * i);
    return out;
  }

  floats(t: Table, id: number, name: string): number[] {
    const v = this.vec(t, id, name, 4);
    if (!v) return [];
    this.charge(v.count, v.what);
    const out = new Array<number>(v.count);
    for (let i = 0; i < v.count; i++) out[i] = this.bb.readFloat32(v.start + 4 * i);
    return out;
  }

  longs(t: Table, id: number, name: string): number[] {
    const v = this.vec(t, id, name, 8);
    if (!v) return [];
    this.charge(v.count, v.what);
    const out = new Array<number>(v.count);
    for (let i = 0; i < v.count; i++) out[i] = Number(this.bb.readInt64(v.start + 8 * i));
    return out;
  }

  /** Plain Uint8Array view (not a Node Buffer) so models compare equal whatever the input type. */
  view(start: number, count: number): Uint8Array {
    return new Uint8Array(this.bytes.buffer, this.bytes.byteOffset + start, count);
  }

  str(t: Table, id: number, name: string): string | null {
    const v = this.vec(t, id, name, 1);
    if (!v) return null;
    this.charge(v.count, v.what);
    try {
      return utf8.decode(this.view(v.start, v.count));
    } catch {
      return this.fail(v.what, `string at ${hex(v.start - 4)} is not valid UTF-8`);
    }
  }

  tableAt(v: Vec, i: number, what: string): Table {
    const e = v.start + 4 * i;
    return this.table(e + this.bb.readUint32(e), what);
  }

  tables(t: Table, id: number, name: string, what: (i: number) => string): Table[] {
    const v = this.vec(t, id, name, 4);
    if (!v) return [];
    this.charge(v.count, v.what);
    const out: Table[] = [];
    for (let i = 0; i < v.count; i++) out.push(this.tableAt(v, i, what(i)));
    return out;
  }
}

interface OpCode { opcode: number; customCode: string | null; version: number }

function readOpCode(r: SafeReader, t: Table): OpCode {
  const deprecated = r.byte(t, 0, 'deprecated_builtin_code', 0, true);
  const customCode = r.str(t, 1, 'custom_code');
  const version = r.int(t, 2, 'version', 1);
  if (version < 1) r.fail(`${t.what} version`, `${version} is not a valid operator version (>= 1)`);
  const opcode = Math.max(deprecated, r.int(t, 3, 'builtin_code', 0));
  if (opcode < 0 || opcode > BUILTIN_OPERATOR_MAX) {
    r.fail(`${t.what} builtin_code`, `${opcode} is not a known BuiltinOperator (0..${BUILTIN_OPERATOR_MAX})`);
  }
  return { opcode, customCode, version };
}

function readBuffer(r: SafeReader, t: Table): Uint8Array | null {
  const data = r.vec(t, 0, 'data', 1);
  if (data && data.count > 0) return r.view(data.start, data.count);
  // Models over 2 GB keep data after the flatbuffer; offset <= 1 means "not used".
  const offset = r.ulong(t, 1, 'offset');
  const size = r.ulong(t, 2, 'size');
  if (offset <= 1 || size === 0) return null;
  if (offset + size > r.len) {
    r.fail(`${t.what} offset`, `external data at ${hex(offset)} (${size} bytes) runs past end of file (${r.len} bytes)`);
  }
  return r.view(offset, size);
}

function readQuant(r: SafeReader, q: Table, shape: number[]): TfliteQuant | null {
  const scale = r.floats(q, 2, 'scale');
  const zeroPoint = r.longs(q, 3, 'zero_point');
  // Field 4/5 are the `details` union (type byte + table); quantized_dimension follows at 6.
  const quantizedDimension = r.int(q, 6, 'quantized_dimension', 0);
  // min/max-only or custom quantization carries nothing the compiler can use: same as none (as TFLite does).
  if (scale.length === 0) return null;
  // The same consistency rules the TFLite interpreter enforces when it loads a model.
  if (zeroPoint.length !== scale.length) {
    r.fail(q.what, `${scale.length} scales but ${zeroPoint.length} zero points`);
  }
  // The runtimes hold zero points as int32; anything wider is corruption, not a real model.
  const wide = zeroPoint.find((z) => z < -0x80000000 || z > 0x7fffffff);
  if (wide !== undefined) r.fail(`${q.what} zero_point`, `${wide} does not fit in int32`);
  if (quantizedDimension < 0) r.fail(`${q.what} quantized_dimension`, `negative (${quantizedDimension})`);
  if (scale.length > 1 && shape[quantizedDimension] !== scale.length) {
    r.fail(`${q.what} quantized_dimension`,
      `${scale.length} per-channel scales do not match dimension ${quantizedDimension} of shape [${shape.join(', ')}]`);
  }
  return { scale, zeroPoint, quantizedDimension };
}

function readTensor(r: SafeReader, t: Table, index: number): TfliteTensor {
  const shape = r.ints(t, 0, 'shape');
  for (const d of shape) if (d < 0) r.fail(`${t.what} shape`, `negative dimension ${d}`);
  const type = r.byte(t, 1, 'type', 0, true);
  if (type < 0 || type > TENSOR_TYPE_MAX) r.fail(`${t.what} type`, `${type} is not a known TensorType`);
  const buffer = r.uint(t, 2, 'buffer', 0);
  const name = r.str(t, 3, 'name') ?? '';
  const q = r.sub(t, 4, 'quantization', `${t.what} quantization`);
  const quant = q ? readQuant(r, q, shape) : null;
  const isVariable = r.bool(t, 5, 'is_variable', false);
  const hasSparsity = r.ref(t, 6, 'sparsity') >= 0;
  return { index, name, shape, type, buffer, quant, isVariable, hasSparsity };
}

function readOptions(r: SafeReader, t: Table | null, tag: number): Record<string, OptionValue> {
  const spec = OPTIONS_TABLES[tag];
  const out: Record<string, OptionValue> = {};
  if (!spec) return out;
  spec.fields.forEach(([name, kind, def, enumeration], id) => {
    let v: OptionValue;
    if (!t) v = Array.isArray(def) ? [...def] : (def as number | boolean);
    else if (kind === 'int32') v = r.int(t, id, name, def as number);
    else if (kind === 'float32') v = r.float(t, id, name, def as number);
    else if (kind === 'bool') v = r.bool(t, id, name, def as boolean);
    else if (kind === 'int8') v = r.byte(t, id, name, def as number, true);
    else v = r.ints(t, id, name);
    if (t && enumeration && !enumHas(enumeration, v as number)) {
      r.fail(`${t.what} ${name}`, `${String(v)} is not a valid enum value`);
    }
    out[name] = v;
  });
  return out;
}

function readOperator(r: SafeReader, t: Table, index: number, codes: OpCode[]): TfliteOperator {
  const codeIndex = r.uint(t, 0, 'opcode_index', 0);
  const code = codes[codeIndex];
  if (!code) r.fail(`${t.what} opcode_index`, `${codeIndex} but the model has ${codes.length} operator codes`);
  const inputs = r.ints(t, 1, 'inputs');
  const outputs = r.ints(t, 2, 'outputs');
  // A union occupies two slots: the type byte (3) and then the table offset (4).
  const optionsType = r.byte(t, 3, 'builtin_options_type', 0, false);
  if (optionsType > BUILTIN_OPTIONS_MAX) r.fail(`${t.what} builtin_options_type`, `${optionsType} is not a known BuiltinOptions`);
  let options: Record<string, OptionValue> = {};
  if (optionsType !== 0) {
    const table = r.sub(t, 4, 'builtin_options', `${t.what} ${builtinOptionsName(optionsType)}`);
    options = readOptions(r, table, optionsType);
  }
  return { index, opcode: code.opcode, customCode: code.customCode, version: code.version, inputs, outputs, optionsType, options };
}

function checkIndices(r: SafeReader, m: TfliteModel): void {
  const n = m.tensors.length;
  const check = (what: string, list: number[], allowOmitted: boolean): void => {
    for (const i of list) {
      if (i >= n || i < (allowOmitted ? -1 : 0)) r.fail(what, `tensor index ${i} out of range (${n} tensors)`);
    }
  };
  check('subgraph 0 inputs', m.inputs, false);
  check('subgraph 0 outputs', m.outputs, false);
  for (const op of m.operators) {
    check(`operator ${op.index} inputs`, op.inputs, true);
    check(`operator ${op.index} outputs`, op.outputs, false);
  }
  for (const t of m.tensors) {
    if (t.buffer >= m.buffers.length) r.fail(`tensor ${t.index} buffer`, `${t.buffer} out of range (${m.buffers.length} buffers)`);
  }
}

/** Parses the first subgraph of a .tflite file; throws TfliteFormatError on any malformed input. */
export function readTflite(bytes: Uint8Array): TfliteModel {
  if (!(bytes instanceof Uint8Array)) throw new TfliteFormatError('input: expected a Uint8Array');
  const r: SafeReader = new SafeReader(bytes);
  if (bytes.length < 8) r.fail('file header', `file is ${bytes.length} bytes, too short for a TFLite model`);
  const ident = String.fromCharCode(bytes[4]!, bytes[5]!, bytes[6]!, bytes[7]!);
  if (ident !== 'TFL3') r.fail('file header', `identifier is ${JSON.stringify(ident)}, expected "TFL3" (not a TFLite model?)`);
  const model = r.table(r.u32(0, 'root offset'), 'model');
  const version = r.uint(model, 0, 'version', 0);
  const codes = r.tables(model, 1, 'operator_codes', (i) => `operator code ${i}`).map((t) => readOpCode(r, t));
  const subgraphs = r.vec(model, 2, 'subgraphs', 4);
  if (!subgraphs || subgraphs.count === 0) r.fail('model subgraphs', 'the model has no subgraph');
  const description = r.str(model, 3, 'description') ?? '';
  const buffers = r.tables(model, 4, 'buffers', (i) => `buffer ${i}`).map((t) => readBuffer(r, t));
  // Buffer 0 is the conventional "no data" sentinel; keep it addressable even if the file omits it.
  if (buffers.length === 0) buffers.push(null);
  const sg = r.tableAt(subgraphs, 0, 'subgraph 0');
  const tensors = r.tables(sg, 0, 'tensors', (i) => `tensor ${i}`).map((t, i) => readTensor(r, t, i));
  const inputs = r.ints(sg, 1, 'inputs');
  const outputs = r.ints(sg, 2, 'outputs');
  const operators = r.tables(sg, 3, 'operators', (i) => `operator ${i}`).map((t, i) => readOperator(r, t, i, codes));
  const m: TfliteModel = { version, description, tensors, operators, inputs, outputs, buffers, subgraphCount: subgraphs.count };
  checkIndices(r, m);
  return m;
}
