/**
 * The training step of each paper model under each of its published sparse-update schemes (schemes.json), on
 * cortex-m7 in QEMU: the planner's peak SRAM (arena at its peak + trainable parameters, and where the peak is), the
 * linked image's SRAM and flash, and instructions per training step (QEMU -icount, deterministic; the second of two
 * steps, so that no first-step effect counts), once with a zero image and once with a real one: the gradient kernels
 * skip zero terms, so the count depends on the data. A scheme that does not fit 256 KB / 1 MB is listed with the
 * compiler's figure and how far over it is.
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
import { readFashionMnistRaw } from '../tests/helpers/fashion_mnist.ts';

export interface TrainingRow {
  readonly model: string;
  readonly scheme: string;
  readonly peakSram: number;
  readonly peakAt: string;
  readonly stateBytes: number;
  /** null when the build is over budget. */
  readonly run: {
    readonly instructions: number;
    /** With the first Fashion-MNIST training image instead of zeros (fashionImage). */
    readonly realInstructions: number;
    readonly sram: number;
    readonly flash: number;
  } | null;
  readonly sramNeeded: number;
}

/**
 * The first Fashion-MNIST training image and its label, as an NCHW int8 image of `shape` [1, C, H, W]: nearest
 * upsampled, grey in every channel, each pixel p as the code p - 128 (the paper models' input is q / 127.5).
 */
export function fashionImage(shape: readonly number[]): { image: Uint8Array; label: number } {
  const [, channels, height, width] = shape as [number, number, number, number];
  const { images, labels } = readFashionMnistRaw('train', 1);
  const pixels = images[0]!;
  const image = new Uint8Array(channels * height * width);
  for (let c = 0; c < channels; c++) {
    for (let y = 0; y < height; y++) {
      for (let x = 0; x < width; x++) {
        const p = pixels[Math.floor((y * 28) / height) * 28 + Math.floor((x * 28) / width)]!;
        image[(c * height + y) * width + x] = (p - 128) & 0xff;
      }
    }
  }
  return { image, label: labels[0]! };
}

export async function measureTraining(paperDir: string, model: string): Promise<TrainingRow[]> {
  const schemesFile = join(paperDir, 'schemes.json');
  const schemes = Object.keys((JSON.parse(readFileSync(schemesFile, 'utf8')) as { models: Record<string, { schemes: object }> }).models[model]!.schemes);
  const board = getBoard('cortex-m7');
  const source = loadModelFile(join(paperDir, `${model}.qdq.onnx`));
  const rows: TrainingRow[] = [];
  /** The same for every scheme: read once. */
  let real: ReturnType<typeof fashionImage> | undefined;
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
      const shape = graph.tensors[graph.training!.image]!.shape;
      const run = await trainModel(board, join(dir, 'model'), [new Uint8Array(elementCount(shape))], { labels: [1], learningRate: 0.01, steps: 2 });
      real ??= fashionImage(shape);
      const realRun = await trainModel(board, join(dir, 'model'), [real.image], { labels: [real.label], learningRate: 0.01, steps: 2 });
      rows.push({ ...base, run: { instructions: run.instructions![1]!, realInstructions: realRun.instructions![1]!, sram: run.sramBytes!, flash: run.flashBytes! } });
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  }
  return rows;
}
