/**
 * @fileoverview Runs a built program on its board (QEMU system emulation with semihosting, natively
 * for host, in this Node.js for wasm) and runs a whole model directory end to end: inputs in,
 * outputs, instruction counts (or time, for wasm) and memory figures out.
 */
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

import type { Board } from './boards.ts';
import { buildProgram, type BuildOptions, type BuildResult } from './build.ts';
import { parseHarnessOutput, parseTrainingOutput, renderRunInputs, type InputBytes, type TrainingRun } from './harness/protocol.ts';
import { readModelHeader, type ModelHeader } from './model_header.ts';
import { runTool } from './tools.ts';
import { runWasmModel, runWasmTraining } from './wasm/run_node.ts';

export interface RunOptions {
  /** The guest is killed after this long; the default is generous for a big model under QEMU. */
  readonly timeoutMs?: number;
}

export interface RunResult {
  readonly stdout: string;
  readonly stderr: string;
  /** The program's exit status (QEMU forwards the guest's through semihosting SYS_EXIT_EXTENDED). */
  readonly exitCode: number;
}

const DEFAULT_TIMEOUT_MS = 120_000;

/**
 * QEMU flags: `-icount shift=0` makes one guest instruction exactly 1 ns of virtual time, which
 * is what the harness's timer reads turn into instruction counts (and what makes them repeat).
 */
function qemuArgs(board: Board, executable: string): string[] {
  if (!board.qemuMachine) {
    throw new Error(`${board.name}: board descriptor names no QEMU machine`);
  }
  return [
    '-M', board.qemuMachine,
    '-nographic',
    '-monitor', 'none',
    '-semihosting-config', 'enable=on,target=native',
    '-icount', 'shift=0',
    '-kernel', executable,
  ];
}

/** Runs to completion; a non-zero exit is returned, a timeout throws. */
export async function runProgram(board: Board, executable: string, options: RunOptions = {}): Promise<RunResult> {
  const timeoutMs = options.timeoutMs ?? DEFAULT_TIMEOUT_MS;
  const result =
    board.kind === 'host'
      ? await runTool(executable, [], { timeoutMs })
      : await runTool('qemu-system-arm', qemuArgs(board, executable), { timeoutMs });
  if (result.timedOut) {
    throw new Error(`${board.name}: ${executable} timed out after ${timeoutMs} ms and was killed`);
  }
  return { stdout: result.stdout, stderr: result.stderr, exitCode: result.exitCode };
}

export interface RunModelOptions extends RunOptions {
  readonly optimize?: BuildOptions['optimize'];
  readonly sanitize?: boolean;
  readonly extraSources?: readonly string[];
  readonly includeDirs?: readonly string[];
  /** Leave the temporary build directory in place (its path is in error messages). */
  readonly keepWorkDir?: boolean;
  /** wasm: run the SIMD build (default: when Node has SIMD) or the scalar one. */
  readonly simd?: boolean;
  /** wasm: also time the first input (median ms per inference). */
  readonly measure?: boolean;
}

export interface ModelRun {
  /** [input#][output#] */
  readonly outputs: Int8Array[][];
  /** Guest instructions per tf_model_invoke, per input (to 40 on mps2, 31.25 on mps3); null on host. */
  readonly instructions: number[] | null;
  /** Deepest stack of tf_model_invoke below its caller, over all inputs; null on host. */
  readonly stackBytes: number | null;
  /** Deepest use of the whole stack reservation (harness + newlib printf included); null on host. */
  readonly stackTotalBytes: number | null;
  /** See build.ts for exactly what these count; null on host. */
  readonly flashBytes: number | null;
  readonly sramBytes: number | null;
  /** wasm only: median ms per inference of the first input (when measured), which build ran and its size. */
  readonly msPerInference?: number | null;
  readonly simd?: boolean;
  readonly wasmBytes?: number;
}

/** A program that ran but failed: non-zero exit (invoke error, CPU fault, stack overflow). */
export class RunError extends Error {
  constructor(
    message: string,
    readonly exitCode: number,
    readonly stdout: string,
    readonly stderr: string,
  ) {
    super(message);
    this.name = 'RunError';
  }
}

/** Exit statuses of targets/harness/main.c and targets/cortex-m/startup.c. */
const EXIT_MEANINGS: Readonly<Record<number, string>> = {
  1: 'tf_model_invoke returned non-zero',
  2: 'CPU fault',
  3: 'stack overflow',
  4: 'tf_model_train_step rejected a label',
  134: 'QEMU aborted (CPU lockup?)',
};

export async function runModel(
  board: Board,
  modelDir: string,
  inputs: readonly InputBytes[],
  options: RunModelOptions = {},
): Promise<ModelRun> {
  if (inputs.length === 0) {
    throw new Error('runModel needs at least one input');
  }
  if (board.kind === 'wasm') {
    const run = await runWasmModel(modelDir, inputs.map((i) => new Uint8Array(i.buffer, i.byteOffset, i.byteLength)), options);
    return { outputs: run.outputs, instructions: null, stackBytes: null, stackTotalBytes: null, flashBytes: null, sramBytes: null, msPerInference: run.msPerInference, simd: run.simd, wasmBytes: run.wasmBytes };
  }
  const header = await readModelHeader(modelDir);
  checkInputSizes(header, modelDir, inputs);
  const { stdout, build } = await buildAndRun(board, modelDir, renderRunInputs(header, inputs), options);
  return { ...parseHarnessOutput(stdout, header, inputs.length), flashBytes: build.flashBytes, sramBytes: build.sramBytes };
}

export interface ModelTraining {
  /** Per step, exactly the float32 tf_model_train_step returned. */
  readonly losses: number[];
  /** Guest instructions of each tf_model_train_step; null on host and wasm. */
  readonly instructions: number[] | null;
  /** The trainable parameters after the last step, in the order model.h documents. */
  readonly params: Uint8Array;
  readonly stackBytes: number | null;
  readonly stackTotalBytes: number | null;
  readonly flashBytes: number | null;
  readonly sramBytes: number | null;
  /** wasm only: mean ms per training step in this Node.js. */
  readonly msPerStep?: number;
}

/** Builds a --train model directory with the harness in training mode and runs `training.steps` steps. */
export async function trainModel(
  board: Board,
  modelDir: string,
  inputs: readonly InputBytes[],
  training: TrainingRun,
  options: RunModelOptions = {},
): Promise<ModelTraining> {
  if (inputs.length === 0) {
    throw new Error('trainModel needs at least one input');
  }
  if (board.kind === 'wasm') {
    const images = inputs.map((i) => new Uint8Array(i.buffer, i.byteOffset, i.byteLength));
    const run = await runWasmTraining(modelDir, images, training.labels, training.learningRate, training.steps, { simd: options.simd });
    return { ...run, instructions: null, stackBytes: null, stackTotalBytes: null, flashBytes: null, sramBytes: null };
  }
  const header = await readModelHeader(modelDir);
  if (!header.training) {
    throw new Error(`${modelDir}/model.h declares no training step (TF_MODEL_PARAMS_BYTES): compile the model with --train`);
  }
  checkInputSizes(header, modelDir, inputs);
  const { stdout, build } = await buildAndRun(board, modelDir, renderRunInputs(header, inputs, training), options);
  return { ...parseTrainingOutput(stdout, training.steps, header.training.paramsBytes), flashBytes: build.flashBytes, sramBytes: build.sramBytes };
}

function checkInputSizes(header: ModelHeader, modelDir: string, inputs: readonly InputBytes[]): void {
  inputs.forEach((input, n) => {
    if (input.byteLength !== header.inputBytes) {
      throw new Error(`input ${n} has ${input.byteLength} bytes, but ${modelDir}/model.h declares TF_MODEL_INPUT_BYTES ${header.inputBytes}`);
    }
  });
}

/** Builds the harness with `runInputs` as its run_inputs.h in a temporary directory, runs it, and insists on exit status 0. */
async function buildAndRun(
  board: Board,
  modelDir: string,
  runInputs: string,
  options: RunModelOptions,
): Promise<{ stdout: string; build: BuildResult }> {
  const workDir = await mkdtemp(join(tmpdir(), `tinyforge-${board.name}-`));
  const keep = options.keepWorkDir ?? false;
  try {
    await writeFile(join(workDir, 'run_inputs.h'), runInputs);
    const build = await buildProgram(board, {
      sourceDir: modelDir,
      workDir,
      optimize: options.optimize,
      sanitize: options.sanitize,
      extraSources: options.extraSources,
      includeDirs: options.includeDirs,
    });
    const run = await runProgram(board, build.executable, { timeoutMs: options.timeoutMs });
    if (run.exitCode !== 0) {
      const meaning = EXIT_MEANINGS[run.exitCode];
      throw new RunError(
        `${board.name}: the model program exited with status ${run.exitCode}${meaning ? ` (${meaning})` : ''}\n${run.stderr}`,
        run.exitCode,
        run.stdout,
        run.stderr,
      );
    }
    return { stdout: run.stdout, build };
  } catch (error) {
    if (keep && error instanceof Error) {
      error.message += `\n(build directory kept: ${workDir})`;
    }
    throw error;
  } finally {
    if (!keep) {
      await rm(workDir, { recursive: true, force: true });
    }
  }
}
