/**
 * @fileoverview The linear memory of a wasm model: constants (weights, biases, tables) as one data segment, then
 * the arena at the offsets the memory planner chose. The module's memory is exactly this (in whole pages), fixed
 * at instantiation; nothing grows at run time. Every kernel argument becomes a number: an address or an i32.
 */
import type { Graph } from '../../ir/graph.ts';
import { describeTensor } from '../../ir/graph.ts';
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
 * Kernels of runtime/as that take their weights (argument `weights`) widened to int16, same values: the SIMD
 * core then loads eight weights with a plain load instead of a sign-extending one (about 12% of a convolution).
 */
const INT16_WEIGHTS: ReadonlyMap<string, number> = new Map([
  ['conv2d_s8', 1],
  ['conv2d_1x1_s8', 1],
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
}

export interface WasmLayout {
  /** Address of the constants segment and its bytes. */
  readonly dataBase: number;
  readonly data: Uint8Array;
  readonly arenaBase: number;
  readonly arenaBytes: number;
  /** First address after the arena: the memory the module needs. */
  readonly memoryEnd: number;
  readonly calls: readonly ResolvedCall[];
  /** Addresses of the model's input and output tensors, in order. */
  readonly inputs: readonly number[];
  readonly outputs: readonly number[];
}

export function layoutMemory(pg: PreparedGraph, plan: MemoryPlan): WasmLayout {
  const { graph } = pg;
  const pool = new DataPool();
  // Constant addresses are known only once the pool is complete, so arguments keep pool offsets until then.
  const calls = pg.nodes.flatMap(({ node, prepared }, step) => {
    if (!prepared.kernel) return [];
    const call = lanesCall(prepared.kernel, graph, pg.options.rounding) ?? prepared.kernel;
    const args = call.args.map((a, index): { pool: number } | { arena: number } | { value: number } => {
      switch (a.kind) {
        case 'tensor': {
          if (a.tensor < 0) return { value: 0 };
          const t = graph.tensors[a.tensor]!;
          if (t.data && INT16_WEIGHTS.get(call.name) === index) {
            if (t.dtype !== 'int8') throw new Error(`${call.name} expects int8 weights, got ${describeTensor(t)}`);
            return { pool: pool.add(new Uint8Array(Int16Array.from(t.data as Int8Array).buffer)) };
          }
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
    return [{ kernel: call.name, args, comment: `${node.origin}: ${node.op} -> ${node.outputs.map((id) => describeTensor(graph.tensors[id]!)).join(', ')}` }];
  });
  const data = pool.bytes();
  const arenaBase = align(DATA_BASE + data.length);
  const address = (a: { pool: number } | { arena: number } | { value: number }): number =>
    'pool' in a ? DATA_BASE + a.pool : 'arena' in a ? arenaBase + a.arena : a.value;
  return {
    dataBase: DATA_BASE,
    data,
    arenaBase,
    arenaBytes: plan.arenaBytes,
    memoryEnd: arenaBase + plan.arenaBytes,
    calls: calls.map((c) => ({ ...c, args: c.args.map(address) })),
    inputs: graph.inputs.map((id) => arenaBase + arenaOffset(graph, plan, id)),
    outputs: graph.outputs.map((id) => arenaBase + arenaOffset(graph, plan, id)),
  };
}

function arenaOffset(graph: Graph, plan: MemoryPlan, id: number): number {
  const offset = plan.tensorOffsets.get(id);
  if (offset === undefined) throw new Error(`no arena offset for ${describeTensor(graph.tensors[id]!)}`);
  return offset;
}
