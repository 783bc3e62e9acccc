/**
 * Dev-only oracle: onnxruntime-node (CPU execution provider, one thread) for ONNX models.
 *
 * Numerics (see /work/shared/notes/oracles.md §3): QDQ groups run as dequantize -> float op -> quantize (unless the
 * graph optimizer fuses them into integer kernels, which `graphOptimizationLevel: 'all'` may do), so this is a
 * reference for ONNX QDQ semantics within ±1 LSB per op of an integer implementation, not a bit-exact oracle.
 *
 * Used by tests only; never imported by the compiler.
 */
import * as ort from 'onnxruntime-node';
import onnxProto from 'onnx-proto';

const { onnx } = onnxProto;

export type GraphOptimizationLevel = 'disabled' | 'basic' | 'extended' | 'all';

export interface OnnxSessionOptions {
  /**
   * onnxruntime's graph rewrites. Default 'disabled': every node runs as written, so QDQ groups keep their float
   * semantics and intermediate tensors stay observable.
   */
  readonly graphOptimizationLevel?: GraphOptimizationLevel;
}

/** Output tensors by name, as onnxruntime's typed arrays (Int8Array for int8 tensors). */
export type NamedOutputs = Record<string, ort.Tensor['data']>;

export interface OnnxSession {
  readonly inputNames: readonly string[];
  readonly outputNames: readonly string[];
  /** Runs once; each input is given by name, its shape is the model's (static) input shape. */
  run(inputs: Readonly<Record<string, Int8Array>>): Promise<NamedOutputs>;
  /** Frees the native session; the object is unusable afterwards. */
  close(): Promise<void>;
}

/** Opens a session on the model bytes. Callers must close() it (see `withOnnxSession`). */
export async function openOnnxSession(modelBytes: Uint8Array, options: OnnxSessionOptions = {}): Promise<OnnxSession> {
  const session = await ort.InferenceSession.create(modelBytes, {
    executionProviders: ['cpu'],
    intraOpNumThreads: 1,
    interOpNumThreads: 1,
    graphOptimizationLevel: options.graphOptimizationLevel ?? 'disabled',
  });
  const shapes = new Map<string, number[]>();
  for (const meta of session.inputMetadata) {
    if (!meta.isTensor) throw new Error(`onnxruntime oracle: input '${meta.name}' is not a tensor`);
    const dims = meta.shape.map((d) => {
      if (typeof d !== 'number') throw new Error(`onnxruntime oracle: input '${meta.name}' has a symbolic dimension '${d}'`);
      return d;
    });
    shapes.set(meta.name, dims);
  }
  return {
    inputNames: session.inputNames,
    outputNames: session.outputNames,
    async run(inputs) {
      const feeds: Record<string, ort.Tensor> = {};
      for (const name of session.inputNames) {
        const data = inputs[name];
        if (!data) throw new Error(`onnxruntime oracle: no data for input '${name}'`);
        feeds[name] = new ort.Tensor('int8', data, shapes.get(name)!);
      }
      const results = await session.run(feeds);
      const outputs: NamedOutputs = {};
      // Copies, so the results outlive the session.
      for (const name of session.outputNames) outputs[name] = results[name]!.data.slice();
      return outputs;
    },
    close: () => session.release(),
  };
}

/** Opens a session, runs `body` on it and releases it whatever happens. */
export async function withOnnxSession<T>(
  modelBytes: Uint8Array,
  body: (session: OnnxSession) => Promise<T>,
  options: OnnxSessionOptions = {},
): Promise<T> {
  const session = await openOnnxSession(modelBytes, options);
  try {
    return await body(session);
  } finally {
    await session.close();
  }
}

/** Runs the model once per input set; returns, per run, every output in the model's output order. */
export async function runOnnx(
  modelBytes: Uint8Array,
  runs: readonly Readonly<Record<string, Int8Array>>[],
  options: OnnxSessionOptions = {},
): Promise<Int8Array[][]> {
  return withOnnxSession(
    modelBytes,
    async (session) => {
      const results: Int8Array[][] = [];
      for (const inputs of runs) {
        const named = await session.run(inputs);
        results.push(
          session.outputNames.map((name) => {
            const data = named[name];
            if (!(data instanceof Int8Array)) throw new Error(`onnxruntime oracle: output '${name}' is not int8`);
            return data;
          }),
        );
      }
      return results;
    },
    options,
  );
}

/**
 * The model with the named int8 tensors appended to its graph outputs, so that their values can be read. A tensor
 * described in the graph's value_info keeps that description (with its shape); otherwise it is declared int8 with no
 * shape, which onnxruntime accepts.
 */
export function exposeTensors(modelBytes: Uint8Array, names: readonly string[]): Uint8Array {
  const model = onnx.ModelProto.decode(modelBytes);
  const graph = model.graph;
  if (!graph) throw new Error('exposeTensors: the model has no graph');
  const produced = new Set((graph.node ?? []).flatMap((n) => n.output ?? []));
  const outputs = (graph.output ??= []);
  for (const name of names) {
    if (outputs.some((o) => o.name === name)) continue;
    if (!produced.has(name)) throw new Error(`exposeTensors: no node produces '${name}'`);
    const known = graph.valueInfo?.find((v) => v.name === name);
    if (known && known.type?.tensorType?.elemType !== onnx.TensorProto.DataType.INT8) {
      throw new Error(`exposeTensors: '${name}' is not an int8 tensor`);
    }
    outputs.push(known ?? { name, type: { tensorType: { elemType: onnx.TensorProto.DataType.INT8 } } });
  }
  return onnx.ModelProto.encode(model).finish();
}
