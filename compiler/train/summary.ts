/** @fileoverview What a training step updates, layer by layer in forward order, for the report. */
import type { Graph, Node } from '../ir/graph.ts';
import { partNodes } from '../ops/train/expansion_backward.ts';

/** The graph's nodes, with each fused backward node (passes/chunk_expansion_backward.ts) as the nodes it stands for. */
const unfused = (graph: Graph): Node[] => graph.nodes.flatMap((n) => (n.op === 'ExpansionBackward' ? partNodes(n).map((p) => p.node) : [n]));

export function describeUpdates(graph: Graph): string[] {
  if (!graph.training) return [];
  const byLayer = new Map<string, string[]>();
  for (const node of unfused(graph)) {
    const layer = node.origin.replace(/ \(update\)$/, '');
    const add = (what: string) => byLayer.set(layer, [...(byLayer.get(layer) ?? []), what]);
    if (node.op === 'BiasUpdate' || node.op === 'FoldedBiasUpdate') add('bias');
    if (node.op.endsWith('WeightUpdate')) {
      const w = graph.tensors[node.inputs[2]!]!;
      const depthwise = node.op.startsWith('Depthwise');
      // A split layer trains its head; the frozen tail (input 2 of SplitConv1x1) holds the other channels.
      const split = graph.nodes.find((n) => n.op === 'SplitConv1x1' && n.inputs[1] === w.id);
      const lastDim = (id: number) => graph.tensors[id]!.shape[graph.tensors[id]!.shape.length - 1]!;
      const channels = lastDim(w.id) + (split ? lastDim(split.inputs[2]!) : 0);
      const keep = node.attrs['keep'] as number;
      add(keep === channels && !depthwise ? 'weights' : `weights of the first ${keep} ${depthwise ? 'channels' : 'input channels'}${keep === channels ? '' : ` of ${channels}`}`);
    }
  }
  return [
    `trained layers         ${byLayer.size} (a partial update trains the first k channels; a 1x1 or fully connected layer's other weights stay in flash)`,
    ...[...byLayer].reverse().map(([layer, what]) => `  ${layer}: ${what.join(', ')}`),
  ];
}
