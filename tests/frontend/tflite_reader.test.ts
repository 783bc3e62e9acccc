// readTflite on the real shared models, plus hand-corrupted files that must fail with a precise message.
import { readFileSync } from 'node:fs';
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { Builder } from 'flatbuffers';
import { readTflite } from '../../compiler/frontend/tflite/reader.ts';
import { TfliteFormatError } from '../../compiler/frontend/tflite/errors.ts';
import {
  ActivationFunctionType, BuiltinOperator as Op, BuiltinOptions, Padding, TENSOR_TYPE_SIZE, TensorType,
  builtinOperatorName,
} from '../../compiler/frontend/tflite/schema.ts';

const MODELS = new URL('../../../shared/models/', import.meta.url);
const load = (rel: string): Uint8Array => new Uint8Array(readFileSync(new URL(rel, MODELS)));

interface Expect { file: string; input: number[]; output: number[]; ops: Record<string, number>; tensors: number }
const EXPECTED: Expect[] = [
  { file: 'mlperf-tiny/kws_ref_model.tflite', input: [1, 49, 10, 1], output: [1, 12], tensors: 35,
    ops: { CONV_2D: 5, DEPTHWISE_CONV_2D: 4, AVERAGE_POOL_2D: 1, RESHAPE: 1, FULLY_CONNECTED: 1, SOFTMAX: 1 } },
  { file: 'mlperf-tiny/pretrainedResnet_quant.tflite', input: [1, 32, 32, 3], output: [1, 10], tensors: 38,
    ops: { CONV_2D: 9, ADD: 3, AVERAGE_POOL_2D: 1, RESHAPE: 1, FULLY_CONNECTED: 1, SOFTMAX: 1 } },
  { file: 'mlperf-tiny/vww_96_int8.tflite', input: [1, 96, 96, 3], output: [1, 2], tensors: 89,
    ops: { CONV_2D: 14, DEPTHWISE_CONV_2D: 13, AVERAGE_POOL_2D: 1, RESHAPE: 1, FULLY_CONNECTED: 1, SOFTMAX: 1 } },
  { file: 'tflm/hello_world_int8.tflite', input: [1, 1], output: [1, 1], tensors: 10, ops: { FULLY_CONNECTED: 3 } },
];

for (const e of EXPECTED) {
  test(`reads ${e.file}`, () => {
    const m = readTflite(load(e.file));
    assert.is(m.version, 3);
    assert.is(m.subgraphCount, 1);
    assert.is(m.tensors.length, e.tensors);
    const hist: Record<string, number> = {};
    for (const op of m.operators) hist[builtinOperatorName(op.opcode)] = (hist[builtinOperatorName(op.opcode)] ?? 0) + 1;
    assert.equal(hist, e.ops);
    assert.is(m.inputs.length, 1);
    assert.is(m.outputs.length, 1);
    const input = m.tensors[m.inputs[0]!]!;
    assert.equal(input.shape, e.input);
    assert.is(input.type, TensorType.INT8);
    assert.is(input.quant?.scale.length, 1);
    assert.equal(m.tensors[m.outputs[0]!]!.shape, e.output);
    assert.is(m.buffers[0], null);

    for (const t of m.tensors) {
      assert.ok(t.type === TensorType.INT8 || t.type === TensorType.INT32, `tensor ${t.index} type ${t.type}`);
      assert.not.ok(t.hasSparsity);
      const data = m.buffers[t.buffer];
      if (data) {
        const elems = t.shape.reduce((a, d) => a * d, 1);
        assert.is(data.length, elems * TENSOR_TYPE_SIZE[t.type]!, `tensor ${t.index} (${t.name}) buffer size`);
      }
      if (t.quant) {
        assert.is(t.quant.zeroPoint.length, t.quant.scale.length);
        assert.ok(t.quant.scale.every((s) => s > 0 && s < 10), `tensor ${t.index} scales`);
      }
    }

    for (const op of m.operators) {
      assert.is(op.customCode, null);
      const weights = m.tensors[op.inputs[1] ?? -1];
      if (op.opcode === Op.CONV_2D || op.opcode === Op.DEPTHWISE_CONV_2D) {
        assert.is(op.optionsType, op.opcode === Op.CONV_2D ? BuiltinOptions.Conv2DOptions : BuiltinOptions.DepthwiseConv2DOptions);
        assert.ok([Padding.SAME, Padding.VALID].includes(op.options['padding'] as 0 | 1));
        assert.ok((op.options['stride_w'] as number) >= 1);
        assert.is(op.options['dilation_w_factor'], 1);
        // int8 convention: per-channel symmetric weights along the output-channel axis.
        const q = weights!.quant!;
        const axis = op.opcode === Op.CONV_2D ? 0 : 3;
        assert.is(q.quantizedDimension, axis);
        assert.is(q.scale.length, weights!.shape[axis]);
        assert.ok(q.zeroPoint.every((z) => z === 0));
        assert.is(weights!.type, TensorType.INT8);
        const bias = m.tensors[op.inputs[2]!]!;
        assert.is(bias.type, TensorType.INT32);
        assert.is(bias.quant!.scale.length, q.scale.length);
      }
      if (op.opcode === Op.SOFTMAX) assert.equal(op.options, { beta: 1 });
      if (op.opcode === Op.RESHAPE) assert.is(op.optionsType, BuiltinOptions.NONE);
      if (op.opcode === Op.FULLY_CONNECTED) {
        assert.ok(Object.values(ActivationFunctionType).includes(op.options['fused_activation_function'] as 0));
        assert.is(op.options['keep_num_dims'], false);
      }
    }
  });
}

test('reads from a Node Buffer and a Uint8Array at a non-zero offset alike', () => {
  const bytes = load('tflm/hello_world_int8.tflite');
  const padded = new Uint8Array(bytes.length + 3);
  padded.set(bytes, 3);
  const a = readTflite(readFileSync(new URL('tflm/hello_world_int8.tflite', MODELS)));
  const b = readTflite(padded.subarray(3));
  assert.equal(a, b);
});

// Minimal flatbuffer navigation so tests can corrupt one specific field of hello_world.
class Nav {
  readonly dv: DataView;
  constructor(readonly bytes: Uint8Array) {
    this.dv = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  }
  field(table: number, id: number): number {
    const vt = table - this.dv.getInt32(table, true);
    if (4 + 2 * id >= this.dv.getUint16(vt, true)) throw new Error(`field ${id} absent`);
    const off = this.dv.getUint16(vt + 4 + 2 * id, true);
    if (!off) throw new Error(`field ${id} absent`);
    return table + off;
  }
  deref(pos: number): number {
    return pos + this.dv.getUint32(pos, true);
  }
  elem(vector: number, i: number): number {
    return this.deref(vector + 4 + 4 * i);
  }
  get root(): number { return this.deref(0); }
  get subgraph(): number { return this.elem(this.deref(this.field(this.root, 2)), 0); }
  tensor(i: number): number { return this.elem(this.deref(this.field(this.subgraph, 0)), i); }
  operator(i: number): number { return this.elem(this.deref(this.field(this.subgraph, 3)), i); }
}

function corrupt(edit: (nav: Nav, dv: DataView) => void): Uint8Array {
  const bytes = load('tflm/hello_world_int8.tflite').slice();
  const nav = new Nav(bytes);
  edit(nav, nav.dv);
  return bytes;
}

function rejects(bytes: Uint8Array, message: RegExp): void {
  try {
    readTflite(bytes);
  } catch (e) {
    assert.instance(e, TfliteFormatError);
    assert.match((e as Error).message, message);
    return;
  }
  assert.unreachable(`expected a TfliteFormatError matching ${message}`);
}

test('rejects a wrong identifier and tiny files', () => {
  rejects(corrupt((_, dv) => dv.setUint8(7, 0x32)), /identifier is "TFL2", expected "TFL3"/);
  rejects(new Uint8Array(5), /too short/);
  rejects(load('tflm/hello_world_int8.tflite').slice(0, 100), /past end of file \(100 bytes\)/);
});

test('rejects a vector whose length runs past the end of the file', () => {
  const bytes = corrupt((nav, dv) => dv.setUint32(nav.deref(nav.field(nav.tensor(0), 0)), 0x7fffffff, true));
  rejects(bytes, /^tensor 0 shape: vector at offset 0x[0-9a-f]+ runs past end of file \(2704 bytes\)$/);
});

test('rejects out-of-range enums and codes', () => {
  rejects(corrupt((nav, dv) => dv.setInt8(nav.field(nav.tensor(0), 1), 99)), /^tensor 0 type: 99 is not a known TensorType/);
  const opts = (nav: Nav): number => nav.deref(nav.field(nav.operator(0), 4));
  rejects(corrupt((nav, dv) => dv.setInt8(nav.field(opts(nav), 0), 9)),
    /^operator 0 FullyConnectedOptions fused_activation_function: 9 is not a valid enum value/);
  rejects(corrupt((nav, dv) => dv.setUint8(nav.field(nav.operator(0), 3), 200)), /operator 0 builtin_options_type: 200/);
  const code0 = (nav: Nav): number => nav.elem(nav.deref(nav.field(nav.root, 1)), 0);
  rejects(corrupt((nav, dv) => dv.setInt32(nav.field(code0(nav), 3), 500, true)), /operator code 0 builtin_code: 500 is not a known/);
});

test('rejects non-UTF-8 names, dangling indices and bad offsets', () => {
  rejects(corrupt((nav, dv) => dv.setUint8(nav.deref(nav.field(nav.tensor(0), 3)) + 4, 0xff)), /tensor 0 name: .*not valid UTF-8/);
  rejects(corrupt((nav, dv) => dv.setInt32(nav.deref(nav.field(nav.operator(1), 1)) + 4, 1000, true)),
    /^operator 1 inputs: tensor index 1000 out of range \(10 tensors\)/);
  rejects(corrupt((nav, dv) => dv.setUint32(nav.field(nav.tensor(2), 2), 77, true)), /^tensor 2 buffer: 77 out of range/);
  rejects(corrupt((_, dv) => dv.setUint32(0, 0xfffffff0, true)), /^model: table at 0x[0-9a-f]+ is past end of file/);
  rejects(corrupt((nav, dv) => dv.setInt32(nav.root, -0x100000, true)), /^model: vtable at .* outside the file/);
  rejects(corrupt((nav, dv) => dv.setUint32(nav.field(nav.subgraph, 0), 0x40000000, true)), /^subgraph 0 tensors: offset at .* past end of file/);
});

/** A model whose buffer 1 lives after the flatbuffer (Buffer.offset/size, as >2 GB exporters write). */
function externalBufferModel(data: Uint8Array, sizeField: number): Uint8Array {
  const MARK = 0x5a5a5a5a5a5a5a5an;
  const b = new Builder(256);
  b.startObject(1);
  const sg = b.endObject();
  b.startVector(4, 1, 4);
  b.addOffset(sg);
  const sgs = b.endVector();
  b.startObject(3);
  const empty = b.endObject();
  b.startObject(3);
  b.addFieldInt64(1, MARK, 0n);
  b.addFieldInt64(2, BigInt(sizeField), 0n);
  const ext = b.endObject();
  b.startVector(4, 2, 4);
  b.addOffset(ext);
  b.addOffset(empty);
  const buffers = b.endVector();
  b.startObject(5);
  b.addFieldInt32(0, 3, 0);
  b.addFieldOffset(2, sgs, 0);
  b.addFieldOffset(4, buffers, 0);
  b.finish(b.endObject(), 'TFL3');
  const fb = b.asUint8Array();
  const start = Math.ceil(fb.length / 16) * 16;
  const file = new Uint8Array(start + data.length);
  file.set(fb);
  file.set(data, start);
  const dv = new DataView(file.buffer);
  for (let p = 0; p + 8 <= fb.length; p += 4) {
    if (dv.getBigUint64(p, true) === MARK) dv.setBigUint64(p, BigInt(start), true);
  }
  return file;
}

test('reads buffer data stored after the flatbuffer, bounds-checked', () => {
  const data = new Uint8Array([1, 2, 3, 4, 5, 6, 7]);
  const m = readTflite(externalBufferModel(data, data.length));
  assert.equal(m.buffers, [null, data]);
  rejects(externalBufferModel(data, data.length + 1), /^buffer 1 offset: external data at 0x[0-9a-f]+ \(8 bytes\) runs past end of file/);
});

test('caps the work a small file with shared offsets can demand', () => {
  // 20k tensor slots all pointing at one tensor with a 5k-entry shape: 100M elements from ~100 KB.
  const b = new Builder(1 << 17);
  b.startVector(4, 5000, 4);
  for (let i = 0; i < 5000; i++) b.addInt32(1);
  const shape = b.endVector();
  b.startObject(2);
  b.addFieldOffset(0, shape, 0);
  const tensor = b.endObject();
  b.startVector(4, 20000, 4);
  for (let i = 0; i < 20000; i++) b.addOffset(tensor);
  const tensors = b.endVector();
  b.startObject(1);
  b.addFieldOffset(0, tensors, 0);
  const sg = b.endObject();
  b.startVector(4, 1, 4);
  b.addOffset(sg);
  const sgs = b.endVector();
  b.startObject(3);
  b.addFieldInt32(0, 3, 0);
  b.addFieldOffset(2, sgs, 0);
  b.finish(b.endObject(), 'TFL3');
  const t0 = performance.now();
  rejects(b.asUint8Array(), /more elements than a \d+-byte file can hold/);
  assert.ok(performance.now() - t0 < 1000);
});

test.run();
