/**
 * @fileoverview WASM speed, side by side in one process: our module (through its generated wrapper, SIMD and scalar
 * builds) against the TFLite WebAssembly runtime from @tensorflow/tfjs-tflite at its fastest single-threaded
 * setting (SIMD build, XNNPACK on, as shipped), on the same model and input. Rounds alternate between them so
 * that machine noise hits all alike: the times are medians over every timed inference, and the ratio is the median
 * of the per-round ratios, which drift between rounds cannot bias.
 */
import { mkdtempSync, readFileSync, rmSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { pathToFileURL } from 'node:url';
import { loadModelFile } from '../compiler/load_model.ts';
import { compileGraph } from '../compiler/compile.ts';
import { writeOutputDir } from '../compiler/output.ts';
import { getBoard } from '../targets/boards.ts';
import { median } from '../targets/wasm/run_node.ts';
import { createTfliteRuntime } from '../tests/oracles/tflite_runtime.ts';
import type { TfliteRuntime } from '../tests/oracles/tflite_runtime.ts';

export interface WasmSpeed {
  readonly model: string;
  readonly simdMs: number;
  readonly scalarMs: number;
  readonly tfliteMs: number;
  /** Median over rounds of (SIMD median / TFLite median) in that round. */
  readonly ratio: number;
  readonly wasmBytes: number;
}

const WARMUP = 50;
const ROUNDS = 25;
const RUNS_PER_ROUND = 60;

interface Invoker {
  (): void;
}

function timeRound(invoke: Invoker): number[] {
  const times: number[] = [];
  for (let i = 0; i < RUNS_PER_ROUND; i++) {
    const t0 = performance.now();
    invoke();
    times.push(performance.now() - t0);
  }
  return times;
}

/** Every contender's times, round by round ([contender][round][run]), in alternating rounds. */
function race(contenders: readonly Invoker[]): number[][][] {
  for (const invoke of contenders) for (let i = 0; i < WARMUP; i++) invoke();
  const times = contenders.map(() => [] as number[][]);
  for (let r = 0; r < ROUNDS; r++) contenders.forEach((invoke, k) => times[k]!.push(timeRound(invoke)));
  return times;
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
      const [simdRounds, scalarRounds, tfliteRounds] = race([() => simd.invoke(input), () => scalar.invoke(input), () => session.infer()]);
      const overall = (rounds: number[][]) => median(rounds.flat());
      const ratio = median(simdRounds!.map((times, r) => median(times) / median(tfliteRounds![r]!)));
      return {
        model: graph.name,
        simdMs: overall(simdRounds!),
        scalarMs: overall(scalarRounds!),
        tfliteMs: overall(tfliteRounds!),
        ratio,
        wasmBytes: statSync(join(dir, 'model', 'model.wasm')).size,
      };
    } finally {
      session.close();
    }
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}
