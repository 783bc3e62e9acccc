/**
 * @fileoverview EXPAND_DIMS: inserts a size-1 dimension at the constant `axis` input
 * (in [-rank - 1, rank], negative counted from the end of the output). No kernel: the output
 * aliases the input.
 */
import { describeTensor } from '../ir/graph.ts';
import { InvalidModelError } from '../errors.ts';
import type { OpDef } from './op.ts';
import { constantIntsOf, copyTensorData, normalizeAxis, prepareAlias } from './common/shape.ts';

export type ExpandDimsAttrs = Record<string, never>;

export const expandDims: OpDef<ExpandDimsAttrs, null> = {
  name: 'ExpandDims',
  aliasesInput: true,
  tflite: {
    code: 70,
    optionsType: 52,
    attrs: () => ({}),
    options: () => ({}),
  },

  infer([input, axisInput]) {
    if (!input) throw new InvalidModelError('expand_dims needs an input');
    const values = constantIntsOf(axisInput, 'axis', true);
    if (values.length !== 1) throw new InvalidModelError(`expand_dims axis ${describeTensor(axisInput!)} must hold one value, found ${values.length}`);
    const rank = input.shape.length;
    const axis = normalizeAxis(values[0]!, rank + 1, 'expand_dims axis');
    return [{ shape: [...input.shape.slice(0, axis), 1, ...input.shape.slice(axis)], dtype: input.dtype }];
  },

  prepare: prepareAlias,

  evaluate(_p, [input], [output]) {
    copyTensorData(input!, output!);
  },
};
