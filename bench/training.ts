/**
 * The training step of each paper model under each of its published sparse-update schemes (schemes.json), on
 * cortex-m7 in QEMU: the planner's peak SRAM (arena at its peak + trainable parameters, and where the peak is), the
 * linked image's SRAM and flash, and instructions per training step (QEMU -icount, deterministic; the second of two
 * steps, so that no first-step effect counts). A scheme that does not fit 256 KB / 1 MB is listed with the compiler's
 * figure and how far over it is.
 */
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { loadModelFile } from '../compiler/load_model.ts';
import { elementCount } from '../compiler/ir/graph.ts';
import { analyze, compileGraph } from '../compiler/compile.ts';
import { writeOutputDir } from '../compiler/output.ts';
import { buildTrainingGraph } from '../compiler/train/index.ts';
import { BudgetError } from '../compiler/errors.ts';
import { getBoard } from '../targets/boards.ts';
import { trainModel } from '../targets/run.ts';

export interface TrainingRow {
  readonly model: string;
  readonly scheme: string;
  readonly peakSram: number;
  readonly peakAt: string;
  readonly stateBytes: number;
  /** null when the build is over budget. */
  readonly run: { readonly instructions: number; readonly sram: number; readonly flash: number } | null;
  readonly sramNeeded: number;
}

export async function measureTraining(paperDir: string, model: string): Promise<TrainingRow[]> {
  const schemesFile = join(paperDir, 'schemes.json');
  const schemes = Object.keys((JSON.parse(readFileSync(schemesFile, 'utf8')) as { models: Record<string, { schemes: object }> }).models[model]!.schemes);
  const board = getBoard('cortex-m7');
  const source = loadModelFile(join(paperDir, `${model}.qdq.onnx`));
  const rows: TrainingRow[] = [];
  for (const scheme of schemes) {
    const graph = buildTrainingGraph(source, { update: `${schemesFile}#${model}/${scheme}`, classes: 10 });
    const settings = { board, rounding: source.rounding ?? 'float32' } as const;
    const { report } = analyze(graph, settings);
    const training = report.training!;
    const base = { model, scheme, peakSram: training.peakSramBytes, peakAt: `${training.phase}: ${training.peakLabel}`, stateBytes: training.stateBytes, sramNeeded: report.budget.sram.needed };
    let compiled;
    try {
      compiled = await compileGraph(graph, settings);
    } catch (e) {
      if (!(e instanceof BudgetError)) throw e;
      rows.push({ ...base, run: null });
      continue;
    }
    const dir = mkdtempSync(join(tmpdir(), 'tinyforge-bench-train-'));
    try {
      writeOutputDir(join(dir, 'model'), compiled.files);
      const image = new Uint8Array(elementCount(graph.tensors[graph.training!.image]!.shape));
      const run = await trainModel(board, join(dir, 'model'), [image], { labels: [1], learningRate: 0.01, steps: 2 });
      rows.push({ ...base, run: { instructions: run.instructions![1]!, sram: run.sramBytes!, flash: run.flashBytes! } });
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  }
  return rows;
}
