/**
 * @fileoverview From a prepared graph to arena offsets: every activation (graph inputs and
 * outputs included) and every scratch buffer becomes a buffer request whose lifetime runs
 * from the step that writes it to the last step that reads it; reshape-like ops share their
 * input's buffer, and an op that can run in place may share its input's.
 */
import { describeTensor, tensorBytes } from '../ir/graph.ts';
import type { PreparedGraph } from '../passes/prepare.ts';
import { opDef } from '../ops/index.ts';
import type { ArenaPlan, BufferRequest, PlanOptions } from './planner.ts';
import { planArena } from './planner.ts';

export interface LiveBuffer {
  readonly label: string;
  readonly bytes: number;
}

export interface MemoryPlan {
  /** Arena offset of every non-constant tensor. */
  readonly tensorOffsets: ReadonlyMap<number, number>;
  /** Arena offset of the scratch buffer of node i (by position in the schedule). */
  readonly scratchOffsets: ReadonlyMap<number, number>;
  /** Bytes of the scratch buffer of node i, where it has one. */
  readonly scratchSizes: ReadonlyMap<number, number>;
  readonly arenaBytes: number;
  /** Largest sum of simultaneously live buffers: no plan can do better without splitting buffers. */
  readonly lowerBoundBytes: number;
  /** The planner's result, and a name for each of its buffers, for reports. */
  readonly arena: ArenaPlan;
  readonly describeBuffer: (id: number) => { name: string; producer: string };
  /** Where that peak happens. */
  readonly peakStep: number;
  readonly peakLabel: string;
  readonly peakLive: readonly LiveBuffer[];
}

/** Scratch requests get ids above every tensor id. */
const SCRATCH_ID_BASE = 1 << 24;

export function planMemory(pg: PreparedGraph, options: Pick<PlanOptions, 'searchIterations'> = {}): MemoryPlan {
  const { graph, nodes } = pg;
  const root = new Map<number, number>();
  const rootOf = (id: number): number => root.get(id) ?? id;
  nodes.forEach(({ node }) => {
    if (opDef(node.op).aliasesInput && node.inputs[0]! >= 0 && !graph.tensors[node.inputs[0]!]!.data) {
      root.set(node.outputs[0]!, rootOf(node.inputs[0]!));
    }
  });

  const lifetimes = new Map<number, { first: number; last: number; bytes: number }>();
  const touch = (id: number, step: number): void => {
    const t = graph.tensors[id]!;
    if (t.data) return;
    const r = rootOf(id);
    const bytes = tensorBytes(graph.tensors[r]!);
    const life = lifetimes.get(r);
    if (!life) lifetimes.set(r, { first: step, last: step, bytes });
    else {
      life.first = Math.min(life.first, step);
      life.last = Math.max(life.last, step);
    }
  };
  // Inputs are copied in before step 0; outputs are copied out after the last step.
  graph.inputs.forEach((id) => touch(id, 0));
  nodes.forEach(({ node }, step) => {
    node.inputs.forEach((id) => id >= 0 && touch(id, step));
    node.outputs.forEach((id) => touch(id, step));
  });
  graph.outputs.forEach((id) => touch(id, Math.max(0, nodes.length - 1)));

  // An in-place op's output may take its input's buffer when the input dies there; a streaming one's, when no larger.
  const inPlaceOf = new Map<number, number>();
  const partnered = new Set<number>();
  nodes.forEach(({ node, prepared }, step) => {
    const input = node.inputs[0];
    const inPlace = opDef(node.op).inPlace || prepared.inPlace;
    if (!(inPlace || prepared.overwritesInput) || input === undefined || input < 0 || graph.tensors[input]!.data) return;
    const from = lifetimes.get(rootOf(input));
    const to = lifetimes.get(rootOf(node.outputs[0]!));
    if (!from || !to || from.last !== step) return;
    if (inPlace ? to.bytes === from.bytes : to.bytes <= from.bytes) {
      inPlaceOf.set(rootOf(node.outputs[0]!), rootOf(input));
      partnered.add(step);
    }
  });
  const tensorRequests: BufferRequest[] = [...lifetimes].map(([id, l]) => ({ id, bytes: l.bytes, firstUse: l.first, lastUse: l.last, inPlaceOf: inPlaceOf.get(id) }));
  // A node in place by its geometry needs its scratch only to run in place (Prepared.inPlace). One that streams over
  // its input needs less where it does (Prepared.scratchBytesInPlace); the planner may still give the two their own
  // buffers, and such a node then gets its whole scratch in a plan made again. Plans made only to compare peaks (no
  // search: searchIterations 0) stop at the first: their peak does not depend on where buffers land, and no code is
  // generated from them.
  const scratchPlan = (shared: (step: number) => boolean) => {
    const sizes = new Map<number, number>();
    nodes.forEach(({ prepared }, step) => {
      const bytes = shared(step) ? (prepared.scratchBytesInPlace ?? prepared.scratchBytes) : prepared.scratchBytes;
      if (bytes > 0 && (!prepared.inPlace || partnered.has(step))) sizes.set(step, bytes);
    });
    const requests = [...tensorRequests, ...[...sizes].map(([step, bytes]) => ({ id: SCRATCH_ID_BASE + step, bytes, firstUse: step, lastUse: step }))];
    return { sizes, plan: planArena(requests, { ...options, alignment: 16 }) };
  };
  const outputTakesInput = (plan: ArenaPlan, step: number) => {
    const { node } = nodes[step]!;
    return plan.offsets.get(rootOf(node.outputs[0]!)) === plan.offsets.get(rootOf(node.inputs[0]!));
  };
  const unshared = new Set<number>();
  const reduced = (step: number) => partnered.has(step) && !unshared.has(step);
  let { sizes: scratchSizes, plan } = scratchPlan(reduced);
  const missedShares = () =>
    [...partnered].filter((step) => reduced(step) && nodes[step]!.prepared.scratchBytesInPlace !== undefined && !outputTakesInput(plan, step));
  for (let missed = options.searchIterations === 0 ? [] : missedShares(); missed.length > 0; missed = missedShares()) {
    missed.forEach((step) => unshared.add(step));
    ({ sizes: scratchSizes, plan } = scratchPlan(reduced));
  }

  const tensorOffsets = new Map<number, number>();
  graph.tensors.forEach((t) => {
    if (!t.data && lifetimes.has(rootOf(t.id))) tensorOffsets.set(t.id, plan.offsets.get(rootOf(t.id))!);
  });
  const scratchOffsets = new Map<number, number>();
  nodes.forEach((_, step) => {
    const offset = plan.offsets.get(SCRATCH_ID_BASE + step);
    if (offset !== undefined) scratchOffsets.set(step, offset);
  });
  const label = (id: number): string =>
    id >= SCRATCH_ID_BASE ? `scratch of ${nodes[id - SCRATCH_ID_BASE]!.node.origin}` : describeTensor(graph.tensors[id]!);
  const producerOf = new Map<number, string>();
  nodes.forEach(({ node }, step) => {
    const producer = `${node.origin} ${node.op}`;
    producerOf.set(SCRATCH_ID_BASE + step, producer);
    for (const id of node.outputs) if (!producerOf.has(rootOf(id))) producerOf.set(rootOf(id), producer);
  });
  const describeBuffer = (id: number) => ({ name: label(id), producer: producerOf.get(id) ?? 'model input' });
  const peakNode = nodes[plan.peak.step]?.node;
  return {
    tensorOffsets,
    scratchOffsets,
    scratchSizes,
    arenaBytes: plan.arenaBytes,
    arena: plan,
    describeBuffer,
    lowerBoundBytes: plan.peak.bytes,
    peakStep: plan.peak.step,
    peakLabel: peakNode ? `${peakNode.origin} ${peakNode.op}` : 'model input',
    peakLive: plan.peak.live.map((id) => ({ label: label(id), bytes: plan.sizes.get(id)! })),
  };
}
