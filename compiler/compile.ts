/**
 * @fileoverview The compiler pipeline: graph -> prepared ops -> memory plan -> budget check
 * -> C sources or a WebAssembly module. Pure: it returns files, it does not write them (see output.ts).
 */
import type { Graph } from './ir/graph.ts';
import { tensorBytes } from './ir/graph.ts';
import type { Rounding } from './ops/common/fixed_point.ts';
import type { PreparedGraph } from './passes/prepare.ts';
import { prepareGraph } from './passes/prepare.ts';
import type { MemoryPlan } from './plan/memory.ts';
import { planMemory } from './plan/memory.ts';
import type { GeneratedFile } from './backend/generated_file.ts';
import { emitC } from './backend/c/emit_model.ts';
import { emitWasm } from './backend/wasm/emit_wasm.ts';
import type { WasmModuleStats } from './backend/wasm/emit_wasm.ts';
import type { Board } from '../targets/boards.ts';
import { BudgetError } from './errors.ts';
import { buildReport } from './report.ts';
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

/** The manifest `tinyforge run` reads back from an output folder. */
export interface Manifest {
  readonly tinyforge: 1;
  readonly model: string;
  readonly target: string;
  readonly rounding: Rounding;
  readonly inputs: readonly { name: string; shape: readonly number[]; dtype: string; bytes: number }[];
  readonly outputs: readonly { name: string; shape: readonly number[]; dtype: string; bytes: number }[];
  readonly arenaBytes: number;
  /** wasm target only. */
  readonly wasm?: WasmModuleStats;
}

export const MANIFEST_FILE = 'tinyforge.json';
export const REPORT_FILE = 'report.txt';

/** Analysis only: what `inspect` shows. */
export function analyze(graph: Graph, settings: CompileSettings): { prepared: PreparedGraph; plan: MemoryPlan; report: CompileReport } {
  const prepared = prepareGraph(graph, { rounding: settings.rounding });
  const plan = planMemory(prepared);
  const report = buildReport(prepared, plan, settings.board);
  return { prepared, plan, report };
}

export async function compileGraph(graph: Graph, settings: CompileSettings): Promise<CompiledModel> {
  const { prepared, plan, report: analysis } = analyze(graph, settings);
  checkBudget(analysis);
  const provenance = `model '${graph.name}', target ${settings.board.name}, rounding ${settings.rounding}${settings.commandLine ? `; ${settings.commandLine}` : ''}`;
  const io = (id: number) => {
    const t = graph.tensors[id]!;
    return { name: t.name, shape: t.shape, dtype: t.dtype, bytes: tensorBytes(t) };
  };
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
    inputs: graph.inputs.map(io),
    outputs: graph.outputs.map(io),
    arenaBytes: plan.arenaBytes,
    ...(wasm ? { wasm } : {}),
  };
  const files = [
    ...backendFiles,
    { name: MANIFEST_FILE, contents: JSON.stringify(manifest, null, 2) + '\n' },
    { name: REPORT_FILE, contents: report.text },
  ];
  return { prepared, plan, report, files, ...(wasm ? { wasm } : {}) };
}

function formatWasmStats(s: WasmModuleStats): string {
  return [
    `wasm module            model.wasm ${s.wasmBytes} B (SIMD), model.scalar.wasm ${s.scalarWasmBytes} B`,
    `wasm linear memory     ${s.memoryBytes} B, fixed (constants ${s.constantBytes} B + arena ${s.arenaBytes} B, in 64 KiB pages)`,
  ].join('\n') + '\n';
}

function checkBudget(report: CompileReport): void {
  const { sram, flash } = report.budget;
  if (sram.needed > sram.available) {
    throw new BudgetError(
      `the model needs ${sram.needed} bytes of SRAM (arena ${report.arenaBytes} + stack and C library heap ${sram.needed - report.arenaBytes}) but the target has ${sram.available}: ` +
        `${sram.needed - sram.available} bytes over. Peak at ${report.peak.label}, live: ${report.peak.live.map((l) => `${l.label} (${l.bytes} B)`).join(', ')}`,
    );
  }
  if (flash.needed > flash.available) {
    throw new BudgetError(`the model's constants need ${flash.needed} bytes of flash but the target has ${flash.available}: ${flash.needed - flash.available} bytes over`);
  }
}
