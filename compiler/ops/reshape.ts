/**
 * @fileoverview RESHAPE: the input's bytes under another shape. The target shape comes from a
 * constant 1-D int32 second input when there is one (TFLite's ShapeIsVector rule), else from the
 * options' new_shape; one dimension may be -1 (inferred), and the legacy new_shape [0] means a
 * scalar. No kernel: the planner gives the output the input's buffer (see prepareAlias for
 * constant inputs).
 */
import type { Tensor } from '../ir/graph.ts';
import { describeTensor, elementCount } from '../ir/graph.ts';
import { InvalidModelError, UnsupportedError } from '../errors.ts';
import type { OpDef } from './op.ts';
import { constantIntsOf, copyTensorData, prepareAlias } from './common/shape.ts';

export interface ReshapeAttrs {
  /** ReshapeOptions.new_shape; empty when absent. */
  readonly newShape: readonly number[];
}

/** Resolves a requested shape with at most one -1 against `count` elements. */
export function resolveShape(requested: readonly number[], count: number, what: string): number[] {
  let stretch = -1;
  let known = 1;
  requested.forEach((d, i) => {
    if (d === -1) {
      if (stretch >= 0) throw new InvalidModelError(`${what}: more than one -1 in shape [${requested.join(', ')}]`);
      stretch = i;
    } else if (!Number.isInteger(d) || d < 0) {
      throw new InvalidModelError(`${what}: invalid dimension ${d} in shape [${requested.join(', ')}]`);
    } else {
      known *= d;
    }
  });
  const shape = [...requested];
  if (stretch >= 0) {
    if (known === 0 || count % known !== 0) throw new InvalidModelError(`${what}: cannot infer the -1 in [${requested.join(', ')}] for ${count} elements`);
    shape[stretch] = count / known;
  }
  if (elementCount(shape) !== count) throw new InvalidModelError(`${what}: shape [${requested.join(', ')}] does not hold ${count} elements`);
  return shape;
}

function requestedShape(input: Tensor, shapeInput: Tensor | null | undefined, attrs: ReshapeAttrs): number[] {
  if (shapeInput && shapeInput.shape.length === 1 && shapeInput.dtype === 'int32') {
    if (!shapeInput.data) throw new UnsupportedError(`reshape to a computed shape (${describeTensor(shapeInput)} is not a constant) is not supported`);
    return constantIntsOf(shapeInput, 'shape');
  }
  if (attrs.newShape.length === 1 && attrs.newShape[0] === 0) return []; // legacy scalar
  if (attrs.newShape.length === 0 && elementCount(input.shape) !== 1) {
    throw new UnsupportedError(`reshape of ${describeTensor(input)} names no target shape (no constant int32 shape input, no new_shape option)`);
  }
  return [...attrs.newShape];
}

export const reshape: OpDef<ReshapeAttrs, null> = {
  name: 'Reshape',
  aliasesInput: true,
  tflite: {
    code: 22,
    optionsType: 17,
    attrs: (o) => ({ newShape: [...((o['new_shape'] as readonly number[] | undefined) ?? [])] }),
    options: (a) => ({ new_shape: [...a.newShape] }),
  },

  infer([input, shapeInput], attrs) {
    if (!input) throw new InvalidModelError('reshape needs an input');
    const shape = resolveShape(requestedShape(input, shapeInput, attrs), elementCount(input.shape), 'reshape');
    return [{ shape, dtype: input.dtype }];
  },

  prepare: prepareAlias,

  evaluate(_p, [input], [output]) {
    copyTensorData(input!, output!);
  },
};
