/** @fileoverview The compile report: per-layer table and memory plan, as data and as text for people. */
import type { Tensor } from './ir/graph.ts';
import { tensorBytes } from './ir/graph.ts';
import type { PreparedGraph } from './passes/prepare.ts';
import type { LiveBuffer, MemoryPlan } from './plan/memory.ts';
import { formatArenaReport } from './plan/report.ts';
import type { TrainingMemory } from './plan/training_memory.ts';
import { formatTrainingMemory, trainingMemory } from './plan/training_memory.ts';
import { describeUpdates } from './train/summary.ts';
import type { Board } from '../targets/boards.ts';
import type { Rounding } from './ops/common/fixed_point.ts';

export interface LayerRow {
  readonly index: number;
  readonly origin: string;
  readonly op: string;
  readonly kernel: string | null;
  readonly output: string;
  readonly macs: number;
  readonly constantBytes: number;
  readonly scratchBytes: number;
}

export interface CompileReport {
  readonly layers: readonly LayerRow[];
  readonly arenaBytes: number;
  readonly lowerBoundBytes: number;
  readonly macs: number;
  /** Weights, biases and compile-time tables: what goes to flash besides code. */
  readonly constantBytes: number;
  readonly peak: { readonly label: string; readonly live: readonly LiveBuffer[] };
  readonly budget: {
    readonly sram: { readonly needed: number; readonly available: number };
    readonly flash: { readonly needed: number; readonly available: number };
  };
  /** The requantization rounding the program is compiled with. */
  readonly rounding: Rounding;
  /** What the compiler changed for numerical safety, per operator (saturated biases). */
  readonly notes: readonly string[];
  /** Training builds only: the step's peak SRAM by kind. */
  readonly training: TrainingMemory | null;
  readonly text: string;
}

const TABLE_BYTES = { int8: 1, int16: 2, int32: 4, float32: 4 } as const;

function shapeOf(t: Tensor): string {
  return `[${t.shape.join('x')}] ${t.dtype}`;
}

export function buildReport(pg: PreparedGraph, plan: MemoryPlan, board: Board): CompileReport {
  const { graph } = pg;
  const counted = new Set<number>();
  const layers = pg.nodes.map(({ node, prepared }, index): LayerRow => {
    let constantBytes = 0;
    for (const a of prepared.kernel?.args ?? []) {
      if (a.kind === 'table') constantBytes += a.values.length * TABLE_BYTES[a.dtype];
      const t = a.kind === 'tensor' && a.tensor >= 0 ? graph.tensors[a.tensor]! : null;
      if (t?.data && !counted.has(t.id)) {
        counted.add(t.id);
        constantBytes += tensorBytes(t);
      }
    }
    return {
      index,
      origin: node.origin,
      op: node.op,
      kernel: prepared.kernel?.name ?? null,
      output: node.outputs.map((id) => shapeOf(graph.tensors[id]!)).join(', '),
      macs: prepared.macs,
      constantBytes,
      scratchBytes: plan.scratchSizes.get(index) ?? 0,
    };
  });
  const constantBytes = layers.reduce((a, l) => a + l.constantBytes, 0);
  const macs = layers.reduce((a, l) => a + l.macs, 0);
  const training = trainingMemory(pg, plan);
  const budget = {
    sram: { needed: plan.arenaBytes + (training?.stateBytes ?? 0) + board.stackBytes + board.heapBytes, available: board.ram.bytes },
    flash: { needed: constantBytes, available: board.flash.bytes },
  };
  const peak = { label: plan.peakLabel, live: plan.peakLive };
  const notes = [...(graph.notes ?? []), ...pg.nodes.flatMap(({ node, prepared }) => (prepared.notes ?? []).map((n) => `${node.origin}: ${n}`))];
  const report = { rounding: pg.options.rounding, layers, arenaBytes: plan.arenaBytes, lowerBoundBytes: plan.lowerBoundBytes, macs, constantBytes, peak, budget, notes, training };
  return { ...report, text: formatReport(graph.name, board, plan, report, describeUpdates(graph)) };
}

function pad(s: string | number, width: number, right = false): string {
  const text = String(s);
  return right ? text.padStart(width) : text.padEnd(width);
}

function formatReport(name: string, board: Board, plan: MemoryPlan, r: Omit<CompileReport, 'text'>, updates: readonly string[]): string {
  const lines: string[] = [];
  lines.push(`model ${name} for ${board.name} (${board.description}), rounding ${r.rounding}`);
  lines.push('');
  lines.push(`${pad('#', 4)}${pad('operator', 26)}${pad('kernel', 24)}${pad('output', 26)}${pad('MACs', 12, true)}${pad('const B', 10, true)}  from`);
  for (const l of r.layers) {
    lines.push(`${pad(l.index, 4)}${pad(l.op, 26)}${pad(l.kernel ?? '(alias)', 24)}${pad(l.output, 26)}${pad(l.macs, 12, true)}${pad(l.constantBytes, 10, true)}  ${l.origin}`);
  }
  lines.push('');
  lines.push(`MACs per ${r.training ? 'training step' : 'inference'}${r.training ? ' ' : '     '}${r.macs}`);
  lines.push(`peak                   at ${r.peak.label}`);
  lines.push(formatArenaReport(plan.arena, plan.describeBuffer));
  if (r.training) lines.push(...formatTrainingMemory(r.training), ...updates);
  const state = r.training ? ` + ${r.training.stateBytes} B trainable parameters` : '';
  if (board.kind === 'wasm') {
    lines.push(`SRAM needed            ${r.budget.sram.needed} B of ${r.budget.sram.available} B (the arena${state}; the module has no C stack or heap)`);
    lines.push(`flash for constants    ${r.constantBytes} B of ${r.budget.flash.available} B (the module's data segment)`);
  } else {
    lines.push(`SRAM needed            ${r.budget.sram.needed} B of ${r.budget.sram.available} B (arena${state} + ${board.stackBytes} B stack + ${board.heapBytes} B heap for the C library)`);
    lines.push(`flash for constants    ${r.constantBytes} B of ${r.budget.flash.available} B (code comes on top; the linker checks the total)`);
  }
  if (r.notes.length > 0) lines.push('', 'numerics notes', ...r.notes.map((n) => `  ${n}`));
  return lines.join('\n') + '\n';
}
