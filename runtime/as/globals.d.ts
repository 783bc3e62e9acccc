/* Compile-time constants the build defines (`asc --use NAME=value`); declared here for editors only. */

/** Requantization of CONV_2D / FULLY_CONNECTED: 1 = TFLite's single rounding, 0 = TFLM's double rounding. */
declare const TF_SINGLE_ROUNDING: i32;

/** 1: CONV_2D, DEPTHWISE_CONV_2D and FULLY_CONNECTED requantize as float32 arithmetic does ('float32' rounding). */
declare const TF_FLOAT32_REQUANT: i32;
