/**
 * @fileoverview Runs a wasm build in this Node.js process through its own generated wrapper (model.js), exactly as
 * a user's code would, and times it: the median of repeated inferences after a warm-up. A training build runs
 * training steps instead.
 */
import { readFile, stat } from 'node:fs/promises';
import { join } from 'node:path';
import { pathToFileURL } from 'node:url';
import type { Manifest } from '../../compiler/compile.ts';
import { MANIFEST_FILE } from '../../compiler/compile.ts';
import { SCALAR_WASM_FILE, SIMD_WASM_FILE, TYPED_ARRAY } from '../../compiler/backend/wasm/wrapper.ts';
import type { DType } from '../../compiler/ir/dtype.ts';

export interface WasmRunOptions {
  /** Default: SIMD when this Node has it. */
  readonly simd?: boolean;
  /** Also time the first input: its median ms per inference. */
  readonly measure?: boolean;
}

export interface WasmRun {
  /** [input#][output#] raw output bytes. */
  readonly outputs: Int8Array[][];
  readonly simd: boolean;
  readonly msPerInference: number | null;
  /** Size of the module that ran. */
  readonly wasmBytes: number;
}

/** What the generated model.d.ts declares, as far as the runner needs it. */
interface LoadedModel {
  readonly simd: boolean;
  invoke(...inputs: ArrayBufferView[]): ArrayBufferView | ArrayBufferView[];
}
interface WrapperModule {
  load(options?: { simd?: boolean }): Promise<LoadedModel>;
}
interface TrainableModel extends LoadedModel {
  trainStep?(input: ArrayBufferView, label: number, lr: number): number;
  params?(): Uint8Array;
}

const WARMUP_RUNS = 20;
const MIN_TIMED_RUNS = 30;
const MAX_TIMED_RUNS = 2000;
const TIMING_BUDGET_MS = 1000;

export function median(xs: readonly number[]): number {
  const s = [...xs].sort((a, b) => a - b);
  const mid = s.length >> 1;
  return s.length % 2 ? s[mid]! : (s[mid - 1]! + s[mid]!) / 2;
}

/** Splits one run's concatenated input bytes into the typed arrays the wrapper takes (copies: aligned). */
function splitInputs(bytes: Uint8Array, tensors: Manifest['inputs']): ArrayBufferView[] {
  let at = 0;
  return tensors.map((t) => {
    const Typed = TYPED_ARRAY[t.dtype as DType];
    if (!Typed) throw new Error(`input ${t.name} has dtype ${t.dtype}, which the wasm runner cannot pass`);
    const view = new Typed(bytes.slice(at, at + t.bytes).buffer);
    at += t.bytes;
    return view;
  });
}

const asBytes = (v: ArrayBufferView): Int8Array => new Int8Array(v.buffer, v.byteOffset, v.byteLength);

async function loadWrapper(dir: string, simd: boolean | undefined): Promise<LoadedModel> {
  const wrapperPath = join(dir, 'model.js');
  // The query string defeats the ES module cache when a folder is rebuilt within one process.
  const { mtimeMs } = await stat(wrapperPath);
  const wrapper = (await import(`${pathToFileURL(wrapperPath).href}?v=${mtimeMs}`)) as WrapperModule;
  return wrapper.load(simd === undefined ? {} : { simd });
}

export async function runWasmModel(dir: string, inputs: readonly Uint8Array[], options: WasmRunOptions = {}): Promise<WasmRun> {
  const manifest = JSON.parse(await readFile(join(dir, MANIFEST_FILE), 'utf8')) as Manifest;
  const model = await loadWrapper(dir, options.simd);
  const sets = inputs.map((bytes) => splitInputs(bytes, manifest.inputs));
  const outputs = sets.map((set) => {
    const result = model.invoke(...set);
    return (Array.isArray(result) ? result : [result]).map(asBytes);
  });
  let msPerInference: number | null = null;
  if (options.measure) {
    const first = sets[0]!;
    for (let i = 0; i < WARMUP_RUNS; i++) model.invoke(...first);
    const times: number[] = [];
    const started = performance.now();
    while (times.length < MIN_TIMED_RUNS || (times.length < MAX_TIMED_RUNS && performance.now() - started < TIMING_BUDGET_MS)) {
      const t0 = performance.now();
      model.invoke(...first);
      times.push(performance.now() - t0);
    }
    msPerInference = median(times);
  }
  const wasmFile = join(dir, model.simd ? SIMD_WASM_FILE : SCALAR_WASM_FILE);
  return { outputs, simd: model.simd, msPerInference, wasmBytes: (await stat(wasmFile)).size };
}

export interface WasmTraining {
  /** The loss of each step. */
  readonly losses: number[];
  /** The trainable parameters after the last step, in the wrapper's `parameters` order. */
  readonly params: Uint8Array;
  /** Mean wall-clock ms per training step. */
  readonly msPerStep: number;
}

/**
 * Runs `steps` training steps of a --train build, step i on inputs[i % inputs.length] (the image bytes) and
 * labels[i % labels.length], in one instance, so the parameters carry over from step to step.
 */
export async function runWasmTraining(
  dir: string, inputs: readonly Uint8Array[], labels: readonly number[], lr: number, steps: number, options: { simd?: boolean } = {},
): Promise<WasmTraining> {
  if (inputs.length === 0 || labels.length === 0) throw new Error('runWasmTraining needs at least one input and one label');
  const manifest = JSON.parse(await readFile(join(dir, MANIFEST_FILE), 'utf8')) as Manifest;
  const model = (await loadWrapper(dir, options.simd)) as TrainableModel;
  if (!model.trainStep || !model.params) throw new Error(`${dir}/model.js has no trainStep: compile the model with --train`);
  // The image is the first input of a training step (then label and learning rate).
  const images = inputs.map((bytes) => splitInputs(bytes, manifest.inputs.slice(0, 1))[0]!);
  const losses: number[] = [];
  const started = performance.now();
  for (let i = 0; i < steps; i++) losses.push(model.trainStep(images[i % images.length]!, labels[i % labels.length]!, lr));
  const msPerStep = steps > 0 ? (performance.now() - started) / steps : 0;
  return { losses, params: model.params(), msPerStep };
}
