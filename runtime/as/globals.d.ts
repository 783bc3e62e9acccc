/* Compile-time constants the build defines (`asc --use NAME=value`); declared here for editors only. */

/** Requantization of CONV_2D / FULLY_CONNECTED: 1 = TFLite's single rounding, 0 = TFLM's double rounding. */
declare const TF_SINGLE_ROUNDING: i32;

/** Requantization of DEPTHWISE_CONV_2D: 1 = single rounding (the 'nearest' rounding), 0 = TFLM's double rounding. */
declare const TF_DEPTHWISE_SINGLE_ROUNDING: i32;
