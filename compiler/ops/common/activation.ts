/** @fileoverview TFLite's fused activation enum (ActivationFunctionType) in the IR's words. */
import type { Activation } from '../../ir/graph.ts';
import { UnsupportedError } from '../../errors.ts';

const ACTIVATIONS: readonly Activation[] = ['none', 'relu', 'relu_n1_to_1', 'relu6', 'tanh'];

export function activationFromTflite(code: unknown): Activation {
  const activation = ACTIVATIONS[Number(code)];
  if (activation === undefined) throw new UnsupportedError(`fused activation function ${String(code)} is not supported`);
  return activation;
}

export function activationToTflite(activation: Activation): number {
  return ACTIVATIONS.indexOf(activation);
}
