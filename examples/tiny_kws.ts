/**
 * @fileoverview A small keyword-spotting CNN in the shape of MLPerf Tiny's DS-CNN (MFCC
 * features 49x10 -> 8 keywords), built with the TypeScript model builder. Its weights are
 * seeded, not trained: it shows the tool chain, not accuracy.
 */
import type { Graph } from '../compiler/ir/graph.ts';
import { GraphBuilder } from '../compiler/frontend/builder/builder.ts';

export function tinyKws(seed = 2026): Graph {
  const b = new GraphBuilder('tiny_kws', seed);
  const inScale = 0.1;
  const x = b.input('mfcc', [1, 49, 10, 1], { scale: inScale, zeroPoint: 0 });

  const c1w = b.weights('conv1/weights', [16, 3, 3, 1], 0.01);
  const c1 = b.add('Conv2D', [x, c1w, b.bias('conv1/bias', 16, inScale, 0.01)],
    { padding: 'same', strideH: 2, strideW: 2, dilationH: 1, dilationW: 1, activation: 'relu' }, { scale: 0.15, zeroPoint: -128 });

  const dww = b.weights('dw1/weights', [1, 3, 3, 16], 0.01, 3);
  const dw = b.add('DepthwiseConv2D', [c1, dww, b.bias('dw1/bias', 16, 0.15, 0.01)],
    { padding: 'same', strideH: 1, strideW: 1, dilationH: 1, dilationW: 1, depthMultiplier: 1, activation: 'relu' }, { scale: 0.2, zeroPoint: -128 });

  const pww = b.weights('pw1/weights', [32, 1, 1, 16], 0.01);
  const pw = b.add('Conv2D', [dw, pww, b.bias('pw1/bias', 32, 0.2, 0.01)],
    { padding: 'valid', strideH: 1, strideW: 1, dilationH: 1, dilationW: 1, activation: 'relu' }, { scale: 0.3, zeroPoint: -128 });

  const pool = b.add('AveragePool2D', [pw], { padding: 'valid', strideH: 1, strideW: 1, filterH: 25, filterW: 5, activation: 'none' }, { scale: 0.3, zeroPoint: -128 });
  const flat = b.add('Reshape', [pool, b.int32Constant('flatten/shape', [1, 32])], { newShape: [1, 32] }, { scale: 0.3, zeroPoint: -128 });

  const fcw = b.weights('fc/weights', [8, 32], 0.01);
  const logits = b.add('FullyConnected', [flat, fcw, b.bias('fc/bias', 8, 0.3, 0.01)], { activation: 'none', keepNumDims: false }, { scale: 0.25, zeroPoint: 0 });
  const probs = b.add('Softmax', [logits], { beta: 1 }, { scale: 1 / 256, zeroPoint: -128 });
  b.output(probs);
  return b.build();
}
