/**
 * @fileoverview SQUEEZE: drops size-1 dimensions (those listed in squeeze_dims, negative counted
 * from the end, or all of them when the list is empty). No kernel: the output aliases the input
 * (see prepareAlias for constant inputs).
 */
import { describeTensor } from '../ir/graph.ts';
import { InvalidModelError } from '../errors.ts';
import type { OpDef } from './op.ts';
import { copyTensorData, normalizeAxis, prepareAlias } from './common/shape.ts';

export interface SqueezeAttrs {
  /** SqueezeOptions.squeeze_dims; empty squeezes every size-1 dimension. */
  readonly squeezeDims: readonly number[];
}

export const squeeze: OpDef<SqueezeAttrs, null> = {
  name: 'Squeeze',
  aliasesInput: true,
  tflite: {
    code: 43,
    optionsType: 30,
    attrs: (o) => ({ squeezeDims: [...((o['squeeze_dims'] as readonly number[] | undefined) ?? [])] }),
    options: (a) => ({ squeeze_dims: [...a.squeezeDims] }),
  },

  infer([input], attrs) {
    if (!input) throw new InvalidModelError('squeeze needs an input');
    const rank = input.shape.length;
    const drop = new Array<boolean>(rank).fill(false);
    if (attrs.squeezeDims.length === 0) {
      input.shape.forEach((d, k) => (drop[k] = d === 1));
    } else {
      for (const dim of attrs.squeezeDims) {
        const k = normalizeAxis(dim, rank, 'squeeze dimension');
        if (input.shape[k] !== 1) throw new InvalidModelError(`cannot squeeze dimension ${dim} of ${describeTensor(input)}: its size is ${input.shape[k]}, not 1`);
        drop[k] = true;
      }
    }
    return [{ shape: input.shape.filter((_, k) => !drop[k]), dtype: input.dtype }];
  },

  prepare: prepareAlias,

  evaluate(_p, [input], [output]) {
    copyTensorData(input!, output!);
  },
};
