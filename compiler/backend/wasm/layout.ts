/**
 * @fileoverview The linear memory of a wasm model: constants (weights, biases, tables) and, for a training step, the
 * state tensors (trainable parameters, each its own writable copy) as one data segment, then the arena at the
 * offsets the memory planner chose. The module's memory is exactly this (in whole pages), fixed
 * at instantiation; nothing grows at run time. Every kernel argument becomes a number: an address or an i32.
 */
import type { Graph } from '../../ir/graph.ts';
import { describeTensor, elementCount, tensorBytes } from '../../ir/graph.ts';
import type { KernelArg } from '../../ops/op.ts';
import { lanesCall } from './conv_lanes.ts';
import type { PreparedGraph } from '../../passes/prepare.ts';
import type { MemoryPlan } from '../../plan/memory.ts';

export const WASM_PAGE_BYTES = 65536;

/** Keeps address 0 unused, so an absent tensor (passed as 0) can never alias real data. */
const DATA_BASE = 16;
/** v128 loads are fastest on 16-byte boundaries; every constant and the arena start on one. */
const ALIGN = 16;

const align = (n: number): number => Math.ceil(n / ALIGN) * ALIGN;

/** Constant bytes deduplicated by content: many layers share shift tables and lookup tables. */
class DataPool {
  private readonly chunks: Uint8Array[] = [];
  private readonly byKey = new Map<string, number>();
  private size = 0;

  /** Returns the offset of `bytes` relative to the start of the pool. */
  add(bytes: Uint8Array): number {
    const key = Buffer.from(bytes.buffer, bytes.byteOffset, bytes.byteLength).toString('base64');
    const existing = this.byKey.get(key);
    if (existing !== undefined) return existing;
    const at = this.size;
    this.chunks.push(bytes);
    this.byKey.set(key, at);
    this.size = align(at + bytes.length);
    return at;
  }

  bytes(): Uint8Array {
    const out = new Uint8Array(this.size);
    let at = 0;
    for (const c of this.chunks) {
      out.set(c, at);
      at = align(at + c.length);
    }
    return out;
  }
}

/**
 * Kernels of runtime/as that take weights (the arguments at these indices) widened to int16, same values: the SIMD
 * core then loads eight weights with a plain load instead of a sign-extending one (about 12% of a convolution).
 */
const INT16_WEIGHTS: ReadonlyMap<string, readonly number[]> = new Map([
  ['conv2d_s8', [1]],
  ['conv2d_1x1_s8', [1]],
  ['inverted_bottleneck_s8', [1, 3]],
]);

function tableBytes(a: Extract<KernelArg, { kind: 'table' }>): Uint8Array {
  const typed = { int8: Int8Array, int16: Int16Array, int32: Int32Array, float32: Float32Array }[a.dtype].from(a.values);
  return new Uint8Array(typed.buffer); // wasm is little-endian, like every host Node runs on
}

/** One kernel call with every argument resolved to a number: an address or an i32 value. */
export interface ResolvedCall {
  readonly kernel: string;
  readonly args: readonly number[];
  /** Where the call comes from, for error messages. */
  readonly comment: string;
  /** Index of the node it belongs to, in `graph.nodes`. */
  readonly node: number;
}

/** A tensor of the linear memory the wrapper reads or writes. */
export interface PlacedTensor {
  readonly id: number;
  readonly address: number;
  readonly bytes: number;
}

/** Where a training step's operands live (the image is `inputs[0]`). */
export interface WasmTrainingLayout {
  readonly label: number;
  readonly learningRate: number;
  readonly loss: number;
  readonly logits: number;
  /** Indices into `calls` of the inference program, in order. */
  readonly inferenceCalls: readonly number[];
  /** The state tensors in `training.state` order: the parameters the wrapper returns. */
  readonly state: readonly PlacedTensor[];
}

export interface WasmLayout {
  /** Address of the initialised memory (constants, then state) and its bytes. */
  readonly dataBase: number;
  readonly data: Uint8Array;
  /** Of which constants (deduplicated) and state tensors (the trainable parameters, each its own copy). */
  readonly constantBytes: number;
  readonly stateBytes: number;
  readonly arenaBase: number;
  readonly arenaBytes: number;
  /** After the arena: where trained convolution weights are widened to int16 before each call that reads them. */
  readonly widenBytes: number;
  /** First address after everything: the memory the module needs. */
  readonly memoryEnd: number;
  readonly calls: readonly ResolvedCall[];
  /** Addresses of the model's input and output tensors, in order. */
  readonly inputs: readonly number[];
  readonly outputs: readonly number[];
  readonly training: WasmTrainingLayout | null;
}

type Place = { pool: number } | { state: number } | { arena: number } | { widen: 0 } | { value: number };

/**
 * Calls of a training step differ from inference in two ways: a kernel must never read a compile-time copy of a
 * state tensor, so a trained convolution takes the portable path rather than the channels-in-lanes one (whose
 * packed weights and constants are computed here), and its int16 weights are widened from the live int8 tensor
 * by a `widen_s8_s16` call just before it, into one region shared by every such call.
 */
export function layoutMemory(pg: PreparedGraph, plan: MemoryPlan): WasmLayout {
  const { graph } = pg;
  const pool = new DataPool();
  const stateOffsets = new Map<number, number>();
  let stateBytes = 0;
  for (const id of graph.training?.state ?? []) {
    stateOffsets.set(id, stateBytes);
    stateBytes = align(stateBytes + tensorBytes(graph.tensors[id]!));
  }
  let widenBytes = 0;
  // Constant addresses are known only once the pool is complete, so arguments keep pool offsets until then.
  const calls = pg.nodes.flatMap(({ node, prepared }, step) => {
    if (!prepared.kernel) return [];
    const call = lanesCall(prepared.kernel, graph, pg.options.rounding) ?? prepared.kernel;
    const comment = `${node.origin}: ${node.op} -> ${node.outputs.map((id) => describeTensor(graph.tensors[id]!)).join(', ')}`;
    const before: { kernel: string; args: Place[]; comment: string; node: number }[] = [];
    const args = call.args.map((a, index): Place => {
      switch (a.kind) {
        case 'tensor': {
          if (a.tensor < 0) return { value: 0 };
          const t = graph.tensors[a.tensor]!;
          const widened = INT16_WEIGHTS.get(call.name)?.includes(index) ?? false;
          if (widened && t.dtype !== 'int8') throw new Error(`${call.name} expects int8 weights, got ${describeTensor(t)}`);
          const state = stateOffsets.get(a.tensor);
          if (state !== undefined) {
            if (!widened) return { state };
            const count = elementCount(t.shape);
            widenBytes = Math.max(widenBytes, align(2 * count));
            before.push({ kernel: 'widen_s8_s16', args: [{ state }, { widen: 0 }, { value: count }], comment, node: step });
            return { widen: 0 };
          }
          if (t.data && widened) return { pool: pool.add(new Uint8Array(Int16Array.from(t.data as Int8Array).buffer)) };
          if (t.data) return { pool: pool.add(new Uint8Array(t.data.buffer, t.data.byteOffset, t.data.byteLength)) };
          return { arena: arenaOffset(graph, plan, a.tensor) };
        }
        case 'int':
          return { value: a.value };
        case 'table':
          return { pool: pool.add(tableBytes(a)) };
        case 'scratch': {
          const offset = plan.scratchOffsets.get(step);
          return offset === undefined ? { value: 0 } : { arena: offset };
        }
      }
    });
    return [...before, { kernel: call.name, args, comment, node: step }];
  });
  const constants = pool.bytes();
  const stateBase = align(DATA_BASE + constants.length);
  const data = new Uint8Array(stateBase - DATA_BASE + stateBytes);
  data.set(constants);
  for (const [id, offset] of stateOffsets) {
    const init = graph.tensors[id]!.data;
    if (!init) throw new Error(`state ${describeTensor(graph.tensors[id]!)} has no initial value`);
    data.set(new Uint8Array(init.buffer, init.byteOffset, init.byteLength), stateBase - DATA_BASE + offset);
  }
  const arenaBase = align(stateBase + stateBytes);
  const widenBase = align(arenaBase + plan.arenaBytes);
  const address = (a: Place): number =>
    'pool' in a ? DATA_BASE + a.pool : 'state' in a ? stateBase + a.state : 'arena' in a ? arenaBase + a.arena : 'widen' in a ? widenBase : a.value;
  const resolved = calls.map((c) => ({ ...c, args: c.args.map(address) }));
  const arenaAddress = (id: number): number => arenaBase + arenaOffset(graph, plan, id);
  let training: WasmTrainingLayout | null = null;
  if (graph.training) {
    const t = graph.training;
    const inference = new Set(t.inferenceNodes);
    training = {
      label: arenaAddress(t.label),
      learningRate: arenaAddress(t.learningRate),
      loss: arenaAddress(t.loss),
      logits: arenaAddress(t.logits),
      inferenceCalls: resolved.flatMap((c, i) => (inference.has(c.node) ? [i] : [])),
      state: t.state.map((id) => ({ id, address: stateBase + stateOffsets.get(id)!, bytes: tensorBytes(graph.tensors[id]!) })),
    };
  }
  return {
    dataBase: DATA_BASE,
    data,
    constantBytes: constants.length,
    stateBytes,
    arenaBase,
    arenaBytes: plan.arenaBytes,
    widenBytes,
    memoryEnd: widenBase + widenBytes,
    calls: resolved,
    inputs: graph.inputs.map(arenaAddress),
    outputs: graph.outputs.map(arenaAddress),
    training,
  };
}

function arenaOffset(graph: Graph, plan: MemoryPlan, id: number): number {
  const offset = plan.tensorOffsets.get(id);
  if (offset === undefined) throw new Error(`no arena offset for ${describeTensor(graph.tensors[id]!)}`);
  return offset;
}
