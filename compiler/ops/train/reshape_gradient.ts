/**
 * @fileoverview The gradient of a reshape-like op (reshape, squeeze, expand dims): the same float32 values under
 * the input's shape. No kernel: the planner gives it the gradient's buffer.
 */
import type { OpDef } from '../op.ts';
import { copyTensorData, prepareAlias } from '../common/shape.ts';

export const reshapeGradient: OpDef<object, null> = {
  name: 'ReshapeGradient',
  infer: () => {
    throw new Error('ReshapeGradient is created with its output tensor by compiler/train');
  },
  prepare: prepareAlias,
  evaluate: (_p, [input], [output]) => copyTensorData(input!, output!),
  aliasesInput: true,
};
