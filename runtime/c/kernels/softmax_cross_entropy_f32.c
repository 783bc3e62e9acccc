/*
 * Softmax cross-entropy loss of int8 logits against a label, and its gradient with respect to the real logits,
 * softmax - one_hot, in float32 with tinyforge's own exp and log (compiler/ops/train/softmax_cross_entropy.ts, the
 * reference, fixes every rounding). The real logits are kept in `grad` until their exponentials replace them.
 */
#include "tf_kernels.h"
#include "tf_float32.h"

void softmax_cross_entropy_f32(const int8_t *logits, const int32_t *label, float *loss, float *grad, int32_t classes,
                               int32_t scale_bits, int32_t zero_point) {
  const float scale = tf_f32_from_bits(scale_bits);
  const int32_t target = label[0];
  float max, target_shifted, sum = 0.0f;
  int32_t i;
  for (i = 0; i < classes; ++i) grad[i] = (float)((int32_t)logits[i] - zero_point) * scale;
  max = grad[0];
  for (i = 1; i < classes; ++i) {
    if (grad[i] > max) max = grad[i];
  }
  target_shifted = grad[target] - max;
  for (i = 0; i < classes; ++i) {
    const float e = tf_expf(grad[i] - max);
    grad[i] = e;
    sum += e;
  }
  for (i = 0; i < classes; ++i) grad[i] = grad[i] / sum - (i == target ? 1.0f : 0.0f);
  loss[0] = tf_logf(sum) - target_shifted;
}
