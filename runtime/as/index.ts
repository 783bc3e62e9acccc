/*
 * tinyforge runtime kernels for WebAssembly: the one list of kernels the wasm backend can call, each exported
 * under the name the compiler's ops give it (compiler/ops, `KernelCall.name`), with the C kernel's parameters.
 * Built by the root asconfig.json: `npx asc --config asconfig.json --target simd|scalar --use TF_SINGLE_ROUNDING=0|1`.
 */
export { add_f32 } from './kernels/add_f32';
export { add_s8 } from './kernels/add_s8';
export { apply_mask_f32 } from './kernels/apply_mask_f32';
export { average_pool2d_backprop_f32 } from './kernels/average_pool2d_backprop_f32';
export { average_pool2d_s8 } from './kernels/average_pool2d_s8';
export { bias_update_f32 } from './kernels/bias_update_f32';
export { concatenation_backprop_f32 } from './kernels/concatenation_backprop_f32';
export { concatenation_s8 } from './kernels/concatenation_s8';
export { conv2d_1x1_s8, conv2d_1x1_s8_lanes } from './kernels/conv2d_1x1_s8';
export { conv2d_backprop_input_f32 } from './kernels/conv2d_backprop_input_f32';
export { conv2d_s8, conv2d_s8_lanes } from './kernels/conv2d_s8';
export { conv2d_weight_update_f32 } from './kernels/conv2d_weight_update_f32';
export { copy_nd_s8 } from './kernels/copy_nd_s8';
export { depthwise_conv2d_backprop_input_f32 } from './kernels/depthwise_conv2d_backprop_input_f32';
export { depthwise_conv2d_s8 } from './kernels/depthwise_conv2d_s8';
export { depthwise_conv2d_weight_update_f32 } from './kernels/depthwise_conv2d_weight_update_f32';
export { dequantize_s8_f32 } from './kernels/dequantize_s8_f32';
export { expansion_backward_f32 } from './kernels/expansion_backward_f32';
export { fold_bias_s8 } from './kernels/fold_bias_s8';
export { folded_bias_update_f32 } from './kernels/folded_bias_update_f32';
export { fully_connected_s8 } from './kernels/fully_connected_s8';
export { inverted_bottleneck_s8 } from './kernels/inverted_bottleneck_s8';
export { lut_s8 } from './kernels/lut_s8';
export { lut_u8_s8 } from './kernels/lut_u8_s8';
export { mask_s8 } from './kernels/mask_s8';
export { max_pool2d_argmax_s8 } from './kernels/max_pool2d_argmax_s8';
export { max_pool2d_backprop_f32 } from './kernels/max_pool2d_backprop_f32';
export { max_pool2d_s8 } from './kernels/max_pool2d_s8';
export { mean_s8 } from './kernels/mean_s8';
export { mul_s8 } from './kernels/mul_s8';
export { pad_backprop_f32 } from './kernels/pad_backprop_f32';
export { pad_s8 } from './kernels/pad_s8';
export { quantize_f32_s8 } from './kernels/quantize_f32_s8';
export { resize_nearest_s8 } from './kernels/resize_nearest_s8';
export { slice_channels_s8 } from './kernels/slice_channels_s8';
export { softmax_cross_entropy_f32 } from './kernels/softmax_cross_entropy_f32';
export { softmax_s8 } from './kernels/softmax_s8';
export { split_conv1x1_s8 } from './kernels/split_conv1x1_s8';
export { widen_s8_s16 } from './kernels/widen_s8_s16';
