/**
 * @fileoverview `--train`: turns an inference graph into a training-step graph (compiler/ir TrainingStep): an optional
 * new classifier, the layers `--update` selects, and the backward graph built at compile time (autodiff.ts).
 */
import type { Graph } from '../ir/graph.ts';
import { replaceClassifier } from './classifier.ts';
import { trainableLayers } from './layers.ts';
import { parseUpdate } from './update_spec.ts';
import { TrainingStepBuilder } from './autodiff.ts';

export interface TrainOptions {
  /** `bias-only`, `last:N`, `full` or `FILE.json#model/scheme` (update_spec.ts). */
  readonly update: string;
  /** A new classifier with this many classes (classifier.ts). */
  readonly classes?: number;
  /** Seeds the new classifier's weights and the stochastic rounding of weight updates. */
  readonly seed?: number;
}

export const DEFAULT_SEED = 0x2545f491;

export function buildTrainingGraph(graph: Graph, options: TrainOptions): Graph {
  const seed = options.seed ?? DEFAULT_SEED;
  const model = options.classes === undefined ? graph : replaceClassifier(graph, options.classes, seed);
  const layers = trainableLayers(model);
  return new TrainingStepBuilder(model, layers, parseUpdate(options.update, layers), seed).build();
}
