/**
 * @fileoverview Replaces, in a training step, the run of backward nodes from a depthwise layer's input gradient into
 * the 1x1 layer before it by one ExpansionBackward node (compiler/ops/train/expansion_backward.ts), which computes
 * the gradient between them a chunk of channels at a time: a DepthwiseConv2DBackpropInput whose output only an
 * ApplyMask reads, whose output only the 1x1 stride-1 layer's Conv2DBackpropInput, BiasUpdate or FoldedBiasUpdate and
 * Conv2DWeightUpdate read (some of them); and in front, where the depthwise layer's output gradient comes from the
 * 1x1 projection after it (masked, read besides only by the depthwise bias step), those nodes too. The chunks cost
 * time (every part's loop overheads once per chunk, the projection's table of scaled gradients built again), so the
 * compiler replaces only the run that holds the memory plan's peak (`at`; compiler/compile.ts) and keeps it only if
 * the peak drops; it narrows the chunks where the peak stays on them and widens them below it. In a residual block
 * the projection's output mask joins in front as well (see the op).
 */
import type { Graph, Node } from '../ir/graph.ts';
import type { Part } from '../ops/train/expansion_backward.ts';
import { partAttrs } from '../ops/train/expansion_backward.ts';

const CONSUMERS: Readonly<Record<string, Part>> = {
  Conv2DBackpropInput: 'inputGradient',
  BiasUpdate: 'bias',
  FoldedBiasUpdate: 'bias',
  Conv2DWeightUpdate: 'weights',
};
/** The inputs a training op writes in place: the parameter it steps, and the random state its draws advance. */
const UPDATES: Readonly<Record<string, readonly number[]>> = {
  BiasUpdate: [1],
  FoldedBiasUpdate: [1],
  Conv2DWeightUpdate: [2, 4],
  DepthwiseConv2DWeightUpdate: [2, 4],
};

/** Whether the node (an input gradient or weight step) belongs to a 1x1 stride-1 convolution. */
function pointwise(graph: Graph, node: Node): boolean {
  const a = node.attrs;
  const w = graph.tensors[node.inputs[node.op === 'Conv2DWeightUpdate' ? 2 : 1]!]!;
  return w.shape.length === 4 && w.shape[1] === 1 && w.shape[2] === 1 && a['strideH'] === 1 && a['strideW'] === 1 && a['padTop'] === 0 && a['padLeft'] === 0;
}

export function chunkExpansionBackward(graph: Graph, options: { readonly at?: number } = {}): Graph {
  const { nodes } = graph;
  const readers = new Map<number, number[]>();
  nodes.forEach((node, i) => node.inputs.forEach((id) => id >= 0 && readers.set(id, [...(readers.get(id) ?? []), i])));
  const outputs = new Set(graph.outputs);
  const only = (id: number): number[] => (outputs.has(id) ? [] : readers.get(id) ?? []);

  const producer = new Map<number, number>();
  nodes.forEach((node, i) => node.outputs.forEach((id) => producer.set(id, i)));

  /**
   * The depthwise layer's output gradient made by the projection after it, a pointwise Conv2DBackpropInput, masked by
   * an ApplyMask and read besides the depthwise input gradient only by the depthwise layer's bias step: those nodes,
   * or null.
   */
  const frontOf = (depthwise: Node): { projection: number; mask: number; bias: number | null } | null => {
    const dy = depthwise.inputs[0]!;
    const mask = producer.get(dy);
    if (mask === undefined || nodes[mask]!.op !== 'ApplyMask') return null;
    const projection = producer.get(nodes[mask]!.inputs[0]!);
    if (projection === undefined || nodes[projection]!.op !== 'Conv2DBackpropInput' || !pointwise(graph, nodes[projection]!)) return null;
    if (only(nodes[mask]!.inputs[0]!).length !== 1) return null;
    const others = only(dy).filter((i) => nodes[i] !== depthwise);
    if (others.length > 1 || others.some((i) => CONSUMERS[nodes[i]!.op] !== 'bias' || nodes[i]!.inputs[0] !== dy)) return null;
    return { projection, mask, bias: others[0] ?? null };
  };

  /**
   * The projection's output mask, where the gradient before it lives on past the projection anyway (a residual
   * block's, read again for the skip path): its ApplyMask, which the fused node then applies as it reads. Or null.
   */
  const projectionMaskOf = (projection: number): number | null => {
    const mask = producer.get(nodes[projection]!.inputs[0]!);
    if (mask === undefined || nodes[mask]!.op !== 'ApplyMask') return null;
    return only(nodes[mask]!.inputs[0]!).some((i) => i > projection) ? mask : null;
  };

  for (let d = 0; d < nodes.length; d++) {
    const depthwise = nodes[d]!;
    if (depthwise.op !== 'DepthwiseConv2DBackpropInput') continue;
    const [mask, ...more] = only(depthwise.outputs[0]!);
    if (mask === undefined || more.length > 0 || nodes[mask]!.op !== 'ApplyMask' || nodes[mask]!.inputs[0] !== depthwise.outputs[0]) continue;
    const consumers = only(nodes[mask]!.outputs[0]!);
    const parts = consumers.map((i) => CONSUMERS[nodes[i]!.op]);
    // One node per part; the input gradient before the weight step (it reads the weights before their step), the bias
    // step anywhere (it touches neither).
    const ordered = parts.every((p, k) => p !== undefined && parts.indexOf(p) === k) &&
      (!parts.includes('weights') || !parts.includes('inputGradient') || parts.indexOf('inputGradient') < parts.indexOf('weights'));
    const fromGradient = consumers.every((i) => nodes[i]!.inputs[0] === nodes[mask]!.outputs[0] && (nodes[i]!.op.endsWith('BiasUpdate') || pointwise(graph, nodes[i]!)));
    if (consumers.length === 0 || !ordered || !fromGradient) continue;
    const end = Math.max(...consumers);
    // The other nodes among the run's (a gradient sum, a layer's own updates) move after the fused node: only where
    // none of the run's nodes that followed one reads what it writes or writes what it reads. With its front if it
    // can, else without.
    const writes = (n: Node): number[] => [...n.outputs, ...(UPDATES[n.op] ?? []).map((i) => n.inputs[i]!)];
    const movable = (run: readonly number[], start: number): number[] | null => {
      const others = nodes.slice(start, end + 1).flatMap((_, k) => (run.includes(start + k) ? [] : [start + k]));
      const conflict = (x: number) => run.some((r) => r > x && (writes(nodes[x]!).some((id) => nodes[r]!.inputs.includes(id)) || writes(nodes[r]!).some((id) => nodes[x]!.inputs.includes(id))));
      return others.some(conflict) ? null : others;
    };
    const back = [d, mask, ...consumers];
    const found = frontOf(depthwise);
    const withFront = found && [found.projection, found.mask, ...(found.bias === null ? [] : [found.bias]), ...back];
    const front = withFront && movable(withFront, found.projection) ? found : null;
    const run = front ? withFront! : back;
    const start = front ? front.projection : d;
    if (options.at !== undefined && (options.at < start || options.at > end)) continue;
    const others = movable(run, start);
    if (!others) continue;

    const byPart = new Map<Part, Node>(consumers.map((i, k) => [parts[k]!, nodes[i]!]));
    const p = byPart.get('inputGradient');
    const b = byPart.get('bias');
    const w = byPart.get('weights');
    const pr = front && nodes[front.projection]!;
    const db = front?.bias === null || !front ? undefined : nodes[front.bias]!;
    // The projection's mask as a part writes a copy of its own (only within the fused node); the node itself stays
    // while anything else reads its output.
    const prMaskAt = front ? projectionMaskOf(front.projection) : null;
    const prMask = prMaskAt === null ? null : nodes[prMaskAt]!;
    const masked = prMask && graph.tensors[prMask.outputs[0]!]!;
    const tensors = masked ? [...graph.tensors, { ...masked, id: graph.tensors.length, name: `${masked.name} (by channel chunks)` }] : graph.tensors;
    const dropped = prMask !== null && only(prMask.outputs[0]!).every((i) => i === front!.projection) ? prMaskAt! : -1;
    const fused: Node = {
      id: depthwise.id,
      op: 'ExpansionBackward',
      inputs: [
        prMask ? prMask.inputs[0]! : pr ? pr.inputs[0]! : depthwise.inputs[0]!, depthwise.inputs[1]!, nodes[mask]!.inputs[1]!, p?.inputs[1] ?? -1, p?.inputs[2] ?? -1,
        b?.inputs[1] ?? -1, b?.inputs[2] ?? w?.inputs[3] ?? db?.inputs[2] ?? -1, w?.inputs[1] ?? -1, w?.inputs[2] ?? -1, w?.inputs[4] ?? -1,
        pr?.inputs[1] ?? -1, pr?.inputs[2] ?? -1, front ? nodes[front.mask]!.inputs[1]! : -1, db?.inputs[1] ?? -1,
        prMask ? prMask.inputs[1]! : -1,
      ],
      outputs: p ? [p.outputs[0]!] : [],
      attrs: {
        ...(prMask ? partAttrs('projectionMask', { ...prMask, outputs: [tensors.length - 1] }) : {}),
        ...(pr ? partAttrs('projection', prMask ? { ...pr, inputs: [tensors.length - 1, ...pr.inputs.slice(1)] } : pr) : {}),
        ...(front ? partAttrs('depthwiseMask', nodes[front.mask]!) : {}),
        ...(db ? partAttrs('depthwiseBias', db) : {}),
        ...partAttrs('depthwise', depthwise),
        ...partAttrs('mask', nodes[mask]!),
        ...Object.assign({}, ...[...byPart].map(([part, node]) => partAttrs(part, node))),
        dequantizeByTable: false,
      },
      origin: `${nodes[start]!.origin} + ${nodes[end]!.origin} (by channel chunks)`,
    };
    // Backward nodes only: no inference node lies in the run or is the dropped mask, so indices move down by what goes
    // before them.
    const index = (i: number): number => i - (dropped >= 0 && dropped < i ? 1 : 0) - (i < start ? 0 : run.length - 1);
    const training = graph.training && { ...graph.training, inferenceNodes: graph.training.inferenceNodes.map(index) };
    const before = nodes.slice(0, start).filter((_, i) => i !== dropped);
    return { ...graph, tensors, nodes: [...before, fused, ...others.map((i) => nodes[i]!), ...nodes.slice(end + 1)], ...(training ? { training } : {}) };
  }
  return graph;
}
