/**
 * @fileoverview The reference interpreter: runs a prepared graph with each operator's
 * `evaluate`. It is the golden model every backend must match bit for bit.
 */
import type { TensorData } from '../ir/dtype.ts';
import { allocData } from '../ir/dtype.ts';
import { elementCount, tensorBytes } from '../ir/graph.ts';
import type { PreparedGraph, PreparedNode } from '../passes/prepare.ts';
import { opDef } from '../ops/index.ts';
import { InvalidModelError } from '../errors.ts';

/** Runs one inference; inputs and outputs are the raw bytes of each graph input / output tensor. */
export function runReference(pg: PreparedGraph, inputs: readonly Uint8Array[]): Uint8Array[] {
  const { graph } = pg;
  if (inputs.length !== graph.inputs.length) {
    throw new InvalidModelError(`model has ${graph.inputs.length} input(s), ${inputs.length} given`);
  }
  const values = new Map<number, TensorData>();
  graph.inputs.forEach((id, i) => {
    const t = graph.tensors[id]!;
    const bytes = inputs[i]!;
    if (bytes.length !== tensorBytes(t)) {
      throw new InvalidModelError(`input ${i} '${t.name}' needs ${tensorBytes(t)} bytes, got ${bytes.length}`);
    }
    const data = allocData(t.dtype, elementCount(t.shape));
    new Uint8Array(data.buffer).set(bytes);
    values.set(id, data);
  });
  execute(pg, pg.nodes, values);
  return graph.outputs.map((id) => {
    const data = values.get(id) ?? graph.tensors[id]!.data;
    if (!data) throw new InvalidModelError(`output tensor ${id} is never computed`);
    return new Uint8Array(data.buffer.slice(data.byteOffset, data.byteOffset + data.byteLength));
  });
}

/**
 * Runs `nodes` in order. `values` holds the tensors computed so far, the inputs and any state (trainable
 * parameters, which take precedence over their initial data); outputs are added to it.
 */
export function execute(pg: PreparedGraph, nodes: readonly PreparedNode[], values: Map<number, TensorData>): void {
  const { graph } = pg;
  const valueOf = (id: number): TensorData | null => (id < 0 ? null : (values.get(id) ?? graph.tensors[id]!.data ?? null));
  for (const { node, prepared } of nodes) {
    const def = opDef(node.op);
    const ins = node.inputs.map(valueOf);
    if (def.aliasesInput) {
      const source = ins[0]!;
      node.outputs.forEach((id) => values.set(id, source));
      continue;
    }
    const outs = node.outputs.map((id) => {
      const t = graph.tensors[id]!;
      return allocData(t.dtype, elementCount(t.shape));
    });
    def.evaluate(prepared.params, ins, outs);
    node.outputs.forEach((id, i) => values.set(id, outs[i]!));
  }
}
