/**
 * `npm run bench`: for each MLPerf Tiny model, instructions per inference on cortex-m4 (QEMU
 * -icount, deterministic), arena bytes, flash and SRAM of the linked image, MACs per
 * instruction, and the same figures for TFLite Micro + CMSIS-NN as ratios; the same figures for the
 * paper's three ONNX models on cortex-m7 (the paper's STM32F746 core); their training step under each published
 * sparse-update scheme; then the wasm module's median time per inference in this Node.js against the TFLite
 * WebAssembly runtime.
 */
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { loadModelFile } from '../compiler/load_model.ts';
import { tensorBytes } from '../compiler/ir/graph.ts';
import { compileGraph } from '../compiler/compile.ts';
import { writeOutputDir } from '../compiler/output.ts';
import { getBoard } from '../targets/boards.ts';
import { runModel } from '../targets/run.ts';
import { SHARED } from '../tests/helpers/shared.ts';
import { measureWasmSpeed } from './wasm_speed.ts';
import { measureTraining } from './training.ts';

/** TFLM + CMSIS-NN on the same QEMU core, measured by the same method (shared/notes/peers.md). */
const PEERS: Readonly<Record<string, { instructions: number; arena: number; flash: number; sram: number }>> = {
  kws_ref_model: { instructions: 7_697_400, arena: 22_820, flash: 168_860, sram: 23_528 },
  pretrainedResnet_quant: { instructions: 29_862_320, arena: 54_996, flash: 208_228, sram: 55_704 },
  vww_96_int8: { instructions: 24_101_960, arena: 100_708, flash: 448_212, sram: 101_416 },
};

const MODELS = ['kws_ref_model', 'pretrainedResnet_quant', 'vww_96_int8'];
const PAPER_MODELS = ['mcunet-5fps', 'mbv2-w0.35', 'proxyless-w0.3'];

interface Row {
  model: string;
  instructions: number;
  arena: number;
  lowerBound: number;
  flash: number;
  sram: number;
  macs: number;
  compileMs: number;
}

/** Compiles `path` for `target` with the rounding its format calls for and runs `input` (zeros if absent) once. */
async function measure(model: string, path: string, target: string, input: Uint8Array | null): Promise<Row> {
  const board = getBoard(target);
  const started = performance.now();
  const graph = loadModelFile(path);
  const compiled = await compileGraph(graph, { board, rounding: graph.rounding ?? 'double' });
  const compileMs = performance.now() - started;
  const dir = mkdtempSync(join(tmpdir(), 'tinyforge-bench-'));
  try {
    writeOutputDir(join(dir, 'model'), compiled.files);
    const zeros = () => new Uint8Array(graph.inputs.reduce((n, id) => n + tensorBytes(graph.tensors[id]!), 0));
    const run = await runModel(board, join(dir, 'model'), [input ?? zeros()]);
    return {
      model,
      instructions: run.instructions![0]!,
      arena: compiled.report.arenaBytes,
      lowerBound: compiled.report.lowerBoundBytes,
      flash: run.flashBytes!,
      sram: run.sramBytes!,
      macs: compiled.report.macs,
      compileMs,
    };
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

const fmt = (n: number) => n.toLocaleString('en-US');
const ratio = (ours: number, theirs: number) => `${(ours / theirs).toFixed(2)}x`;

const rows: Row[] = [];
for (const model of MODELS) {
  const input = readFileSync(join(SHARED, 'golden/tflm', model, 'input0.bin'));
  rows.push(await measure(model, join(SHARED, 'models/mlperf-tiny', `${model}.tflite`), 'cortex-m4', input));
}

const lines = [
  '| model | instructions / inference | vs TFLM+CMSIS-NN | MACs / instruction | arena B (lower bound) | vs TFLM | image flash B | vs TFLM | image SRAM B | vs TFLM | compile ms |',
  '|---|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|',
  ...rows.map((r) => {
    const p = PEERS[r.model]!;
    return `| ${r.model} | ${fmt(r.instructions)} | ${ratio(r.instructions, p.instructions)} | ${(r.macs / r.instructions).toFixed(3)} | ${fmt(r.arena)} (${fmt(r.lowerBound)}) | ${ratio(r.arena, p.arena)} | ${fmt(r.flash)} | ${ratio(r.flash, p.flash)} | ${fmt(r.sram)} | ${ratio(r.sram, p.sram)} | ${r.compileMs.toFixed(0)} |`;
  }),
];
process.stdout.write(`cortex-m4 (QEMU mps2-an386, -icount shift=0), input: golden input0; ratios < 1 mean tinyforge uses less\n\n${lines.join('\n')}\n`);

const paperRows: Row[] = [];
for (const model of PAPER_MODELS) paperRows.push(await measure(model, join(SHARED, 'models/paper', `${model}.qdq.onnx`), 'cortex-m7', null));
const paperLines = [
  '| model | instructions / inference | MACs | MACs / instruction | arena B (lower bound) | image flash B | image SRAM B | compile ms |',
  '|---|---:|---:|---:|---:|---:|---:|---:|',
  ...paperRows.map(
    (r) => `| ${r.model} | ${fmt(r.instructions)} | ${fmt(r.macs)} | ${(r.macs / r.instructions).toFixed(3)} | ${fmt(r.arena)} (${fmt(r.lowerBound)}) | ${fmt(r.flash)} | ${fmt(r.sram)} | ${r.compileMs.toFixed(0)} |`,
  ),
];
process.stdout.write(
  `\npaper models (ONNX QDQ, 1x3x128x128 NCHW int8, rounding 'float32'), inference on cortex-m7 (QEMU mps2-an500, -icount shift=0), input: zeros; ` +
    `budget 262,144 B SRAM / 1,048,576 B flash, linker-enforced\n\n${paperLines.join('\n')}\n`,
);

/**
 * The paper's figures (../shared/models/paper/README.md): peak memory with sparse update and reordering, and the
 * milliseconds per step on an STM32F746, whose cycles at 216 MHz the table gives.
 */
const PAPER_TRAINING: Readonly<Record<string, { peakKb: number; ms: number }>> = {
  'mcunet-5fps': { peakKb: 173, ms: 546 },
  'mbv2-w0.35': { peakKb: 141, ms: 373 },
  'proxyless-w0.3': { peakKb: 135, ms: 443 },
};
const STM32F746_HZ = 216e6;
const trainingLines = [
  '| model | scheme | peak SRAM B (planner) | of which parameters | peak during | image SRAM B | image flash B | instructions / step (zero image) | (Fashion-MNIST image) | paper: peak KB, cycles / step |',
  '|---|---|---:|---:|---|---:|---:|---:|---:|---:|',
];
for (const model of PAPER_MODELS) {
  for (const r of await measureTraining(join(SHARED, 'models/paper'), model)) {
    const paper = PAPER_TRAINING[model]!;
    const run = r.run ? `${fmt(r.run.sram)} | ${fmt(r.run.flash)} | ${fmt(r.run.instructions)} | ${fmt(r.run.realInstructions)}` : `over budget: needs ${fmt(r.sramNeeded)} | - | - | -`;
    trainingLines.push(`| ${r.model} | ${r.scheme} | ${fmt(r.peakSram)} | ${fmt(r.stateBytes)} | ${r.peakAt} | ${run} | ${paper.peakKb} KB, ${fmt((paper.ms / 1000) * STM32F746_HZ)} |`);
  }
}
process.stdout.write(
  `\ntraining step of the paper models, each published scheme (schemes.json), new 10-class head, on cortex-m7 (QEMU mps2-an500); ` +
    `instructions of the second step, with a zero image and with the first Fashion-MNIST training image (upsampled, grey), lr 0.01\n\n${trainingLines.join('\n')}\n`,
);

const speeds = [];
for (const model of MODELS) {
  speeds.push(await measureWasmSpeed(join(SHARED, 'models/mlperf-tiny', `${model}.tflite`), join(SHARED, 'golden/tflm', model, 'input0.bin')));
}
const ms = (x: number) => x.toFixed(3);
const wasmLines = [
  '| model | tinyforge wasm SIMD ms | tinyforge wasm scalar ms | TFLite WASM (SIMD, XNNPACK) ms | ratio SIMD / TFLite (median of rounds) | model.wasm B |',
  '|---|---:|---:|---:|---:|---:|',
  ...speeds.map((s) => `| ${s.model} | ${ms(s.simdMs)} | ${ms(s.scalarMs)} | ${ms(s.tfliteMs)} | ${s.ratio.toFixed(2)}x | ${fmt(s.wasmBytes)} |`),
];
process.stdout.write(
  `\nwasm: median ms per inference, single-threaded, Node.js ${process.version}, same input, alternating rounds; ratios < 1 mean tinyforge is faster\n\n${wasmLines.join('\n')}\n`,
);
