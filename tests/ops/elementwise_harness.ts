/**
 * @fileoverview Shared by the tests of the elementwise operators (softmax, the LUT activations, quantize,
 * dequantize): many configurations of one operator side by side in a single graph (input i -> op ->
 * output i), inputs that sweep every byte value, and byte-for-byte checks of the reference interpreter
 * against the TFLite runtime and against the host C build.
 */
import { readFileSync } from 'node:fs';
import * as assert from 'uvu/assert';
import type { DType } from '../../compiler/ir/dtype.ts';
import { bytesPerElement } from '../../compiler/ir/dtype.ts';
import type { Graph } from '../../compiler/ir/graph.ts';
import { elementCount } from '../../compiler/ir/graph.ts';
import { GraphBuilder } from '../../compiler/frontend/builder/builder.ts';
import type { QuantSpec } from '../../compiler/frontend/builder/builder.ts';
import { Random } from '../../compiler/frontend/builder/random.ts';
import { graphToTflite } from '../../compiler/frontend/builder/to_tflite.ts';
import { prepareGraph } from '../../compiler/passes/prepare.ts';
import { runReference } from '../../compiler/reference/interpreter.ts';
import { loadTfliteRuntime } from '../oracles/tflite_runtime.ts';
import { runHostAndWasm } from '../helpers/backends.ts';

export interface UnaryCase {
  readonly op: string;
  readonly attrs?: object;
  readonly input: QuantSpec | null;
  readonly output: QuantSpec | null;
  readonly shape: readonly number[];
  /** Default int8. */
  readonly inputType?: DType;
}

/** One graph holding every case: graph input i feeds case i, whose result is graph output i. */
export function buildCases(name: string, cases: readonly UnaryCase[]): Graph {
  const b = new GraphBuilder(name);
  cases.forEach((c, i) => {
    const x = b.input(`x${i}`, c.shape, c.input as QuantSpec, c.inputType ?? 'int8');
    b.output(b.add(c.op, [x], c.attrs ?? {}, c.output));
  });
  return b.build();
}

/** A single-case graph. */
export function buildUnary(c: UnaryCase): Graph {
  return buildCases(c.op, [c]);
}

/**
 * Input bytes for `runs` runs of `graph`: in run 0 every 8-bit input sweeps all 256 values (cyclically,
 * from a different start per input); later runs are seeded random bytes. float32 inputs are uniform in
 * [-floatRange, floatRange].
 */
export function makeRuns(graph: Graph, runs: number, seed: number, floatRange = 10): Uint8Array[][] {
  const random = new Random(seed);
  return Array.from({ length: runs }, (_, run) =>
    graph.inputs.map((id, k) => {
      const t = graph.tensors[id]!;
      const n = elementCount(t.shape);
      if (t.dtype === 'float32') {
        const f = Float32Array.from({ length: n }, () => (random.next() * 2 - 1) * floatRange);
        return new Uint8Array(f.buffer);
      }
      if (bytesPerElement(t.dtype) !== 1) throw new Error(`makeRuns: ${t.dtype} input`);
      return run === 0 ? Uint8Array.from({ length: n }, (_, i) => (i + 37 * k) & 0xff) : Uint8Array.from({ length: n }, () => random.int(0, 255));
    }),
  );
}

export function reference(graph: Graph, inputs: readonly Uint8Array[]): Uint8Array[] {
  return runReference(prepareGraph(graph, { rounding: 'double' }), inputs);
}

function elementView(bytes: Uint8Array, dtype: DType): ArrayLike<number> {
  const buffer = bytes.buffer.slice(bytes.byteOffset, bytes.byteOffset + bytes.byteLength);
  switch (dtype) {
    case 'int8':
      return new Int8Array(buffer);
    case 'uint8':
      return new Uint8Array(buffer);
    case 'float32':
      return new Float32Array(buffer);
    default:
      throw new Error(`elementView: ${dtype}`);
  }
}

/** Asserts two outputs of `graph` are the same bytes, naming the first element that differs and its input. */
export function assertSameOutput(graph: Graph, output: number, expected: Uint8Array, actual: Uint8Array, inputs: readonly Uint8Array[], what: string): void {
  const outT = graph.tensors[graph.outputs[output]!]!;
  const node = graph.nodes.find((n) => n.outputs.includes(outT.id))!;
  const inIndex = graph.inputs.indexOf(node.inputs[0]!);
  const inT = graph.tensors[node.inputs[0]!]!;
  assert.is(actual.length, expected.length, `${what}: output ${output} length`);
  if (Buffer.from(expected).equals(Buffer.from(actual))) return;
  const e = elementView(expected, outT.dtype);
  const a = elementView(actual, outT.dtype);
  let count = 0;
  let first = -1;
  for (let i = 0; i < e.length; i++) {
    if (!Object.is(e[i], a[i])) {
      count++;
      if (first < 0) first = i;
    }
  }
  const x = inIndex >= 0 ? elementView(inputs[inIndex]!, inT.dtype)[first] : '?';
  assert.unreachable(
    `${what}: ${node.op} ${JSON.stringify(node.attrs)} in ${JSON.stringify(inT.quant)} out ${JSON.stringify(outT.quant)}: ` +
      `${count} of ${e.length} elements differ; first at ${first} (input ${x}): expected ${e[first]}, got ${a[first]}`,
  );
}

/** Reference == TFLite runtime, byte for byte, for every run and output. */
export async function expectTflite(graph: Graph, runs: readonly (readonly Uint8Array[])[]): Promise<void> {
  const runtime = await loadTfliteRuntime();
  const model = graphToTflite(graph);
  for (const inputs of runs) {
    const ref = reference(graph, inputs);
    const tfl = runtime.run(model, inputs);
    ref.forEach((r, o) => assertSameOutput(graph, o, r, tfl[o]!, inputs, 'reference vs TFLite'));
  }
}

/** Host C (ASan + UBSan) == reference, byte for byte, for every run and output (one build). */
export async function expectHostC(graph: Graph, runs: readonly (readonly Uint8Array[])[]): Promise<void> {
  const c = await runHostAndWasm(graph, runs);
  runs.forEach((inputs, run) => {
    const ref = reference(graph, inputs);
    ref.forEach((r, o) => assertSameOutput(graph, o, r, c[run]![o]!, inputs, `host C vs reference (run ${run})`));
  });
}

/** Runs `fn` (which builds or prepares a graph) and checks it throws `type` with a message matching `pattern`. */
export function expectError(fn: () => unknown, type: new (...args: never[]) => Error, pattern: RegExp): void {
  try {
    fn();
  } catch (e) {
    assert.instance(e, type, `expected ${type.name}, got ${(e as Error).name}: ${(e as Error).message}`);
    assert.match((e as Error).message, pattern);
    return;
  }
  assert.unreachable(`expected ${type.name} matching ${pattern}`);
}

/** prepare a graph (the compile-time step), for error tests. */
export function prepare(graph: Graph): void {
  prepareGraph(graph, { rounding: 'double' });
}

// ---------------------------------------------------------------------------------------------------------------
// TFLM golden answers from tflm_int8_activations.cc (TFLM's kernels on the real gemmlowp header); see
// fixtures/gen_tflm_int8_activations.ts.

export interface ActivationsGolden {
  readonly logistic: readonly { scale: string; zeroPoint: number; outputs: string }[];
  readonly tanh: readonly { scale: string; zeroPoint: number; outputs: string }[];
  readonly hardSwish: readonly { inputScale: string; inputZeroPoint: number; outputScale: string; outputZeroPoint: number; outputs: string | null }[];
  readonly softmax: readonly { beta: string; scale: string; input: number[]; output: number[] | null }[];
}

export function activationsGolden(): ActivationsGolden {
  return JSON.parse(readFileSync(new URL('./fixtures/tflm_int8_activations.json', import.meta.url), 'utf8')) as ActivationsGolden;
}

/** A float32 from its bit pattern in hex. */
export function fromBits(hex: string): number {
  return new Float32Array(new Uint32Array([parseInt(hex, 16)]).buffer)[0]!;
}

/** The 256 outputs of a golden table, for inputs -128..127. */
export function unpackTable(base64: string): Int8Array {
  const bytes = Buffer.from(base64, 'base64');
  return new Int8Array(bytes.buffer.slice(bytes.byteOffset, bytes.byteOffset + bytes.byteLength));
}

/** The reference outputs of `op` for the inputs -128..127, in that order. */
export function sweep(op: string, attrs: object, input: QuantSpec, output: QuantSpec): Int8Array {
  const g = buildUnary({ op, attrs, input, output, shape: [256] });
  const x = Int8Array.from({ length: 256 }, (_, i) => i - 128);
  return new Int8Array(reference(g, [new Uint8Array(x.buffer)])[0]!.buffer);
}

/** Asserts two 256-entry sweeps are equal, naming the first input where they differ. */
export function assertSweep(actual: Int8Array, expected: Int8Array, what: string): void {
  for (let i = 0; i < 256; i++) {
    if (actual[i] !== expected[i]) assert.unreachable(`${what}: input ${i - 128}: TFLM ${expected[i]}, tinyforge ${actual[i]}`);
  }
}
