/**
 * @fileoverview Build an int8 graph in TypeScript, straight into the IR: inputs, constants
 * (given or seeded), and operators whose output shapes come from each OpDef's `infer`.
 * Used by tests for single-op models and by the bundled examples.
 */
import type { DType, TensorData } from '../../ir/dtype.ts';
import type { Graph, Node, QuantParams, Tensor } from '../../ir/graph.ts';
import { elementCount } from '../../ir/graph.ts';
import { opDef } from '../../ops/index.ts';
import { Random } from './random.ts';

export interface QuantSpec {
  readonly scale: number | readonly number[];
  readonly zeroPoint?: number;
  readonly axis?: number;
}

/** A tensor of the graph under construction. */
export interface TensorRef {
  readonly id: number;
  readonly shape: readonly number[];
}

function toQuant(spec: QuantSpec | null | undefined): QuantParams | null {
  if (!spec) return null;
  const scale = (typeof spec.scale === 'number' ? [spec.scale] : [...spec.scale]).map(Math.fround);
  return { scale, zeroPoint: scale.map(() => spec.zeroPoint ?? 0), axis: spec.axis ?? 0 };
}

export class GraphBuilder {
  private readonly tensors: Tensor[] = [];
  private readonly nodes: Node[] = [];
  private readonly inputs: number[] = [];
  private readonly outputs: number[] = [];
  readonly random: Random;

  constructor(private readonly name: string, seed = 1) {
    this.random = new Random(seed);
  }

  private addTensor(t: Omit<Tensor, 'id'>): TensorRef {
    const tensor = { ...t, id: this.tensors.length };
    this.tensors.push(tensor);
    return tensor;
  }

  input(name: string, shape: readonly number[], quant: QuantSpec, dtype: DType = 'int8'): TensorRef {
    const ref = this.addTensor({ name, shape, dtype, quant: toQuant(quant), data: null });
    this.inputs.push(ref.id);
    return ref;
  }

  constant(name: string, shape: readonly number[], dtype: DType, data: TensorData, quant?: QuantSpec): TensorRef {
    if (data.length !== elementCount(shape)) throw new Error(`constant ${name}: ${data.length} values for shape [${shape.join(', ')}]`);
    return this.addTensor({ name, shape, dtype, quant: toQuant(quant), data });
  }

  /** Seeded int8 weights, symmetric (zero point 0), quantized per channel along `axis`. */
  weights(name: string, shape: readonly number[], scale: number | readonly number[], axis = 0): TensorRef {
    const data = this.random.int8Array(elementCount(shape), -127, 127);
    return this.constant(name, shape, 'int8', data, { scale, zeroPoint: 0, axis });
  }

  /** Seeded int32 bias whose scale is input scale x weight scale, as the TFLite spec requires. */
  bias(name: string, length: number, inputScale: number, weightScale: number | readonly number[], magnitude = 2000): TensorRef {
    const ws = typeof weightScale === 'number' ? [weightScale] : weightScale;
    const data = Int32Array.from({ length }, () => this.random.int(-magnitude, magnitude));
    return this.constant(name, [length], 'int32', data, { scale: ws.map((s) => Math.fround(inputScale) * Math.fround(s)), zeroPoint: 0 });
  }

  int32Constant(name: string, values: readonly number[]): TensorRef {
    return this.constant(name, [values.length], 'int32', Int32Array.from(values));
  }

  /** Adds an operator; its output shapes come from the operator's own shape inference. */
  op(op: string, inputs: readonly (TensorRef | null)[], attrs: object, outQuant: QuantSpec | readonly QuantSpec[] | null): TensorRef[] {
    const def = opDef(op);
    const inputTensors = inputs.map((r) => (r ? this.tensors[r.id]! : null));
    const outTypes = def.infer(inputTensors, attrs);
    const quants = Array.isArray(outQuant) ? (outQuant as readonly QuantSpec[]) : outTypes.map(() => outQuant as QuantSpec | null);
    const outs = outTypes.map((t, i) =>
      this.addTensor({ name: `${op.toLowerCase()}_${this.nodes.length}${outTypes.length > 1 ? `_${i}` : ''}`, shape: t.shape, dtype: t.dtype, quant: toQuant(quants[i]), data: null }),
    );
    this.nodes.push({ id: this.nodes.length, op, inputs: inputs.map((r) => r?.id ?? -1), outputs: outs.map((o) => o.id), attrs: attrs as Node['attrs'], origin: `operator ${this.nodes.length}` });
    return outs;
  }

  /** Single-output shorthand for `op`. */
  add(op: string, inputs: readonly (TensorRef | null)[], attrs: object, outQuant: QuantSpec | null): TensorRef {
    return this.op(op, inputs, attrs, outQuant)[0]!;
  }

  output(ref: TensorRef): void {
    this.outputs.push(ref.id);
  }

  build(): Graph {
    return { name: this.name, tensors: [...this.tensors], nodes: [...this.nodes], inputs: [...this.inputs], outputs: [...this.outputs] };
  }
}
