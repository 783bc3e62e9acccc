/**
 * @fileoverview Builds the training step at compile time: the forward graph, the loss, and a backward graph made
 * from each operator's gradient rule, in one schedule the planner and every backend treat like any other.
 *
 * - Only tensors downstream of a trained layer need gradients: every other backward op is never created (the
 *   pruning of the paper's engine), and frozen layers before the first trained one run forward only.
 * - The backward pass visits the forward nodes in reverse. For a layer: mask its output gradient (the clamp's
 *   straight-through rule), compute the input gradient while the weights are still the ones the forward pass
 *   used, then update bias and weights in place right away: no weight gradient buffer exists, and each output
 *   gradient dies as soon as its layer is done. A layer with frozen weights updates its bias first, so that its input
 *   gradient is the output gradient's last reader and may take its buffer.
 * - Trainable state is the parameters and nothing derived from them. A layer whose weights train, and a depthwise
 *   layer (whose kernel reads the bias as well as the folded bias), folds its bias right before it runs forward, into
 *   a short-lived arena tensor. Only a bias-only convolution or fully connected layer keeps its bias inside its
 *   folded bias, the one thing its kernel reads.
 * - The forward pass keeps what the backward pass needs and no more: one mask bit per element of each output a
 *   gradient crosses, and each trained layer's input (only its first k channels for a partial update).
 * - A partial update of a 1x1 convolution (stride 1) or fully connected layer splits its weights: the first k input
 *   channels are trainable state, the rest stay a constant, and the layer runs as SplitConv1x1. Only what trains is
 *   copied to SRAM.
 */
import type { Activation, Attrs, Graph, Node, QuantParams, Tensor, TrainingStep } from '../ir/graph.ts';
import { describeNode, describeTensor } from '../ir/graph.ts';
import type { DType, TensorData } from '../ir/dtype.ts';
import { UnsupportedError, UserError } from '../errors.ts';
import { opDef } from '../ops/index.ts';
import { computePadding } from '../ops/common/conv_geometry.ts';
import { normalizeAxis } from '../ops/common/shape.ts';
import type { Padding } from '../ir/graph.ts';
import { activationRange, channelScale, scaleOf, zeroPointOf } from '../ops/common/quant.ts';
import { foldBias } from '../ops/train/fold_bias.ts';
import type { PoolWindowAttrs, WindowAttrs } from '../ops/train/geometry.ts';
import type { TrainableLayer } from './layers.ts';
import type { LayerUpdate, UpdatePlan } from './update_spec.ts';

const INT32_MAX = 2 ** 31 - 1;

/** Activation operators: their gradient is their output's mask, like a fused activation's. */
const STANDALONE_ACTIVATIONS: Readonly<Record<string, Activation>> = { Relu: 'relu', Relu6: 'relu6' };

/** Ops whose gradient passes unchanged in value to the input: reshapes, and the softmax the loss replaces. */
const CLASSIFIER_TAIL = new Set(['Reshape', 'Squeeze', 'ExpandDims', 'Softmax']);

/**
 * A trained layer's parameter tensors: `weights` is what its weight update writes (the trained head of split
 * weights), `tail` the frozen rest of split weights (-1 when not split). `folded` is the folded bias kept as state
 * by a bias-only layer that needs no refolding (-1 otherwise); `bias` is state unless that is the case.
 */
interface LayerParameters {
  readonly weights: number;
  readonly tail: number;
  readonly bias: number;
  readonly folded: number;
}

interface ConvLikeAttrs {
  readonly padding: Padding;
  readonly strideH: number;
  readonly strideW: number;
  readonly dilationH: number;
  readonly dilationW: number;
  readonly activation: Activation;
}

export class TrainingStepBuilder {
  private readonly tensors: Tensor[];
  private readonly nodes: Node[] = [];
  private readonly inference: number[] = [];
  /** Tensor id -> id of its gradient tensor, complete once every consumer has been visited. */
  private readonly gradients = new Map<number, number>();
  private readonly masks = new Map<number, number>();
  /** Max pool output -> the saved argmax of its windows. */
  private readonly argmaxes = new Map<number, number>();
  private readonly savedInputs = new Map<number, number>();
  /** Forward node index -> the parameters of its trained layer. */
  private readonly layerParameters = new Map<number, LayerParameters>();
  /** Trainable tensors, layer by layer in forward order (the `--dump-params` order). */
  private readonly state: number[] = [];
  private label = -1;
  private learningRate = -1;
  private random = -1;

  constructor(
    private readonly model: Graph,
    private readonly layers: readonly TrainableLayer[],
    private readonly plan: UpdatePlan,
    private readonly seed: number,
  ) {
    this.tensors = [...model.tensors];
  }

  build(): Graph {
    const { model } = this;
    if (model.inputs.length !== 1 || model.outputs.length !== 1) {
      throw new UserError(`training needs a model with one input and one output; this one has ${model.inputs.length} and ${model.outputs.length}`);
    }
    const classifier = this.layers[this.layers.length - 1]!;
    this.checkClassifierTail(classifier);
    const logits = classifier.node.outputs[0]!;
    this.label = this.addTensor('label', [1], 'int32');
    this.learningRate = this.addTensor('learning_rate', [1], 'float32');
    this.random = this.addTensor('stochastic_rounding_state', [1], 'int32', null, Int32Array.of(this.seed >>> 0 || 1));

    const needsGradient = this.tensorsNeedingGradient(classifier.nodeIndex);
    for (let i = 0; i <= classifier.nodeIndex; i++) this.forward(i, needsGradient);

    const loss = this.addTensor('loss', [1], 'float32');
    const dLogits = this.addTensor('logits_gradient', this.tensors[logits]!.shape, 'float32');
    this.addNode('SoftmaxCrossEntropy', [logits, this.label], [loss], {}, 'loss', [dLogits]);
    this.gradients.set(logits, dLogits);
    for (let i = classifier.nodeIndex; i >= 0; i--) {
      const node = model.nodes[i]!;
      if (needsGradient.has(node.outputs[0]!)) this.backward(i, needsGradient);
    }

    const training: TrainingStep = {
      image: model.inputs[0]!,
      label: this.label,
      learningRate: this.learningRate,
      loss,
      logits,
      state: [...this.state, this.random],
      inferenceNodes: this.inference,
    };
    return {
      ...model,
      tensors: this.tensors,
      nodes: this.nodes,
      inputs: [model.inputs[0]!, this.label, this.learningRate],
      outputs: [loss],
      training,
    };
  }

  /** After the classifier only reshapes and a softmax may follow: the loss reads the classifier's int8 output. */
  private checkClassifierTail(classifier: TrainableLayer): void {
    for (const node of this.model.nodes.slice(classifier.nodeIndex + 1)) {
      if (!CLASSIFIER_TAIL.has(node.op)) {
        throw new UnsupportedError(`${describeNode(node)}: training needs the last convolution or fully connected layer to produce the logits; ${node.op} follows it`);
      }
    }
  }

  private tensorsNeedingGradient(last: number): Set<number> {
    const needs = new Set<number>();
    this.model.nodes.slice(0, last + 1).forEach((node, i) => {
      if (this.plan.has(i) || node.inputs.some((id) => needs.has(id))) node.outputs.forEach((id) => needs.add(id));
    });
    return needs;
  }

  private forward(index: number, needsGradient: ReadonlySet<number>): void {
    const node = this.model.nodes[index]!;
    const update = this.plan.get(index);
    const layer = this.layers.find((l) => l.nodeIndex === index);
    let op = node.op;
    let inputs = node.inputs;
    let attrs = node.attrs;
    if (layer && update) {
      if (update.weightChannels > 0) this.saveLayerInput(layer, update);
      const p = this.trainableParameters(layer, update);
      this.layerParameters.set(index, p);
      const x = node.inputs[0]!;
      const { folded, saturated } = p.folded >= 0 ? { folded: p.folded, saturated: -1 } : this.foldBias(layer, p);
      if (p.tail >= 0) {
        op = 'SplitConv1x1';
        inputs = [x, p.weights, p.tail, p.bias, folded];
        attrs = { activation: (node.attrs as { activation: Activation }).activation };
      } else {
        inputs = layer.kind === 'depthwise' ? [x, p.weights, p.bias, saturated, folded] : [x, p.weights, p.bias, folded];
      }
    }
    this.inference.push(this.nodes.length);
    this.addNode(op, inputs, node.outputs, attrs, node.origin);
    const output = node.outputs[0]!;
    const range = this.maskRange(node);
    if (needsGradient.has(output) && range) {
      const y = this.tensors[output]!;
      const mask = this.addTensor(`${y.name}_mask`, [Math.ceil(y.shape.reduce((a, b) => a * b, 1) / 8)], 'uint8');
      this.addNode('SaveMask', [output], [mask], range, `${node.origin} (saved mask)`);
      this.masks.set(output, mask);
    }
    if (node.op === 'MaxPool2D' && needsGradient.has(node.inputs[0]!)) {
      const y = this.tensors[output]!;
      const argmax = this.addTensor(`${y.name}_argmax`, y.shape, 'uint8');
      this.addNode('MaxPoolArgmax', [node.inputs[0]!], [argmax], this.poolWindow(node), `${node.origin} (saved argmax)`);
      this.argmaxes.set(output, argmax);
    }
  }

  /**
   * The exclusive range inside which an int8 output passes its gradient; null where none is clamped. A pool only
   * clamps through a fused activation: its values are its inputs', whose own masks stopped their gradients.
   */
  private maskRange(node: Node): { lo: number; hi: number } | null {
    const standalone = STANDALONE_ACTIVATIONS[node.op];
    const activation = standalone ?? (node.attrs as { activation?: Activation }).activation ?? 'none';
    const pool = node.op === 'MaxPool2D' || node.op === 'AveragePool2D';
    if (!(['Conv2D', 'DepthwiseConv2D', 'FullyConnected', 'Add'].includes(node.op) || standalone || (pool && activation !== 'none'))) return null;
    const { min, max } = activationRange(activation, this.tensors[node.outputs[0]!]!);
    return { lo: min, hi: max };
  }

  private saveLayerInput(layer: TrainableLayer, update: LayerUpdate): void {
    const x = layer.node.inputs[0]!;
    if (update.weightChannels === layer.channels) {
      this.savedInputs.set(layer.nodeIndex, x);
      return;
    }
    const t = this.tensors[x]!;
    const saved = this.addTensor(`${t.name}_first${update.weightChannels}`, [...t.shape.slice(0, -1), update.weightChannels], 'int8', t.quant);
    this.addNode('SliceChannels', [x], [saved], { keep: update.weightChannels }, `${layer.node.origin} (saved input channels)`);
    this.savedInputs.set(layer.nodeIndex, saved);
  }

  /**
   * A trained layer's parameters as trainable state: its weights if they train, and its bias, or for a bias-only
   * convolution or fully connected layer only its folded bias (see the file overview).
   */
  private trainableParameters(layer: TrainableLayer, update: LayerUpdate): LayerParameters {
    const channels = layer.kind === 'depthwise' ? layer.channels : layer.weights.shape[0]!;
    let bias = layer.node.inputs[2] ?? -1;
    if (bias < 0) bias = this.addTensor(`${layer.node.origin} bias`, [channels], 'int32', null, new Int32Array(channels));
    const { weights, tail } = this.splitsWeights(layer, update) ? this.splitWeights(layer, update.weightChannels) : { weights: layer.node.inputs[1]!, tail: -1 };
    if (update.weightChannels > 0 || layer.kind === 'depthwise') {
      this.state.push(...(update.weightChannels > 0 ? [weights] : []), bias);
      return { weights, tail, bias, folded: -1 };
    }
    return { weights, tail, bias, folded: this.foldedState(layer, bias, channels) };
  }

  /** A partial update of a 1x1 convolution with stride 1 or of a fully connected layer: SplitConv1x1 runs it. */
  private splitsWeights(layer: TrainableLayer, update: LayerUpdate): boolean {
    if (update.weightChannels === 0 || update.weightChannels === layer.channels || layer.kind === 'depthwise') return false;
    if (layer.kind === 'fully_connected') return true;
    const [, kh, kw] = layer.weights.shape;
    const a = layer.node.attrs as unknown as ConvLikeAttrs;
    return kh === 1 && kw === 1 && a.strideH === 1 && a.strideW === 1;
  }

  /** The first `keep` input channels of each weight row (trainable state) and the rest (a constant), same quantization. */
  private splitWeights(layer: TrainableLayer, keep: number): { weights: number; tail: number } {
    const w = layer.weights;
    const data = w.data as Int8Array;
    const rows = w.shape[0]!;
    const inC = layer.channels;
    const head = new Int8Array(rows * keep);
    const tail = new Int8Array(rows * (inC - keep));
    for (let o = 0; o < rows; o++) {
      head.set(data.subarray(o * inC, o * inC + keep), o * keep);
      tail.set(data.subarray(o * inC + keep, (o + 1) * inC), o * (inC - keep));
    }
    const shape = (c: number) => [...w.shape.slice(0, -1), c];
    return {
      weights: this.addTensor(`${w.name}_first${keep}`, shape(keep), 'int8', w.quant, head),
      tail: this.addTensor(`${w.name}_frozen${inC - keep}`, shape(inC - keep), 'int8', w.quant, tail),
    };
  }

  /** The folded bias of a bias-only convolution or fully connected layer, as trainable state. */
  private foldedState(layer: TrainableLayer, bias: number, channels: number): number {
    const data = new Int32Array(channels);
    const taps = layer.weights.shape.reduce((a, b) => a * b, 1) / channels;
    foldBias.evaluate({ ...this.foldAttrs(layer), channels, taps, keep: taps }, [layer.weights.data!, this.tensors[bias]!.data!, null], [data]);
    const folded = this.addTensor(`${this.tensors[layer.node.outputs[0]!]!.name}_folded_bias`, [channels], 'int32', null, data);
    this.state.push(folded);
    return folded;
  }

  /** A FoldBias node right before the layer's forward node: its folded bias, and a depthwise layer's bias (else -1). */
  private foldBias(layer: TrainableLayer, p: LayerParameters): { folded: number; saturated: number } {
    const channels = this.tensors[p.bias]!.shape;
    const name = this.tensors[layer.node.outputs[0]!]!.name;
    const folded = this.addTensor(`${name}_folded_bias`, channels, 'int32');
    const saturated = layer.kind === 'depthwise' ? this.addTensor(`${name}_saturated_bias`, channels, 'int32') : -1;
    this.inference.push(this.nodes.length);
    this.addNode('FoldBias', [p.weights, p.bias, ...(p.tail >= 0 ? [p.tail] : [])], saturated >= 0 ? [folded, saturated] : [folded], this.foldAttrs(layer), `${layer.node.origin} (folded bias)`);
    return { folded, saturated };
  }

  private foldAttrs(layer: TrainableLayer): { depthwise: boolean; inputOffset: number; maxInput: number } {
    const inputOffset = -zeroPointOf(this.tensors[layer.node.inputs[0]!]!);
    return { depthwise: layer.kind === 'depthwise', inputOffset, maxInput: Math.max(Math.abs(-128 + inputOffset), Math.abs(127 + inputOffset)) };
  }

  private backward(index: number, needsGradient: ReadonlySet<number>): void {
    const node = this.model.nodes[index]!;
    const output = node.outputs[0]!;
    const dy = this.gradients.get(output);
    if (dy === undefined) return;
    const masked = this.masked(node, dy);
    const input = node.inputs[0]!;
    const passTo = (id: number, gradient: number) => {
      if (needsGradient.has(id)) this.addGradient(id, gradient, node);
    };
    switch (node.op) {
      case 'Conv2D':
      case 'DepthwiseConv2D':
      case 'FullyConnected':
        this.layerBackward(this.layers.find((l) => l.nodeIndex === index)!, masked, needsGradient.has(input));
        return;
      case 'Add':
        node.inputs.forEach((id) => passTo(id, masked));
        return;
      case 'Relu':
      case 'Relu6':
        passTo(input, masked);
        return;
      case 'AveragePool2D':
      case 'Mean':
        if (needsGradient.has(input)) this.addGradient(input, this.poolBackward(node, masked), node);
        return;
      case 'Concatenation':
        this.concatenationBackward(node, masked, needsGradient);
        return;
      case 'MaxPool2D':
        if (needsGradient.has(input)) {
          this.addGradient(input, this.gradientTensor(input, 'MaxPool2DBackprop', [masked, this.argmaxes.get(output)!], this.poolWindow(node), node), node);
        }
        return;
      case 'Pad':
      case 'PadV2':
        if (needsGradient.has(input)) this.addGradient(input, this.gradientTensor(input, 'PadBackprop', [masked, node.inputs[1]!], {}, node), node);
        return;
      default:
        if (opDef(node.op).aliasesInput) {
          if (needsGradient.has(input)) this.addGradient(input, this.gradientTensor(input, 'ReshapeGradient', [masked], {}, node), node);
          return;
        }
        throw new UnsupportedError(`${describeNode(node)}: training cannot take gradients through ${node.op}; train only layers after it`);
    }
  }

  private masked(node: Node, dy: number): number {
    const mask = this.masks.get(node.outputs[0]!);
    if (mask === undefined) return dy;
    const out = this.addTensor(`${this.tensors[node.outputs[0]!]!.name}_masked_gradient`, this.tensors[dy]!.shape, 'float32');
    this.addNode('ApplyMask', [dy, mask], [out], {}, `${node.origin} (gradient)`);
    return out;
  }

  private layerBackward(layer: TrainableLayer, dy: number, inputNeedsGradient: boolean): void {
    const { node } = layer;
    const x = node.inputs[0]!;
    const window = this.windowAttrs(layer);
    const depthwise = layer.kind === 'depthwise';
    const p = this.layerParameters.get(layer.nodeIndex);
    const inputGradient = () => {
      if (!inputNeedsGradient) return;
      const weights = p && p.tail >= 0 ? [p.weights, p.tail] : [node.inputs[1]!];
      this.addGradient(x, this.gradientTensor(x, depthwise ? 'DepthwiseConv2DBackpropInput' : 'Conv2DBackpropInput', [dy, ...weights], window, node), node);
    };
    const update = this.plan.get(layer.nodeIndex);
    if (!update || !p) {
      inputGradient();
      return;
    }
    const origin = `${node.origin} (update)`;
    const sx = scaleOf(this.tensors[x]!);
    const invScale = Array.from({ length: this.tensors[p.bias]!.shape[0]! }, (_, c) => 1 / (sx * channelScale(layer.weights, c)));
    if (update.weightChannels === 0) {
      // The bias does not enter the input gradient: updating it first leaves the input gradient dy's last reader,
      // which may then write over dy (a stride-1 depthwise layer).
      if (p.folded >= 0) this.addNode('FoldedBiasUpdate', [dy, p.folded, this.learningRate], [], { invScale, ...this.frozenWeightSums(layer) }, origin);
      else this.addNode('BiasUpdate', [dy, p.bias, this.learningRate], [], { invScale }, origin);
      inputGradient();
      return;
    }
    // The input gradient needs the weights the forward pass used, so it runs before they are updated.
    inputGradient();
    if (update.bias) this.addNode('BiasUpdate', [dy, p.bias, this.learningRate], [], { invScale }, origin);
    const op = depthwise ? 'DepthwiseConv2DWeightUpdate' : 'Conv2DWeightUpdate';
    this.addNode(op, [dy, this.savedInputs.get(layer.nodeIndex)!, p.weights, this.learningRate, this.random], [], { ...window, keep: update.weightChannels, dequantizeByTable: false }, origin);
  }

  /** Per channel of a frozen-weight layer: input_offset x sum of its weights, and the bias limit (common/bias.ts). */
  private frozenWeightSums(layer: TrainableLayer): { offsetSum: number[]; limit: number[] } {
    const { inputOffset, maxInput } = this.foldAttrs(layer);
    const w = layer.weights.data as Int8Array;
    const channels = layer.kind === 'depthwise' ? layer.channels : layer.weights.shape[0]!;
    const taps = w.length / channels;
    const tap = (c: number, t: number) => w[layer.kind === 'depthwise' ? t * channels + c : c * taps + t]!;
    const sums = Array.from({ length: channels }, (_, c) => {
      let sum = 0;
      let abs = 0;
      for (let t = 0; t < taps; t++) {
        sum += tap(c, t);
        abs += Math.abs(tap(c, t));
      }
      return { sum, abs };
    });
    return { offsetSum: sums.map((s) => inputOffset * s.sum), limit: sums.map((s) => INT32_MAX - maxInput * s.abs) };
  }

  private windowAttrs(layer: TrainableLayer): WindowAttrs {
    if (layer.kind === 'fully_connected') return { strideH: 1, strideW: 1, dilationH: 1, dilationW: 1, padTop: 0, padLeft: 0 };
    const a = layer.node.attrs as unknown as ConvLikeAttrs;
    const [, inH, inW] = this.tensors[layer.node.inputs[0]!]!.shape as [number, number, number, number];
    const [, kh, kw] = layer.weights.shape as [number, number, number, number];
    const g = computePadding(inH, inW, kh, kw, a.strideH, a.strideW, a.dilationH, a.dilationW, a.padding);
    return { strideH: a.strideH, strideW: a.strideW, dilationH: a.dilationH, dilationW: a.dilationW, padTop: g.padTop, padLeft: g.padLeft };
  }

  /** Each input that needs a gradient gets its slice of dy; an input the forward pass requantized is refused. */
  private concatenationBackward(node: Node, dy: number, needsGradient: ReadonlySet<number>): void {
    const output = this.tensors[node.outputs[0]!]!;
    const axis = normalizeAxis((node.attrs as { axis: number }).axis, output.shape.length, 'concatenation axis');
    let offset = 0;
    for (const id of node.inputs) {
      const input = this.tensors[id]!;
      if (needsGradient.has(id)) {
        if (scaleOf(input) !== scaleOf(output) || zeroPointOf(input) !== zeroPointOf(output)) {
          throw new UnsupportedError(`${describeNode(node)}: training cannot take gradients through input ${describeTensor(input)}, which the concatenation requantizes; train only layers after it`);
        }
        this.addGradient(id, this.gradientTensor(id, 'ConcatenationBackprop', [dy], { axis, offset }, node), node);
      }
      offset += input.shape[axis]!;
    }
  }

  private poolBackward(node: Node, dy: number): number {
    return this.gradientTensor(node.inputs[0]!, 'AveragePool2DBackprop', [dy], this.poolWindow(node), node);
  }

  /** The window of a pooling node (a spatial mean: one window over the whole map), its padding resolved. */
  private poolWindow(node: Node): PoolWindowAttrs {
    const input = this.tensors[node.inputs[0]!]!;
    if (input.shape.length !== 4) throw new UnsupportedError(`${describeNode(node)}: training needs a 4-D NHWC input to ${node.op}`);
    const [, inH, inW] = input.shape as [number, number, number, number];
    if (node.op === 'Mean') {
      const axes = this.tensors[node.inputs[1]!]?.data;
      const spatial = axes && [...axes].map(Number).sort().join() === '1,2';
      if (!spatial) throw new UnsupportedError(`${describeNode(node)}: training takes gradients through a mean over height and width only`);
      return { filterH: inH, filterW: inW, strideH: 1, strideW: 1, padTop: 0, padLeft: 0 };
    }
    const a = node.attrs as unknown as { padding: Padding; strideH: number; strideW: number; filterH: number; filterW: number };
    const g = computePadding(inH, inW, a.filterH, a.filterW, a.strideH, a.strideW, 1, 1, a.padding);
    return { filterH: a.filterH, filterW: a.filterW, strideH: a.strideH, strideW: a.strideW, padTop: g.padTop, padLeft: g.padLeft };
  }

  /** A node computing the gradient of forward tensor `of`; returns the new gradient tensor. */
  private gradientTensor(of: number, op: string, inputs: readonly number[], attrs: Attrs, node: Node): number {
    const t = this.tensors[of]!;
    const out = this.addTensor(`${t.name}_gradient_from_${node.id}`, t.shape, 'float32');
    this.addNode(op, inputs, [out], attrs, `${node.origin} (gradient)`);
    return out;
  }

  /** Gradients from several consumers add up (a residual block's input); `from` is the consumer. */
  private addGradient(of: number, gradient: number, from: Node): void {
    const existing = this.gradients.get(of);
    if (existing === undefined) {
      this.gradients.set(of, gradient);
      return;
    }
    const t = this.tensors[of]!;
    const sum = this.addTensor(`${t.name}_gradient_sum`, t.shape, 'float32');
    this.addNode('AddGradients', [existing, gradient], [sum], {}, `${from.origin} (gradient sum)`);
    this.gradients.set(of, sum);
  }

  private addTensor(name: string, shape: readonly number[], dtype: DType, quant: QuantParams | null = null, data: TensorData | null = null): number {
    const id = this.tensors.length;
    this.tensors.push({ id, name, shape, dtype, quant, data });
    return id;
  }

  private addNode(op: string, inputs: readonly number[], outputs: readonly number[], attrs: object, origin: string, extraOutputs: readonly number[] = []): void {
    this.nodes.push({ id: this.nodes.length, op, inputs, outputs: [...outputs, ...extraOutputs], attrs: attrs as Attrs, origin });
  }
}
