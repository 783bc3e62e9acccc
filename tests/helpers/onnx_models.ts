/**
 * @fileoverview A small ONNX model builder for tests: quantized int8 models in the two forms that tools emit, QDQ
 * (DequantizeLinear -> float op -> QuantizeLinear) and QOperator (QLinearConv, ...), with seeded random weights.
 *
 * Models are opset 13 (plus com.microsoft v1 when a contrib op is used), graph inputs int8 with static shapes, and
 * every constant an initializer with raw_data. Every intermediate tensor is described in value_info, as after ONNX
 * shape inference. Scales are float32 values (what the file stores), so callers can compute with them exactly.
 */
import onnxProto from 'onnx-proto';
import type { onnx as OnnxTypes } from 'onnx-proto';
import { Random } from '../../compiler/frontend/builder/random.ts';

const { onnx } = onnxProto;
const DataType = onnx.TensorProto.DataType;
const AttributeType = onnx.AttributeProto.AttributeType;

export type ModelProto = OnnxTypes.IModelProto;

/** An int8 tensor of the graph with its per-tensor quantization (scale float32, zero point int8). */
export interface QTensor {
  readonly name: string;
  readonly shape: readonly number[];
  readonly scale: number;
  readonly zeroPoint: number;
}

/** The float op between the quantized op and its QuantizeLinear: none, Relu, or Clip(min, max). */
export type Activation = 'none' | 'relu' | { readonly clip: readonly [number, number] };

/** Quantization of an op's output; unset fields get realistic defaults (see each op). */
export interface OutputQuant {
  readonly scale?: number;
  readonly zeroPoint?: number;
}

export interface ConvOptions extends OutputQuant {
  /** Output channels; must be a multiple of `group`. */
  readonly outChannels: number;
  readonly kernel: readonly [number, number];
  readonly strides?: readonly [number, number];
  /** ONNX order: [top, left, bottom, right]. */
  readonly pads?: readonly [number, number, number, number];
  readonly group?: number;
  /** One weight scale per output channel (axis 0) instead of one per tensor. */
  readonly perChannel?: boolean;
  readonly activation?: Activation;
}

export interface DenseOptions extends OutputQuant {
  readonly outFeatures: number;
  readonly perChannel?: boolean;
  readonly activation?: Activation;
}

export interface GemmOptions extends DenseOptions {
  /** 1: weight stored [N, K] (per-channel scales on axis 0 allowed); 0: stored [K, N] (per-tensor only). */
  readonly transB: 0 | 1;
}

export interface PoolOptions {
  readonly kernel: readonly [number, number];
  readonly strides?: readonly [number, number];
  readonly pads?: readonly [number, number, number, number];
}

type AttrValue = number | string | readonly number[];

/**
 * Output std / output scale of a multiply-accumulate op: int8 inputs and weights spread over their whole range make
 * an accumulator of std ~ 74 * 73 * sqrt(K) (in units of in_scale * w_scale); an output scale of
 * in_scale * w_scale * sqrt(K) * MAC_GAIN puts the output's std near 5400 / MAC_GAIN ~ 50 LSB: varied, rarely
 * saturated.
 */
const MAC_GAIN = 100;

/** float32 as stored in the file. */
const f32 = Math.fround;

const conv2dOut = (size: number, kernel: number, stride: number, padBegin: number, padEnd: number) =>
  Math.floor((size + padBegin + padEnd - kernel) / stride) + 1;

function bytesOf(data: Int8Array | Int32Array | Float32Array | BigInt64Array): Uint8Array {
  return new Uint8Array(data.buffer.slice(data.byteOffset, data.byteOffset + data.byteLength));
}

function attribute(name: string, value: AttrValue): OnnxTypes.IAttributeProto {
  if (typeof value === 'string') return { name, type: AttributeType.STRING, s: new TextEncoder().encode(value) };
  if (typeof value === 'number') return { name, type: AttributeType.INT, i: value };
  return { name, type: AttributeType.INTS, ints: [...value] };
}

function valueInfo(name: string, elemType: number, shape: readonly number[]): OnnxTypes.IValueInfoProto {
  return { name, type: { tensorType: { elemType, shape: { dim: shape.map((d) => ({ dimValue: d })) } } } };
}

export class OnnxModelBuilder {
  readonly random: Random;
  private readonly nodes: OnnxTypes.INodeProto[] = [];
  private readonly initializers: OnnxTypes.ITensorProto[] = [];
  private readonly inputs: OnnxTypes.IValueInfoProto[] = [];
  private readonly outputs: OnnxTypes.IValueInfoProto[] = [];
  /** Type and shape of every tensor a node produces, by name. */
  private readonly produced = new Map<string, OnnxTypes.IValueInfoProto>();
  private usesMicrosoftDomain = false;
  private counter = 0;

  constructor(
    readonly name: string,
    seed: number,
  ) {
    this.random = new Random(seed);
  }

  /** The graph inputs added so far, in order. */
  get inputNames(): string[] {
    return this.inputs.map((i) => i.name!);
  }

  /** The graph outputs added so far, in order. */
  get outputNames(): string[] {
    return this.outputs.map((o) => o.name!);
  }

  /** A fresh name with this prefix. */
  fresh(prefix: string): string {
    return `${prefix}_${this.counter++}`;
  }

  // --- graph structure -------------------------------------------------------------------------------------------

  /** An int8 graph input; scale and zero point default to random realistic values. */
  input(shape: readonly number[], quant: OutputQuant = {}): QTensor {
    const name = this.fresh('input');
    this.inputs.push(valueInfo(name, DataType.INT8, shape));
    return { name, shape, scale: quant.scale ?? f32(0.02 + this.random.next() * 0.05), zeroPoint: quant.zeroPoint ?? this.random.int(-20, 20) };
  }

  /** Makes `t` a graph output (its shape is stated). */
  output(t: QTensor): void {
    this.outputs.push(valueInfo(t.name, DataType.INT8, t.shape));
  }

  /** Appends a node; `outputs` are described in value_info as `elemType` with `shape`. */
  node(opType: string, inputs: readonly string[], outputs: readonly string[], elemType: number, shape: readonly number[], attrs: Readonly<Record<string, AttrValue>> = {}, domain = ''): void {
    if (domain === 'com.microsoft') this.usesMicrosoftDomain = true;
    this.nodes.push({
      name: this.fresh(opType.toLowerCase()),
      opType,
      domain,
      input: [...inputs],
      output: [...outputs],
      attribute: Object.entries(attrs).map(([k, v]) => attribute(k, v)),
    });
    for (const o of outputs) this.produced.set(o, valueInfo(o, elemType, shape));
  }

  /** The name of the last node added (for error messages that must name it). */
  get lastNodeName(): string {
    return this.nodes.at(-1)!.name!;
  }

  initializer(prefix: string, elemType: number, dims: readonly number[], data: Int8Array | Int32Array | Float32Array | BigInt64Array): string {
    const name = this.fresh(prefix);
    this.initializers.push({ name, dataType: elemType, dims: [...dims], rawData: bytesOf(data) });
    return name;
  }

  /** A float32 scale: a scalar, or a 1-D tensor for per-channel quantization. */
  scale(values: number | readonly number[]): string {
    return typeof values === 'number'
      ? this.initializer('scale', DataType.FLOAT, [], Float32Array.of(values))
      : this.initializer('scale', DataType.FLOAT, [values.length], Float32Array.from(values));
  }

  /** An int8 zero point: a scalar, or `channels` zeros for per-channel weights. */
  zeroPoint(value: number, channels?: number): string {
    return channels === undefined
      ? this.initializer('zero_point', DataType.INT8, [], Int8Array.of(value))
      : this.initializer('zero_point', DataType.INT8, [channels], new Int8Array(channels).fill(value));
  }

  /** The model as onnx-proto objects, for tests that alter it before encoding. */
  toProto(): ModelProto {
    const graphIo = new Set([...this.inputNames, ...this.outputNames]);
    const opsetImport: OnnxTypes.IOperatorSetIdProto[] = [{ domain: '', version: 13 }];
    if (this.usesMicrosoftDomain) opsetImport.push({ domain: 'com.microsoft', version: 1 });
    return {
      irVersion: 8,
      producerName: 'tinyforge-tests',
      opsetImport,
      graph: {
        name: this.name,
        node: this.nodes,
        initializer: this.initializers,
        input: this.inputs,
        output: this.outputs,
        valueInfo: [...this.produced.values()].filter((v) => !graphIo.has(v.name!)),
      },
    };
  }

  build(): Uint8Array {
    return encodeModel(this.toProto());
  }

  // --- QDQ building blocks ---------------------------------------------------------------------------------------

  /** DequantizeLinear of an int8 activation; returns the float tensor's name. */
  dequantize(x: QTensor): string {
    const out = this.fresh('dq');
    this.node('DequantizeLinear', [x.name, this.scale(x.scale), this.zeroPoint(x.zeroPoint)], [out], DataType.FLOAT, x.shape);
    return out;
  }

  /** QuantizeLinear of a float tensor. */
  quantize(x: string, shape: readonly number[], scale: number, zeroPoint: number): QTensor {
    const name = this.fresh('q');
    this.node('QuantizeLinear', [x, this.scale(scale), this.zeroPoint(zeroPoint)], [name], DataType.INT8, shape);
    return { name, shape, scale: f32(scale), zeroPoint };
  }

  /** Relu or Clip on a float tensor, as tools place it between an op and its QuantizeLinear. */
  activation(x: string, shape: readonly number[], activation: Activation): string {
    if (activation === 'none') return x;
    const out = this.fresh('act');
    if (activation === 'relu') this.node('Relu', [x], [out], DataType.FLOAT, shape);
    else {
      const [min, max] = activation.clip;
      const bounds = [this.initializer('clip_min', DataType.FLOAT, [], Float32Array.of(min)), this.initializer('clip_max', DataType.FLOAT, [], Float32Array.of(max))];
      this.node('Clip', [x, ...bounds], [out], DataType.FLOAT, shape);
    }
    return out;
  }

  /** Symmetric int8 weights [channels, ...rest] with per-tensor or per-channel (axis 0) scales. */
  private weights(shape: readonly number[], perChannel: boolean): { data: Int8Array; scales: number[] } {
    const data = this.random.int8Array(shape.reduce((a, b) => a * b, 1), -127, 127);
    const scales = Array.from({ length: perChannel ? shape[0]! : 1 }, () => f32(0.002 + this.random.next() * 0.02));
    return { data, scales };
  }

  /** A DequantizeLinear'd int8 weight initializer; returns the float tensor's name. */
  private dequantizedWeights(shape: readonly number[], w: { data: Int8Array; scales: number[] }): string {
    const q = this.initializer('weight', DataType.INT8, shape, w.data);
    const out = this.fresh('dq_weight');
    const perChannel = w.scales.length > 1;
    const zp = perChannel ? this.zeroPoint(0, w.scales.length) : this.zeroPoint(0);
    this.node('DequantizeLinear', [q, this.scale(perChannel ? w.scales : w.scales[0]!), zp], [out], DataType.FLOAT, shape, perChannel ? { axis: 0 } : {});
    return out;
  }

  /** Random int32 bias quantized with scale x_scale * w_scale[c] and zero point 0. */
  private biasData(channels: number): Int32Array {
    return Int32Array.from({ length: channels }, () => this.random.int(-4000, 4000));
  }

  private biasScales(xScale: number, wScales: readonly number[], channels: number): number[] {
    return Array.from({ length: channels }, (_, c) => f32(xScale * wScales[wScales.length > 1 ? c : 0]!));
  }

  /** A DequantizeLinear'd int32 bias; returns the float tensor's name. */
  private dequantizedBias(xScale: number, wScales: readonly number[], channels: number): string {
    const q = this.initializer('bias', DataType.INT32, [channels], this.biasData(channels));
    const scales = this.biasScales(xScale, wScales, channels);
    const perChannel = wScales.length > 1;
    const zp = this.initializer('bias_zero_point', DataType.INT32, perChannel ? [channels] : [], new Int32Array(perChannel ? channels : 1));
    const out = this.fresh('dq_bias');
    this.node('DequantizeLinear', [q, this.scale(perChannel ? scales : scales[0]!), zp], [out], DataType.FLOAT, [channels], perChannel ? { axis: 0 } : {});
    return out;
  }

  private macOutputQuant(x: QTensor, wScales: readonly number[], taps: number, o: OutputQuant): { scale: number; zeroPoint: number } {
    // The largest channel scale, so that no channel is mostly saturated.
    const maxW = Math.max(...wScales);
    return { scale: o.scale ?? x.scale * maxW * Math.sqrt(taps) * MAC_GAIN, zeroPoint: o.zeroPoint ?? this.random.int(-10, 10) };
  }

  private convGeometry(x: QTensor, o: ConvOptions): { attrs: Record<string, AttrValue>; outShape: number[]; weightShape: number[] } {
    const [n, c, h, w] = x.shape as [number, number, number, number];
    const group = o.group ?? 1;
    const strides = o.strides ?? [1, 1];
    const pads = o.pads ?? [0, 0, 0, 0];
    if (c % group !== 0 || o.outChannels % group !== 0) throw new Error(`conv: channels ${c} -> ${o.outChannels} not divisible by group ${group}`);
    return {
      attrs: { kernel_shape: o.kernel, strides, pads, dilations: [1, 1], group },
      outShape: [n, o.outChannels, conv2dOut(h, o.kernel[0], strides[0], pads[0], pads[2]), conv2dOut(w, o.kernel[1], strides[1], pads[1], pads[3])],
      weightShape: [o.outChannels, c / group, o.kernel[0], o.kernel[1]],
    };
  }

  // --- QDQ ops ---------------------------------------------------------------------------------------------------

  /** DQ -> Conv (with DQ'd weight and int32 bias) -> activation -> Q. */
  conv(x: QTensor, o: ConvOptions): QTensor {
    const g = this.convGeometry(x, o);
    const w = this.weights(g.weightShape, o.perChannel ?? false);
    const inputs = [this.dequantize(x), this.dequantizedWeights(g.weightShape, w), this.dequantizedBias(x.scale, w.scales, o.outChannels)];
    const y = this.fresh('conv');
    this.node('Conv', inputs, [y], DataType.FLOAT, g.outShape, g.attrs);
    const q = this.macOutputQuant(x, w.scales, g.weightShape[1]! * o.kernel[0] * o.kernel[1], o);
    return this.quantize(this.activation(y, g.outShape, o.activation ?? 'none'), g.outShape, q.scale, q.zeroPoint);
  }

  /** Conv with group = input channels (channel multiplier outChannels / C, default 1). */
  depthwiseConv(x: QTensor, o: Omit<ConvOptions, 'group' | 'outChannels'> & { outChannels?: number }): QTensor {
    const c = x.shape[1]!;
    return this.conv(x, { ...o, outChannels: o.outChannels ?? c, group: c });
  }

  /** DQ -> Gemm (constant int8 weight, int32 bias) -> activation -> Q; x is [M, K]. */
  gemm(x: QTensor, o: GemmOptions): QTensor {
    const [m, k] = x.shape as [number, number];
    if (o.transB === 0 && o.perChannel) throw new Error('gemm: per-channel weights need transB 1 (scales on axis 0)');
    const weightShape = o.transB ? [o.outFeatures, k] : [k, o.outFeatures];
    const w = this.weights(weightShape, o.perChannel ?? false);
    const inputs = [this.dequantize(x), this.dequantizedWeights(weightShape, w), this.dequantizedBias(x.scale, w.scales, o.outFeatures)];
    const y = this.fresh('gemm');
    const shape = [m, o.outFeatures];
    this.node('Gemm', inputs, [y], DataType.FLOAT, shape, { transB: o.transB });
    const q = this.macOutputQuant(x, w.scales, k, o);
    return this.quantize(this.activation(y, shape, o.activation ?? 'none'), shape, q.scale, q.zeroPoint);
  }

  /** DQ -> MatMul (constant int8 weight [K, N], per-tensor) -> activation -> Q; x is [..., K]. */
  matMul(x: QTensor, o: Omit<DenseOptions, 'perChannel'>): QTensor {
    const k = x.shape.at(-1)!;
    const weightShape = [k, o.outFeatures];
    const w = this.weights(weightShape, false);
    const y = this.fresh('matmul');
    const shape = [...x.shape.slice(0, -1), o.outFeatures];
    this.node('MatMul', [this.dequantize(x), this.dequantizedWeights(weightShape, w)], [y], DataType.FLOAT, shape);
    const q = this.macOutputQuant(x, w.scales, k, o);
    return this.quantize(this.activation(y, shape, o.activation ?? 'none'), shape, q.scale, q.zeroPoint);
  }

  /** DQ(a) + DQ(b) -> activation -> Q; same shapes. Default output scale: the sum's std spread over ~50 LSB. */
  add(a: QTensor, b: QTensor, o: OutputQuant & { activation?: Activation } = {}): QTensor {
    const y = this.fresh('add');
    this.node('Add', [this.dequantize(a), this.dequantize(b)], [y], DataType.FLOAT, a.shape);
    const scale = o.scale ?? Math.hypot(a.scale, b.scale) * 1.5;
    return this.quantize(this.activation(y, a.shape, o.activation ?? 'none'), a.shape, scale, o.zeroPoint ?? this.random.int(-10, 10));
  }

  private pool(opType: 'AveragePool' | 'MaxPool', x: QTensor, o: PoolOptions): QTensor {
    const [n, c, h, w] = x.shape as [number, number, number, number];
    const strides = o.strides ?? [1, 1];
    const pads = o.pads ?? [0, 0, 0, 0];
    const shape = [n, c, conv2dOut(h, o.kernel[0], strides[0], pads[0], pads[2]), conv2dOut(w, o.kernel[1], strides[1], pads[1], pads[3])];
    const y = this.fresh(opType.toLowerCase());
    this.node(opType, [this.dequantize(x)], [y], DataType.FLOAT, shape, { kernel_shape: o.kernel, strides, pads });
    // Pools keep their input's quantization, as quantization tools emit them.
    return this.quantize(y, shape, x.scale, x.zeroPoint);
  }

  /** DQ -> AveragePool (count_include_pad 0) -> Q with the input's scale and zero point. */
  averagePool(x: QTensor, o: PoolOptions): QTensor {
    return this.pool('AveragePool', x, o);
  }

  /** DQ -> MaxPool -> Q with the input's scale and zero point. */
  maxPool(x: QTensor, o: PoolOptions): QTensor {
    return this.pool('MaxPool', x, o);
  }

  /** DQ -> GlobalAveragePool -> Q; default output scale fits the mean's smaller spread. */
  globalAveragePool(x: QTensor, o: OutputQuant = {}): QTensor {
    const [n, c, h, w] = x.shape as [number, number, number, number];
    const shape = [n, c, 1, 1];
    const y = this.fresh('gap');
    this.node('GlobalAveragePool', [this.dequantize(x)], [y], DataType.FLOAT, shape);
    return this.quantize(y, shape, o.scale ?? (x.scale / Math.sqrt(h * w)) * 1.5, o.zeroPoint ?? this.random.int(-10, 10));
  }

  /** DQ each -> Concat(axis 1) -> Q; the default output quantization covers the union of the input ranges, as tools choose it. */
  concat(xs: readonly QTensor[], o: OutputQuant = {}): QTensor {
    const shape = [...xs[0]!.shape];
    shape[1] = xs.reduce((a, x) => a + x.shape[1]!, 0);
    const y = this.fresh('concat');
    this.node('Concat', xs.map((x) => this.dequantize(x)), [y], DataType.FLOAT, shape, { axis: 1 });
    const min = Math.min(...xs.map((x) => x.scale * (-128 - x.zeroPoint)));
    const max = Math.max(...xs.map((x) => x.scale * (127 - x.zeroPoint)));
    const scale = o.scale ?? (max - min) / 255;
    return this.quantize(y, shape, scale, o.zeroPoint ?? Math.max(-128, Math.min(127, Math.round(-128 - min / scale))));
  }

  /**
   * Reshape to `shape`: 'int8' reshapes the int8 tensor itself (no QDQ, as tools leave shape ops); 'qdq' wraps it in
   * DQ -> Reshape -> Q with unchanged quantization.
   */
  reshape(x: QTensor, shape: readonly number[], form: 'int8' | 'qdq' = 'int8'): QTensor {
    const target = this.initializer('shape', DataType.INT64, [shape.length], BigInt64Array.from(shape, (d) => BigInt(d)));
    return this.shapeOp('Reshape', x, shape, form, [target], {});
  }

  /** Flatten(axis 1) to [N, rest], in the same two forms as `reshape`. */
  flatten(x: QTensor, form: 'int8' | 'qdq' = 'int8'): QTensor {
    return this.shapeOp('Flatten', x, [x.shape[0]!, x.shape.slice(1).reduce((a, b) => a * b, 1)], form, [], { axis: 1 });
  }

  private shapeOp(opType: string, x: QTensor, shape: readonly number[], form: 'int8' | 'qdq', extra: readonly string[], attrs: Record<string, AttrValue>): QTensor {
    if (form === 'int8') {
      const name = this.fresh(opType.toLowerCase());
      this.node(opType, [x.name, ...extra], [name], DataType.INT8, shape, attrs);
      return { ...x, name, shape };
    }
    const y = this.fresh(opType.toLowerCase());
    this.node(opType, [this.dequantize(x), ...extra], [y], DataType.FLOAT, shape, attrs);
    return this.quantize(y, shape, x.scale, x.zeroPoint);
  }

  // --- QOperator ops ---------------------------------------------------------------------------------------------

  private quantParams(t: { scale: number; zeroPoint: number }): string[] {
    return [this.scale(t.scale), this.zeroPoint(t.zeroPoint)];
  }

  /** QLinearConv with an int8 weight (per-tensor or per-channel) and int32 bias; no activation (tools fold it in the output range). */
  qlinearConv(x: QTensor, o: Omit<ConvOptions, 'activation'>): QTensor {
    const g = this.convGeometry(x, o);
    const w = this.weights(g.weightShape, o.perChannel ?? false);
    const perChannel = w.scales.length > 1;
    const weight = this.initializer('weight', DataType.INT8, g.weightShape, w.data);
    const wQuant = [this.scale(perChannel ? w.scales : w.scales[0]!), perChannel ? this.zeroPoint(0, o.outChannels) : this.zeroPoint(0)];
    const bias = this.initializer('bias', DataType.INT32, [o.outChannels], this.biasData(o.outChannels));
    const q = this.macOutputQuant(x, w.scales, g.weightShape[1]! * o.kernel[0] * o.kernel[1], o);
    const name = this.fresh('qlinearconv');
    this.node('QLinearConv', [x.name, ...this.quantParams(x), weight, ...wQuant, ...this.quantParams(q), bias], [name], DataType.INT8, g.outShape, g.attrs);
    return { name, shape: g.outShape, scale: f32(q.scale), zeroPoint: q.zeroPoint };
  }

  /** QLinearMatMul with a constant int8 weight [K, N], per-tensor. */
  qlinearMatMul(x: QTensor, o: Omit<DenseOptions, 'perChannel' | 'activation'>): QTensor {
    const k = x.shape.at(-1)!;
    const w = this.weights([k, o.outFeatures], false);
    const weight = this.initializer('weight', DataType.INT8, [k, o.outFeatures], w.data);
    const q = this.macOutputQuant(x, w.scales, k, o);
    const shape = [...x.shape.slice(0, -1), o.outFeatures];
    const name = this.fresh('qlinearmatmul');
    this.node('QLinearMatMul', [x.name, ...this.quantParams(x), weight, this.scale(w.scales[0]!), this.zeroPoint(0), ...this.quantParams(q)], [name], DataType.INT8, shape);
    return { name, shape, scale: f32(q.scale), zeroPoint: q.zeroPoint };
  }

  /** com.microsoft QLinearAdd; same shapes. */
  qlinearAdd(a: QTensor, b: QTensor, o: OutputQuant = {}): QTensor {
    const q = { scale: o.scale ?? Math.hypot(a.scale, b.scale) * 1.5, zeroPoint: o.zeroPoint ?? this.random.int(-10, 10) };
    const name = this.fresh('qlinearadd');
    this.node('QLinearAdd', [a.name, ...this.quantParams(a), b.name, ...this.quantParams(b), ...this.quantParams(q)], [name], DataType.INT8, a.shape, {}, 'com.microsoft');
    return { name, shape: a.shape, scale: f32(q.scale), zeroPoint: q.zeroPoint };
  }

  /** com.microsoft QLinearGlobalAveragePool on NCHW (channels_last 0). */
  qlinearGlobalAveragePool(x: QTensor, o: OutputQuant = {}): QTensor {
    const [n, c, h, w] = x.shape as [number, number, number, number];
    const q = { scale: o.scale ?? (x.scale / Math.sqrt(h * w)) * 1.5, zeroPoint: o.zeroPoint ?? this.random.int(-10, 10) };
    const shape = [n, c, 1, 1];
    const name = this.fresh('qlineargap');
    this.node('QLinearGlobalAveragePool', [x.name, ...this.quantParams(x), ...this.quantParams(q)], [name], DataType.INT8, shape, { channels_last: 0 }, 'com.microsoft');
    return { name, shape, scale: f32(q.scale), zeroPoint: q.zeroPoint };
  }
}

export function encodeModel(model: ModelProto): Uint8Array {
  return onnx.ModelProto.encode(model).finish();
}

export function decodeModel(bytes: Uint8Array): ModelProto {
  return onnx.ModelProto.decode(bytes);
}

export { DataType as OnnxDataType };
