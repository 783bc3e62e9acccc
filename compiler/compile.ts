/**
 * @fileoverview The compiler pipeline: graph -> fused bottlenecks -> prepared ops -> memory plan (variants with less
 * scratch at its peak, with more below it) -> budget check -> C sources or a WebAssembly module. Pure: it returns
 * files, it does not write them (see output.ts).
 */
import type { Graph } from './ir/graph.ts';
import { elementCount, tensorBytes } from './ir/graph.ts';
import type { Rounding } from './ops/common/fixed_point.ts';
import type { PreparedGraph } from './passes/prepare.ts';
import type { CompileOptions } from './ops/op.ts';
import { prepareGraph } from './passes/prepare.ts';
import { opDef } from './ops/index.ts';
import { fuseBottlenecks } from './passes/fuse_bottlenecks.ts';
import { chunkExpansionBackward } from './passes/chunk_expansion_backward.ts';
import type { MemoryPlan } from './plan/memory.ts';
import { planMemory } from './plan/memory.ts';
import type { GeneratedFile } from './backend/generated_file.ts';
import { emitC } from './backend/c/emit_model.ts';
import { emitWasm } from './backend/wasm/emit_wasm.ts';
import type { WasmModuleStats } from './backend/wasm/emit_wasm.ts';
import type { Board } from '../targets/boards.ts';
import { BudgetError } from './errors.ts';
import { buildReport } from './report.ts';
import { formatTrainingMemory } from './plan/training_memory.ts';
import type { CompileReport } from './report.ts';

export interface CompileSettings {
  readonly board: Board;
  readonly rounding: Rounding;
  /** For provenance headers: how the user invoked the compiler. */
  readonly commandLine?: string;
  /** wasm target: also write model.wat. */
  readonly wat?: boolean;
}

export interface CompiledModel {
  readonly prepared: PreparedGraph;
  readonly plan: MemoryPlan;
  readonly report: CompileReport;
  readonly files: readonly GeneratedFile[];
  /** wasm target only: the module's sizes (also in the manifest and the report text). */
  readonly wasm?: WasmModuleStats;
}

export interface ManifestTensor {
  readonly name: string;
  readonly shape: readonly number[];
  readonly dtype: string;
  readonly bytes: number;
}

/** The manifest `tinyforge run` reads back from an output folder. */
export interface Manifest {
  readonly tinyforge: 1;
  readonly model: string;
  readonly target: string;
  readonly rounding: Rounding;
  /** What one inference reads and writes (for a training build: the image and the logits). */
  readonly inputs: readonly ManifestTensor[];
  readonly outputs: readonly ManifestTensor[];
  readonly arenaBytes: number;
  /** wasm target only. */
  readonly wasm?: WasmModuleStats;
  /** Builds compiled with --train only. */
  readonly training?: ManifestTraining;
}

export interface ManifestTraining {
  /** Labels are 0 .. classes-1. */
  readonly classes: number;
  /** Bytes `--dump-params` writes: the trainable tensors' raw bytes, back to back in `state` order. */
  readonly paramsBytes: number;
  readonly state: readonly (ManifestTensor & { readonly offset: number })[];
  /** The planner's peak SRAM of one training step (report.training: the arena plus the trainable parameters). */
  readonly peakSramBytes: number;
}

export const MANIFEST_FILE = 'tinyforge.json';
export const REPORT_FILE = 'report.txt';

/** Analysis only: what `inspect` shows. */
export function analyze(graph: Graph, settings: CompileSettings): { prepared: PreparedGraph; plan: MemoryPlan; report: CompileReport } {
  const options = { rounding: settings.rounding };
  const narrow = withLessMemory(graph, options);
  let prepared = withMoreScratchBelowPeak(narrow, options);
  let plan = planMemory(prepared);
  // The planner's search may not reach the peak the graphs were compared by; then the graph before the wider
  // variants may pack better, and the smaller arena wins.
  if (plan.arenaBytes > plan.lowerBoundBytes && prepared !== narrow.prepared) {
    const narrowPlan = planMemory(narrow.prepared);
    if (narrowPlan.arenaBytes < plan.arenaBytes) ({ prepared, plan } = { prepared: narrow.prepared, plan: narrowPlan });
  }
  const report = buildReport(prepared, plan, settings.board);
  return { prepared, plan, report };
}

/**
 * The graphs below are compared by the peak of their plans, the most bytes live at one step: what the rewrites lower,
 * and what the arena reaches once the planner's local search (up to a second a plan) has run on the graph chosen. The
 * plans that compare skip that search.
 */
const COMPARING = { searchIterations: 0 } as const;

/**
 * Lowers the memory plan's peak step by step: where it peaks, rewrites the graph (an inverted bottleneck streamed,
 * fuse_bottlenecks.ts, or a training step's backward through one chunked, chunk_expansion_backward.ts) or else swaps
 * in the peak node's variant with less scratch (OpDef.withLessScratch), again at each new peak, and keeps the first
 * graph with the lowest peak. Each step costs time, so it stays only if it (with the ones after it: a step can move
 * the peak to a place the next one lowers) lowers the peak.
 */
function withLessMemory(graph: Graph, options: CompileOptions): { prepared: PreparedGraph; plan: MemoryPlan } {
  let prepared = prepareGraph(graph, options);
  let plan = planMemory(prepared, COMPARING);
  let best = { prepared, plan };
  for (;;) {
    const next = lessMemoryAtPeak(prepared, plan.peakStep);
    if (!next) return best;
    prepared = prepareGraph(next, options);
    plan = planMemory(prepared, COMPARING);
    if (plan.lowerBoundBytes < best.plan.lowerBoundBytes) best = { prepared, plan };
  }
}

/** The graph with the node at step `at` rewritten or swapped for its variant with less scratch, or null (neither). */
function lessMemoryAtPeak(prepared: PreparedGraph, at: number): Graph | null {
  const graph = prepared.graph;
  const peak = prepared.nodes[at];
  if (!peak) return null;
  for (const rewrite of [fuseBottlenecks, chunkExpansionBackward]) {
    const rewritten = rewrite(graph, { at });
    if (rewritten !== graph) return rewritten;
  }
  const variant = opDef(peak.node.op).withLessScratch?.(peak.node, peak.prepared);
  return variant ? { ...graph, nodes: graph.nodes.map((node, i) => (i === at ? variant : node)) } : null;
}

/**
 * Node by node, swaps in variants with more scratch and fewer instructions (wider chunks) as long as the peak does
 * not grow: below it, memory the plan holds anyway buys time.
 */
function withMoreScratchBelowPeak(start: { prepared: PreparedGraph; plan: MemoryPlan }, options: CompileOptions): PreparedGraph {
  let best = start;
  for (let step = 0; step < best.prepared.nodes.length; step++) {
    for (;;) {
      const { node, prepared: current } = best.prepared.nodes[step]!;
      const variant = opDef(node.op).withMoreScratch?.(node, current);
      if (!variant) break;
      const graph = best.prepared.graph;
      const prepared = prepareGraph({ ...graph, nodes: graph.nodes.map((n, i) => (i === step ? variant : n)) }, options);
      const plan = planMemory(prepared, COMPARING);
      if (plan.lowerBoundBytes > best.plan.lowerBoundBytes) break;
      best = { prepared, plan };
    }
  }
  return best.prepared;
}

export async function compileGraph(graph: Graph, settings: CompileSettings): Promise<CompiledModel> {
  const { prepared, plan, report: analysis } = analyze(graph, settings);
  checkBudget(analysis);
  const provenance = `model '${graph.name}', target ${settings.board.name}, rounding ${settings.rounding}${settings.commandLine ? `; ${settings.commandLine}` : ''}`;
  const io = (id: number): ManifestTensor => manifestTensor(graph, id);
  const { training } = graph;
  let backendFiles: readonly GeneratedFile[];
  let wasm: WasmModuleStats | undefined;
  let report = analysis;
  if (settings.board.kind === 'wasm') {
    const emitted = await emitWasm(prepared, plan, { provenance, text: settings.wat ?? false });
    backendFiles = emitted.files;
    wasm = emitted.stats;
    report = { ...analysis, text: analysis.text + formatWasmStats(emitted.stats) };
  } else {
    backendFiles = emitC(prepared, plan, { provenance });
  }
  const manifest: Manifest = {
    tinyforge: 1,
    model: graph.name,
    target: settings.board.name,
    rounding: settings.rounding,
    inputs: training ? [io(training.image)] : graph.inputs.map(io),
    outputs: training ? [io(training.logits)] : graph.outputs.map(io),
    arenaBytes: plan.arenaBytes,
    ...(wasm ? { wasm } : {}),
    ...(training ? { training: manifestTraining(graph, report) } : {}),
  };
  const files = [
    ...backendFiles,
    { name: MANIFEST_FILE, contents: JSON.stringify(manifest, null, 2) + '\n' },
    { name: REPORT_FILE, contents: report.text },
  ];
  return { prepared, plan, report, files, ...(wasm ? { wasm } : {}) };
}

function manifestTensor(graph: Graph, id: number): ManifestTensor {
  const t = graph.tensors[id]!;
  return { name: t.name, shape: t.shape, dtype: t.dtype, bytes: tensorBytes(t) };
}

function manifestTraining(graph: Graph, report: CompileReport): ManifestTraining {
  const training = graph.training!;
  let offset = 0;
  const state = training.state.map((id) => {
    const tensor = { ...manifestTensor(graph, id), offset };
    offset += tensor.bytes;
    return tensor;
  });
  return {
    classes: elementCount(graph.tensors[training.logits]!.shape),
    paramsBytes: offset,
    state,
    peakSramBytes: report.training!.peakSramBytes,
  };
}

function formatWasmStats(s: WasmModuleStats): string {
  const parts = [
    `constants ${s.constantBytes} B`,
    ...(s.stateBytes ? [`trainable parameters ${s.stateBytes} B`] : []),
    ...(s.widenBytes ? [`widened trained weights ${s.widenBytes} B`] : []),
    `arena ${s.arenaBytes} B`,
  ];
  return [
    `wasm module            model.wasm ${s.wasmBytes} B (SIMD), model.scalar.wasm ${s.scalarWasmBytes} B`,
    `wasm linear memory     ${s.memoryBytes} B, fixed (${parts.join(' + ')}, in 64 KiB pages)`,
  ].join('\n') + '\n';
}

function checkBudget(report: CompileReport): void {
  const { sram, flash } = report.budget;
  if (sram.needed > sram.available) {
    const state = report.training?.stateBytes ?? 0;
    const parts = `arena ${report.arenaBytes}${state ? ` + trainable parameters ${state}` : ''} + stack and C library heap ${sram.needed - report.arenaBytes - state}`;
    throw new BudgetError(
      `the model needs ${sram.needed} bytes of SRAM (${parts}) but the target has ${sram.available}: ` +
        `${sram.needed - sram.available} bytes over. Peak at ${report.peak.label}, live: ${report.peak.live.map((l) => `${l.label} (${l.bytes} B)`).join(', ')}` +
        (report.training ? `\n${formatTrainingMemory(report.training).join('\n')}` : ''),
    );
  }
  if (flash.needed > flash.available) {
    throw new BudgetError(`the model's constants need ${flash.needed} bytes of flash but the target has ${flash.available}: ${flash.needed - flash.available} bytes over`);
  }
}
