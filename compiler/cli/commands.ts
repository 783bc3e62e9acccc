/** @fileoverview What each CLI command does, on top of the compiler, the output writer and the target runners. */
import { existsSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { analyze, compileGraph, MANIFEST_FILE } from '../compile.ts';
import type { Manifest, ManifestTraining } from '../compile.ts';
import type { CompileReport } from '../report.ts';
import { loadModelFile } from '../load_model.ts';
import { writeOutputDir } from '../output.ts';
import type { Rounding } from '../ops/common/fixed_point.ts';
import type { Graph } from '../ir/graph.ts';
import type { InputLayout } from '../frontend/onnx/import.ts';
import { UserError } from '../errors.ts';
import { getBoard, withBudget } from '../../targets/boards.ts';
import type { Board } from '../../targets/boards.ts';
import { runModel, trainModel } from '../../targets/run.ts';
import { buildTrainingGraph } from '../train/index.ts';

interface TrainFlags {
  train?: boolean;
  update?: string;
  classes?: number;
}

interface CompileFlags extends TrainFlags {
  target: string;
  out: string;
  rounding?: Rounding;
  inputLayout?: InputLayout;
  sram?: number;
  flash?: number;
  wat?: boolean;
  json?: boolean;
}

function boardFor(flags: { target: string; sram?: number; flash?: number }): Board {
  const board = getBoard(flags.target);
  try {
    return withBudget(board, { sramBytes: flags.sram, flashBytes: flags.flash });
  } catch (e) {
    throw new UserError((e as Error).message);
  }
}

function reportJson(report: CompileReport): object {
  const { text: _text, ...data } = report;
  return data;
}

/** Refuses training options without --train, and --train without --update, before any work is done. */
function checkTrainFlags(flags: TrainFlags): void {
  if (!flags.train) {
    const stray = [flags.update !== undefined && '--update', flags.classes !== undefined && '--classes'].filter(Boolean);
    if (stray.length) throw new UserError(`${stray.join(' and ')} only make sense with --train`);
  } else if (flags.update === undefined) {
    throw new UserError('--train needs --update <spec>: bias-only, last:N, full or FILE.json#model/scheme');
  }
}

/** The model (turned into its training step with --train), and the rounding to compile it with: the user's, else its format's. */
function loadModel(model: string, flags: TrainFlags & { rounding?: Rounding; inputLayout?: InputLayout }): { graph: Graph; rounding: Rounding } {
  checkTrainFlags(flags);
  const loaded = loadModelFile(model, { inputLayout: flags.inputLayout });
  const rounding = flags.rounding ?? loaded.rounding ?? 'double';
  const graph = flags.train ? buildTrainingGraph(loaded, { update: flags.update!, classes: flags.classes }) : loaded;
  return { graph, rounding };
}

function trainArgs(flags: TrainFlags): string {
  if (!flags.train) return '';
  return ` --train --update ${flags.update}${flags.classes !== undefined ? ` --classes ${flags.classes}` : ''}`;
}

export async function compileCommand(model: string, flags: CompileFlags): Promise<void> {
  const board = boardFor(flags);
  if (flags.wat && board.kind !== 'wasm') throw new UserError(`--wat needs --target wasm (target is ${board.name})`);
  const { graph, rounding } = loadModel(model, flags);
  const layout = flags.inputLayout ? ` --input-layout ${flags.inputLayout}` : '';
  const compiled = await compileGraph(graph, {
    board,
    rounding,
    wat: flags.wat,
    commandLine: `tinyforge compile ${model} --target ${flags.target} --rounding ${rounding}${layout}${trainArgs(flags)}`,
  });
  writeOutputDir(flags.out, compiled.files);
  if (flags.json) process.stdout.write(JSON.stringify({ out: flags.out, ...reportJson(compiled.report), ...(compiled.wasm ? { wasm: compiled.wasm } : {}) }) + '\n');
  else process.stdout.write(`${compiled.report.text}\nwrote ${compiled.files.length} files to ${flags.out}\n`);
}

export async function inspectCommand(model: string, flags: TrainFlags & { target: string; rounding?: Rounding; inputLayout?: InputLayout; json?: boolean }): Promise<void> {
  const { graph, rounding } = loadModel(model, flags);
  const { report } = analyze(graph, { board: boardFor(flags), rounding });
  process.stdout.write(flags.json ? JSON.stringify(reportJson(report)) + '\n' : report.text);
}

interface RunFlags {
  input: string[];
  output?: string;
  target?: string;
  timeout: number;
  simd: boolean;
  json?: boolean;
  trainSteps?: number;
  label?: string;
  lr?: number;
  dumpParams?: string;
}

/** Learning rate of `run --train-steps` when --lr is not given. */
export const DEFAULT_LEARNING_RATE = 0.01;

function readManifest(dir: string): Manifest {
  const path = join(dir, MANIFEST_FILE);
  if (!existsSync(path)) throw new UserError(`${dir} is not a tinyforge output folder (no ${MANIFEST_FILE}); run \`tinyforge compile\` first`);
  return JSON.parse(readFileSync(path, 'utf8')) as Manifest;
}

function readFile(file: string): Uint8Array {
  try {
    return readFileSync(file);
  } catch (e) {
    throw new UserError(`cannot read input file '${file}': ${(e as NodeJS.ErrnoException).code ?? (e as Error).message}`);
  }
}

const inputLayout = (manifest: Manifest): string => manifest.inputs.map((i) => `${i.name} [${i.shape.join('x')}] ${i.dtype}`).join(' + ');
const inputBytes = (manifest: Manifest): number => manifest.inputs.reduce((a, i) => a + i.bytes, 0);

function readInputs(files: readonly string[], manifest: Manifest): Uint8Array[] {
  const expected = inputBytes(manifest);
  if (files.length === 0) return [new Uint8Array(expected)];
  return files.map((file) => {
    const bytes = readFile(file);
    if (bytes.length !== expected) throw new UserError(`input file '${file}' has ${bytes.length} bytes; the model's input ${inputLayout(manifest)} needs ${expected}`);
    return bytes;
  });
}

/** Training images: each file holds one or more images back to back. */
function readImages(files: readonly string[], manifest: Manifest): Uint8Array[] {
  const size = inputBytes(manifest);
  return files.flatMap((file) => {
    const bytes = readFile(file);
    if (bytes.length === 0 || bytes.length % size !== 0) {
      throw new UserError(`input file '${file}' has ${bytes.length} bytes, which is not a whole number of images: the model's input ${inputLayout(manifest)} has ${size} bytes`);
    }
    return Array.from({ length: bytes.length / size }, (_, i) => bytes.subarray(i * size, (i + 1) * size));
  });
}

/** `--label 3` or `--label 3,1,4`: one label for every image, or one per image. */
function parseLabels(spec: string, images: number, training: ManifestTraining): number[] {
  const labels = spec.split(',').map((word) => {
    const label = Number(word.trim());
    if (word.trim() === '' || !Number.isInteger(label) || label < 0 || label >= training.classes) {
      throw new UserError(`--label ${spec}: '${word}' is not a class of this model; labels are whole numbers 0 to ${training.classes - 1}`);
    }
    return label;
  });
  if (labels.length === 1) return new Array<number>(images).fill(labels[0]!);
  if (labels.length !== images) throw new UserError(`--label ${spec} gives ${labels.length} labels for ${images} input images: give one label, or one per image`);
  return labels;
}

function checkBoard(dir: string, manifest: Manifest, target: string | undefined): Board {
  const board = getBoard(target ?? manifest.target);
  if ((board.kind === 'wasm') !== (manifest.target === 'wasm')) {
    throw new UserError(`${dir} was compiled for ${manifest.target} and cannot run on ${board.name}: recompile with --target ${board.name}`);
  }
  return board;
}

export async function runCommand(dir: string, flags: RunFlags): Promise<void> {
  const manifest = readManifest(dir);
  if (flags.trainSteps !== undefined) return trainCommand(dir, manifest, flags);
  const stray = [flags.label !== undefined && '--label', flags.lr !== undefined && '--lr', flags.dumpParams !== undefined && '--dump-params'].filter(Boolean);
  if (stray.length) throw new UserError(`${stray.join(', ')} only make sense with --train-steps`);
  const board = checkBoard(dir, manifest, flags.target);
  const inputs = readInputs(flags.input, manifest);
  let result;
  try {
    result = await runModel(board, dir, inputs, { timeoutMs: flags.timeout, simd: flags.simd ? undefined : false, measure: board.kind === 'wasm' });
  } catch (e) {
    throw new UserError(`running on ${board.name} failed: ${(e as Error).message}`);
  }
  if (flags.output) {
    const all = result.outputs.flatMap((run) => run.map((o) => new Uint8Array(o.buffer, o.byteOffset, o.byteLength)));
    writeFileSync(flags.output, Buffer.concat(all));
  }
  const runs = result.outputs.map((outs, i) => ({
    input: flags.input[i] ?? '(all zeros)',
    outputs: outs.map((o) => Array.from(o)),
    instructions: result.instructions?.[i] ?? null,
  }));
  const summary = {
    target: board.name,
    outputs: runs[0]!.outputs,
    instructions: runs[0]!.instructions,
    arenaBytes: manifest.arenaBytes,
    flashBytes: result.flashBytes,
    sramBytes: result.sramBytes,
    stackBytes: result.stackBytes,
    ...(board.kind === 'wasm' ? { msPerInference: result.msPerInference, wasmBytes: result.wasmBytes } : {}),
    runs,
  };
  if (flags.json) {
    process.stdout.write(JSON.stringify(summary) + '\n');
    return;
  }
  const lines = [`${manifest.model} on ${board.name} (${board.description})`];
  if (flags.input.length === 0) lines.push('no --input given: ran one all-zero input');
  runs.forEach((r) => {
    lines.push(`input ${r.input}`);
    r.outputs.forEach((o, k) => lines.push(`  output ${k} (${manifest.outputs[k]?.name ?? ''}): ${o.join(' ')}`));
    if (r.instructions !== null) lines.push(`  instructions: ${r.instructions.toLocaleString('en-US')}`);
  });
  lines.push(`arena: ${manifest.arenaBytes} B`);
  if (result.flashBytes !== null) lines.push(`image flash: ${result.flashBytes} B, image SRAM: ${result.sramBytes} B (from the linker)`);
  if (result.stackBytes !== null) lines.push(`stack used: ${result.stackBytes} B`);
  if (result.msPerInference != null) {
    lines.push(`time: ${result.msPerInference.toFixed(4)} ms per inference (median, this Node.js, ${result.simd ? 'SIMD' : 'scalar'} build of ${result.wasmBytes} B)`);
  }
  process.stdout.write(lines.join('\n') + '\n');
}

async function trainCommand(dir: string, manifest: Manifest, flags: RunFlags): Promise<void> {
  const training = manifest.training;
  if (!training) throw new UserError(`${dir} was compiled without --train: recompile with --train --update <spec> to run training steps`);
  if (flags.output !== undefined) throw new UserError('--output writes inference outputs; with --train-steps, --dump-params writes the trained parameters');
  if (flags.input.length > 0 && flags.label === undefined) throw new UserError('--train-steps with --input needs --label: the class of each image');
  const board = checkBoard(dir, manifest, flags.target);
  const images = flags.input.length > 0 ? readImages(flags.input, manifest) : [new Uint8Array(inputBytes(manifest))];
  const labels = parseLabels(flags.label ?? '0', images.length, training);
  const learningRate = Math.fround(flags.lr ?? DEFAULT_LEARNING_RATE);
  const steps = flags.trainSteps!;
  let result;
  try {
    result = await trainModel(board, dir, images, { labels, learningRate, steps }, { timeoutMs: flags.timeout, simd: flags.simd ? undefined : false });
  } catch (e) {
    throw new UserError(`training on ${board.name} failed: ${(e as Error).message}`);
  }
  if (result.params.length !== training.paramsBytes) {
    throw new UserError(`training on ${board.name} returned ${result.params.length} parameter bytes; ${MANIFEST_FILE} says ${training.paramsBytes}`);
  }
  if (flags.dumpParams !== undefined) {
    try {
      writeFileSync(flags.dumpParams, result.params);
    } catch (e) {
      throw new UserError(`cannot write --dump-params file '${flags.dumpParams}': ${(e as NodeJS.ErrnoException).code ?? (e as Error).message}`);
    }
  }
  const summary = {
    target: board.name,
    steps,
    learningRate,
    labels,
    losses: result.losses,
    instructionsPerStep: result.instructions,
    peakSramBytes: training.peakSramBytes,
    paramsBytes: training.paramsBytes,
    flashBytes: result.flashBytes,
    sramBytes: result.sramBytes,
    stackBytes: result.stackBytes,
    ...(board.kind === 'wasm' ? { msPerStep: result.msPerStep ?? null } : {}),
  };
  if (flags.json) {
    process.stdout.write(JSON.stringify(summary) + '\n');
    return;
  }
  const lines = [`${manifest.model} on ${board.name} (${board.description}): ${steps} training steps, learning rate ${flags.lr ?? DEFAULT_LEARNING_RATE}`];
  if (flags.input.length === 0) lines.push('no --input given: trained on one all-zero image');
  result.losses.forEach((loss, step) => {
    const count = result.instructions?.[step];
    lines.push(`step ${step}: image ${step % images.length}, label ${labels[step % images.length]}, loss ${loss}${count !== undefined ? `, ${count.toLocaleString('en-US')} instructions` : ''}`);
  });
  lines.push(`peak SRAM of a step: ${training.peakSramBytes} B (planner: arena ${manifest.arenaBytes} B + trainable parameters ${training.paramsBytes} B)`);
  if (result.flashBytes !== null) lines.push(`image flash: ${result.flashBytes} B, image SRAM: ${result.sramBytes} B (from the linker)`);
  if (result.stackBytes !== null) lines.push(`stack used: ${result.stackBytes} B`);
  if (result.msPerStep !== undefined) lines.push(`time: ${result.msPerStep.toFixed(4)} ms per training step (this Node.js)`);
  if (flags.dumpParams !== undefined) lines.push(`wrote ${result.params.length} parameter bytes to ${flags.dumpParams}`);
  process.stdout.write(lines.join('\n') + '\n');
}
