/**
 * @fileoverview ONNX protobuf -> checked model: decodes with the onnx-proto schema (protobufjs), refuses what
 * the importer cannot read (unknown opsets and domains, external data, dynamic shapes) and gives typed access
 * to constants and attributes. Nothing here knows about quantization patterns; import.ts does.
 */
import onnxProto from 'onnx-proto';
import type { DType, TensorData } from '../../ir/dtype.ts';
import { allocData, bytesPerElement } from '../../ir/dtype.ts';
import { InvalidModelError, UnsupportedError, UserError } from '../../errors.ts';

const { onnx } = onnxProto;
export type OnnxNode = onnxProto.onnx.INodeProto;
type OnnxTensor = onnxProto.onnx.ITensorProto;
type OnnxValueInfo = onnxProto.onnx.IValueInfoProto;
type Long = { toNumber(): number };

/** The bytes are not a well-formed ONNX model. */
export class OnnxFormatError extends UserError {
  override readonly name = 'OnnxFormatError';
}

/** ai.onnx opsets whose QuantizeLinear / DequantizeLinear / Conv semantics the importer implements. */
export const DEFAULT_DOMAIN_OPSETS = { min: 10, max: 21 } as const;
/** Contrib domain of QLinearAdd / QLinearGlobalAveragePool. */
export const MICROSOFT_DOMAIN = 'com.microsoft';

/** Largest constant we accept: far above any 1 MB-flash model, far below what would exhaust the host. */
const MAX_TENSOR_ELEMENTS = 1 << 26;

export interface OnnxConstant {
  readonly dtype: DType;
  readonly dims: readonly number[];
  readonly data: TensorData;
}

export interface OnnxGraphValue {
  readonly name: string;
  /** null when the file's element type has no IR dtype; the importer refuses it where it matters. */
  readonly dtype: DType | null;
  readonly elemTypeName: string;
  readonly shape: readonly number[];
}

export interface OnnxModel {
  readonly nodes: readonly OnnxNode[];
  readonly inputs: readonly OnnxGraphValue[];
  readonly outputs: readonly OnnxGraphValue[];
  /** Initializers and Constant nodes, by value name. */
  readonly constants: ReadonlyMap<string, OnnxConstant>;
  /** Imported opset version per domain ('' is ai.onnx). */
  readonly opsets: ReadonlyMap<string, number>;
}

const DTYPES: Partial<Record<number, DType>> = {
  [onnx.TensorProto.DataType.FLOAT]: 'float32',
  [onnx.TensorProto.DataType.UINT8]: 'uint8',
  [onnx.TensorProto.DataType.INT8]: 'int8',
  [onnx.TensorProto.DataType.INT16]: 'int16',
  [onnx.TensorProto.DataType.INT32]: 'int32',
  [onnx.TensorProto.DataType.INT64]: 'int64',
  [onnx.TensorProto.DataType.BOOL]: 'bool',
};

export function elemTypeName(code: number): string {
  return onnx.TensorProto.DataType[code] ?? `type ${code}`;
}

export function toNumber(v: number | Long | null | undefined): number {
  if (v === null || v === undefined) return 0;
  return typeof v === 'number' ? v : v.toNumber();
}

export function nodeLabel(node: OnnxNode, index: number): string {
  return `node ${node.name ? `'${node.name}'` : `#${index}`} (${node.opType ?? '?'})`;
}

export function readOnnx(bytes: Uint8Array): OnnxModel {
  let model: onnxProto.onnx.ModelProto;
  try {
    model = onnx.ModelProto.decode(bytes);
  } catch (e) {
    throw new OnnxFormatError(`not a valid ONNX model: the protobuf does not decode (${(e as Error).message}); the file may be truncated or corrupt`);
  }
  const graph = model.graph;
  if (!graph || toNumber(model.irVersion) < 1) throw new OnnxFormatError('not a valid ONNX model: no ir_version or no graph');
  const nodes = graph.node ?? [];
  const initializers = graph.initializer ?? [];
  if (nodes.length === 0) throw new OnnxFormatError('the ONNX graph has no nodes');
  const opsets = readOpsets(model.opsetImport ?? []);
  const constants = new Map<string, OnnxConstant>();
  for (const t of initializers) constants.set(t.name ?? '', decodeTensor(t, `initializer '${t.name}'`));
  nodes.forEach((node, i) => {
    checkDomain(node, i, opsets);
    if (node.opType === 'Constant') constants.set(node.output?.[0] ?? '', constantNodeValue(node, i));
  });
  const initializerNames = new Set(initializers.map((t) => t.name));
  const inputs = (graph.input ?? []).filter((v) => !initializerNames.has(v.name)).map((v) => graphValue(v, 'input'));
  const outputs = (graph.output ?? []).map((v) => graphValue(v, 'output'));
  if (inputs.length === 0 || outputs.length === 0) throw new OnnxFormatError('the ONNX graph declares no inputs or no outputs');
  return { nodes, inputs, outputs, constants, opsets };
}

function readOpsets(imports: readonly onnxProto.onnx.IOperatorSetIdProto[]): Map<string, number> {
  const opsets = new Map<string, number>();
  for (const o of imports) opsets.set(o.domain === 'ai.onnx' ? '' : (o.domain ?? ''), toNumber(o.version));
  const version = opsets.get('');
  if (version === undefined) throw new OnnxFormatError('the model imports no ai.onnx opset');
  if (version < DEFAULT_DOMAIN_OPSETS.min || version > DEFAULT_DOMAIN_OPSETS.max) {
    throw new UnsupportedError(`ai.onnx opset ${version} is not supported (tinyforge reads opsets ${DEFAULT_DOMAIN_OPSETS.min} to ${DEFAULT_DOMAIN_OPSETS.max})`);
  }
  return opsets;
}

function checkDomain(node: OnnxNode, index: number, opsets: ReadonlyMap<string, number>): void {
  const domain = node.domain === 'ai.onnx' ? '' : (node.domain ?? '');
  if (domain === '') return;
  if (domain !== MICROSOFT_DOMAIN) throw new UnsupportedError(`${nodeLabel(node, index)}: operator domain '${domain}' is not supported (only ai.onnx and ${MICROSOFT_DOMAIN})`);
  if (!opsets.has(domain)) throw new InvalidModelError(`${nodeLabel(node, index)}: uses domain '${domain}', which the model does not import`);
  if (opsets.get(domain) !== 1) throw new UnsupportedError(`${nodeLabel(node, index)}: ${domain} opset ${opsets.get(domain)} is not supported (only version 1)`);
}

function graphValue(v: OnnxValueInfo, role: 'input' | 'output'): OnnxGraphValue {
  const name = v.name ?? '';
  const tensorType = v.type?.tensorType;
  if (!tensorType) throw new UnsupportedError(`graph ${role} '${name}' is not a tensor`);
  const dims = tensorType.shape?.dim ?? [];
  if (!tensorType.shape) throw new UnsupportedError(`graph ${role} '${name}' has no shape; tinyforge needs static shapes`);
  const shape = dims.map((d, i) => {
    const value = toNumber(d.dimValue);
    if (d.dimParam || value < 1) {
      throw new UnsupportedError(`graph ${role} '${name}' dimension ${i} is dynamic${d.dimParam ? ` ('${d.dimParam}')` : ''}; tinyforge needs static shapes (fix it before export, e.g. a batch of 1)`);
    }
    return value;
  });
  const code = tensorType.elemType ?? 0;
  return { name, dtype: DTYPES[code] ?? null, elemTypeName: elemTypeName(code), shape };
}

function decodeTensor(t: OnnxTensor, where: string): OnnxConstant {
  const code = t.dataType ?? 0;
  const dtype = DTYPES[code];
  if (!dtype) throw new UnsupportedError(`${where}: element type ${elemTypeName(code)} is not supported`);
  if (t.dataLocation === onnx.TensorProto.DataLocation.EXTERNAL) throw new UnsupportedError(`${where}: external data files are not supported; save the model with its weights inside`);
  const dims = (t.dims ?? []).map((d) => toNumber(d));
  if (dims.some((d) => !Number.isSafeInteger(d) || d < 0)) throw new InvalidModelError(`${where}: invalid dimensions [${dims.join(', ')}]`);
  const count = dims.reduce((a, b) => a * b, 1);
  if (count > MAX_TENSOR_ELEMENTS) throw new InvalidModelError(`${where}: ${count} elements is more than any supported target can hold`);
  const data = allocData(dtype, count);
  const raw = t.rawData;
  if (raw && raw.length > 0) {
    if (raw.length !== count * bytesPerElement(dtype)) throw new InvalidModelError(`${where}: raw_data holds ${raw.length} bytes, [${dims.join(', ')}] ${dtype} needs ${count * bytesPerElement(dtype)}`);
    new Uint8Array(data.buffer).set(raw);
    return { dtype, dims, data };
  }
  const values: readonly (number | Long)[] = (dtype === 'float32' ? t.floatData : dtype === 'int64' ? t.int64Data : t.int32Data) ?? [];
  if (values.length !== count) throw new InvalidModelError(`${where}: holds ${values.length} values, [${dims.join(', ')}] needs ${count}`);
  values.forEach((v, i) => {
    if (data instanceof BigInt64Array) data[i] = BigInt(toNumber(v));
    else data[i] = toNumber(v);
  });
  return { dtype, dims, data };
}

function constantNodeValue(node: OnnxNode, index: number): OnnxConstant {
  const where = nodeLabel(node, index);
  const attr = node.attribute?.[0];
  if (!attr || node.attribute!.length !== 1) throw new InvalidModelError(`${where}: a Constant needs exactly one value attribute`);
  switch (attr.name) {
    case 'value':
      return decodeTensor(attr.t ?? {}, where);
    case 'value_float':
      return { dtype: 'float32', dims: [], data: Float32Array.of(attr.f ?? 0) };
    case 'value_floats':
      return { dtype: 'float32', dims: [attr.floats!.length], data: Float32Array.from(attr.floats!) };
    case 'value_int':
      return { dtype: 'int64', dims: [], data: BigInt64Array.of(BigInt(toNumber(attr.i))) };
    case 'value_ints':
      return { dtype: 'int64', dims: [attr.ints!.length], data: BigInt64Array.from(attr.ints!.map((v) => BigInt(toNumber(v)))) };
    default:
      throw new UnsupportedError(`${where}: Constant attribute '${attr.name}' is not supported`);
  }
}

/** Typed access to a node's attributes, with the operator's defaults. */
export class Attributes {
  private readonly byName: Map<string, onnxProto.onnx.IAttributeProto>;

  constructor(node: OnnxNode, private readonly where: string) {
    this.byName = new Map((node.attribute ?? []).map((a) => [a.name ?? '', a]));
  }

  has(name: string): boolean {
    return this.byName.has(name);
  }

  int(name: string, fallback: number): number {
    const a = this.byName.get(name);
    return a ? toNumber(a.i) : fallback;
  }

  float(name: string, fallback: number): number {
    const a = this.byName.get(name);
    return a ? (a.f ?? 0) : fallback;
  }

  ints(name: string, fallback: readonly number[]): number[] {
    const a = this.byName.get(name);
    return a ? (a.ints ?? []).map((v) => toNumber(v)) : [...fallback];
  }

  string(name: string, fallback: string): string {
    const a = this.byName.get(name);
    return a?.s ? new TextDecoder().decode(a.s) : fallback;
  }

  /** Refuses attributes the lowering would silently ignore. */
  only(names: readonly string[]): void {
    for (const name of this.byName.keys()) {
      if (!names.includes(name)) throw new UnsupportedError(`${this.where}: attribute '${name}' is not supported`);
    }
  }
}
