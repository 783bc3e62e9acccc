/** @fileoverview The layers training can update: convolutions, depthwise convolutions and fully connected layers. */
import type { Graph, Node, Tensor } from '../ir/graph.ts';

export type LayerKind = 'conv' | 'depthwise' | 'fully_connected';

export interface TrainableLayer {
  /** Index of the layer's node in the forward graph. */
  readonly nodeIndex: number;
  readonly node: Node;
  readonly kind: LayerKind;
  readonly weights: Tensor;
  /**
   * The channels a partial weight update selects from: input channels of a convolution or fully connected layer
   * (the paper's pointwise layers), channels of a depthwise one.
   */
  readonly channels: number;
}

const KINDS: Readonly<Record<string, LayerKind>> = { Conv2D: 'conv', DepthwiseConv2D: 'depthwise', FullyConnected: 'fully_connected' };

/** In forward order; the last one is the classifier. */
export function trainableLayers(graph: Graph): TrainableLayer[] {
  return graph.nodes.flatMap((node, nodeIndex) => {
    const kind = KINDS[node.op];
    if (!kind) return [];
    const weights = graph.tensors[node.inputs[1]!]!;
    const channels = weights.shape[weights.shape.length - 1]!;
    return [{ nodeIndex, node, kind, weights, channels }];
  });
}
