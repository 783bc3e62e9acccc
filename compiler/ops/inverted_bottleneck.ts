/**
 * @fileoverview InvertedBottleneck: [Transpose NCHW -> NHWC] -> [Conv2D (expand)] -> DepthwiseConv2D -> [Conv2D 1x1
 * (project)], an expand or a project convolution present, as one operator that never materializes the tensors
 * between them (made by passes/fuse_bottlenecks.ts; no model file contains it). The expand convolution may have any
 * filter, stride, dilation and padding: a network's first convolution fuses with its first block this way, and the
 * leading transpose (of an NCHW model input) with them. It computes exactly what the operators compute: their
 * numerics come from their own `prepare` and `evaluate`, run on the layers' original tensors (kept in
 * `graph.tensors`, named by `transposed`, `expanded` and `depthwiseOutput`).
 *
 * Inputs: [x, expand weights, expand bias, depthwise weights, depthwise bias, project weights, project bias], -1 for
 * an absent optional bias and for the weights and bias of an absent layer; x is NCHW when `transposed` is set.
 *
 * Kernel `inverted_bottleneck_s8` streams the depthwise convolution one output row at a time: the expanded rows the
 * row needs live in a window of (filterH - 1) * dilationH + 1 rows (scratch), computed by conv2d_1x1_s8 or conv2d_s8
 * (its two window columns in scratch too) as the window slides; an NCHW input's rows are transposed as the first
 * layer needs them into a sliding window of their own; the depthwise output row (scratch too, when a project
 * convolution follows) goes through conv2d_1x1_s8 straight into the output. Calling the unfused operators' kernels
 * keeps their numerics and their fast paths.
 *
 * Written over its input, the kernel can go by chunks of CHUNK_IN_PLACE output pixels (`chunkable`): its window
 * then holds one row fewer plus the chunk's tap columns, and each depthwise output chunk goes in the output's buffer,
 * past the bytes the project layer writes from it. That costs instructions (more kernel calls, the window moved down
 * at every chunk), so the compiler asks for it (attribute `chunk`, withLessScratch) only where the node is the memory
 * plan's peak: a network's first block, whose large input makes it the peak of many training steps.
 */
import type { TensorData } from '../ir/dtype.ts';
import { allocData } from '../ir/dtype.ts';
import type { AttrValue, Node, Tensor } from '../ir/graph.ts';
import { describeNode, describeTensor } from '../ir/graph.ts';
import { InvalidModelError } from '../errors.ts';
import type { KernelArg, KernelCall, OpDef, OutputType, Prepared } from './op.ts';
import { arg, partContext } from './op.ts';
import { requireInt8 } from './common/checks.ts';
import type { Conv2DAttrs, Conv2DParams } from './conv2d.ts';
import { conv2d, nhwc } from './conv2d.ts';
import type { DepthwiseConv2DAttrs, DepthwiseConv2DParams } from './depthwise_conv2d.ts';
import { depthwiseConv2d } from './depthwise_conv2d.ts';

export type Layer = 'expand' | 'depthwise' | 'project';

const CONV_KEYS = ['padding', 'strideH', 'strideW', 'dilationH', 'dilationW', 'activation'] as const;
const DEPTHWISE_KEYS = [...CONV_KEYS, 'depthMultiplier'] as const;
const keysOf = (layer: Layer): readonly string[] => (layer === 'depthwise' ? DEPTHWISE_KEYS : CONV_KEYS);

/** The transpose a fused node may start with: NCHW to NHWC. */
export const NCHW_TO_NHWC: readonly number[] = [0, 2, 3, 1];

/**
 * Each layer's attributes under its prefix (`expandStrideH`, `depthwiseActivation`, ...; none for an absent layer),
 * and its node's origin (`expandOrigin`), for messages that name the model's own operators. `chunk` (boolean, set by
 * withLessScratch): written over its input, go by chunks where it can.
 */
export interface InvertedBottleneckAttrs {
  /** The NHWC transpose of the NCHW input (not materialized), or -1 when the input is NHWC already. */
  readonly transposed: number;
  /** The expand convolution's output tensor (not materialized), or -1 without an expand convolution. */
  readonly expanded: number;
  /** The depthwise convolution's output tensor (not materialized), or -1 when no project convolution follows. */
  readonly depthwiseOutput: number;
  readonly [key: string]: AttrValue;
}

export interface InvertedBottleneckParams {
  /** NHWC shape of the transposed input, null when the input is NHWC already. */
  readonly transposed: readonly number[] | null;
  readonly expand: Conv2DParams | null;
  readonly depthwise: DepthwiseConv2DParams;
  readonly project: Conv2DParams | null;
  /** Whether it can go by chunks written over its input, and the pixels of a chunk it does (0: by rows). */
  readonly chunks: boolean;
  readonly chunk: number;
}

type Layers = Pick<InvertedBottleneckParams, 'expand' | 'depthwise' | 'project'>;

const prefixed = (layer: Layer, key: string): string => `${layer}${key[0]!.toUpperCase()}${key.slice(1)}`;

/** A layer's node attributes, flattened into the fused node's. */
export function layerAttrs(layer: Layer, attrs: Conv2DAttrs | DepthwiseConv2DAttrs, origin: string): Record<string, AttrValue> {
  const out: Record<string, AttrValue> = { [prefixed(layer, 'origin')]: origin };
  for (const key of keysOf(layer)) out[prefixed(layer, key)] = (attrs as unknown as Record<string, AttrValue>)[key]!;
  return out;
}

function unflatten<A>(layer: Layer, attrs: InvertedBottleneckAttrs): A {
  return Object.fromEntries(keysOf(layer).map((key) => [key, attrs[prefixed(layer, key)]])) as A;
}

const hasExpand = (a: InvertedBottleneckAttrs): boolean => a.expanded >= 0;
const hasProject = (a: InvertedBottleneckAttrs): boolean => a.depthwiseOutput >= 0;

/** The convolution layers as the unfused nodes they replace (null for an absent one), on the graph's own tensors. */
function layerNodes(node: Node<InvertedBottleneckAttrs>): { expand: Node<Conv2DAttrs> | null; depthwise: Node<DepthwiseConv2DAttrs>; project: Node<Conv2DAttrs> | null } {
  const a = node.attrs;
  const [x, ew, eb, dw, db, pw, pb] = node.inputs;
  const output = node.outputs[0]!;
  const sub = <A extends object>(layer: Layer, op: string, inputs: number[], out: number): Node<A> => ({
    id: node.id, op, inputs, outputs: [out], attrs: unflatten<A>(layer, a), origin: String(a[prefixed(layer, 'origin')] ?? node.origin),
  });
  const nhwcInput = a.transposed >= 0 ? a.transposed : x!;
  const dwInput = hasExpand(a) ? a.expanded : nhwcInput;
  return {
    expand: hasExpand(a) ? sub<Conv2DAttrs>('expand', 'Conv2D', [nhwcInput, ew!, eb!], a.expanded) : null,
    depthwise: sub<DepthwiseConv2DAttrs>('depthwise', 'DepthwiseConv2D', [dwInput, dw!, db!], hasProject(a) ? a.depthwiseOutput : output),
    project: hasProject(a) ? sub<Conv2DAttrs>('project', 'Conv2D', [a.depthwiseOutput, pw!, pb!], output) : null,
  };
}

/** The compile-time tables (biases, multipliers, shifts) of a layer's own kernel call, in its order. */
function tablesOf(call: KernelCall | null, kernels: readonly string[], node: Node<object>): KernelArg[] {
  if (!call || !kernels.includes(call.name)) {
    throw new InvalidModelError(`${describeNode(node as Node)}: binds to ${call?.name ?? 'no kernel'}, not ${kernels.join(' or ')}: it cannot be part of an inverted bottleneck`);
  }
  return call.args.filter((a) => a.kind === 'table');
}

/** What the kernel's scratch depends on: the layers' shapes (NHWC) and vertical geometry. */
export interface BottleneckGeometry {
  /** The first layer's NHWC input. */
  readonly input: readonly number[];
  /** Whether the kernel transposes the input's rows from NCHW. */
  readonly transposed: boolean;
  readonly expand: { readonly output: readonly number[]; readonly filterH: number; readonly filterW: number; readonly dilationH: number } | null;
  readonly depthwise: { readonly filterH: number; readonly dilationH: number };
  /** The depthwise output, when a project convolution reads it (null: its rows go to the output in place). */
  readonly depthwiseOutput: readonly number[] | null;
  /** Going by chunks (in place only): the chunk's output pixels and the window's pixels (`chunkWindowPixels`). */
  readonly chunk?: { readonly pixels: number; readonly windowPixels: number };
}

/**
 * Bytes of the kernel's scratch, in its order: conv2d_s8's two window columns (a non-1x1 expand convolution); the
 * window of transposed input rows (an NCHW input; else the first layer reads the input in place), as many as the
 * first layer reads for one output row (the kernel expands one row at a time); the window of expanded rows (with an
 * expand convolution; else the depthwise convolution reads its input in place); one depthwise output row (with a
 * project convolution; else the rows are written to the output in place). By chunks, the window is the chunk's, and
 * its depthwise output goes in the output's buffer. The kernels lay it out the same way.
 */
export function bottleneckScratchBytes(g: BottleneckGeometry): number {
  const span = (g.depthwise.filterH - 1) * g.depthwise.dilationH + 1;
  const e = g.expand;
  const [, inH, inW, inC] = g.input as [number, number, number, number];
  const expandedRows = e ? Math.min(span, e.output[1]!) : 0;
  const columns = e && (e.filterH > 1 || e.filterW > 1) ? 2 * e.filterH * e.filterW * inC : 0;
  const firstLayerRows = e ? (e.filterH - 1) * e.dilationH + 1 : span;
  const inputRows = g.transposed ? Math.min(firstLayerRows, inH) * inW * inC : 0;
  const expandedWindow = e ? (g.chunk ? g.chunk.windowPixels : expandedRows * e.output[2]!) * e.output[3]! : 0;
  const row = g.depthwiseOutput && !g.chunk ? g.depthwiseOutput[2]! * g.depthwiseOutput[3]! : 0;
  return columns + inputRows + expandedWindow + row;
}

/** At most this many cycles: the table of their first positions is flash the in-place transpose costs. */
const MAX_TRANSPOSE_CYCLES = 256;

/**
 * The NCHW -> NHWC transpose of `channels` planes of `pixels` bytes moves the byte at i to i * channels mod (n - 1)
 * (n bytes; the first and last stay). The first position of each cycle of that permutation, for the kernel to follow
 * each cycle once in place without marking what it has moved; null when there are more than MAX_TRANSPOSE_CYCLES.
 */
export function transposeCycles(channels: number, pixels: number): number[] | null {
  const n = channels * pixels;
  if (n < 3) return [];
  if (n * channels >= 2 ** 31) return null;
  const visited = new Uint8Array(n);
  const firsts: number[] = [];
  for (let start = 1; start < n - 1; start++) {
    if (visited[start]) continue;
    if (firsts.length === MAX_TRANSPOSE_CYCLES) return null;
    firsts.push(start);
    for (let i = start; !visited[i]; i = (i * channels) % (n - 1)) visited[i] = 1;
  }
  return firsts;
}

/** Output pixels of a depthwise row the kernel computes at a time, where it goes by chunks. */
const CHUNK_IN_PLACE = 16;

/**
 * Whether the kernel can go by chunks: it pads each expanded row with one pixel of the depthwise input's zero point
 * on the left, which is the right padding of the row before, so the depthwise taps may reach one column past either
 * side at most; and a project convolution must map the chunk's pixels to as many output pixels.
 */
function chunkable({ expand, depthwise: d, project }: Layers): boolean {
  const rightmostTap = (d.outW - 1) * d.strideW - d.padLeft + (d.filterW - 1) * d.dilationW;
  return expand !== null && (project === null || project.strideW === 1) && d.padLeft <= 1 && rightmostTap <= d.inW;
}

/** The window's pixels by chunks of `pixels`: (rows - 1) padded rows and the chunk's tap columns. */
function chunkWindowPixels(d: DepthwiseConv2DParams, pixels: number): number {
  const rows = Math.min((d.filterH - 1) * d.dilationH + 1, d.inH);
  return (rows - 1) * (d.inW + 1) + (pixels - 1) * d.strideW + (d.filterW - 1) * d.dilationW + 1;
}

/**
 * Whether the kernel's output can stream over its NHWC input, one buffer for both (an NCHW input is first transposed
 * in place, cycle by cycle), going by chunks of `chunk` pixels (0: by rows): every output byte it writes must come
 * before the first input byte it reads afterwards. Replays the kernel's loop: the expanded pixels it computes before
 * each write (the window only moves forward), each run's first byte read, and the write.
 */
function streamsOverInput(params: Layers, input: readonly number[], output: readonly number[], chunk: number): boolean {
  const [batches, inH, inW, inC] = input as [number, number, number, number];
  const [, outH, outW, outC] = output as [number, number, number, number];
  if (batches !== 1) return false;
  const { expand: e, depthwise: d, project: p } = params;
  const span = (d.filterH - 1) * d.dilationH + 1;
  const rows = p ? outH : d.outH;
  const rowStep = p ? p.strideH : 1;
  const padded = chunk > 0 ? 1 : 0;
  const pitch = d.inW + padded;
  const step = padded ? chunk : d.outW;
  const pointwise = e !== null && e.filterH === 1 && e.filterW === 1;
  const dwC = d.inC * d.depthMultiplier;
  const firstByteRead = (row: number, col: number): number => {
    const y = Math.max(row * e!.strideH - (pointwise ? 0 : e!.padTop), 0);
    const x = Math.max(col * e!.strideW - (pointwise ? 0 : e!.padLeft), 0);
    return (Math.min(y, inH) * inW + x) * inC;
  };
  const events: { read?: number; writeEnd?: number }[] = [];
  let done = 0;
  for (let r = 0; r < rows; r++) {
    const origin = r * rowStep * d.strideH - d.padTop;
    const n0 = Math.max(origin, 0);
    const n1 = Math.min(origin + span, d.inH);
    for (let x0 = 0; x0 < d.outW; x0 += step) {
      const n = Math.min(step, d.outW - x0);
      if (e) {
        const tap0 = x0 * d.strideW - d.padLeft;
        const tap1 = (x0 + n - 1) * d.strideW - d.padLeft + (d.filterW - 1) * d.dilationW + 1;
        const first = n0 * pitch + (padded ? tap0 + 1 : 0);
        const last = padded ? (n1 - 1) * pitch + tap1 + 1 : n1 * pitch;
        done = Math.max(done, first);
        while (done < last) {
          const col = (done % pitch) - padded;
          if (col < 0) {
            done++;
            continue;
          }
          events.push({ read: firstByteRead(Math.floor(done / pitch), col) });
          done += Math.min(last - done, d.inW - col);
        }
      } else {
        events.push({ read: n0 * inW * inC });
      }
      // By chunks, the depthwise chunk is written past the chunk's output bytes. Every write must fit the input's buffer.
      const writeEnd = p ? (r * outW + x0 + (padded ? n : outW)) * outC + (padded ? n * dwC : 0) : (r * d.outW + x0 + n) * dwC;
      if (writeEnd > inH * inW * inC) return false;
      events.push({ writeEnd });
    }
  }
  let laterReads = Infinity;
  for (const { read, writeEnd } of events.reverse()) {
    if (writeEnd !== undefined && writeEnd > laterReads) return false;
    if (read !== undefined) laterReads = Math.min(laterReads, read);
  }
  return true;
}

/** NCHW `shape` as NHWC. */
const toNhwc = (shape: readonly number[]): number[] => NCHW_TO_NHWC.map((p) => shape[p]!);

export const invertedBottleneck: OpDef<InvertedBottleneckAttrs, InvertedBottleneckParams> = {
  name: 'InvertedBottleneck',

  infer(inputs, attrs) {
    const [x, ew, , dw, , pw] = inputs;
    const asTensor = (t: OutputType): Tensor => ({ id: -1, name: 'intermediate', shape: t.shape, dtype: t.dtype, quant: null, data: null });
    let shape: OutputType = { shape: attrs.transposed >= 0 ? toNhwc(x!.shape) : x!.shape, dtype: 'int8' };
    if (hasExpand(attrs)) shape = conv2d.infer([asTensor(shape), ew!], unflatten('expand', attrs))[0]!;
    shape = depthwiseConv2d.infer([asTensor(shape), dw!], unflatten('depthwise', attrs))[0]!;
    if (hasProject(attrs)) shape = conv2d.infer([asTensor(shape), pw!], unflatten('project', attrs))[0]!;
    return [shape];
  },

  prepare(ctx) {
    const a = ctx.node.attrs;
    if (ctx.node.inputs.length !== 7) throw new InvalidModelError(`${describeNode(ctx.node as Node)}: needs 7 inputs, has ${ctx.node.inputs.length}`);
    const nodes = layerNodes(ctx.node);
    if (!nodes.expand && !nodes.project) throw new InvalidModelError(`${describeNode(ctx.node as Node)}: has neither an expand nor a project convolution`);
    const x = nhwc(a.transposed >= 0 ? ctx.graph.tensors[a.transposed]! : ctx.inputs[0]!, 'input');
    if (a.transposed >= 0) {
      const input = requireInt8(ctx.inputs[0], ctx.node, 'input');
      if (input.shape.join() !== [x[0], x[3], x[1], x[2]].join()) {
        throw new InvalidModelError(`${describeNode(ctx.node as Node)}: input ${describeTensor(input)} is not the NCHW form of [${x.join('x')}]`);
      }
    }
    const expand = nodes.expand && conv2d.prepare(partContext(ctx, nodes.expand));
    const depthwise = depthwiseConv2d.prepare(partContext(ctx, nodes.depthwise));
    const project = nodes.project && conv2d.prepare(partContext(ctx, nodes.project));
    const expandTables = expand ? tablesOf(expand.kernel, ['conv2d_1x1_s8', 'conv2d_s8'], nodes.expand!) : [];
    const depthwiseTables = tablesOf(depthwise.kernel, ['depthwise_conv2d_s8'], nodes.depthwise);
    const projectTables = project ? tablesOf(project.kernel, ['conv2d_1x1_s8'], nodes.project!) : [];
    const e = expand?.params ?? null;
    const d = depthwise.params;
    const p = project?.params ?? null;
    const layers = { transposed: a.transposed >= 0 ? x : null, expand: e, depthwise: d, project: p };
    const geometry: BottleneckGeometry = {
      input: x,
      transposed: a.transposed >= 0,
      expand: e && { output: [e.batches, e.outH, e.outW, e.outC], filterH: e.filterH, filterW: e.filterW, dilationH: e.dilationH },
      depthwise: d,
      depthwiseOutput: p && [d.batches, d.outH, d.outW, d.inC * d.depthMultiplier],
    };
    const scratchBytes = bottleneckScratchBytes(geometry);
    const out = nhwc(ctx.outputs[0]!, 'output');
    const cycles = a.transposed >= 0 ? transposeCycles(x[3]!, x[1]! * x[2]!) : [];
    // In place, an NCHW input is transposed where it is: no window of transposed rows.
    const inPlaceScratch = (pixels: number) =>
      bottleneckScratchBytes({ ...geometry, transposed: false, ...(pixels > 0 ? { chunk: { pixels, windowPixels: chunkWindowPixels(d, pixels) } } : {}) });
    const streams = (pixels: number) => cycles !== null && streamsOverInput(layers, x, out, pixels);
    const overwritesInput = streams(0);
    const chunks = overwritesInput && chunkable(layers) && inPlaceScratch(CHUNK_IN_PLACE) < inPlaceScratch(0) && streams(CHUNK_IN_PLACE);
    const chunk = chunks && a['chunk'] === true ? CHUNK_IN_PLACE : 0;
    const params: InvertedBottleneckParams = { ...layers, chunks, chunk };
    const scratchBytesInPlace = inPlaceScratch(chunk);
    const absentTables = (n: number) => Array.from({ length: n }, () => arg.absent('int32', false));
    const expandGeometry = e
      ? [e.filterH, e.filterW, e.strideH, e.strideW, e.dilationH, e.dilationW, e.padTop, e.padLeft, -e.inputOffset, e.outputOffset, e.actMin, e.actMax]
      : [1, 1, 1, 1, 1, 1, 0, 0, 0, 0, 0, 0];
    const projectGeometry = p ? [p.strideH, p.strideW, p.outputOffset, p.actMin, p.actMax] : [1, 1, 0, 0, 0];
    const weights = (id: number): KernelArg => (id >= 0 ? { kind: 'tensor', tensor: id, write: false } : arg.absent('int8', false));
    const [, ew, , dw, , pw] = ctx.node.inputs;
    return {
      params,
      kernel: {
        name: 'inverted_bottleneck_s8',
        // Expand and project weights at 1 and 3: the wasm backend widens them to int16 for conv2d_s8 / conv2d_1x1_s8.
        args: [
          arg.input(ctx, 0), weights(ew!), weights(dw!), weights(pw!), arg.output(ctx), arg.scratch(),
          ...(e ? expandTables : absentTables(3)), ...depthwiseTables, ...(p ? projectTables : absentTables(3)),
          overwritesInput && cycles!.length > 0 ? arg.table('int32', cycles!) : arg.absent('int32', false),
          ...[...x, a.transposed >= 0 ? 1 : 0, overwritesInput ? cycles!.length : 0].map(arg.int),
          ...expandGeometry.map(arg.int),
          ...[d.inH, d.inW, d.inC, d.outH, d.outW, d.depthMultiplier, d.filterH, d.filterW, d.strideH, d.strideW, d.dilationH, d.dilationW,
            d.padTop, d.padLeft, d.inputOffset, d.outputOffset, d.actMin, d.actMax].map(arg.int),
          ...projectGeometry.map(arg.int),
          ...[out[1], out[2], out[3], chunk].map(arg.int),
        ],
        // Its C source calls all three, whichever layers this node has.
        uses: ['conv2d_1x1_s8', 'conv2d_s8', 'depthwise_conv2d_s8'],
      },
      scratchBytes,
      overwritesInput,
      ...(overwritesInput && scratchBytesInPlace < scratchBytes ? { scratchBytesInPlace } : {}),
      macs: (expand?.macs ?? 0) + depthwise.macs + (project?.macs ?? 0),
      notes: [...(expand?.notes ?? []), ...(depthwise.notes ?? []), ...(project?.notes ?? [])],
    } satisfies Prepared<InvertedBottleneckParams>;
  },

  withLessScratch(node, prepared) {
    return prepared.params.chunks && !prepared.params.chunk ? { ...node, attrs: { ...node.attrs, chunk: true } } : null;
  },

  /** By rows again where a later step lowered the peak this node sat at. */
  withMoreScratch(node, prepared) {
    return prepared.params.chunk ? { ...node, attrs: { ...node.attrs, chunk: false } } : null;
  },

  /** The operators' own reference semantics, one after another, on whole intermediate tensors. */
  evaluate(params, [x, ew, eb, dw, db, pw, pb], [output]) {
    const intermediate = (p: { batches: number; outH: number; outW: number }, channels: number): TensorData =>
      allocData('int8', p.batches * p.outH * p.outW * channels);
    let current = x!;
    if (params.transposed) {
      const [n, h, w, c] = params.transposed as [number, number, number, number];
      const from = current as Int8Array;
      const to = allocData('int8', n * h * w * c) as Int8Array;
      for (let i = 0; i < to.length; i++) {
        const ch = i % c;
        const pixel = (i - ch) / c;
        const b = Math.floor(pixel / (h * w));
        to[i] = from[(b * c + ch) * h * w + (pixel % (h * w))]!;
      }
      current = to;
    }
    if (params.expand) {
      const e = intermediate(params.expand, params.expand.outC);
      conv2d.evaluate(params.expand, [current, ew!, eb ?? null], [e]);
      current = e;
    }
    const d = params.depthwise;
    const dOut = params.project ? intermediate(d, d.inC * d.depthMultiplier) : output!;
    depthwiseConv2d.evaluate(d, [current, dw!, db ?? null], [dOut]);
    if (params.project) conv2d.evaluate(params.project, [dOut, pw!, pb ?? null], [output!]);
  },
};
