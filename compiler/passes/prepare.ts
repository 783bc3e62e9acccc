/** @fileoverview Runs every operator's compile-time `prepare` once; backends and the reference share the result. */
import type { Graph, Node } from '../ir/graph.ts';
import { describeNode } from '../ir/graph.ts';
import type { CompileOptions, Prepared } from '../ops/op.ts';
import { opDef } from '../ops/index.ts';
import { InvalidModelError, UserError } from '../errors.ts';

export interface PreparedNode {
  readonly node: Node;
  readonly prepared: Prepared<unknown>;
}

export interface PreparedGraph {
  readonly graph: Graph;
  readonly nodes: readonly PreparedNode[];
  readonly options: CompileOptions;
}

export function prepareGraph(graph: Graph, options: CompileOptions): PreparedGraph {
  const tensor = (id: number) => (id < 0 ? null : graph.tensors[id]!);
  const nodes = graph.nodes.map((node) => {
    const ctx = { graph, node, inputs: node.inputs.map(tensor), outputs: node.outputs.map((id) => graph.tensors[id]!), options };
    try {
      return { node, prepared: opDef(node.op).prepare(ctx) as Prepared<unknown> };
    } catch (e) {
      if (e instanceof UserError) throw e;
      // A checked-for problem has a UserError; anything else here means inconsistent model data.
      throw new InvalidModelError(`${describeNode(node)}: cannot be prepared: ${(e as Error).message}`);
    }
  });
  return { graph, nodes, options };
}
