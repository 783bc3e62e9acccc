/**
 * @fileoverview ADD, int8 (TFLM add.cc + reference_integer_ops::AddFunc), with broadcasting:
 *   y = act(requant_out(requant_1((x1 - zp1) << 20) + requant_2((x2 - zp2) << 20)) + zp_out)
 * Multipliers as TFLM's CalculateOpDataAdd computes them (in double). Kernel: `add_s8` (shared with SUB).
 */
import type { OpDef } from './op.ts';
import { activationFromTflite, activationToTflite } from './common/activation.ts';
import { evaluateAddSub, inferBinary, prepareAddSub } from './common/elementwise_quant.ts';
import type { AddSubParams, BinaryAttrs } from './common/elementwise_quant.ts';

export const add: OpDef<BinaryAttrs, AddSubParams> = {
  name: 'Add',
  tflite: {
    code: 0,
    optionsType: 11,
    attrs: (o) => ({ activation: activationFromTflite(o['fused_activation_function'] ?? 0) }),
    options: (a) => ({ fused_activation_function: activationToTflite(a.activation), pot_scale_int16: true }),
  },
  infer: (inputs) => inferBinary(inputs, 'add'),
  prepare: (ctx) => prepareAddSub(ctx, 1, 'double'),
  evaluate: evaluateAddSub,
};
