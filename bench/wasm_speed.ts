/**
 * @fileoverview WASM speed, side by side in one process: our module (through its generated wrapper, SIMD and scalar
 * builds) against the TFLite WebAssembly runtime from @tensorflow/tfjs-tflite at its fastest single-threaded
 * setting (SIMD build, XNNPACK on, as shipped), on the same model and input. Rounds alternate between the two so
 * that machine noise hits both alike; the figure is the median over every timed inference.
 */
import { mkdtempSync, readFileSync, rmSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { pathToFileURL } from 'node:url';
import { loadModelFile } from '../compiler/load_model.ts';
import { compileGraph } from '../compiler/compile.ts';
import { writeOutputDir } from '../compiler/output.ts';
import { getBoard } from '../targets/boards.ts';
import { createTfliteRuntime } from '../tests/oracles/tflite_runtime.ts';
import type { TfliteRuntime } from '../tests/oracles/tflite_runtime.ts';

export interface WasmSpeed {
  readonly model: string;
  readonly simdMs: number;
  readonly scalarMs: number;
  readonly tfliteMs: number;
  readonly wasmBytes: number;
}

const WARMUP = 50;
const ROUNDS = 10;
const RUNS_PER_ROUND = 100;

interface Invoker {
  (): void;
}

function median(xs: number[]): number {
  const s = [...xs].sort((a, b) => a - b);
  const mid = s.length >> 1;
  return s.length % 2 ? s[mid]! : (s[mid - 1]! + s[mid]!) / 2;
}

function timeRound(invoke: Invoker, into: number[]): void {
  for (let i = 0; i < RUNS_PER_ROUND; i++) {
    const t0 = performance.now();
    invoke();
    into.push(performance.now() - t0);
  }
}

/** Medians of each contender, timed in alternating rounds. */
function race(contenders: readonly Invoker[]): number[] {
  for (const invoke of contenders) for (let i = 0; i < WARMUP; i++) invoke();
  const times = contenders.map(() => [] as number[]);
  for (let r = 0; r < ROUNDS; r++) contenders.forEach((invoke, k) => timeRound(invoke, times[k]!));
  return times.map(median);
}

interface Wrapper {
  load(options: { simd: boolean }): Promise<{ invoke(input: Int8Array): unknown }>;
}

let tflite: Promise<TfliteRuntime> | undefined;

export async function measureWasmSpeed(modelPath: string, inputPath: string): Promise<WasmSpeed> {
  const graph = loadModelFile(modelPath);
  const compiled = await compileGraph(graph, { board: getBoard('wasm'), rounding: 'double' });
  const dir = mkdtempSync(join(tmpdir(), 'tinyforge-bench-wasm-'));
  try {
    writeOutputDir(join(dir, 'model'), compiled.files);
    const wrapper = (await import(pathToFileURL(join(dir, 'model', 'model.js')).href)) as Wrapper;
    const simd = await wrapper.load({ simd: true });
    const scalar = await wrapper.load({ simd: false });
    const inputBytes = readFileSync(inputPath);
    const input = new Int8Array(inputBytes.buffer, inputBytes.byteOffset, inputBytes.byteLength);
    tflite ??= createTfliteRuntime({ simd: true, xnnpack: true });
    const session = (await tflite).open(readFileSync(modelPath));
    try {
      session.setInputs([inputBytes]);
      const [simdMs, scalarMs, tfliteMs] = race([() => simd.invoke(input), () => scalar.invoke(input), () => session.infer()]);
      return { model: graph.name, simdMs: simdMs!, scalarMs: scalarMs!, tfliteMs: tfliteMs!, wasmBytes: statSync(join(dir, 'model', 'model.wasm')).size };
    } finally {
      session.close();
    }
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}
