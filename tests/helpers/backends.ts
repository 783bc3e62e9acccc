/** @fileoverview Runs a graph on the compiled backends, for tests that compare them with the reference. */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { Graph } from '../../compiler/ir/graph.ts';
import type { Rounding } from '../../compiler/ops/common/fixed_point.ts';
import { compileGraph } from '../../compiler/compile.ts';
import { writeOutputDir } from '../../compiler/output.ts';
import { getBoard } from '../../targets/boards.ts';
import type { TargetName } from '../../targets/boards.ts';
import { runModel } from '../../targets/run.ts';
import { concatBytes } from './shared.ts';

export interface BackendRun {
  /** [run#][output#] raw output bytes. */
  readonly outputs: Uint8Array[][];
  readonly instructions: number[] | null;
}

/** One run's input: the bytes of the model's only input, or one byte array per model input. */
export type RunInput = Uint8Array | readonly Uint8Array[];

/** Compiles `graph` for `target`, builds it and runs every input set in one program. */
export async function runCompiled(
  graph: Graph,
  runs: readonly RunInput[],
  target: TargetName,
  rounding: Rounding = 'double',
  options: { simd?: boolean } = {},
): Promise<BackendRun> {
  const board = getBoard(target);
  const dir = mkdtempSync(join(tmpdir(), 'tinyforge-test-'));
  try {
    const compiled = await compileGraph(graph, { board, rounding });
    const modelDir = join(dir, 'model');
    writeOutputDir(modelDir, compiled.files);
    const result = await runModel(board, modelDir, runs.map((r) => (r instanceof Uint8Array ? r : concatBytes(r))), { sanitize: target === 'host', simd: options.simd });
    return {
      outputs: result.outputs.map((perRun) => perRun.map((o) => new Uint8Array(o.buffer, o.byteOffset, o.byteLength))),
      instructions: result.instructions,
    };
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

function firstDifference(a: Uint8Array[][], b: Uint8Array[][]): string | null {
  for (let run = 0; run < a.length; run++) {
    for (let out = 0; out < a[run]!.length; out++) {
      const x = a[run]![out]!;
      const y = b[run]?.[out];
      if (!y || y.length !== x.length) return `run ${run} output ${out}: ${x.length} bytes vs ${y?.length ?? 'none'}`;
      const i = x.findIndex((v, k) => v !== y[k]);
      if (i >= 0) return `run ${run} output ${out} byte ${i}: ${(x[i]! << 24) >> 24} vs ${(y[i]! << 24) >> 24}`;
    }
  }
  return null;
}

/**
 * Host C build (AddressSanitizer, UBSan) and both wasm builds (SIMD and scalar) of the same graph; throws unless
 * all three give the same bytes. Returns the [run#][output#] bytes.
 */
export async function runHostAndWasm(graph: Graph, runs: readonly RunInput[], options: { rounding?: Rounding } = {}): Promise<Uint8Array[][]> {
  const rounding = options.rounding ?? 'double';
  const host = (await runCompiled(graph, runs, 'host', rounding)).outputs;
  for (const simd of [true, false]) {
    const wasm = (await runCompiled(graph, runs, 'wasm', rounding, { simd })).outputs;
    const diff = firstDifference(host, wasm);
    if (diff) throw new Error(`${graph.name}: wasm (${simd ? 'SIMD' : 'scalar'}, ${rounding} rounding) differs from host C at ${diff}`);
  }
  return host;
}
