/** @fileoverview What each CLI command does, on top of the compiler, the output writer and the target runners. */
import { existsSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { analyze, compileGraph, MANIFEST_FILE } from '../compile.ts';
import type { Manifest } from '../compile.ts';
import type { CompileReport } from '../report.ts';
import { loadModelFile } from '../load_model.ts';
import { writeOutputDir } from '../output.ts';
import type { Rounding } from '../ops/common/fixed_point.ts';
import type { Graph } from '../ir/graph.ts';
import type { InputLayout } from '../frontend/onnx/import.ts';
import { UserError } from '../errors.ts';
import { getBoard, withBudget } from '../../targets/boards.ts';
import type { Board } from '../../targets/boards.ts';
import { runModel } from '../../targets/run.ts';

interface CompileFlags {
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

/** The model, and the rounding to compile it with: the user's, else the one its format calls for. */
function loadModel(model: string, flags: { rounding?: Rounding; inputLayout?: InputLayout }): { graph: Graph; rounding: Rounding } {
  const graph = loadModelFile(model, { inputLayout: flags.inputLayout });
  return { graph, rounding: flags.rounding ?? graph.rounding ?? 'double' };
}

export async function compileCommand(model: string, flags: CompileFlags): Promise<void> {
  const { graph, rounding } = loadModel(model, flags);
  const board = boardFor(flags);
  if (flags.wat && board.kind !== 'wasm') throw new UserError(`--wat needs --target wasm (target is ${board.name})`);
  const layout = flags.inputLayout ? ` --input-layout ${flags.inputLayout}` : '';
  const compiled = await compileGraph(graph, {
    board,
    rounding,
    wat: flags.wat,
    commandLine: `tinyforge compile ${model} --target ${flags.target} --rounding ${rounding}${layout}`,
  });
  writeOutputDir(flags.out, compiled.files);
  if (flags.json) process.stdout.write(JSON.stringify({ out: flags.out, ...reportJson(compiled.report), ...(compiled.wasm ? { wasm: compiled.wasm } : {}) }) + '\n');
  else process.stdout.write(`${compiled.report.text}\nwrote ${compiled.files.length} files to ${flags.out}\n`);
}

export async function inspectCommand(model: string, flags: { target: string; rounding?: Rounding; inputLayout?: InputLayout; json?: boolean }): Promise<void> {
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
}

function readManifest(dir: string): Manifest {
  const path = join(dir, MANIFEST_FILE);
  if (!existsSync(path)) throw new UserError(`${dir} is not a tinyforge output folder (no ${MANIFEST_FILE}); run \`tinyforge compile\` first`);
  return JSON.parse(readFileSync(path, 'utf8')) as Manifest;
}

function readInputs(files: readonly string[], manifest: Manifest): Uint8Array[] {
  const expected = manifest.inputs.reduce((a, i) => a + i.bytes, 0);
  const layout = manifest.inputs.map((i) => `${i.name} [${i.shape.join('x')}] ${i.dtype}`).join(' + ');
  if (files.length === 0) return [new Uint8Array(expected)];
  return files.map((file) => {
    let bytes: Uint8Array;
    try {
      bytes = readFileSync(file);
    } catch (e) {
      throw new UserError(`cannot read input file '${file}': ${(e as NodeJS.ErrnoException).code ?? (e as Error).message}`);
    }
    if (bytes.length !== expected) throw new UserError(`input file '${file}' has ${bytes.length} bytes; the model's input ${layout} needs ${expected}`);
    return bytes;
  });
}

export async function runCommand(dir: string, flags: RunFlags): Promise<void> {
  const manifest = readManifest(dir);
  const board = getBoard(flags.target ?? manifest.target);
  if ((board.kind === 'wasm') !== (manifest.target === 'wasm')) {
    throw new UserError(`${dir} was compiled for ${manifest.target} and cannot run on ${board.name}: recompile with --target ${board.name}`);
  }
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
