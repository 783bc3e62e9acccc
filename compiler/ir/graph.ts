import type { DType, TensorData } from './dtype.ts';
import { bytesPerElement } from './dtype.ts';
import type { Rounding } from '../ops/common/fixed_point.ts';

/** Affine quantization: real = scale * (q - zeroPoint). One entry per channel of `axis`, or one entry per tensor. */
export interface QuantParams {
  readonly scale: readonly number[];
  readonly zeroPoint: readonly number[];
  readonly axis: number;
}

export interface Tensor {
  readonly id: number;
  readonly name: string;
  /** NHWC for 4-D activations; weights keep TFLite's layouts (conv OHWI, depthwise 1HWC, fully connected [out, in]). */
  readonly shape: readonly number[];
  readonly dtype: DType;
  readonly quant: QuantParams | null;
  /** Present for constants (weights, biases, shape operands); absent for activations. */
  readonly data: TensorData | null;
}

/** TFLite's SAME / VALID, or explicit [top, left, bottom, right] pixels (ONNX `pads`). */
export type Padding = 'same' | 'valid' | ExplicitPadding;
export type ExplicitPadding = readonly [number, number, number, number];
export type Activation = 'none' | 'relu' | 'relu_n1_to_1' | 'relu6' | 'tanh';
export type AttrValue = number | boolean | string | readonly number[];
export type Attrs = Readonly<Record<string, AttrValue>>;

export interface Node<A extends object = Attrs> {
  readonly id: number;
  readonly op: string;
  /** Tensor ids; -1 marks an absent optional input (for example a convolution without bias). */
  readonly inputs: readonly number[];
  readonly outputs: readonly number[];
  readonly attrs: Readonly<A>;
  /** Where the node came from, for error messages: "operator 12 (CONV_2D)". */
  readonly origin: string;
}

export interface Graph {
  readonly name: string;
  readonly tensors: readonly Tensor[];
  /** In execution order. */
  readonly nodes: readonly Node[];
  readonly inputs: readonly number[];
  readonly outputs: readonly number[];
  /** What the frontend decided that a reader of the report should know (how float requantization was lowered). */
  readonly notes?: readonly string[];
  /** The rounding closest to the model format's own arithmetic, used unless the user picks one ('double' if absent). */
  readonly rounding?: Rounding;
  /** Present when the graph is a training step (compiler/train). */
  readonly training?: TrainingStep;
}

/**
 * A training step: `inputs` are [image, label (int32 [1]), learning rate (float32 [1])], `outputs` [loss (float32 [1])].
 * State tensors are the trainable parameters (and the stochastic-rounding generator): they have `data`, their
 * initial value, but live in writable memory and training ops update them in place.
 */
export interface TrainingStep {
  readonly image: number;
  readonly label: number;
  readonly learningRate: number;
  readonly loss: number;
  /** The int8 logits the loss reads: the output of the inference program. */
  readonly logits: number;
  /** Trainable tensors, in the order `--dump-params` writes them. */
  readonly state: readonly number[];
  /** Indices into `nodes` of the inference program (same tensors, same arena offsets, state as it is now). */
  readonly inferenceNodes: readonly number[];
}

/** True for a tensor training updates in place: it has an initial value but is not a constant. */
export function isState(graph: Graph, id: number): boolean {
  return graph.training?.state.includes(id) ?? false;
}

export function elementCount(shape: readonly number[]): number {
  return shape.reduce((a, b) => a * b, 1);
}

export function tensorBytes(t: Tensor): number {
  return elementCount(t.shape) * bytesPerElement(t.dtype);
}

export function describeTensor(t: Tensor): string {
  return `tensor ${t.id} '${t.name}' [${t.shape.join('x')}] ${t.dtype}`;
}

export function describeNode(n: Node): string {
  return `${n.origin} ${n.op}`;
}
