/**
 * @fileoverview The memory of one training step, by kind: what the planner's arena holds at its peak (activations
 * of the forward pass, activations saved for the backward pass, one-bit masks, float32 gradients, scratch, and the
 * alignment padding and gaps the plan leaves between them) and the trainable parameters, which live in SRAM for the
 * whole program. Their sum is the step's peak SRAM, the figure the paper reports; the stack comes on top.
 */
import type { Graph } from '../ir/graph.ts';
import { tensorBytes } from '../ir/graph.ts';
import type { PreparedGraph } from '../passes/prepare.ts';
import type { MemoryPlan } from './memory.ts';

export type MemoryKind = 'activations' | 'saved for backward' | 'masks' | 'gradients' | 'scratch' | 'padding and gaps' | 'trainable parameters';

export interface TrainingMemory {
  /** Arena at its peak plus the trainable parameters: the planner's peak SRAM of one step. */
  readonly peakSramBytes: number;
  readonly stateBytes: number;
  readonly breakdown: readonly { readonly kind: MemoryKind; readonly bytes: number }[];
  /** The operator at the peak, and whether it runs in the forward or the backward pass. */
  readonly peakLabel: string;
  readonly phase: 'forward' | 'backward';
}

export function trainingMemory(pg: PreparedGraph, plan: MemoryPlan): TrainingMemory | null {
  const { graph } = pg;
  const { training } = graph;
  if (!training) return null;
  const lossStep = pg.nodes.findIndex(({ node }) => node.outputs.includes(training.loss));
  const kindOf = kindClassifier(graph, pg, lossStep);
  const totals = new Map<MemoryKind, number>();
  const add = (kind: MemoryKind, bytes: number) => totals.set(kind, (totals.get(kind) ?? 0) + bytes);
  // Buffers the planner gave one place (an output written over its input) count once, for the first at that offset.
  const { offsets, sizes } = plan.arena;
  const byOffset = [...plan.arena.peak.live].sort((a, b) => offsets.get(a)! - offsets.get(b)! || sizes.get(b)! - sizes.get(a)!);
  let covered = 0;
  for (const id of byOffset) {
    const start = offsets.get(id)!;
    const end = start + sizes.get(id)!;
    if (end > covered) add(kindOf(id), end - Math.max(start, covered));
    covered = Math.max(covered, end);
  }
  const used = [...totals.values()].reduce((a, b) => a + b, 0);
  if (plan.arenaBytes > used) add('padding and gaps', plan.arenaBytes - used);
  const stateBytes = training.state.reduce((n, id) => n + tensorBytes(graph.tensors[id]!), 0);
  add('trainable parameters', stateBytes);
  const order: readonly MemoryKind[] = ['activations', 'saved for backward', 'masks', 'gradients', 'scratch', 'padding and gaps', 'trainable parameters'];
  return {
    peakSramBytes: plan.arenaBytes + stateBytes,
    stateBytes,
    breakdown: order.filter((k) => totals.has(k)).map((kind) => ({ kind, bytes: totals.get(kind)! })),
    peakLabel: plan.peakLabel,
    phase: plan.peakStep > lossStep ? 'backward' : 'forward',
  };
}

/** Arena buffer ids are tensor ids (the root of an alias chain) or scratch ids above every tensor id. */
function kindClassifier(graph: Graph, pg: PreparedGraph, lossStep: number): (id: number) => MemoryKind {
  const lastUse = new Map<number, number>();
  pg.nodes.forEach(({ node }, step) => node.inputs.forEach((id) => id >= 0 && lastUse.set(id, step)));
  return (id) => {
    const t = graph.tensors[id];
    if (!t) return 'scratch';
    if (graph.inputs.includes(id)) return 'activations';
    if (t.dtype === 'float32') return 'gradients';
    if (t.dtype === 'uint8') return 'masks';
    return (lastUse.get(id) ?? 0) > lossStep ? 'saved for backward' : 'activations';
  };
}

export function formatTrainingMemory(m: TrainingMemory): string[] {
  const width = Math.max(...m.breakdown.map((b) => b.kind.length));
  return [
    `training step peak     ${m.peakSramBytes} B SRAM (arena at its peak + trainable parameters), during the ${m.phase} pass at ${m.peakLabel}`,
    ...m.breakdown.map((b) => `  ${b.kind.padEnd(width)}  ${String(b.bytes).padStart(8)} B`),
  ];
}
