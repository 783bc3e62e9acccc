/**
 * @fileoverview The contract every operator implements, once, in compiler/ops/<op>.ts:
 * how it is read from TFLite, how its output shape follows from its inputs, what it
 * precomputes at compile time, what it computes (the reference semantics every backend
 * must match bit for bit) and which runtime kernel it binds to.
 */
import type { DType, TensorData } from '../ir/dtype.ts';
import type { Graph, Node, QuantParams, Tensor } from '../ir/graph.ts';
import type { Rounding } from './common/fixed_point.ts';

export interface CompileOptions {
  /** Requantization rounding (see Rounding in common/fixed_point.ts). */
  readonly rounding: Rounding;
}

/** Decoded TFLite builtin options (field names as in schema.fbs, defaults applied). */
export type TfliteOptions = Readonly<Record<string, number | boolean | readonly number[]>>;

export interface TfliteBinding<A extends object> {
  /** BuiltinOperator code. */
  readonly code: number;
  /** BuiltinOptions union tag written by the model builder (0 = none). */
  readonly optionsType: number;
  readonly attrs: (options: TfliteOptions) => A;
  readonly options: (attrs: A) => TfliteOptions;
}

/** One argument of a kernel call, in the kernel's parameter order. */
export type KernelArg =
  /**
   * Pointer to a tensor's data (arena or flash); `write` for outputs. `tensor` -1 is an absent optional pointer
   * (NULL), whose element type `dtype` says (the prototype needs one).
   */
  | { readonly kind: 'tensor'; readonly tensor: number; readonly write: boolean; readonly dtype?: DType }
  /** A 32-bit integer literal. */
  | { readonly kind: 'int'; readonly value: number }
  /** A table fixed at compile time (per-channel multipliers, LUTs), placed in flash. */
  | { readonly kind: 'table'; readonly dtype: TableDType; readonly values: readonly number[] }
  /** Pointer to this call's scratch buffer (`scratchBytes` of the prepared op). */
  | { readonly kind: 'scratch' };

/** Element types of compile-time tables; float32 only for training kernels (gradient scales). */
export type TableDType = 'int8' | 'int16' | 'int32' | 'float32';

export interface KernelCall {
  /** Symbol shared by runtime/c/kernels/<name>.c and the WASM runtime. */
  readonly name: string;
  readonly args: readonly KernelArg[];
  /** Other kernels this one calls (their C files are built with it); a fused operator reuses the unfused ones' kernels. */
  readonly uses?: readonly string[];
}

/** What `prepare` sees: the node and its tensors, resolved. */
export interface PrepareContext<A extends object> {
  readonly graph: Graph;
  readonly node: Node<A>;
  readonly inputs: readonly (Tensor | null)[];
  readonly outputs: readonly Tensor[];
  readonly options: CompileOptions;
}

export interface Prepared<P> {
  readonly params: P;
  /** null for ops whose output aliases their input (reshape family): no code is emitted. */
  readonly kernel: KernelCall | null;
  readonly scratchBytes: number;
  /** Multiply-accumulates of one execution, for reports. */
  readonly macs: number;
  /** What the compiler changed for this op that a reader of the report should know (saturated biases). */
  readonly notes?: readonly string[];
  /**
   * As OpDef.inPlace, for this node (an op that can write over input 0 in some geometries only). Its `scratchBytes`
   * are then the price of running in place: the planner requests them only where it may give output and input 0 one
   * buffer, and the kernel gets a null scratch pointer elsewhere.
   */
  readonly inPlace?: boolean;
  /**
   * The kernel streams its output, no larger than input 0, over input 0's buffer from its start when the planner gives
   * them one (where input 0 dies at this node), and sees at run time whether it did (output == input 0). Its
   * `scratchBytes` serve both ways.
   */
  readonly overwritesInput?: boolean;
  /**
   * With overwritesInput: the scratch the kernel needs where the planner gives output and input 0 one buffer, when
   * less than `scratchBytes` (the in-place kernel reads its input in place rather than through a window).
   */
  readonly scratchBytesInPlace?: number;
}

export interface OutputType {
  readonly shape: readonly number[];
  readonly dtype: DType;
}

export interface OpDef<A extends object = object, P = unknown> {
  /** IR name, PascalCase: 'Conv2D'. */
  readonly name: string;
  /** Absent for operators no model file contains (the training step's gradient and update ops). */
  readonly tflite?: TfliteBinding<A>;
  /** Output shapes from input tensors; throws InvalidModelError / UnsupportedError naming the problem. */
  infer(inputs: readonly (Tensor | null)[], attrs: A): OutputType[];
  /** Compile-time work: checks types/quantization, computes multipliers, LUTs, loop bounds. */
  prepare(ctx: PrepareContext<A>): Prepared<P>;
  /** Reference semantics: fills `outputs` from `inputs` (null for absent optional inputs). */
  evaluate(params: P, inputs: readonly (TensorData | null)[], outputs: readonly TensorData[]): void;
  /** true when the output is the input's bytes reinterpreted (reshape family): the planner aliases them. */
  readonly aliasesInput?: boolean;
  /**
   * true when the kernel may write its output over input 0 (elementwise, same size): where input 0 dies at this op,
   * the planner may give both one buffer.
   */
  readonly inPlace?: boolean;
  /**
   * The node again with less scratch and more instructions, or null (none, or this is it): the compiler swaps it in
   * where the node's step is the memory plan's peak, and keeps it if the peak drops.
   */
  withLessScratch?(node: Node<A>, prepared: Prepared<P>): Node<A> | null;
  /**
   * The node again with more scratch and fewer instructions, or null (none, or this is it): the compiler swaps it in
   * wherever the memory plan's peak stays as it is, since the memory the peak sets is there anyway.
   */
  withMoreScratch?(node: Node<A>, prepared: Prepared<P>): Node<A> | null;
}

/** The context in which a fused operator prepares one of the nodes it stands for: the same graph and options. */
export function partContext<A extends object>(ctx: PrepareContext<object>, node: Node<A>): PrepareContext<A> {
  const tensor = (id: number): Tensor | null => (id < 0 ? null : ctx.graph.tensors[id]!);
  return { graph: ctx.graph, node, inputs: node.inputs.map(tensor), outputs: node.outputs.map((id) => ctx.graph.tensors[id]!), options: ctx.options };
}

/** Shorthand for kernel arguments. */
export const arg = {
  input: (ctx: PrepareContext<object>, i: number): KernelArg => ({ kind: 'tensor', tensor: ctx.node.inputs[i]!, write: false }),
  output: (ctx: PrepareContext<object>, i = 0): KernelArg => ({ kind: 'tensor', tensor: ctx.node.outputs[i]!, write: true }),
  /** A state input the kernel updates in place (training: a trainable parameter, the random generator). */
  updated: (ctx: PrepareContext<object>, i: number): KernelArg => ({ kind: 'tensor', tensor: ctx.node.inputs[i]!, write: true }),
  int: (value: number): KernelArg => ({ kind: 'int', value }),
  table: (dtype: TableDType, values: readonly number[]): KernelArg => ({ kind: 'table', dtype, values }),
  scratch: (): KernelArg => ({ kind: 'scratch' }),
  absent: (dtype: DType, write: boolean): KernelArg => ({ kind: 'tensor', tensor: -1, write, dtype }),
};

export type { QuantParams };
