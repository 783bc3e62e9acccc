/** @fileoverview The operators of the training step (compiler/train builds them; no model file contains them). */
export { softmaxCrossEntropy } from './softmax_cross_entropy.ts';
export { saveMask, applyMask } from './mask.ts';
export { sliceChannels } from './slice_channels.ts';
export { conv2dBackpropInput, depthwiseConv2dBackpropInput } from './backprop_input.ts';
export { biasUpdate, conv2dWeightUpdate, depthwiseConv2dWeightUpdate, foldedBiasUpdate } from './parameter_update.ts';
export { foldBias } from './fold_bias.ts';
export { splitConv1x1 } from './split_conv.ts';
export { addGradients } from './add_gradients.ts';
export { averagePool2dBackprop } from './average_pool_backprop.ts';
export { concatenationBackprop } from './concatenation_backprop.ts';
export { maxPoolArgmax, maxPool2dBackprop } from './max_pool_backprop.ts';
export { padBackprop } from './pad_backprop.ts';
export { reshapeGradient } from './reshape_gradient.ts';
export { expansionBackward } from './expansion_backward.ts';
