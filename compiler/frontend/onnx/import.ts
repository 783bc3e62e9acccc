/**
 * @fileoverview ONNX (QDQ or QOperator form) -> IR. A QDQ graph computes in float between DequantizeLinear and
 * QuantizeLinear nodes; the importer reads each float op with the DequantizeLinear nodes that feed it and the
 * QuantizeLinear that ends it (through a Relu or Clip, which become the fused activation) as one int8 IR op whose
 * requantization the ops then derive from the float scales, as for TFLite. QLinearConv & co carry the same
 * information in one node. NCHW activations become NHWC here, once; the graph's inputs and outputs keep the
 * file's layout (a transpose at each end) unless the caller asks for NHWC inputs.
 */
import type { DType, TensorData } from '../../ir/dtype.ts';
import type { Activation, Graph, Node, Padding, QuantParams, Tensor } from '../../ir/graph.ts';
import { describeTensor, elementCount } from '../../ir/graph.ts';
import { opDef } from '../../ops/index.ts';
import { activationRange } from '../../ops/common/quant.ts';
import { roundHalfAwayFromZero } from '../../ops/common/fixed_point.ts';
import { InvalidModelError, UnsupportedError, UserError } from '../../errors.ts';
import type { OnnxConstant, OnnxModel, OnnxNode } from './reader.ts';
import { Attributes, nodeLabel, readOnnx } from './reader.ts';
import { irAxis, irShape, onnxShapeOf, permute, sameBytesInBothLayouts } from './layout.ts';

export type InputLayout = 'nchw' | 'nhwc';

export interface OnnxImportOptions {
  /** Layout of the compiled program's 4-D inputs: the file's NCHW (default) or NHWC. */
  readonly inputLayout?: InputLayout;
}

export function importOnnx(bytes: Uint8Array, name: string, options: OnnxImportOptions = {}): Graph {
  return new Lowering(readOnnx(bytes), name, options.inputLayout ?? 'nchw').run();
}

/** An int8 activation of the IR, under its ONNX name; `onnxShape` is its shape in the file's layout. */
interface Int8Value {
  readonly tensor: number;
  readonly onnxShape: readonly number[];
}

/** A float value of a QDQ graph. */
type FloatValue =
  /** DequantizeLinear of an int8 activation or of a constant. */
  | { readonly kind: 'dequantized'; readonly source: string; readonly quant: QuantParams }
  /** A float op's result, emitted once its QuantizeLinear gives the output quantization. */
  | { readonly kind: 'pending'; readonly op: PendingOp }
  /** A float32 graph input. */
  | { readonly kind: 'input'; readonly tensor: number; readonly onnxShape: readonly number[] };

interface PendingOp {
  readonly label: string;
  /** Whether a following Relu / Clip can become the op's fused activation. */
  readonly fusesActivation: boolean;
  /** Clip range in real values applied after the op ([-inf, inf] for none). */
  readonly clip: readonly [number, number];
  emit(outName: string, outQuant: QuantParams, activation: Activation): Int8Value;
}

/** An operand of an int8 op: an activation, or a constant with its quantization. */
type Operand =
  | { readonly kind: 'value'; readonly value: Int8Value; readonly name: string }
  | { readonly kind: 'constant'; readonly constant: OnnxConstant; readonly quant: QuantParams | null; readonly name: string };

const NO_CLIP: readonly [number, number] = [-Infinity, Infinity];
const FUSED_ACTIVATIONS: readonly Activation[] = ['none', 'relu', 'relu6', 'relu_n1_to_1'];
/** Relative difference below which two float32 scales written by different nodes are the same scale. */
const SCALE_TOLERANCE = 1e-6;

class Lowering {
  private readonly tensors: Tensor[] = [];
  private readonly nodes: Node[] = [];
  private readonly int8Values = new Map<string, Int8Value>();
  private readonly floatValues = new Map<string, FloatValue>();
  private readonly inputIds: number[] = [];
  private readonly notes: string[] = [];
  /** int8 graph inputs, created when their first consumer says how they are quantized. */
  private readonly pendingInputs = new Map<string, { onnxShape: readonly number[]; created: boolean }>();
  private label = '';

  constructor(private readonly model: OnnxModel, private readonly name: string, private readonly inputLayout: InputLayout) {}

  run(): Graph {
    this.declareInputs();
    this.model.nodes.forEach((node, i) => {
      this.label = nodeLabel(node, i);
      try {
        this.lowerNode(node);
      } catch (e) {
        if (e instanceof UserError && !e.message.startsWith(this.label)) e.message = `${this.label}: ${e.message}`;
        throw e;
      }
    });
    const outputs = this.model.outputs.map((o) => this.graphOutput(o.name));
    const unread = this.model.inputs.find((_, i) => this.inputIds[i] === -1);
    if (unread) throw new UnsupportedError(`graph input '${unread.name}' is never dequantized, so its quantization is unknown`);
    this.notes.push(
      "ONNX quantization: the float scales become per-channel multipliers, float32 with rounding 'float32' (the default for ONNX: " +
        'round half to even of fl32(acc) x fl32(multiplier), computed exactly, as QDQ arithmetic defines it) or Q31 fixed point with ' +
        "'double' / 'single'; each op is within 1 LSB of onnxruntime; average pools round ties to even, as ONNX does",
    );
    return { name: this.name, tensors: this.tensors, nodes: this.nodes, inputs: this.inputIds, outputs, notes: this.notes, rounding: 'float32' };
  }

  // ---- graph inputs and outputs ----

  private declareInputs(): void {
    for (const input of this.model.inputs) {
      if (input.dtype === 'int8') {
        this.pendingInputs.set(input.name, { onnxShape: input.shape, created: false });
        this.inputIds.push(-1);
      } else if (input.dtype === 'float32') {
        const shape = input.shape.length === 4 && this.inputLayout === 'nhwc' ? irShape(input.shape) : input.shape;
        const id = this.addTensor(input.name, shape, 'float32', null, null);
        this.inputIds.push(id);
        this.floatValues.set(input.name, { kind: 'input', tensor: id, onnxShape: input.shape });
      } else if (input.dtype === 'uint8') {
        throw new UnsupportedError(`graph input '${input.name}' is uint8: tinyforge compiles int8 activations (quantize the model with signed int8 activations, e.g. onnxruntime's QuantType.QInt8)`);
      } else {
        throw new UnsupportedError(`graph input '${input.name}' has element type ${input.elemTypeName}; tinyforge takes int8 or float32 inputs`);
      }
    }
  }

  /** The int8 graph input `name`, created on first use with its consumer's quantization (and moved to NHWC). */
  private materializeInput(name: string, quant: QuantParams): void {
    const pending = this.pendingInputs.get(name);
    if (!pending || pending.created) return;
    pending.created = true;
    const index = this.model.inputs.findIndex((i) => i.name === name);
    const nhwcInput = pending.onnxShape.length === 4 && this.inputLayout === 'nhwc';
    const id = this.addTensor(name, nhwcInput ? irShape(pending.onnxShape) : pending.onnxShape, 'int8', quant, null);
    this.inputIds[index] = id;
    const value = nhwcInput ? { tensor: id, onnxShape: pending.onnxShape } : this.fromOnnxOrder(id, pending.onnxShape, `input '${name}' (NCHW to NHWC)`);
    this.int8Values.set(name, value);
    if (pending.onnxShape.length === 4) {
      this.notes.push(nhwcInput ? `input '${name}' is read as NHWC (--input-layout nhwc)` : `input '${name}' is read as NCHW, as the file declares, and transposed to NHWC by the program`);
    }
  }

  private graphOutput(name: string): number {
    const int8 = this.int8Values.get(name);
    if (int8) return int8.onnxShape.length === 4 ? this.toOnnxOrder(int8, `output '${name}'`, name) : int8.tensor;
    const float = this.floatValues.get(name);
    if (float?.kind === 'dequantized') {
      const source = this.activation(float.source, float.quant);
      const inOnnxOrder = this.toOnnxOrder(source, `output '${name}'`, source.onnxShape.length === 4 ? `${name}_int8` : undefined);
      return this.emit('Dequantize', [inOnnxOrder], {}, [{ name, dtype: 'float32', quant: null }], `output '${name}' (DequantizeLinear)`)[0]!;
    }
    if (float?.kind === 'pending') throw new UnsupportedError(`graph output '${name}' is the float result of ${float.op.label}, with no QuantizeLinear after it`);
    if (this.pendingInputs.has(name) || float?.kind === 'input') throw new UnsupportedError(`graph output '${name}' is a graph input`);
    throw new InvalidModelError(`graph output '${name}' is never computed`);
  }

  // ---- nodes ----

  private lowerNode(node: OnnxNode): void {
    const op = node.opType ?? '';
    const inputs = node.input ?? [];
    const output = node.output?.[0] ?? '';
    const attrs = new Attributes(node, this.label);
    switch (op) {
      case 'Constant':
        return;
      case 'DequantizeLinear':
        attrs.only(['axis']);
        this.floatValues.set(output, { kind: 'dequantized', source: inputs[0]!, quant: this.quantFrom(inputs[1], inputs[2], attrs.int('axis', 1), 'DequantizeLinear') });
        return;
      case 'QuantizeLinear':
        attrs.only(['axis', 'saturate']);
        return this.quantizeLinear(inputs[0]!, output, this.quantFrom(inputs[1], inputs[2], attrs.int('axis', 1), 'QuantizeLinear'));
      case 'Identity':
        return this.alias(inputs[0]!, output);
      case 'Relu':
      case 'Clip':
        return this.activationOp(node, op, attrs);
      case 'Reshape':
      case 'Flatten':
        return this.reshapeOp(node, op, attrs);
      case 'Conv':
        return this.pending(output, true, (name, q, act) => this.conv(attrs, this.floatOperand(inputs[0]), this.floatOperand(inputs[1]), this.optionalFloatOperand(inputs[2]), name, q, act));
      case 'Gemm':
        return this.pending(output, true, (name, q, act) => this.gemm(attrs, this.floatOperand(inputs[0]), this.floatOperand(inputs[1]), this.optionalFloatOperand(inputs[2]), name, q, act));
      case 'MatMul':
        return this.pending(output, true, (name, q, act) => this.matMul(this.floatOperand(inputs[0]), this.floatOperand(inputs[1]), null, name, q, act));
      case 'Add':
        return this.pending(output, true, (name, q, act) => this.add(this.floatOperand(inputs[0]), this.floatOperand(inputs[1]), name, q, act));
      case 'AveragePool':
      case 'MaxPool':
        return this.pending(output, true, (name, q, act) => this.pool(op, attrs, this.floatOperand(inputs[0]), name, q, act));
      case 'GlobalAveragePool':
        return this.pending(output, false, (name, q) => this.globalAveragePool(this.floatOperand(inputs[0]), name, q));
      case 'Concat':
        return this.pending(output, true, (name, q, act) => this.concat(attrs, inputs.map((i) => this.floatOperand(i)), name, q, act));
      case 'QLinearConv':
        return this.defineInt8(output, this.conv(attrs, this.qOperand(inputs, 0), this.qOperand(inputs, 3), this.optionalInt32(inputs[8]), output, this.quantFrom(inputs[6], inputs[7], 1, op), 'none'));
      case 'QLinearMatMul':
        return this.defineInt8(output, this.matMul(this.qOperand(inputs, 0), this.qOperand(inputs, 3, 1), null, output, this.quantFrom(inputs[6], inputs[7], 1, op), 'none'));
      case 'QLinearAdd':
        return this.defineInt8(output, this.add(this.qOperand(inputs, 0), this.qOperand(inputs, 3), output, this.quantFrom(inputs[6], inputs[7], 1, op), 'none'));
      case 'QLinearGlobalAveragePool':
        attrs.only(['channels_last']);
        if (attrs.int('channels_last', 0) !== 0) throw new UnsupportedError('channels_last=1 is not supported');
        return this.defineInt8(output, this.globalAveragePool(this.qOperand(inputs, 0), output, this.quantFrom(inputs[3], inputs[4], 1, op)));
      default:
        throw new UnsupportedError(`operator ${op} is not supported by the ONNX importer (it reads QDQ or QLinear forms of Conv, Gemm, MatMul, Add, AveragePool, MaxPool, GlobalAveragePool, Concat, Relu, Clip, Reshape, Flatten)`);
    }
  }

  private pending(output: string, fusesActivation: boolean, emit: PendingOp['emit']): void {
    this.floatValues.set(output, { kind: 'pending', op: { label: this.label, fusesActivation, clip: NO_CLIP, emit } });
  }

  private defineInt8(name: string, value: Int8Value): void {
    if (this.int8Values.has(name) || this.floatValues.has(name)) throw new InvalidModelError(`value '${name}' is written twice`);
    this.int8Values.set(name, value);
  }

  private alias(input: string, output: string): void {
    const int8 = this.int8Values.get(input);
    if (int8) return this.defineInt8(output, int8);
    const float = this.floatValues.get(input);
    if (!float) throw new InvalidModelError(`reads '${input}' before any node computes it`);
    this.floatValues.set(output, float);
  }

  private quantizeLinear(input: string, output: string, quant: QuantParams): void {
    this.requirePerTensor(quant, output);
    const float = this.floatValues.get(input);
    if (!float) throw new InvalidModelError(`reads '${input}' before any node computes it (or it is not a float tensor)`);
    switch (float.kind) {
      case 'pending': {
        const saved = this.label;
        this.label = float.op.label;
        const value = float.op.emit(output, quant, this.fusedActivation(float.op.clip, quant));
        this.label = saved;
        return this.defineInt8(output, value);
      }
      case 'input':
        return this.defineInt8(output, this.quantizeFloatInput(float, output, quant));
      case 'dequantized': {
        const source = this.activation(float.source, float.quant);
        if (sameQuant(float.quant, quant)) return this.defineInt8(output, source);
        const [id] = this.emit('Quantize', [source.tensor], {}, [{ name: output, dtype: 'int8', quant }], this.label);
        return this.defineInt8(output, { tensor: id!, onnxShape: source.onnxShape });
      }
    }
  }

  private quantizeFloatInput(input: Extract<FloatValue, { kind: 'input' }>, output: string, quant: QuantParams): Int8Value {
    const nhwc = input.onnxShape.length === 4 && this.inputLayout === 'nhwc';
    const [id] = this.emit('Quantize', [input.tensor], {}, [{ name: nhwc ? output : `${output}_nchw`, dtype: 'int8', quant }], this.label);
    return nhwc ? { tensor: id!, onnxShape: input.onnxShape } : this.fromOnnxOrder(id!, input.onnxShape, `${this.label} (NCHW to NHWC)`);
  }

  // ---- operands ----

  private constant(name: string | undefined): OnnxConstant | null {
    return name ? (this.model.constants.get(name) ?? null) : null;
  }

  /** Scale and zero point operands of a (De)QuantizeLinear or QLinear node. */
  private quantFrom(scaleName: string | undefined, zeroName: string | undefined, axis: number, role: string): QuantParams {
    const scale = this.constant(scaleName);
    if (!scale || scale.dtype !== 'float32') throw new UnsupportedError(`${role} scale '${scaleName ?? ''}' must be a float32 constant`);
    const zero = this.constant(zeroName);
    if (zeroName && !zero) throw new UnsupportedError(`${role} zero point '${zeroName}' must be a constant`);
    if (!zero) throw new UnsupportedError(`${role} has no zero point, which makes its integers uint8; tinyforge compiles int8 (give an int8 zero point)`);
    if (zero.dtype === 'uint8') throw new UnsupportedError(`${role} zero point '${zeroName}' is uint8: tinyforge compiles int8 activations and weights (quantize with QuantType.QInt8)`);
    if (zero.dtype !== 'int8' && zero.dtype !== 'int32') throw new UnsupportedError(`${role} zero point '${zeroName}' has type ${zero.dtype}`);
    const scales = Array.from(scale.data as Float32Array);
    const zeros = Array.from(zero.data as Int8Array | Int32Array);
    if (scales.length !== zeros.length) throw new InvalidModelError(`${role}: ${scales.length} scales but ${zeros.length} zero points`);
    if (scales.some((s) => !Number.isFinite(s) || s <= 0)) throw new InvalidModelError(`${role} scale '${scaleName}' must be finite and positive`);
    return { scale: scales, zeroPoint: zeros, axis };
  }

  private requirePerTensor(quant: QuantParams, what: string): void {
    if (quant.scale.length !== 1) throw new UnsupportedError(`'${what}' is quantized per channel; activations must be quantized per tensor`);
  }

  /** The int8 activation `name`, checked to be quantized as `quant` says. */
  private activation(name: string, quant: QuantParams): Int8Value {
    this.requirePerTensor(quant, name);
    this.materializeInput(name, quant);
    const value = this.int8Values.get(name);
    if (!value) throw new InvalidModelError(`reads int8 tensor '${name}' before any node computes it`);
    const q = this.tensors[value.tensor]!.quant!;
    if (!sameQuant(q, quant)) {
      throw new UnsupportedError(`int8 tensor '${name}' is written with scale ${q.scale[0]} / zero point ${q.zeroPoint[0]} but read with scale ${quant.scale[0]} / zero point ${quant.zeroPoint[0]}`);
    }
    return value;
  }

  /** A float input of a QDQ op: it must be the DequantizeLinear of an int8 activation or of a constant. */
  private floatOperand(name: string | undefined): Operand {
    if (!name) throw new InvalidModelError('a required input is missing');
    const float = this.floatValues.get(name);
    if (float?.kind === 'dequantized') {
      const constant = this.constant(float.source);
      if (constant) return { kind: 'constant', constant, quant: float.quant, name: float.source };
      return { kind: 'value', value: this.activation(float.source, float.quant), name: float.source };
    }
    const constant = this.constant(name);
    if (constant) return { kind: 'constant', constant, quant: null, name };
    if (float?.kind === 'pending') throw new UnsupportedError(`input '${name}' is the float result of ${float.op.label} with no QuantizeLinear between them: every op must read int8 data (QDQ)`);
    if (float?.kind === 'input') throw new UnsupportedError(`input '${name}' is a float graph input with no QuantizeLinear`);
    if (this.int8Values.has(name) || this.pendingInputs.has(name)) throw new UnsupportedError(`input '${name}' is int8 but the op computes in float: put a DequantizeLinear before it`);
    throw new InvalidModelError(`reads '${name}' before any node computes it`);
  }

  private optionalFloatOperand(name: string | undefined): Operand | null {
    return name ? this.floatOperand(name) : null;
  }

  /** Operand i of a QLinear node: the tensor, its scale and its zero point at inputs i, i+1, i+2. */
  private qOperand(inputs: readonly string[], i: number, channelAxis = 0): Operand {
    const name = inputs[i]!;
    const constant = this.constant(name);
    const quant = this.quantFrom(inputs[i + 1], inputs[i + 2], channelAxis, `input ${i}`);
    if (constant) return { kind: 'constant', constant, quant, name };
    return { kind: 'value', value: this.activation(name, quant), name };
  }

  private optionalInt32(name: string | undefined): Operand | null {
    if (!name) return null;
    const constant = this.constant(name);
    if (!constant) throw new UnsupportedError(`bias '${name}' must be a constant`);
    return { kind: 'constant', constant, quant: null, name };
  }

  private requireValue(o: Operand, role: string): Int8Value & { quant: QuantParams } {
    if (o.kind !== 'value') throw new UnsupportedError(`${role} '${o.name}' is a constant; tinyforge needs an activation there`);
    return { ...o.value, quant: this.tensors[o.value.tensor]!.quant! };
  }

  /** An int8 weight constant, symmetric, per tensor or per channel along `channelAxis` of its ONNX layout. */
  private requireWeights(o: Operand, channelAxis: number): { data: Int8Array; dims: readonly number[]; quant: QuantParams } {
    if (o.kind !== 'constant' || !o.quant) throw new UnsupportedError(`weights '${o.name}' must be a quantized constant (DequantizeLinear of an int8 initializer)`);
    if (o.constant.dtype !== 'int8') throw new UnsupportedError(`weights '${o.name}' are ${o.constant.dtype}; tinyforge needs int8 weights`);
    if (o.quant.zeroPoint.some((z) => z !== 0)) throw new UnsupportedError(`weights '${o.name}' have a non-zero zero point (int8 weights must be symmetric)`);
    if (o.quant.scale.length > 1 && o.quant.axis !== channelAxis && o.quant.axis !== channelAxis - o.constant.dims.length) {
      throw new UnsupportedError(`weights '${o.name}' are quantized along axis ${o.quant.axis}; expected the output-channel axis ${channelAxis}`);
    }
    return { data: o.constant.data as Int8Array, dims: o.constant.dims, quant: o.quant };
  }

  /**
   * The int32 bias of a conv / gemm for input scale sx and weight scales sw: an int32 constant (dequantized with
   * scale sx*sw[c], or rescaled to it) or a float constant (quantized to it).
   */
  private biasTensor(o: Operand | null, channels: number, sx: number, sw: readonly number[]): number {
    if (!o) return -1;
    if (o.kind !== 'constant') throw new UnsupportedError(`bias '${o.name}' must be a constant`);
    const { constant, quant } = o;
    if (constant.data.length !== channels) throw new InvalidModelError(`bias '${o.name}' has ${constant.data.length} values for ${channels} output channels`);
    const want = (c: number) => sx * sw[sw.length === 1 ? 0 : c]!;
    let values: Int32Array;
    if (constant.dtype === 'int32') {
      if (quant?.zeroPoint.some((z) => z !== 0)) throw new UnsupportedError(`bias '${o.name}' has a non-zero zero point`);
      const scaleOf = (c: number) => (quant ? quant.scale[quant.scale.length === 1 ? 0 : c]! : want(c));
      values = Int32Array.from(constant.data as Int32Array, (b, c) => (relativelyEqual(scaleOf(c), want(c)) ? b : saturateInt32(Math.round((b * scaleOf(c)) / want(c)))));
    } else if (constant.dtype === 'float32' && !quant) {
      values = Int32Array.from(constant.data as Float32Array, (b, c) => saturateInt32(Math.round(b / want(c))));
    } else {
      throw new UnsupportedError(`bias '${o.name}' must be int32 (DequantizeLinear) or float32, not ${constant.dtype}`);
    }
    return this.addTensor(o.name, [channels], 'int32', { scale: Array.from({ length: channels }, (_, c) => want(c)), zeroPoint: new Array<number>(channels).fill(0), axis: 0 }, values);
  }

  // ---- operators ----

  private conv(attrs: Attributes, xOperand: Operand, wOperand: Operand, bOperand: Operand | null, outName: string, outQuant: QuantParams, activation: Activation): Int8Value {
    attrs.only(['auto_pad', 'dilations', 'group', 'kernel_shape', 'pads', 'strides']);
    const x = this.requireValue(xOperand, 'conv input');
    const w = this.requireWeights(wOperand, 0);
    if (x.onnxShape.length !== 4 || w.dims.length !== 4) throw new UnsupportedError(`only 2-D convolutions are supported (input [${x.onnxShape.join('x')}], weights [${w.dims.join('x')}])`);
    const [outC, groupC, kh, kw] = w.dims as [number, number, number, number];
    const inC = x.onnxShape[1]!;
    const group = attrs.int('group', 1);
    const kernelShape = attrs.ints('kernel_shape', [kh, kw]);
    if (kernelShape[0] !== kh || kernelShape[1] !== kw) throw new InvalidModelError(`kernel_shape [${kernelShape.join(', ')}] does not match weights [${w.dims.join('x')}]`);
    const [strideH, strideW] = attrs.ints('strides', [1, 1]) as [number, number];
    const [dilationH, dilationW] = attrs.ints('dilations', [1, 1]) as [number, number];
    const padding = this.padding(attrs, x.onnxShape, [kh, kw], [strideH, strideW], [dilationH, dilationW]);
    const window = { padding, strideH, strideW, dilationH, dilationW, activation };
    const sx = x.quant.scale[0]!;
    const bias = this.biasTensor(bOperand, outC, sx, w.quant.scale);
    if (group === 1) {
      if (groupC !== inC) throw new InvalidModelError(`weights [${w.dims.join('x')}] have ${groupC} input channels, the input has ${inC}`);
      const weights = this.addTensor(wOperand.name, [outC, kh, kw, inC], 'int8', { ...w.quant, axis: 0 }, permute(w.data, w.dims, [0, 2, 3, 1]));
      return this.emitValue('Conv2D', [x.tensor, weights, bias], window, outName, outQuant);
    }
    if (group === inC && groupC === 1 && outC % inC === 0) {
      const weights = this.addTensor(wOperand.name, [1, kh, kw, outC], 'int8', { ...w.quant, axis: 3 }, permute(w.data, w.dims, [1, 2, 3, 0]));
      return this.emitValue('DepthwiseConv2D', [x.tensor, weights, bias], { ...window, depthMultiplier: outC / inC }, outName, outQuant);
    }
    throw new UnsupportedError(`grouped convolution (group ${group}, ${inC} input channels) is not supported; only group 1 and depthwise (group = input channels)`);
  }

  /** ONNX pads / auto_pad as the IR's padding. */
  private padding(attrs: Attributes, onnxShape: readonly number[], kernel: readonly number[], strides: readonly number[], dilations: readonly number[]): Padding {
    const autoPad = attrs.string('auto_pad', 'NOTSET');
    if (autoPad === 'VALID') return 'valid';
    if (autoPad === 'SAME_UPPER') return 'same';
    if (autoPad === 'SAME_LOWER') {
      const lower = [0, 1].map((i) => {
        const inSize = onnxShape[2 + i]!;
        const out = Math.ceil(inSize / strides[i]!);
        const total = Math.max(0, (out - 1) * strides[i]! + (kernel[i]! - 1) * dilations[i]! + 1 - inSize);
        return [Math.ceil(total / 2), Math.floor(total / 2)] as const;
      });
      return [lower[0]![0], lower[1]![0], lower[0]![1], lower[1]![1]];
    }
    if (autoPad !== 'NOTSET') throw new UnsupportedError(`auto_pad '${autoPad}' is not supported`);
    const pads = attrs.ints('pads', [0, 0, 0, 0]);
    if (pads.length !== 4) throw new InvalidModelError(`pads [${pads.join(', ')}] must have 4 entries for a 2-D window`);
    return pads.every((p) => p === 0) ? 'valid' : [pads[0]!, pads[1]!, pads[2]!, pads[3]!];
  }

  private gemm(attrs: Attributes, a: Operand, b: Operand, c: Operand | null, outName: string, outQuant: QuantParams, activation: Activation): Int8Value {
    attrs.only(['alpha', 'beta', 'transA', 'transB']);
    if (attrs.int('transA', 0) !== 0) throw new UnsupportedError('transA=1 is not supported');
    if (attrs.float('alpha', 1) !== 1 || (c && attrs.float('beta', 1) !== 1)) throw new UnsupportedError('alpha and beta other than 1 are not supported');
    const transB = attrs.int('transB', 0) === 1;
    return transB ? this.fullyConnected(a, b, 0, c, outName, outQuant, activation) : this.matMul(a, b, c, outName, outQuant, activation);
  }

  private matMul(a: Operand, b: Operand, c: Operand | null, outName: string, outQuant: QuantParams, activation: Activation): Int8Value {
    return this.fullyConnected(a, b, 1, c, outName, outQuant, activation);
  }

  /** a [M, K] times constant weights [N, K] (outAxis 0) or [K, N] (outAxis 1), plus bias, as FullyConnected. */
  private fullyConnected(aOperand: Operand, bOperand: Operand, outAxis: 0 | 1, c: Operand | null, outName: string, outQuant: QuantParams, activation: Activation): Int8Value {
    const a = this.requireValue(aOperand, 'matrix input');
    const w = this.requireWeights(bOperand, outAxis);
    if (a.onnxShape.length !== 2 || w.dims.length !== 2) throw new UnsupportedError(`only 2-D matrix products are supported (input [${a.onnxShape.join('x')}], weights [${w.dims.join('x')}])`);
    const [n, k] = outAxis === 0 ? [w.dims[0]!, w.dims[1]!] : [w.dims[1]!, w.dims[0]!];
    if (a.onnxShape[1] !== k) throw new InvalidModelError(`input [${a.onnxShape.join('x')}] and weights [${w.dims.join('x')}] do not multiply`);
    const data = outAxis === 0 ? w.data : (permute(w.data, w.dims, [1, 0]) as Int8Array);
    const weights = this.addTensor(bOperand.name, [n, k], 'int8', { ...w.quant, axis: 0 }, data);
    const bias = this.biasTensor(c, n, a.quant.scale[0]!, w.quant.scale);
    return this.emitValue('FullyConnected', [a.tensor, weights, bias], { activation, keepNumDims: false }, outName, outQuant);
  }

  private add(aOperand: Operand, bOperand: Operand, outName: string, outQuant: QuantParams, activation: Activation): Int8Value {
    const a = this.requireValue(aOperand, 'Add input');
    const b = this.requireValue(bOperand, 'Add input');
    if (a.onnxShape.length !== b.onnxShape.length) throw new UnsupportedError(`Add of ranks ${a.onnxShape.length} and ${b.onnxShape.length} is not supported (give both inputs the same rank)`);
    return this.emitValue('Add', [a.tensor, b.tensor], { activation }, outName, outQuant);
  }

  private pool(op: 'AveragePool' | 'MaxPool', attrs: Attributes, operand: Operand, outName: string, outQuant: QuantParams, activation: Activation): Int8Value {
    attrs.only(['auto_pad', 'ceil_mode', 'count_include_pad', 'dilations', 'kernel_shape', 'pads', 'storage_order', 'strides']);
    const x = this.requireValue(operand, `${op} input`);
    if (x.onnxShape.length !== 4) throw new UnsupportedError(`only 2-D pooling is supported (input [${x.onnxShape.join('x')}])`);
    const [filterH, filterW] = attrs.ints('kernel_shape', []) as [number, number];
    if (filterH === undefined || filterW === undefined) throw new InvalidModelError('kernel_shape must have 2 entries');
    const [strideH, strideW] = attrs.ints('strides', [1, 1]) as [number, number];
    if (attrs.ints('dilations', [1, 1]).some((d) => d !== 1)) throw new UnsupportedError('dilated pooling is not supported');
    if (attrs.int('ceil_mode', 0) !== 0) throw new UnsupportedError('ceil_mode=1 is not supported');
    if (attrs.int('storage_order', 0) !== 0) throw new UnsupportedError('storage_order=1 is not supported');
    const padding = this.padding(attrs, x.onnxShape, [filterH, filterW], [strideH, strideW], [1, 1]);
    if (op === 'AveragePool' && attrs.int('count_include_pad', 0) !== 0 && padding !== 'valid') throw new UnsupportedError('count_include_pad=1 with padding is not supported');
    const irOp = op === 'AveragePool' ? 'AveragePool2D' : 'MaxPool2D';
    return this.emitValue(irOp, [x.tensor], { padding, strideH, strideW, filterH, filterW, activation, tiesToEven: op === 'AveragePool' }, outName, outQuant);
  }

  /** Equal quantization: an average pool over the whole map (rounds like ONNX up to ties); else a requantizing mean. */
  private globalAveragePool(operand: Operand, outName: string, outQuant: QuantParams): Int8Value {
    const x = this.requireValue(operand, 'GlobalAveragePool input');
    if (x.onnxShape.length !== 4) throw new UnsupportedError(`only 4-D GlobalAveragePool is supported (input [${x.onnxShape.join('x')}])`);
    const [, , h, w] = x.onnxShape as [number, number, number, number];
    if (sameQuant(x.quant, outQuant)) {
      const attrs = { padding: 'valid', strideH: 1, strideW: 1, filterH: h, filterW: w, activation: 'none', tiesToEven: true };
      return this.emitValue('AveragePool2D', [x.tensor], attrs, outName, outQuant);
    }
    const axes = this.addTensor(`${outName}_axes`, [2], 'int32', null, Int32Array.of(1, 2));
    return this.emitValue('Mean', [x.tensor, axes], { keepDims: true }, outName, outQuant);
  }

  private concat(attrs: Attributes, operands: readonly Operand[], outName: string, outQuant: QuantParams, activation: Activation): Int8Value {
    attrs.only(['axis']);
    const values = operands.map((o) => this.requireValue(o, 'Concat input'));
    const rank = values[0]!.onnxShape.length;
    const axis = irAxis(attrs.int('axis', 0), rank);
    return this.emitValue('Concatenation', values.map((v) => v.tensor), { axis, activation }, outName, outQuant);
  }

  private activationOp(node: OnnxNode, op: 'Relu' | 'Clip', attrs: Attributes): void {
    const inputs = node.input ?? [];
    const output = node.output?.[0] ?? '';
    const clip = op === 'Relu' ? ([0, Infinity] as const) : this.clipRange(attrs, inputs);
    const float = this.floatValues.get(inputs[0] ?? '');
    if (float?.kind === 'pending' && float.op.fusesActivation) {
      const [lo, hi] = float.op.clip;
      this.floatValues.set(output, { kind: 'pending', op: { ...float.op, clip: [Math.max(lo, clip[0]), Math.min(hi, clip[1])] } });
      return;
    }
    // Not after a fusable op: a standalone int8 activation, which requantizes like TFLite's RELU / RELU6.
    const irOp = clip[0] === 0 && clip[1] === Infinity ? 'Relu' : clip[0] === 0 && clip[1] === 6 ? 'Relu6' : null;
    if (!irOp) throw new UnsupportedError(`Clip(${clip[0]}, ${clip[1]}) on its own is not supported (only after Conv, Gemm, MatMul, Add, pooling or Concat, or as ReLU / ReLU6)`);
    this.pending(output, false, (name, q) => this.emitValue(irOp, [this.requireValue(this.floatOperand(inputs[0]), `${op} input`).tensor], {}, name, q));
  }

  private clipRange(attrs: Attributes, inputs: readonly string[]): readonly [number, number] {
    if (attrs.has('min') || attrs.has('max')) return [attrs.float('min', -Infinity), attrs.float('max', Infinity)];
    const bound = (name: string | undefined, fallback: number): number => {
      if (!name) return fallback;
      const c = this.constant(name);
      if (!c || c.dtype !== 'float32' || c.data.length !== 1) throw new UnsupportedError(`Clip bound '${name}' must be a float32 scalar constant`);
      return (c.data as Float32Array)[0]!;
    };
    return [bound(inputs[1], -Infinity), bound(inputs[2], Infinity)];
  }

  /** The fused activation whose int8 range equals the clip range quantized with the output's scale. */
  private fusedActivation(clip: readonly [number, number], outQuant: QuantParams): Activation {
    const out = { id: -1, name: '', shape: [], dtype: 'int8', quant: { ...outQuant, axis: 0 }, data: null } satisfies Tensor;
    const scale = Math.fround(outQuant.scale[0]!);
    const zp = outQuant.zeroPoint[0]!;
    const q = (v: number) => Math.min(127, Math.max(-128, Number.isFinite(v) ? zp + roundHalfAwayFromZero(Math.fround(v / scale)) : v > 0 ? 127 : -128));
    const want = { min: q(clip[0]), max: q(clip[1]) };
    const match = FUSED_ACTIVATIONS.find((a) => {
      const r = activationRange(a, out);
      return r.min === want.min && r.max === want.max;
    });
    if (!match) throw new UnsupportedError(`Clip(${clip[0]}, ${clip[1]}) gives the int8 range [${want.min}, ${want.max}], which is none of ReLU, ReLU6, ReLU_N1_TO_1`);
    return match;
  }

  private reshapeOp(node: OnnxNode, op: 'Reshape' | 'Flatten', attrs: Attributes): void {
    const inputs = node.input ?? [];
    const output = node.output?.[0] ?? '';
    const target = (inShape: readonly number[]): number[] => {
      if (op === 'Flatten') {
        attrs.only(['axis']);
        const axis = attrs.int('axis', 1);
        const k = axis < 0 ? axis + inShape.length : axis;
        return [inShape.slice(0, k).reduce((a, b) => a * b, 1), inShape.slice(k).reduce((a, b) => a * b, 1)];
      }
      attrs.only(['allowzero']);
      const shape = this.constant(inputs[1]);
      if (!shape || shape.dtype !== 'int64') throw new UnsupportedError(`Reshape to a computed shape ('${inputs[1] ?? ''}' is not an int64 constant) is not supported`);
      return Array.from(shape.data as BigInt64Array, (d, i) => (d === 0n && attrs.int('allowzero', 0) === 0 ? inShape[i]! : Number(d)));
    };
    const int8 = this.int8Values.get(inputs[0] ?? '');
    if (int8) return this.defineInt8(output, this.reshape(int8, target(int8.onnxShape), output));
    if (this.pendingInputs.has(inputs[0] ?? '')) throw new UnsupportedError(`reshaping int8 graph input '${inputs[0]}' before any DequantizeLinear reads it is not supported`);
    // DequantizeLinear -> Reshape -> QuantizeLinear with the same quantization: a reshape of the int8 data.
    const source = this.floatOperand(inputs[0]);
    this.pending(output, false, (name, q) => {
      const x = this.requireValue(source, `${op} input`);
      if (!sameQuant(x.quant, q)) throw new UnsupportedError(`${op} between different input and output quantization is not supported`);
      return this.reshape(x, target(x.onnxShape), name);
    });
  }

  /** Reshape in ONNX element order: through NCHW when a 4-D side's bytes differ between the layouts. */
  private reshape(x: Int8Value, onnxTarget: readonly number[], outName: string): Int8Value {
    if (elementCount(onnxTarget) !== elementCount(x.onnxShape) || onnxTarget.some((d) => !Number.isInteger(d) || d < 0)) {
      const known = onnxTarget.filter((d) => d !== -1);
      if (onnxTarget.filter((d) => d === -1).length === 1 && elementCount(x.onnxShape) % elementCount(known) === 0) {
        return this.reshape(x, onnxTarget.map((d) => (d === -1 ? elementCount(x.onnxShape) / elementCount(known) : d)), outName);
      }
      throw new InvalidModelError(`cannot reshape [${x.onnxShape.join('x')}] to [${onnxTarget.join('x')}]`);
    }
    const source = this.toOnnxOrder(x, this.label);
    if (sameBytesInBothLayouts(onnxTarget)) {
      const [id] = this.emit('Reshape', [source], { newShape: irShape(onnxTarget) }, [{ name: outName, dtype: 'int8', quant: this.tensors[x.tensor]!.quant }], this.label);
      return { tensor: id!, onnxShape: onnxTarget };
    }
    const [nchw] = this.emit('Reshape', [source], { newShape: [...onnxTarget] }, [{ name: `${outName}_nchw`, dtype: 'int8', quant: this.tensors[x.tensor]!.quant }], this.label);
    return this.fromOnnxOrder(nchw!, onnxTarget, `${this.label} (NCHW to NHWC)`);
  }

  // ---- layout ----

  /**
   * A tensor holding `x`'s bytes in ONNX (NCHW) order: `x` itself unless it is a 4-D map with channels and pixels.
   * With `name` (a graph output) the tensor is new and has the ONNX shape.
   */
  private toOnnxOrder(x: Int8Value, origin: string, name?: string): number {
    const t = this.tensors[x.tensor]!;
    if (x.onnxShape.length !== 4 || (sameBytesInBothLayouts(x.onnxShape) && !name)) return x.tensor;
    if (sameBytesInBothLayouts(x.onnxShape)) return this.emit('Reshape', [x.tensor], { newShape: [...x.onnxShape] }, [{ name: name!, dtype: t.dtype, quant: t.quant }], origin)[0]!;
    const perm = this.addTensor(`${t.name}_to_nchw`, [4], 'int32', null, Int32Array.of(0, 3, 1, 2));
    return this.emit('Transpose', [x.tensor, perm], {}, [{ name: name ?? `${t.name}_nchw`, dtype: t.dtype, quant: t.quant }], `${origin} (NHWC to NCHW)`)[0]!;
  }

  /** The activation held in ONNX order by tensor `id` of ONNX shape `onnxShape`, moved to NHWC. */
  private fromOnnxOrder(id: number, onnxShape: readonly number[], origin: string): Int8Value {
    if (onnxShape.length !== 4) return { tensor: id, onnxShape };
    const t = this.tensors[id]!;
    const perm = this.addTensor(`${t.name}_to_nhwc`, [4], 'int32', null, Int32Array.of(0, 2, 3, 1));
    const [out] = this.emit('Transpose', [id, perm], {}, [{ name: `${t.name}_nhwc`, dtype: t.dtype, quant: t.quant }], origin);
    return { tensor: out!, onnxShape };
  }

  // ---- IR construction ----

  private addTensor(name: string, shape: readonly number[], dtype: DType, quant: QuantParams | null, data: TensorData | null): number {
    const id = this.tensors.length;
    this.tensors.push({ id, name, shape: [...shape], dtype, quant: quant ? { scale: [...quant.scale], zeroPoint: [...quant.zeroPoint], axis: quant.axis } : null, data });
    return id;
  }

  private emitValue(op: string, inputs: readonly number[], attrs: object, outName: string, outQuant: QuantParams): Int8Value {
    const [id] = this.emit(op, inputs, attrs, [{ name: outName, dtype: 'int8', quant: outQuant }], this.label);
    return { tensor: id!, onnxShape: onnxShapeOf(this.tensors[id!]!.shape) };
  }

  /** Appends an IR node; output shapes come from the op's own shape inference. */
  private emit(op: string, inputs: readonly number[], attrs: object, outputs: readonly { name: string; dtype: DType; quant: QuantParams | null }[], origin: string): number[] {
    const def = opDef(op);
    let types;
    try {
      types = def.infer(inputs.map((id) => (id < 0 ? null : this.tensors[id]!)), attrs as never);
    } catch (e) {
      if (e instanceof UserError) throw e;
      throw new InvalidModelError(`inconsistent ${op}: ${(e as Error).message}; inputs: ${inputs.map((id) => (id < 0 ? '(none)' : describeTensor(this.tensors[id]!))).join(', ')}`);
    }
    const ids = outputs.map((o, i) => this.addTensor(o.name, types[i]!.shape, o.dtype, o.quant, null));
    this.nodes.push({ id: this.nodes.length, op, inputs: [...inputs], outputs: ids, attrs: attrs as Node['attrs'], origin });
    return ids;
  }
}

function relativelyEqual(a: number, b: number): boolean {
  return Math.abs(a - b) <= SCALE_TOLERANCE * Math.max(Math.abs(a), Math.abs(b));
}

function sameQuant(a: QuantParams, b: QuantParams): boolean {
  return a.scale.length === b.scale.length && a.scale.every((s, i) => relativelyEqual(s, b.scale[i]!)) && a.zeroPoint.every((z, i) => z === b.zeroPoint[i]);
}

function saturateInt32(v: number): number {
  return Math.min(2 ** 31 - 1, Math.max(-(2 ** 31), v));
}
