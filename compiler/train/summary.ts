/** @fileoverview What a training step updates, layer by layer in forward order, for the report. */
import type { Graph } from '../ir/graph.ts';

export function describeUpdates(graph: Graph): string[] {
  if (!graph.training) return [];
  const byLayer = new Map<string, string[]>();
  for (const node of graph.nodes) {
    const layer = node.origin.replace(/ \(update\)$/, '');
    const add = (what: string) => byLayer.set(layer, [...(byLayer.get(layer) ?? []), what]);
    if (node.op === 'BiasUpdate' || node.op === 'FoldedBiasUpdate') add('bias');
    if (node.op.endsWith('WeightUpdate')) {
      const w = graph.tensors[node.inputs[2]!]!;
      const depthwise = node.op.startsWith('Depthwise');
      const channels = w.shape[w.shape.length - 1]!;
      const keep = node.attrs['keep'] as number;
      add(keep === channels && !depthwise ? 'weights' : `weights of the first ${keep} ${depthwise ? 'channels' : 'input channels'}${keep === channels ? '' : ` of ${channels}`}`);
    }
  }
  return [
    `trained layers         ${byLayer.size} (a partial update trains the first k channels)`,
    ...[...byLayer].reverse().map(([layer, what]) => `  ${layer}: ${what.join(', ')}`),
  ];
}
