/** @fileoverview IR graph -> .tflite bytes, so a model built in TypeScript can be loaded by the TFLite runtime. */
import type { Graph, Tensor } from '../../ir/graph.ts';
import { opDef } from '../../ops/index.ts';
import type { TfliteModel, TfliteTensor } from '../tflite/reader.ts';
import { writeTflite } from '../tflite/writer.ts';
import { dtypeToTflite } from '../tflite/types.ts';

function tensorBytes(t: Tensor): Uint8Array | null {
  return t.data ? new Uint8Array(t.data.buffer, t.data.byteOffset, t.data.byteLength) : null;
}

export function graphToTflite(graph: Graph): Uint8Array {
  // Buffer 0 is the empty buffer every activation points at.
  const buffers: (Uint8Array | null)[] = [null];
  const tensors: TfliteTensor[] = graph.tensors.map((t) => {
    const data = tensorBytes(t);
    let buffer = 0;
    if (data) {
      buffer = buffers.length;
      buffers.push(data);
    }
    return {
      index: t.id,
      name: t.name,
      shape: [...t.shape],
      type: dtypeToTflite(t.dtype),
      buffer,
      quant: t.quant ? { scale: [...t.quant.scale], zeroPoint: [...t.quant.zeroPoint], quantizedDimension: t.quant.axis } : null,
      isVariable: false,
      hasSparsity: false,
    };
  });
  const model: TfliteModel = {
    version: 3,
    description: `tinyforge builder: ${graph.name}`,
    tensors,
    operators: graph.nodes.map((n, index) => {
      const binding = opDef(n.op).tflite;
      if (!binding) throw new Error(`${n.op} has no TFLite form`);
      return {
        index,
        opcode: binding.code,
        customCode: null,
        version: 1,
        inputs: [...n.inputs],
        outputs: [...n.outputs],
        optionsType: binding.optionsType,
        options: { ...binding.options(n.attrs) } as TfliteModel['operators'][number]['options'],
      };
    }),
    inputs: [...graph.inputs],
    outputs: [...graph.outputs],
    buffers,
    subgraphCount: 1,
  };
  return writeTflite(model);
}
