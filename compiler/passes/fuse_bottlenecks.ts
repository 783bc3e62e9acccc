/**
 * @fileoverview Fuses inverted bottlenecks, [Transpose NCHW -> NHWC] -> [Conv2D (expand)] -> DepthwiseConv2D ->
 * [Conv2D 1x1 (project)] with an expand or a project convolution, into one InvertedBottleneck node
 * (compiler/ops/inverted_bottleneck.ts), whose kernel never materializes the tensors between the layers:
 * MobileNetV2-style models' peak SRAM is one early expanded tensor, or their head (the NCHW input, its NHWC copy and
 * the first convolution's output), which fuses as an expand convolution of any filter and a leading transpose.
 *
 * A layer joins the chain only through a tensor that can disappear: exactly one consumer, not a graph input or
 * output, not in `keep` (a kept tensor splits the chain: an expand convolution whose output is kept stays its own
 * node, and the depthwise convolution may still fuse with its project convolution). The transpose joins only as the
 * NCHW -> NHWC transpose of a graph input it alone reads. Layers that training updates (a trained bias input, state
 * weights) never fuse.
 *
 * The rule for "it lowers memory": the fused node holds its input, its output and its scratch (windows of input and
 * expanded rows, one depthwise output row) at once; the unfused layers each hold their input and output. A chain
 * fuses when the first is smaller than the largest of the second. It counts only the chain's own tensors, so a block
 * input that stays live for a residual Add makes the unfused side cost more than counted: the rule errs toward not
 * fusing. Fusing costs time (a few per cent: kernel calls row by row), so the compiler fuses only the chain at the
 * memory plan's peak, one at a time while the peak sits in one (`at`; compiler/compile.ts).
 */
import type { Graph, Node, Tensor } from '../ir/graph.ts';
import { isState, tensorBytes } from '../ir/graph.ts';
import type { Conv2DAttrs } from '../ops/conv2d.ts';
import type { DepthwiseConv2DAttrs } from '../ops/depthwise_conv2d.ts';
import type { InvertedBottleneckAttrs } from '../ops/inverted_bottleneck.ts';
import { NCHW_TO_NHWC, bottleneckScratchBytes, invertedBottleneck, layerAttrs } from '../ops/inverted_bottleneck.ts';

export interface FuseBottlenecksOptions {
  /** Tensors that must stay materialized (training: those its backward pass reads). */
  readonly keep?: ReadonlySet<number>;
  /** Fuse only the chain that holds this node (an index into `graph.nodes`); absent: every chain that lowers memory. */
  readonly at?: number;
}

interface Chain {
  readonly transpose: number | null;
  readonly expand: number | null;
  readonly depthwise: number;
  readonly project: number | null;
}

export function fuseBottlenecks(graph: Graph, options: FuseBottlenecksOptions = {}): Graph {
  const keep = options.keep ?? new Set<number>();
  const { nodes, tensors } = graph;
  const producer = new Map<number, number>();
  const consumers = new Map<number, number[]>();
  nodes.forEach((node, i) => {
    node.outputs.forEach((id) => producer.set(id, i));
    node.inputs.forEach((id) => id >= 0 && consumers.set(id, [...(consumers.get(id) ?? []), i]));
  });
  const outputs = new Set(graph.outputs);
  const inputs = new Set(graph.inputs);
  const constant = (id: number | undefined) => id === undefined || id < 0 || (tensors[id]!.data !== null && !isState(graph, id));
  const frozen = (node: Node) => node.inputs.length <= 3 && constant(node.inputs[1]) && node.inputs[1]! >= 0 && constant(node.inputs[2]);
  const int8 = (id: number) => tensors[id]!.dtype === 'int8' && tensors[id]!.shape.length === 4;
  const convolution = (node: Node) =>
    node.op === 'Conv2D' && frozen(node) && tensors[node.inputs[1]!]?.shape.length === 4 && int8(node.inputs[0]!) && int8(node.outputs[0]!);
  const pointwise = (node: Node) => convolution(node) && tensors[node.inputs[1]!]!.shape[1] === 1 && tensors[node.inputs[1]!]!.shape[2] === 1;
  const vanishes = (id: number) => consumers.get(id)?.length === 1 && !outputs.has(id) && !inputs.has(id) && !keep.has(id) && int8(id);
  /** The node transposing a graph input, read by nothing else, from NCHW to `id`, which vanishes; or null. */
  const transposeInto = (id: number): number | null => {
    const t = producer.get(id);
    const node = t === undefined ? undefined : nodes[t]!;
    if (!node || node.op !== 'Transpose' || !vanishes(id)) return null;
    const [x, perm] = node.inputs;
    const order = perm === undefined || perm < 0 ? null : tensors[perm]!.data;
    const nchw = order !== null && order.length === 4 && NCHW_TO_NHWC.every((p, i) => Number(order[i]) === p);
    return nchw && inputs.has(x!) && consumers.get(x!)?.length === 1 && int8(x!) ? t! : null;
  };
  const used = new Set<number>();

  const candidates: Chain[] = [];
  nodes.forEach((node, i) => {
    if (node.op !== 'DepthwiseConv2D' || !frozen(node) || !int8(node.inputs[0]!) || !int8(node.outputs[0]!)) return;
    const x = node.inputs[0]!;
    const y = node.outputs[0]!;
    const e = producer.get(x);
    const expand = e !== undefined && !used.has(e) && vanishes(x) && convolution(nodes[e]!) ? e : null;
    const p = consumers.get(y)?.[0];
    const project = p !== undefined && vanishes(y) && pointwise(nodes[p]!) && nodes[p]!.inputs[0] === y ? p : null;
    if (expand === null && project === null) return;
    const transpose = transposeInto((expand === null ? node : nodes[expand]!).inputs[0]!);
    const chain = { transpose, expand, depthwise: i, project };
    if (!lowersMemory(graph, chain)) return;
    candidates.push(chain);
    for (const n of stages(chain)) used.add(n);
  });
  const at = options.at;
  const chains = at === undefined ? candidates : candidates.filter((c) => stages(c).includes(at));
  if (chains.length === 0) return graph;
  used.clear();
  for (const c of chains) for (const n of stages(c)) used.add(n);

  const fusedAt = new Map(chains.map((c) => [c.project ?? c.depthwise, fuse(graph, c)]));
  const index = new Map<number, number>();
  const fused: Node[] = [];
  nodes.forEach((node, i) => {
    const replacement = fusedAt.get(i);
    if (used.has(i) && !replacement) return;
    index.set(i, fused.length);
    fused.push(replacement ?? node);
  });
  const training = graph.training && {
    ...graph.training,
    // The chain's last node stands for the fused one: its whole chain belonged to the inference program or none did.
    inferenceNodes: graph.training.inferenceNodes.flatMap((i) => (index.has(i) ? [index.get(i)!] : [])),
  };
  return { ...graph, nodes: fused, ...(training ? { training } : {}) };
}

/** The chain's nodes, in order. */
function stages(c: Chain): number[] {
  return [c.transpose, c.expand, c.depthwise, c.project].flatMap((i) => (i === null ? [] : [i]));
}

function lowersMemory(graph: Graph, c: Chain): boolean {
  const t = (id: number): Tensor => graph.tensors[id]!;
  const bytes = (id: number): number => tensorBytes(t(id));
  const node = (i: number | null) => (i === null ? null : graph.nodes[i]!);
  const [tr, e, d, p] = [node(c.transpose), node(c.expand), node(c.depthwise)!, node(c.project)];
  const first = (e ?? d).inputs[0]!;
  const output = (p ?? d).outputs[0]!;
  const steps = [tr, e, d, p].flatMap((n) => (n ? [bytes(n.inputs[0]!) + bytes(n.outputs[0]!)] : []));
  const dAttrs = d.attrs as unknown as DepthwiseConv2DAttrs;
  const eAttrs = e && (e.attrs as unknown as Conv2DAttrs);
  const eFilter = e && t(e.inputs[1]!).shape;
  const scratch = bottleneckScratchBytes({
    input: t(first).shape,
    transposed: tr !== null,
    expand: e && { output: t(e.outputs[0]!).shape, filterH: eFilter![1]!, filterW: eFilter![2]!, dilationH: eAttrs!.dilationH },
    depthwise: { filterH: t(d.inputs[1]!).shape[1]!, dilationH: dAttrs.dilationH },
    depthwiseOutput: p ? t(d.outputs[0]!).shape : null,
  });
  return bytes((tr ?? e ?? d).inputs[0]!) + bytes(output) + scratch < Math.max(...steps);
}

function fuse(graph: Graph, c: Chain): Node<InvertedBottleneckAttrs> {
  const tr = c.transpose === null ? null : graph.nodes[c.transpose]!;
  const e = c.expand === null ? null : graph.nodes[c.expand]!;
  const d = graph.nodes[c.depthwise]!;
  const p = c.project === null ? null : graph.nodes[c.project]!;
  const weightsAndBias = (n: Node | null) => (n ? [n.inputs[1]!, n.inputs[2] ?? -1] : [-1, -1]);
  const last = p ?? d;
  const attrs: InvertedBottleneckAttrs = {
    transposed: tr ? tr.outputs[0]! : -1,
    expanded: e ? e.outputs[0]! : -1,
    depthwiseOutput: p ? d.outputs[0]! : -1,
    ...(e ? layerAttrs('expand', e.attrs as unknown as Conv2DAttrs, e.origin) : {}),
    ...layerAttrs('depthwise', d.attrs as unknown as DepthwiseConv2DAttrs, d.origin),
    ...(p ? layerAttrs('project', p.attrs as unknown as Conv2DAttrs, p.origin) : {}),
  };
  return {
    id: last.id,
    op: invertedBottleneck.name,
    inputs: [(tr ?? e ?? d).inputs[0]!, ...weightsAndBias(e), ...weightsAndBias(d), ...weightsAndBias(p)],
    outputs: [last.outputs[0]!],
    attrs,
    origin: [tr, e, d, p].flatMap((n) => (n ? [n.origin] : [])).join(' + '),
  };
}
