/**
 * @fileoverview TFLite flatbuffer -> IR. Everything the kernels will later trust (tensor
 * indices, constant sizes, shapes, quantization) is checked here, so a corrupt file is
 * refused with a message instead of reaching code generation.
 */
import type { DType, TensorData } from '../../ir/dtype.ts';
import { allocData, bytesPerElement } from '../../ir/dtype.ts';
import type { Graph, Node, QuantParams, Tensor } from '../../ir/graph.ts';
import { describeTensor, elementCount } from '../../ir/graph.ts';
import { opDefForTflite } from '../../ops/index.ts';
import { InvalidModelError, UnsupportedError, UserError } from '../../errors.ts';
import { readTflite } from './reader.ts';
import type { TfliteModel, TfliteOperator, TfliteTensor } from './reader.ts';
import { builtinOperatorName, tensorTypeName } from './schema.ts';
import { dtypeFromTflite } from './types.ts';

/** Largest tensor we accept: far above any 1 MB-flash model, far below what would exhaust the host. */
const MAX_TENSOR_ELEMENTS = 1 << 26;

export function importTflite(bytes: Uint8Array, name: string): Graph {
  return importModel(readTflite(bytes), name);
}

function importModel(model: TfliteModel, name: string): Graph {
  const tensors = model.tensors.map((t) => importTensor(model, t));
  const checkIndex = (id: number, where: string): number => {
    if (id === -1) return id;
    if (!Number.isInteger(id) || id < 0 || id >= tensors.length) throw new InvalidModelError(`${where}: tensor index ${id} out of range (0..${tensors.length - 1})`);
    return id;
  };
  const inputs = model.inputs.map((id) => checkIndex(id, 'subgraph inputs'));
  const outputs = model.outputs.map((id) => checkIndex(id, 'subgraph outputs'));
  if (inputs.length === 0 || outputs.length === 0) throw new InvalidModelError('the model declares no inputs or no outputs');
  const nodes = model.operators.map((op) => importOperator(op, tensors, checkIndex));
  const graph: Graph = { name, tensors, nodes, inputs, outputs };
  checkExecutionOrder(graph);
  return graph;
}

function describeTfliteTensor(t: TfliteTensor): string {
  return `tensor ${t.index} '${t.name}' [${t.shape.join('x')}] ${tensorTypeName(t.type)}`;
}

function importTensor(model: TfliteModel, t: TfliteTensor): Tensor {
  const where = describeTfliteTensor(t);
  const dtype = dtypeFromTflite(t.type);
  if (!dtype) throw new UnsupportedError(`${where}: tensor type ${tensorTypeName(t.type)} is not supported`);
  if (t.hasSparsity) throw new UnsupportedError(`${where}: sparse tensors are not supported`);
  if (t.shape.some((d) => !Number.isInteger(d) || d < 0)) throw new UnsupportedError(`${where}: dynamic or negative dimensions are not supported`);
  const count = elementCount(t.shape);
  if (count > MAX_TENSOR_ELEMENTS) throw new InvalidModelError(`${where}: ${count} elements is more than any supported target can hold`);
  const buffer = t.buffer === 0 ? null : model.buffers[t.buffer];
  if (buffer === undefined) throw new InvalidModelError(`${where}: buffer index ${t.buffer} out of range`);
  let data: TensorData | null = null;
  if (buffer && buffer.length > 0) {
    const expected = count * bytesPerElement(dtype);
    if (buffer.length !== expected) throw new InvalidModelError(`${where}: buffer ${t.buffer} holds ${buffer.length} bytes, the shape needs ${expected}`);
    data = copyData(dtype, count, buffer);
  }
  return { id: t.index, name: t.name, shape: [...t.shape], dtype, quant: importQuant(t, where), data };
}

function copyData(dtype: DType, count: number, bytes: Uint8Array): TensorData {
  const data = allocData(dtype, count);
  // Flatbuffer data is little-endian and may be unaligned: copy into an aligned typed array.
  new Uint8Array(data.buffer).set(bytes);
  return data;
}

function importQuant(t: TfliteTensor, where: string): QuantParams | null {
  const q = t.quant;
  if (!q || q.scale.length === 0) return null;
  if (q.zeroPoint.length !== 0 && q.zeroPoint.length !== q.scale.length) {
    throw new InvalidModelError(`${where}: ${q.scale.length} scales but ${q.zeroPoint.length} zero points`);
  }
  if (q.scale.some((s) => !Number.isFinite(s) || s < 0)) throw new InvalidModelError(`${where}: quantization scale must be finite and non-negative`);
  const zeroPoint = q.zeroPoint.length ? q.zeroPoint.map(Number) : q.scale.map(() => 0);
  if (zeroPoint.some((z) => !Number.isSafeInteger(z) || Math.abs(z) > 65535)) throw new InvalidModelError(`${where}: zero point out of range`);
  if (q.scale.length > 1) {
    const dim = t.shape[q.quantizedDimension];
    if (dim !== q.scale.length) throw new InvalidModelError(`${where}: ${q.scale.length} per-channel scales along dimension ${q.quantizedDimension} of size ${dim ?? 'none'}`);
  }
  return { scale: [...q.scale], zeroPoint, axis: q.quantizedDimension };
}

function operatorLabel(op: TfliteOperator): string {
  const opName = op.customCode !== null ? `CUSTOM '${op.customCode}'` : builtinOperatorName(op.opcode);
  return `operator ${op.index} (${opName})`;
}

function importOperator(op: TfliteOperator, tensors: readonly Tensor[], checkIndex: (id: number, where: string) => number): Node {
  const label = operatorLabel(op);
  const inputs = op.inputs.map((id) => checkIndex(id, label));
  const outputs = op.outputs.map((id) => checkIndex(id, label));
  const describeIo = () =>
    `inputs: ${inputs.map((id) => (id < 0 ? '(none)' : describeTensor(tensors[id]!))).join(', ') || '(none)'}; outputs: ${outputs.map((id) => describeTensor(tensors[id]!)).join(', ') || '(none)'}`;
  const def = op.customCode === null ? opDefForTflite(op.opcode) : undefined;
  if (!def) throw new UnsupportedError(`${label} is not supported by tinyforge; ${describeIo()}`);
  if (outputs.some((id) => id < 0)) throw new InvalidModelError(`${label}: an output tensor index is -1`);
  try {
    const attrs = def.tflite!.attrs(op.options);
    const node: Node = { id: op.index, op: def.name, inputs, outputs, attrs, origin: label };
    checkOutputShapes(node, def.infer(inputs.map((id) => (id < 0 ? null : tensors[id]!)), attrs), tensors);
    return node;
  } catch (e) {
    if (e instanceof UserError) throw new (e.constructor as typeof UserError)(`${label}: ${e.message}; ${describeIo()}`);
    throw new InvalidModelError(`${label}: inconsistent operator: ${(e as Error).message}; ${describeIo()}`);
  }
}

function checkOutputShapes(node: Node, inferred: readonly { shape: readonly number[]; dtype: DType }[], tensors: readonly Tensor[]): void {
  if (inferred.length !== node.outputs.length) throw new InvalidModelError(`expected ${inferred.length} output(s), found ${node.outputs.length}`);
  node.outputs.forEach((id, i) => {
    const t = tensors[id]!;
    const want = inferred[i]!;
    if (t.shape.join(',') !== want.shape.join(',')) throw new InvalidModelError(`output ${describeTensor(t)} should have shape [${want.shape.join('x')}]`);
    if (t.dtype !== want.dtype) throw new UnsupportedError(`output ${describeTensor(t)} should have type ${want.dtype}`);
  });
}

/** Every activation an operator reads must be a graph input or written by an earlier operator. */
function checkExecutionOrder(graph: Graph): void {
  const ready = new Set<number>(graph.inputs);
  graph.tensors.forEach((t) => t.data && ready.add(t.id));
  for (const node of graph.nodes) {
    for (const id of node.inputs) {
      if (id >= 0 && !ready.has(id)) throw new InvalidModelError(`${node.origin}: reads ${describeTensor(graph.tensors[id]!)} before any operator writes it`);
    }
    for (const id of node.outputs) {
      if (ready.has(id)) throw new InvalidModelError(`${node.origin}: writes ${describeTensor(graph.tensors[id]!)}, which is already a constant, an input or another operator's output`);
      ready.add(id);
    }
  }
  for (const id of graph.outputs) {
    if (!ready.has(id)) throw new InvalidModelError(`model output ${describeTensor(graph.tensors[id]!)} is never computed`);
  }
}
