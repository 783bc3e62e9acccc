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

export interface BackendRun {
  /** [run#][output#] raw output bytes. */
  readonly outputs: Uint8Array[][];
  readonly instructions: number[] | null;
}

function concat(parts: readonly Uint8Array[]): Uint8Array {
  const out = new Uint8Array(parts.reduce((a, p) => a + p.length, 0));
  let at = 0;
  for (const p of parts) {
    out.set(p, at);
    at += p.length;
  }
  return out;
}

/** One run's input: the bytes of the model's only input, or one byte array per model input. */
export type RunInput = Uint8Array | readonly Uint8Array[];

/** Compiles `graph` for `target`, builds it and runs every input set in one program. */
export async function runCompiled(graph: Graph, runs: readonly RunInput[], target: TargetName, rounding: Rounding = 'double'): Promise<BackendRun> {
  const board = getBoard(target);
  const dir = mkdtempSync(join(tmpdir(), 'tinyforge-test-'));
  try {
    const compiled = compileGraph(graph, { board, rounding });
    const modelDir = join(dir, 'model');
    writeOutputDir(modelDir, compiled.files);
    const result = await runModel(board, modelDir, runs.map((r) => (r instanceof Uint8Array ? r : concat(r))), { sanitize: target === 'host' });
    return {
      outputs: result.outputs.map((perRun) => perRun.map((o) => new Uint8Array(o.buffer, o.byteOffset, o.byteLength))),
      instructions: result.instructions,
    };
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

/** Host C build with AddressSanitizer and UBSan; returns [run#][output#] bytes. */
export async function runHostC(graph: Graph, runs: readonly RunInput[], options: { rounding?: Rounding } = {}): Promise<Uint8Array[][]> {
  return (await runCompiled(graph, runs, 'host', options.rounding ?? 'double')).outputs;
}
