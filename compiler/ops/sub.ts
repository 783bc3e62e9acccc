/**
 * @fileoverview SUB, int8 (TFLM sub.cc + reference_ops::SubElementwise / BroadcastQuantSubSlow):
 *   y = act(requant_out(requant_1((x1 - zp1) << 20) - requant_2((x2 - zp2) << 20)) + zp_out)
 * TFLM's CalculateOpDataSub computes the real multipliers in float32 (ADD uses double), which can change
 * a multiplier's low bits: replicated here. Kernel: `add_s8` with input2_sign = -1.
 */
import type { OpDef } from './op.ts';
import { activationFromTflite, activationToTflite } from './common/activation.ts';
import { evaluateAddSub, inferBinary, prepareAddSub } from './common/elementwise_quant.ts';
import type { AddSubParams, BinaryAttrs } from './common/elementwise_quant.ts';

export const sub: OpDef<BinaryAttrs, AddSubParams> = {
  name: 'Sub',
  tflite: {
    code: 41,
    optionsType: 28,
    attrs: (o) => ({ activation: activationFromTflite(o['fused_activation_function'] ?? 0) }),
    options: (a) => ({ fused_activation_function: activationToTflite(a.activation), pot_scale_int16: true }),
  },
  infer: (inputs) => inferBinary(inputs, 'sub'),
  prepare: (ctx) => prepareAddSub(ctx, -1, 'float'),
  evaluate: evaluateAddSub,
};
