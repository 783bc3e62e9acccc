/**
 * The three int8 ImageNet models of the MCUNetV3 paper (mcunet-5fps, mbv2-w0.35, proxyless-w0.3), imported from their
 * ONNX QDQ files in ../shared/models/paper (see the README there for their semantics). For each model:
 *
 * - cross-target: the reference interpreter, host C, wasm SIMD and wasm scalar (8 inputs) and cortex-m7 / cortex-m4
 *   in QEMU (first 3 inputs) give the same bytes; the cortex-m7 build fits the default 256 KB SRAM / 1 MB flash.
 * - end to end against onnxruntime, on both the QDQ file and the exact file (plain float ops that reproduce the
 *   authors' integer arithmetic): every logit within 4 LSB and the same top-1 class (ties allowed, see `top1Agrees`).
 *   onnxruntime runs QDQ in float, so a 1-LSB flip in an early layer can grow through the later ones: hence the
 *   tolerance, and why the exact file is the stricter oracle.
 * - op by op against onnxruntime, on the first 2 inputs and both files: each op, fed onnxruntime's own int8 inputs,
 *   gives onnxruntime's output within 1 LSB per element.
 *
 * Each ONNX file gets one onnxruntime session (graph optimization disabled, every int8 tensor the IR names exposed as
 * an output), shared by the end-to-end and op-by-op checks. The figures (max |diff|, elements off, identical inputs,
 * 1-LSB counts per op type, budget) are printed after the run.
 */
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import type { Graph } from '../../compiler/ir/graph.ts';
import { elementCount } from '../../compiler/ir/graph.ts';
import type { TensorData } from '../../compiler/ir/dtype.ts';
import { allocData } from '../../compiler/ir/dtype.ts';
import type { Rounding } from '../../compiler/ops/common/fixed_point.ts';
import { opDef } from '../../compiler/ops/index.ts';
import { loadModelFile } from '../../compiler/load_model.ts';
import type { PreparedGraph, PreparedNode } from '../../compiler/passes/prepare.ts';
import { prepareGraph } from '../../compiler/passes/prepare.ts';
import { runReference } from '../../compiler/reference/interpreter.ts';
import { compileGraph } from '../../compiler/compile.ts';
import { Random } from '../../compiler/frontend/builder/random.ts';
import { DEFAULT_BUDGET, getBoard } from '../../targets/boards.ts';
import type { TargetName } from '../../targets/boards.ts';
import { runCompiled } from '../helpers/backends.ts';
import { decodeModel } from '../helpers/onnx_models.ts';
import { SHARED } from '../helpers/shared.ts';
import { exposeTensors, withOnnxSession } from '../oracles/onnxruntime.ts';
import type { NamedOutputs } from '../oracles/onnxruntime.ts';

const MODELS = ['mcunet-5fps', 'mbv2-w0.35', 'proxyless-w0.3'] as const;
type ModelName = (typeof MODELS)[number];
const ONNX_FILES = ['qdq', 'exact'] as const;
type OnnxFile = (typeof ONNX_FILES)[number];

const INPUT_NAME = 'input';
const CHANNELS = 3;
const SIZE = 128;
const CASES = 8;
/** QEMU runs ~100M instructions per input; 3 inputs keep the file within its time budget. */
const QEMU_CASES = 3;
const OP_CASES = 2;
const LOGIT_TOLERANCE = 4;
const OP_TOLERANCE = 1;
const INPUT_SEED = 20220608;
/** Ops that only move bytes between ONNX's NCHW and the IR's NHWC; the importer adds them, ONNX has no such tensors. */
const LAYOUT_OPS: ReadonlySet<string> = new Set(['Transpose', 'Reshape']);

/**
 * A smooth int8 NCHW image: per channel, a 9x9 grid of uniform int8 values, bilinearly upsampled so that grid node k
 * sits at pixel 127*k/8, then rounded. Uniform noise would make the logits nearly tied (top-1 by chance).
 */
function smoothImage(random: Random): Int8Array {
  const GRID = 9;
  const image = new Int8Array(CHANNELS * SIZE * SIZE);
  for (let c = 0; c < CHANNELS; c++) {
    const grid = random.int8Array(GRID * GRID);
    const at = (gy: number, gx: number) => grid[gy * GRID + gx]!;
    for (let y = 0; y < SIZE; y++) {
      const fy = (y * (GRID - 1)) / (SIZE - 1);
      const y0 = Math.min(GRID - 2, Math.floor(fy));
      const ty = fy - y0;
      for (let x = 0; x < SIZE; x++) {
        const fx = (x * (GRID - 1)) / (SIZE - 1);
        const x0 = Math.min(GRID - 2, Math.floor(fx));
        const tx = fx - x0;
        const top = (1 - tx) * at(y0, x0) + tx * at(y0, x0 + 1);
        const bottom = (1 - tx) * at(y0 + 1, x0) + tx * at(y0 + 1, x0 + 1);
        image[(c * SIZE + y) * SIZE + x] = Math.round((1 - ty) * top + ty * bottom);
      }
    }
  }
  return image;
}

const inputRandom = new Random(INPUT_SEED);
const INPUTS: readonly Int8Array[] = Array.from({ length: CASES }, () => smoothImage(inputRandom));
const INPUT_BYTES: readonly Uint8Array[] = INPUTS.map((x) => new Uint8Array(x.buffer, x.byteOffset, x.byteLength));

/** Computes on the first call, then returns the same value (a promise stays the same promise). */
function once<T>(compute: () => T): () => T {
  let cached: { value: T } | null = null;
  return () => (cached ??= { value: compute() }).value;
}

function asInt8(bytes: Uint8Array): Int8Array {
  return new Int8Array(bytes.buffer, bytes.byteOffset, bytes.byteLength);
}

/** Why `actual` differs from `expected` (first differing byte, as int8), or null if they are equal. */
function firstDifference(actual: Uint8Array, expected: Uint8Array): string | null {
  if (actual.length !== expected.length) return `${actual.length} bytes vs ${expected.length}`;
  const i = actual.findIndex((v, k) => v !== expected[k]);
  return i < 0 ? null : `byte ${i}: ${asInt8(actual)[i]} vs ${asInt8(expected)[i]}`;
}

interface DiffStats {
  readonly maxAbs: number;
  readonly differing: number;
  readonly elements: number;
}

function diffStats(actual: ArrayLike<number>, expected: ArrayLike<number>): DiffStats {
  if (actual.length !== expected.length) throw new Error(`length ${actual.length} vs ${expected.length}`);
  let maxAbs = 0;
  let differing = 0;
  for (let i = 0; i < actual.length; i++) {
    const d = Math.abs(actual[i]! - expected[i]!);
    if (d > 0) differing++;
    maxAbs = Math.max(maxAbs, d);
  }
  return { maxAbs, differing, elements: actual.length };
}

function addStats(a: DiffStats, b: DiffStats): DiffStats {
  return { maxAbs: Math.max(a.maxAbs, b.maxAbs), differing: a.differing + b.differing, elements: a.elements + b.elements };
}

const NO_DIFF: DiffStats = { maxAbs: 0, differing: 0, elements: 0 };

/** Indices holding the largest logit: with int8 logits, ties are common enough to matter. */
function topIndices(logits: Int8Array): Set<number> {
  const max = Math.max(...logits);
  const indices = new Set<number>();
  logits.forEach((v, i) => {
    if (v === max) indices.add(i);
  });
  return indices;
}

/** Same top-1: some index holds both our maximum and onnxruntime's. */
function top1Agrees(ours: Int8Array, theirs: Int8Array): boolean {
  const theirTop = topIndices(theirs);
  return [...topIndices(ours)].some((i) => theirTop.has(i));
}

function asInt8Output(outputs: NamedOutputs, name: string): Int8Array {
  const data = outputs[name];
  if (!(data instanceof Int8Array)) throw new Error(`onnxruntime output '${name}' is missing or not int8`);
  return data;
}

/** ONNX NCHW data of an IR tensor whose IR shape is NHWC [n, h, w, c], reordered to NHWC. */
function nchwToNhwc(data: Int8Array, nhwcShape: readonly number[]): Int8Array {
  const [n, h, w, c] = nhwcShape as [number, number, number, number];
  const out = new Int8Array(data.length);
  for (let b = 0; b < n; b++) {
    for (let ch = 0; ch < c; ch++) {
      for (let y = 0; y < h; y++) {
        for (let x = 0; x < w; x++) out[((b * h + y) * w + x) * c + ch] = data[((b * c + ch) * h + y) * w + x]!;
      }
    }
  }
  return out;
}

/** Runs one prepared node alone, as the reference interpreter does. */
function evaluateNode(graph: Graph, { node, prepared }: PreparedNode, inputs: readonly (TensorData | null)[]): TensorData[] {
  const def = opDef(node.op);
  if (def.aliasesInput) return node.outputs.map(() => inputs[0]!);
  const outputs = node.outputs.map((id) => allocData(graph.tensors[id]!.dtype, elementCount(graph.tensors[id]!.shape)));
  def.evaluate(prepared.params, inputs, outputs);
  return outputs;
}

/** onnxruntime's results for one file: logits for every input, and every exposed int8 tensor for the first OP_CASES. */
interface OnnxResults {
  readonly logits: readonly Int8Array[];
  readonly tensors: readonly NamedOutputs[];
}

/** Per op type: elements compared, and how many were off by 1 LSB (more fails the test). */
type OpCounts = Map<string, { elements: number; offByOne: number }>;

interface Figures {
  endToEnd: { model: ModelName; file: OnnxFile; stats: DiffStats; identicalInputs: number }[];
  opByOp: { model: ModelName; file: OnnxFile; counts: OpCounts }[];
  budget: { model: ModelName; sram: string; flash: string }[];
}

const figures: Figures = { endToEnd: [], opByOp: [], budget: [] };

function paperModelTests(model: ModelName): void {
  const onnxPath = (file: OnnxFile) => join(SHARED, 'models/paper', `${model}.${file}.onnx`);
  const graph = loadModelFile(onnxPath('qdq'));
  const rounding: Rounding = graph.rounding ?? 'double';
  const pg: PreparedGraph = prepareGraph(graph, { rounding });

  const referenceLogits = once((): Uint8Array[] =>
    INPUT_BYTES.map((bytes) => {
      const outputs = runReference(pg, [bytes]);
      if (outputs.length !== 1) throw new Error(`${model}: ${outputs.length} outputs, expected the logits only`);
      return outputs[0]!;
    }),
  );

  /** IR names of int8 activations that a node of the ONNX file produces (graph input excluded: we feed it). */
  const exposedNames = (modelBytes: Uint8Array): string[] => {
    const produced = new Set((decodeModel(modelBytes).graph?.node ?? []).flatMap((n) => n.output ?? []));
    return graph.tensors.filter((t) => !t.data && t.dtype === 'int8' && produced.has(t.name)).map((t) => t.name);
  };

  const onnxResults: Record<OnnxFile, () => Promise<OnnxResults>> = {
    qdq: once(() => runOnnxFile('qdq')),
    exact: once(() => runOnnxFile('exact')),
  };

  async function runOnnxFile(file: OnnxFile): Promise<OnnxResults> {
    const original = readFileSync(onnxPath(file));
    const modelBytes = exposeTensors(original, exposedNames(original));
    return withOnnxSession(modelBytes, async (session) => {
      const logits: Int8Array[] = [];
      const tensors: NamedOutputs[] = [];
      for (const [k, input] of INPUTS.entries()) {
        const outputs = await session.run({ [INPUT_NAME]: input });
        logits.push(asInt8Output(outputs, 'logits'));
        if (k < OP_CASES) tensors.push(outputs);
      }
      return { logits, tensors };
    });
  }

  // --- cross-target --------------------------------------------------------------------------------------------

  const assertMatchesReference = (outputs: Uint8Array[][], cases: number, label: string) => {
    const expected = referenceLogits();
    assert.is(outputs.length, cases, `${label}: runs`);
    for (let k = 0; k < cases; k++) {
      assert.is(outputs[k]!.length, 1, `${label} input ${k}: outputs`);
      const diff = firstDifference(outputs[k]![0]!, expected[k]!);
      assert.ok(diff === null, `${model}: ${label} differs from the reference on input ${k} at ${diff}`);
    }
  };

  test(`${model}: host C == reference (${CASES} inputs, ${rounding} rounding)`, async () => {
    assertMatchesReference((await runCompiled(graph, INPUT_BYTES, 'host', rounding)).outputs, CASES, 'host C');
  });

  for (const simd of [true, false]) {
    const label = `wasm ${simd ? 'SIMD' : 'scalar'}`;
    test(`${model}: ${label} == reference (${CASES} inputs)`, async () => {
      assertMatchesReference((await runCompiled(graph, INPUT_BYTES, 'wasm', rounding, { simd })).outputs, CASES, label);
    });
  }

  for (const target of ['cortex-m7', 'cortex-m4'] as const satisfies readonly TargetName[]) {
    test(`${model}: ${target} QEMU == reference (${QEMU_CASES} inputs)`, async () => {
      const run = await runCompiled(graph, INPUT_BYTES.slice(0, QEMU_CASES), target, rounding);
      assertMatchesReference(run.outputs, QEMU_CASES, target);
      assert.ok(run.instructions !== null && run.instructions.length === QEMU_CASES, `${target}: instruction counts returned`);
      assert.ok(run.instructions.every((n) => n > 0), `${target}: instruction counts ${run.instructions.join(', ')}`);
    });
  }

  test(`${model}: cortex-m7 build fits the default ${DEFAULT_BUDGET.sramBytes / 1024} KB SRAM / ${DEFAULT_BUDGET.flashBytes / 1024} KB flash`, async () => {
    const board = getBoard('cortex-m7');
    // A board with a bigger budget would make the check meaningless.
    assert.is(board.ram.bytes, DEFAULT_BUDGET.sramBytes);
    assert.is(board.flash.bytes, DEFAULT_BUDGET.flashBytes);
    // compileGraph throws BudgetError if the model does not fit.
    const { sram, flash } = (await compileGraph(graph, { board, rounding })).report.budget;
    figures.budget.push({ model, sram: `${sram.needed} / ${sram.available}`, flash: `${flash.needed} / ${flash.available}` });
    assert.ok(sram.needed <= sram.available && sram.available === DEFAULT_BUDGET.sramBytes, `SRAM ${sram.needed} / ${sram.available}`);
    assert.ok(flash.needed <= flash.available && flash.available === DEFAULT_BUDGET.flashBytes, `flash ${flash.needed} / ${flash.available}`);
  });

  // --- end to end vs onnxruntime -------------------------------------------------------------------------------

  for (const file of ONNX_FILES) {
    test(`${model} ${file}.onnx: logits within ${LOGIT_TOLERANCE} LSB of onnxruntime, same top-1 (${CASES} inputs)`, async () => {
      const ours = referenceLogits().map(asInt8);
      const theirs = (await onnxResults[file]()).logits;
      const perInput = ours.map((o, k) => diffStats(o, theirs[k]!));
      const identicalInputs = perInput.filter((s) => s.differing === 0).length;
      figures.endToEnd.push({ model, file, stats: perInput.reduce(addStats, NO_DIFF), identicalInputs });
      perInput.forEach((s, k) => {
        assert.ok(s.maxAbs <= LOGIT_TOLERANCE, `input ${k}: max |diff| ${s.maxAbs} LSB (${s.differing} logits differ)`);
        assert.ok(top1Agrees(ours[k]!, theirs[k]!), `input ${k}: top-1 ${[...topIndices(ours[k]!)]} vs onnxruntime ${[...topIndices(theirs[k]!)]}`);
      });
    });
  }

  // --- op by op vs onnxruntime ---------------------------------------------------------------------------------

  /**
   * The value of IR tensor `id` on onnxruntime's side: the tensor of the same name (NCHW -> NHWC for a 4-D
   * activation; graph inputs and outputs keep ONNX's layout in the IR), or for a tensor only the IR has (the
   * importer's layout ops, e.g. `input_nhwc`) what that layout op makes of onnxruntime's tensors.
   */
  function onnxValues(tensors: NamedOutputs, input: Int8Array): (id: number) => TensorData | null {
    const boundary = new Set([...graph.inputs, ...graph.outputs]);
    const layoutValues = new Map<number, TensorData>();
    const valueOf = (id: number): TensorData | null => {
      if (id < 0) return null;
      const t = graph.tensors[id]!;
      if (t.data) return t.data;
      if (layoutValues.has(id)) return layoutValues.get(id)!;
      const data = t.name === INPUT_NAME ? input : tensors[t.name];
      if (!(data instanceof Int8Array)) throw new Error(`no onnxruntime int8 tensor for IR tensor '${t.name}'`);
      return t.shape.length === 4 && !boundary.has(id) ? nchwToNhwc(data, t.shape) : data;
    };
    for (const pn of pg.nodes) {
      if (!LAYOUT_OPS.has(pn.node.op) || pn.node.outputs.every((id) => graph.tensors[id]!.name in tensors)) continue;
      const outputs = evaluateNode(graph, pn, pn.node.inputs.map(valueOf));
      pn.node.outputs.forEach((id, i) => layoutValues.set(id, outputs[i]!));
    }
    return valueOf;
  }

  for (const file of ONNX_FILES) {
    test(`${model} ${file}.onnx: every op within ${OP_TOLERANCE} LSB of onnxruntime on its inputs (${OP_CASES} inputs)`, async () => {
      const { tensors } = await onnxResults[file]();
      const counts: OpCounts = new Map();
      figures.opByOp.push({ model, file, counts });
      let checkedNodes = 0;
      for (const [k, named] of tensors.entries()) {
        const valueOf = onnxValues(named, INPUTS[k]!);
        for (const pn of pg.nodes) {
          const out = graph.tensors[pn.node.outputs[0]!]!;
          if (LAYOUT_OPS.has(pn.node.op) || !(out.name in named)) continue;
          checkedNodes++;
          const [ours] = evaluateNode(graph, pn, pn.node.inputs.map(valueOf));
          const stats = diffStats(ours as Int8Array, valueOf(out.id) as Int8Array);
          const c = counts.get(pn.node.op) ?? { elements: 0, offByOne: 0 };
          counts.set(pn.node.op, { elements: c.elements + stats.elements, offByOne: c.offByOne + stats.differing });
          assert.ok(stats.maxAbs <= OP_TOLERANCE, `input ${k}, ${pn.node.op} -> '${out.name}': max |diff| ${stats.maxAbs} LSB (${stats.differing} / ${stats.elements} differ)`);
        }
      }
      // Every op but the importer's layout ops has an ONNX tensor to compare with.
      const computeNodes = pg.nodes.filter((pn) => !LAYOUT_OPS.has(pn.node.op)).length;
      assert.is(checkedNodes, computeNodes * tensors.length, 'ops checked');
    });
  }
}

for (const model of MODELS) paperModelTests(model);

test.after(() => {
  const lines = ['', 'paper models vs onnxruntime (graph optimization disabled):'];
  for (const { model, file, stats, identicalInputs } of figures.endToEnd) {
    lines.push(`  ${model} ${file}: logits max |diff| ${stats.maxAbs}, ${stats.differing} / ${stats.elements} differ; inputs with byte-identical logits ${identicalInputs} / ${CASES}`);
  }
  for (const { model, file, counts } of figures.opByOp) {
    const perOp = [...counts].map(([op, c]) => `${op} ${c.offByOne} / ${c.elements}`).join(', ');
    lines.push(`  ${model} ${file} op by op, elements 1 LSB off: ${perOp}`);
  }
  for (const { model, sram, flash } of figures.budget) lines.push(`  ${model} cortex-m7: SRAM ${sram} B, flash ${flash} B`);
  console.log(lines.join('\n'));
});

test.run();
