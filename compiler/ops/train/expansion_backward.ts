/**
 * @fileoverview ExpansionBackward: the backward pass from a depthwise layer's output gradient into the 1x1 layer
 * before it (an inverted bottleneck's expansion), a chunk of channels at a time, so that the gradient between them
 * (the expanded tensor's, in float32 the largest buffer of a training step) never exists whole. It stands for these
 * nodes of the training graph (made by passes/chunk_expansion_backward.ts), and computes exactly what they compute:
 * optionally first the 1x1 projection after the depthwise layer (its output mask, its Conv2DBackpropInput, the
 * depthwise layer's output mask, its bias step), so that the depthwise layer's output gradient exists one chunk at a
 * time too; then DepthwiseConv2DBackpropInput, ApplyMask (the expansion's output mask), then of the expansion any of
 * Conv2DBackpropInput (its input gradient), BiasUpdate or FoldedBiasUpdate, Conv2DWeightUpdate, run in that order
 * (the input gradient reads the weights before their step; the bias step touches neither).
 *
 * Why chunks change nothing: every one of those ops is separable by the expanded channel. The projection's input
 * gradient of a channel sums over the projection's outputs, whichever channels are computed; the depthwise gradient,
 * the masks and the bias steps of a channel read that channel only; a weight's step reads its own row; the
 * expansion's input gradient sums over the expanded channels in ascending order, which chunks in ascending order
 * continue (the kernel's accumulate mode); and the weight update draws its random numbers row after row, which the
 * chunks keep. The reference therefore runs the nodes whole, one after another, and every backend's chunks must equal
 * it bit for bit.
 *
 * Inputs, by position (-1 where the part is absent): [the projection's output gradient (masked, unless the mask is
 * a part) with a projection, else the depthwise layer's output gradient (masked), depthwise weights, expansion mask,
 * expansion weights (read), their frozen tail, expansion bias or folded bias, learning rate, saved input of the
 * expansion, expansion weights (updated), random state, projection weights, their frozen tail, depthwise output mask,
 * depthwise bias or folded bias, the projection's output mask]. Output: the expansion's input gradient, if computed.
 *
 * With the projection's output mask (its ApplyMask as a part, on an intermediate of its own), input 0 is the gradient
 * before that mask, which the kernels apply as they read it: where that gradient lives on past this node anyway (a
 * residual block's, for the skip path), the masked copy need not be held while the chunks run.
 */
import type { TensorData } from '../../ir/dtype.ts';
import { allocData } from '../../ir/dtype.ts';
import type { AttrValue, Node } from '../../ir/graph.ts';
import { elementCount } from '../../ir/graph.ts';
import type { KernelArg, OpDef, Prepared } from '../op.ts';
import { arg, partContext } from '../op.ts';
import { floatBits } from '../common/float32_math.ts';
import { applyMask } from './mask.ts';
import type { BackpropInputParams } from './backprop_input.ts';
import { conv2dBackpropInput, depthwiseConv2dBackpropInput } from './backprop_input.ts';
import type { WeightUpdateParams } from './parameter_update.ts';
import { biasUpdate, conv2dWeightUpdate, foldedBiasUpdate, isPointwise } from './parameter_update.ts';

/** The parts, in the order they run on each chunk. */
export const PARTS = ['projectionMask', 'projection', 'depthwiseMask', 'depthwiseBias', 'depthwise', 'mask', 'inputGradient', 'bias', 'weights'] as const;
export type Part = (typeof PARTS)[number];

const OPS = {
  DepthwiseConv2DBackpropInput: depthwiseConv2dBackpropInput,
  ApplyMask: applyMask,
  Conv2DBackpropInput: conv2dBackpropInput,
  BiasUpdate: biasUpdate,
  FoldedBiasUpdate: foldedBiasUpdate,
  Conv2DWeightUpdate: conv2dWeightUpdate,
} as const;
type PartOp = keyof typeof OPS;

/** Where a part's input or output lives: a position of the fused node's inputs or outputs, or a whole intermediate. */
type Ref = { readonly input: number } | { readonly output: number } | { readonly intermediate: number } | null;

interface PartParams {
  readonly op: PartOp;
  readonly params: unknown;
  readonly inputs: readonly Ref[];
  readonly outputs: readonly Ref[];
}

export interface ExpansionBackwardParams {
  readonly parts: readonly PartParams[];
  /** Elements of each gradient between the parts (the reference holds them whole), by tensor id. */
  readonly intermediates: ReadonlyMap<number, number>;
  /** Expanded channels, and how many of them a chunk takes (the backends' loop; the reference runs them all at once). */
  readonly channels: number;
  readonly chunk: number;
}

const key = (part: Part, name: string): string => `${part}:${name}`;

/** A part's node flattened into the fused node's attributes: its op, origin, inputs, outputs and attributes. */
export function partAttrs(part: Part, node: Node): Record<string, AttrValue> {
  const out: Record<string, AttrValue> = {
    [key(part, 'op')]: node.op,
    [key(part, 'origin')]: node.origin,
    [key(part, 'inputs')]: node.inputs,
    [key(part, 'outputs')]: node.outputs,
  };
  for (const [name, value] of Object.entries(node.attrs)) out[key(part, `attr.${name}`)] = value;
  return out;
}

/** The nodes the fused node stands for, in order (absent parts left out). */
export function partNodes(node: Node): { readonly part: Part; readonly node: Node }[] {
  return PARTS.flatMap((part) => {
    const op = node.attrs[key(part, 'op')];
    if (op === undefined) return [];
    const prefix = key(part, 'attr.');
    const attrs = Object.fromEntries(Object.entries(node.attrs).filter(([k]) => k.startsWith(prefix)).map(([k, v]) => [k.slice(prefix.length), v]));
    return [{
      part,
      node: {
        id: node.id, op: String(op), attrs, origin: String(node.attrs[key(part, 'origin')]),
        inputs: [...(node.attrs[key(part, 'inputs')] as readonly number[])], outputs: [...(node.attrs[key(part, 'outputs')] as readonly number[])],
      },
    }];
  });
}

const tablesOf = (p: Prepared<unknown>): KernelArg[] => p.kernel!.args.filter((a) => a.kind === 'table');

/**
 * Bytes of the chunk's two gradients (at the depthwise layer's output and input) a chunk may take: each chunk costs a
 * pass of every part's loop overheads, so small maps take more channels at once.
 */
const CHUNK_BYTES = 8192;

/**
 * Channels per chunk: a multiple of four (the kernels block channels by four), at least 16. The compiler narrows the
 * chunks at the memory plan's peak and widens them where it has room (attribute `chunk`: withLessScratch,
 * withMoreScratch).
 */
export function chunkChannels(pixelsIn: number, pixelsOut: number, channels: number): number {
  const fit = Math.floor(CHUNK_BYTES / ((pixelsIn + pixelsOut) * 4) / 4) * 4;
  return Math.min(Math.max(fit, 16), Math.ceil(channels / 4) * 4);
}

export const expansionBackward: OpDef<Record<string, AttrValue>, ExpansionBackwardParams> = {
  name: 'ExpansionBackward',
  infer: () => {
    throw new Error('ExpansionBackward is made by passes/chunk_expansion_backward.ts with its output tensor');
  },

  prepare(ctx) {
    const parts = partNodes(ctx.node as Node);
    const byPart = new Map(parts.map(({ part, node }) => [part, node]));
    const inputs = ctx.node.inputs;
    const outputs = ctx.node.outputs;
    const intermediates = new Map(parts.flatMap(({ node }) => node.outputs).filter((id) => !outputs.includes(id)).map((id) => [id, elementCount(ctx.graph.tensors[id]!.shape)]));
    const refOf = (id: number): Ref => {
      if (id < 0) return null;
      if (intermediates.has(id)) return { intermediate: id };
      const input = inputs.indexOf(id);
      if (input >= 0) return { input };
      const output = outputs.indexOf(id);
      if (output >= 0) return { output };
      throw new Error(`ExpansionBackward '${ctx.node.origin}': tensor ${id} of a part is none of its inputs or outputs`);
    };
    const prepared = new Map(parts.map(({ part, node }) => [part, OPS[node.op as PartOp].prepare(partContext(ctx, node) as never) as Prepared<unknown>]));
    const d = prepared.get('depthwise')!.params as BackpropInputParams;
    const projection = prepared.get('projection');
    const pr = projection?.params as BackpropInputParams | undefined;
    const dwBias = prepared.get('depthwiseBias');
    const dwFolded = byPart.get('depthwiseBias')?.op === 'FoldedBiasUpdate';
    const p = prepared.get('inputGradient');
    const pp = p?.params as BackpropInputParams | undefined;
    const b = prepared.get('bias');
    const folded = byPart.get('bias')?.op === 'FoldedBiasUpdate';
    const w = prepared.get('weights');
    const wp = w?.params as WeightUpdateParams | undefined;
    if ([pp, wp, pr].some((q) => q && !isPointwise(q))) throw new Error(`ExpansionBackward '${ctx.node.origin}': the expansion is not a 1x1 stride-1 convolution`);

    const pixels = d.batches * d.inH * d.inW;
    const chunk = typeof ctx.node.attrs['chunk'] === 'number' ? ctx.node.attrs['chunk'] : chunkChannels(pixels, d.batches * d.outH * d.outW, d.inC);
    const [pTables, bTables, wTables, prTables, dbTables] = [p, b, w, projection, dwBias].map((x) => (x ? tablesOf(x) : []));
    const absentFloats = arg.absent('float32', false);
    const input = (i: number, write = false): KernelArg => ({ kind: 'tensor', tensor: inputs[i]!, write });
    const present = (i: number, dtype: 'int8' | 'uint8' | 'int32' | 'float32', write = false): KernelArg => (inputs[i]! >= 0 ? input(i, write) : arg.absent(dtype, write));
    const roundUp4 = (n: number) => Math.ceil(n / 4) * 4;
    // The weight step's scratch: the saved input dequantized once for all chunks, or (at the memory peak) its table.
    const byTable = ctx.node.attrs['dequantizeByTable'] === true;
    const updateScratch = wp ? ((byTable ? 256 + pixels * 4 : pixels * wp.keep) + 3 * wp.keep) * 4 : 0;
    const scratchBytes = d.batches * d.outH * d.outW * chunk * 4 + roundUp4(d.filterH * d.filterW * chunk) + pixels * chunk * 4 + updateScratch;
    return {
      params: {
        parts: parts.map(({ part, node }) => ({ op: node.op as PartOp, params: prepared.get(part)!.params, inputs: node.inputs.map(refOf), outputs: node.outputs.map(refOf) })),
        intermediates,
        channels: d.inC,
        chunk,
      },
      kernel: {
        name: 'expansion_backward_f32',
        args: [
          input(0), input(1), ...tablesOf(prepared.get('depthwise')!), input(2),
          present(3, 'int8'), present(4, 'int8'), pTables[0] ?? absentFloats, p ? arg.output(ctx) : arg.absent('float32', true),
          present(5, 'int32', true), bTables[0] ?? absentFloats, bTables[1] ?? arg.absent('int32', false), bTables[2] ?? arg.absent('int32', false),
          present(6, 'float32'),
          present(7, 'int8'), present(8, 'int8', true), wTables[0] ?? absentFloats, present(9, 'int32', true),
          present(10, 'int8'), present(11, 'int8'), prTables[0] ?? absentFloats, present(14, 'uint8'), present(12, 'uint8'),
          present(13, 'int32', true), dbTables[0] ?? absentFloats, dbTables[1] ?? arg.absent('int32', false), dbTables[2] ?? arg.absent('int32', false),
          arg.scratch(),
          ...[d.batches, d.inH, d.inW, d.inC, d.outH, d.outW, d.filterH, d.filterW, d.strideH, d.strideW, d.dilationH, d.dilationW, d.padTop, d.padLeft,
            pp?.inC ?? 0, pp?.keep ?? pp?.inC ?? 0, b ? (folded ? 2 : 1) : 0,
            wp?.savedChannels ?? 0, wp?.inC ?? 0, wp?.keep ?? 0, wp?.inputZeroPoint ?? 0, wp ? floatBits(wp.inputScale) : 0,
            pr?.outC ?? 0, pr?.keep ?? pr?.inC ?? 0, dwBias ? (dwFolded ? 2 : 1) : 0, byTable ? 1 : 0,
            chunk].map(arg.int),
        ],
        uses: ['depthwise_conv2d_backprop_input_f32', 'conv2d_backprop_input_f32', 'bias_update_f32', 'folded_bias_update_f32', 'conv2d_weight_update_f32'],
      },
      scratchBytes,
      macs: [...prepared.values()].reduce((n, x) => n + x.macs, 0),
    };
  },

  /** First the weight step's table of codes, then chunks half as wide, down to four channels. */
  withLessScratch(node, prepared) {
    const updatesWeights = node.attrs['weights:op'] !== undefined;
    if (updatesWeights && node.attrs['dequantizeByTable'] !== true) return { ...node, attrs: { ...node.attrs, dequantizeByTable: true } };
    const { chunk } = prepared.params;
    return chunk > 4 ? { ...node, attrs: { ...node.attrs, chunk: Math.max(4, Math.floor(chunk / 8) * 4) } } : null;
  },

  /**
   * The weight step's float copy again (where a later step lowered the peak this node sat at), then chunks twice as
   * wide, up to one for all channels: fewer passes of every part's loop overheads.
   */
  withMoreScratch(node, prepared) {
    if (node.attrs['dequantizeByTable'] === true) return { ...node, attrs: { ...node.attrs, dequantizeByTable: false } };
    const { channels, chunk } = prepared.params;
    const whole = Math.ceil(channels / 4) * 4;
    return chunk < whole ? { ...node, attrs: { ...node.attrs, chunk: Math.min(chunk * 2, whole) } } : null;
  },

  /** The nodes whole, one after another. */
  evaluate(params, inputs, outputs) {
    const intermediates = new Map([...params.intermediates].map(([id, elements]) => [id, allocData('float32', elements)]));
    const resolve = (r: Ref): TensorData | null => {
      if (r === null) return null;
      if ('input' in r) return inputs[r.input] ?? null;
      if ('output' in r) return outputs[r.output]!;
      return intermediates.get(r.intermediate)!;
    };
    for (const part of params.parts) {
      (OPS[part.op] as { evaluate(p: unknown, i: readonly (TensorData | null)[], o: readonly TensorData[]): void })
        .evaluate(part.params, part.inputs.map(resolve), part.outputs.map((r) => resolve(r)!));
    }
  },
};
