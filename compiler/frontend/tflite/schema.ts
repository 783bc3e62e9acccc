// Declarative slice of the TFLite flatbuffer schema (tensorflow/compiler/mlir/lite/schema/schema.fbs,
// tflite-micro). Enum values are the wire values; option tables list their fields in field-id order so
// the reader and writer share one definition and cannot drift apart.

/** TensorType is a `byte` enum on the wire. */
export const TensorType = {
  FLOAT32: 0, FLOAT16: 1, INT32: 2, UINT8: 3, INT64: 4, STRING: 5, BOOL: 6, INT16: 7, COMPLEX64: 8, INT8: 9,
  FLOAT64: 10, COMPLEX128: 11, UINT64: 12, RESOURCE: 13, VARIANT: 14, UINT32: 15, UINT16: 16, INT4: 17,
  BFLOAT16: 18, INT2: 19, UINT4: 20, FLOAT8_E4M3FN: 21, FLOAT8_E5M2: 22,
} as const;

/** Bytes per element for the fixed-width types; sub-byte, string and opaque types are absent. */
export const TENSOR_TYPE_SIZE: Readonly<Partial<Record<number, number>>> = {
  0: 4, 1: 2, 2: 4, 3: 1, 4: 8, 6: 1, 7: 2, 8: 8, 9: 1, 10: 8, 11: 16, 12: 8, 15: 4, 16: 2, 18: 2, 21: 1, 22: 1,
};

/** Opcodes 0..127 also fit OperatorCode.deprecated_builtin_code (a `byte`); larger ones only builtin_code (int32). */
export const BuiltinOperator = {
  ADD: 0, AVERAGE_POOL_2D: 1, CONCATENATION: 2, CONV_2D: 3, DEPTHWISE_CONV_2D: 4, DEPTH_TO_SPACE: 5,
  DEQUANTIZE: 6, EMBEDDING_LOOKUP: 7, FLOOR: 8, FULLY_CONNECTED: 9, HASHTABLE_LOOKUP: 10,
  L2_NORMALIZATION: 11, L2_POOL_2D: 12, LOCAL_RESPONSE_NORMALIZATION: 13, LOGISTIC: 14, LSH_PROJECTION: 15,
  LSTM: 16, MAX_POOL_2D: 17, MUL: 18, RELU: 19, RELU_N1_TO_1: 20, RELU6: 21, RESHAPE: 22, RESIZE_BILINEAR: 23,
  RNN: 24, SOFTMAX: 25, SPACE_TO_DEPTH: 26, SVDF: 27, TANH: 28, CONCAT_EMBEDDINGS: 29, SKIP_GRAM: 30,
  CALL: 31, CUSTOM: 32, EMBEDDING_LOOKUP_SPARSE: 33, PAD: 34, UNIDIRECTIONAL_SEQUENCE_RNN: 35, GATHER: 36,
  BATCH_TO_SPACE_ND: 37, SPACE_TO_BATCH_ND: 38, TRANSPOSE: 39, MEAN: 40, SUB: 41, DIV: 42, SQUEEZE: 43,
  UNIDIRECTIONAL_SEQUENCE_LSTM: 44, STRIDED_SLICE: 45, BIDIRECTIONAL_SEQUENCE_RNN: 46, EXP: 47, TOPK_V2: 48,
  SPLIT: 49, LOG_SOFTMAX: 50, DELEGATE: 51, BIDIRECTIONAL_SEQUENCE_LSTM: 52, CAST: 53, PRELU: 54, MAXIMUM: 55,
  ARG_MAX: 56, MINIMUM: 57, LESS: 58, NEG: 59, PADV2: 60, GREATER: 61, GREATER_EQUAL: 62, LESS_EQUAL: 63,
  SELECT: 64, SLICE: 65, SIN: 66, TRANSPOSE_CONV: 67, SPARSE_TO_DENSE: 68, TILE: 69, EXPAND_DIMS: 70,
  EQUAL: 71, NOT_EQUAL: 72, LOG: 73, SUM: 74, SQRT: 75, RSQRT: 76, SHAPE: 77, POW: 78, ARG_MIN: 79,
  FAKE_QUANT: 80, REDUCE_PROD: 81, REDUCE_MAX: 82, PACK: 83, LOGICAL_OR: 84, ONE_HOT: 85, LOGICAL_AND: 86,
  LOGICAL_NOT: 87, UNPACK: 88, REDUCE_MIN: 89, FLOOR_DIV: 90, REDUCE_ANY: 91, SQUARE: 92, ZEROS_LIKE: 93,
  FILL: 94, FLOOR_MOD: 95, RANGE: 96, RESIZE_NEAREST_NEIGHBOR: 97, LEAKY_RELU: 98, SQUARED_DIFFERENCE: 99,
  MIRROR_PAD: 100, ABS: 101, SPLIT_V: 102, UNIQUE: 103, CEIL: 104, REVERSE_V2: 105, ADD_N: 106,
  GATHER_ND: 107, COS: 108, WHERE: 109, RANK: 110, ELU: 111, REVERSE_SEQUENCE: 112, MATRIX_DIAG: 113,
  QUANTIZE: 114, MATRIX_SET_DIAG: 115, ROUND: 116, HARD_SWISH: 117, IF: 118, WHILE: 119,
  NON_MAX_SUPPRESSION_V4: 120, NON_MAX_SUPPRESSION_V5: 121, SCATTER_ND: 122, SELECT_V2: 123, DENSIFY: 124,
  SEGMENT_SUM: 125, BATCH_MATMUL: 126, PLACEHOLDER_FOR_GREATER_OP_CODES: 127, CUMSUM: 128, CALL_ONCE: 129,
  BROADCAST_TO: 130, RFFT2D: 131, CONV_3D: 132, IMAG: 133, REAL: 134, COMPLEX_ABS: 135, HASHTABLE: 136,
  HASHTABLE_FIND: 137, HASHTABLE_IMPORT: 138, HASHTABLE_SIZE: 139, REDUCE_ALL: 140, CONV_3D_TRANSPOSE: 141,
  VAR_HANDLE: 142, READ_VARIABLE: 143, ASSIGN_VARIABLE: 144, BROADCAST_ARGS: 145, RANDOM_STANDARD_NORMAL: 146,
  BUCKETIZE: 147, RANDOM_UNIFORM: 148, MULTINOMIAL: 149, GELU: 150, DYNAMIC_UPDATE_SLICE: 151,
  RELU_0_TO_1: 152, UNSORTED_SEGMENT_PROD: 153, UNSORTED_SEGMENT_MAX: 154, UNSORTED_SEGMENT_SUM: 155,
  ATAN2: 156, UNSORTED_SEGMENT_MIN: 157, SIGN: 158, BITCAST: 159, BITWISE_XOR: 160, RIGHT_SHIFT: 161,
  STABLEHLO_LOGISTIC: 162, STABLEHLO_ADD: 163, STABLEHLO_DIVIDE: 164, STABLEHLO_MULTIPLY: 165,
  STABLEHLO_MAXIMUM: 166, STABLEHLO_RESHAPE: 167, STABLEHLO_CLAMP: 168, STABLEHLO_CONCATENATE: 169,
  STABLEHLO_BROADCAST_IN_DIM: 170, STABLEHLO_CONVOLUTION: 171, STABLEHLO_SLICE: 172,
  STABLEHLO_CUSTOM_CALL: 173, STABLEHLO_REDUCE: 174, STABLEHLO_ABS: 175, STABLEHLO_AND: 176,
  STABLEHLO_COSINE: 177, STABLEHLO_EXPONENTIAL: 178, STABLEHLO_FLOOR: 179, STABLEHLO_LOG: 180,
  STABLEHLO_MINIMUM: 181, STABLEHLO_NEGATE: 182, STABLEHLO_OR: 183, STABLEHLO_POWER: 184,
  STABLEHLO_REMAINDER: 185, STABLEHLO_RSQRT: 186, STABLEHLO_SELECT: 187, STABLEHLO_SUBTRACT: 188,
  STABLEHLO_TANH: 189, STABLEHLO_SCATTER: 190, STABLEHLO_COMPARE: 191, STABLEHLO_CONVERT: 192,
  STABLEHLO_DYNAMIC_SLICE: 193, STABLEHLO_DYNAMIC_UPDATE_SLICE: 194, STABLEHLO_PAD: 195, STABLEHLO_IOTA: 196,
  STABLEHLO_DOT_GENERAL: 197, STABLEHLO_REDUCE_WINDOW: 198, STABLEHLO_SORT: 199, STABLEHLO_WHILE: 200,
  STABLEHLO_GATHER: 201, STABLEHLO_TRANSPOSE: 202, DILATE: 203, STABLEHLO_RNG_BIT_GENERATOR: 204,
  REDUCE_WINDOW: 205, STABLEHLO_COMPOSITE: 206, STABLEHLO_SHIFT_LEFT: 207, STABLEHLO_CBRT: 208,
  STABLEHLO_CASE: 209,} as const;

export const ActivationFunctionType = { NONE: 0, RELU: 1, RELU_N1_TO_1: 2, RELU6: 3, TANH: 4, SIGN_BIT: 5 } as const;
export const Padding = { SAME: 0, VALID: 1 } as const;
export const FullyConnectedOptionsWeightsFormat = { DEFAULT: 0, SHUFFLED4x16INT8: 1 } as const;
export const MirrorPadMode = { REFLECT: 0, SYMMETRIC: 1 } as const;

/** Union tags of Operator.builtin_options (a `ubyte` stored in the preceding field slot). */
export const BuiltinOptions = {
  NONE: 0, Conv2DOptions: 1, DepthwiseConv2DOptions: 2, ConcatEmbeddingsOptions: 3, LSHProjectionOptions: 4,
  Pool2DOptions: 5, SVDFOptions: 6, RNNOptions: 7, FullyConnectedOptions: 8, SoftmaxOptions: 9,
  ConcatenationOptions: 10, AddOptions: 11, L2NormOptions: 12, LocalResponseNormalizationOptions: 13,
  LSTMOptions: 14, ResizeBilinearOptions: 15, CallOptions: 16, ReshapeOptions: 17, SkipGramOptions: 18,
  SpaceToDepthOptions: 19, EmbeddingLookupSparseOptions: 20, MulOptions: 21, PadOptions: 22,
  GatherOptions: 23, BatchToSpaceNDOptions: 24, SpaceToBatchNDOptions: 25, TransposeOptions: 26,
  ReducerOptions: 27, SubOptions: 28, DivOptions: 29, SqueezeOptions: 30, SequenceRNNOptions: 31,
  StridedSliceOptions: 32, ExpOptions: 33, TopKV2Options: 34, SplitOptions: 35, LogSoftmaxOptions: 36,
  CastOptions: 37, DequantizeOptions: 38, MaximumMinimumOptions: 39, ArgMaxOptions: 40, LessOptions: 41,
  NegOptions: 42, PadV2Options: 43, GreaterOptions: 44, GreaterEqualOptions: 45, LessEqualOptions: 46,
  SelectOptions: 47, SliceOptions: 48, TransposeConvOptions: 49, SparseToDenseOptions: 50, TileOptions: 51,
  ExpandDimsOptions: 52, EqualOptions: 53, NotEqualOptions: 54, ShapeOptions: 55, PowOptions: 56,
  ArgMinOptions: 57, FakeQuantOptions: 58, PackOptions: 59, LogicalOrOptions: 60, OneHotOptions: 61,
  LogicalAndOptions: 62, LogicalNotOptions: 63, UnpackOptions: 64, FloorDivOptions: 65, SquareOptions: 66,
  ZerosLikeOptions: 67, FillOptions: 68, BidirectionalSequenceLSTMOptions: 69,
  BidirectionalSequenceRNNOptions: 70, UnidirectionalSequenceLSTMOptions: 71, FloorModOptions: 72,
  RangeOptions: 73, ResizeNearestNeighborOptions: 74, LeakyReluOptions: 75, SquaredDifferenceOptions: 76,
  MirrorPadOptions: 77, AbsOptions: 78, SplitVOptions: 79, UniqueOptions: 80, ReverseV2Options: 81,
  AddNOptions: 82, GatherNdOptions: 83, CosOptions: 84, WhereOptions: 85, RankOptions: 86,
  ReverseSequenceOptions: 87, MatrixDiagOptions: 88, QuantizeOptions: 89, MatrixSetDiagOptions: 90,
  HardSwishOptions: 91, IfOptions: 92, WhileOptions: 93, DepthToSpaceOptions: 94,
  NonMaxSuppressionV4Options: 95, NonMaxSuppressionV5Options: 96, ScatterNdOptions: 97, SelectV2Options: 98,
  DensifyOptions: 99, SegmentSumOptions: 100, BatchMatMulOptions: 101, CumsumOptions: 102,
  CallOnceOptions: 103, BroadcastToOptions: 104, Rfft2dOptions: 105, Conv3DOptions: 106,
  HashtableOptions: 107, HashtableFindOptions: 108, HashtableImportOptions: 109, HashtableSizeOptions: 110,
  VarHandleOptions: 111, ReadVariableOptions: 112, AssignVariableOptions: 113, RandomOptions: 114,
  BucketizeOptions: 115, GeluOptions: 116, DynamicUpdateSliceOptions: 117, UnsortedSegmentProdOptions: 118,
  UnsortedSegmentMaxOptions: 119, UnsortedSegmentMinOptions: 120, UnsortedSegmentSumOptions: 121,
  ATan2Options: 122, SignOptions: 123, BitcastOptions: 124, BitwiseXorOptions: 125, RightShiftOptions: 126,} as const;

type EnumObject = Readonly<Record<string, number>>;

export const BUILTIN_OPERATOR_MAX = 209; // STABLEHLO_CASE, the last opcode in the schema we follow
export const BUILTIN_OPTIONS_MAX = 126; // RightShiftOptions; newer ops use builtin_options_2, which we ignore
export const TENSOR_TYPE_MAX = 22;

function nameOf(e: EnumObject, value: number): string | undefined {
  for (const k in e) if (e[k] === value) return k;
  return undefined;
}
export const builtinOperatorName = (code: number): string => nameOf(BuiltinOperator, code) ?? `OP_${code}`;
export const tensorTypeName = (type: number): string => nameOf(TensorType, type) ?? `TYPE_${type}`;
export const builtinOptionsName = (tag: number): string => nameOf(BuiltinOptions, tag) ?? `OPTIONS_${tag}`;

/**
 * 'int8' is any one-byte scalar; enum fields name their enum so reader and writer can range-check.
 * 'int32[]' fields default to [] and are omitted from the file when empty.
 */
export type OptionKind = 'int32' | 'float32' | 'bool' | 'int32[]' | 'int8';
export type OptionValue = number | boolean | number[];
export type OptionField = readonly [name: string, kind: OptionKind, def: number | boolean | readonly number[], enumeration?: EnumObject];
export interface OptionsTable { readonly name: string; readonly fields: readonly OptionField[] }

const padding = ['padding', 'int8', Padding.SAME, Padding] as const;
const strideW = ['stride_w', 'int32', 0] as const;
const strideH = ['stride_h', 'int32', 0] as const;
const act = ['fused_activation_function', 'int8', ActivationFunctionType.NONE, ActivationFunctionType] as const;
const biasType = ['quantized_bias_type', 'int8', TensorType.FLOAT32, TensorType] as const;
const potScale = ['pot_scale_int16', 'bool', true] as const;
const dilations = [['dilation_w_factor', 'int32', 1], ['dilation_h_factor', 'int32', 1]] as const;
const O = BuiltinOptions;

/** Option tables we decode, keyed by union tag. Tags absent here decode to {} (and cannot be written). */
export const OPTIONS_TABLES: Readonly<Record<number, OptionsTable>> = {
  [O.Conv2DOptions]: { name: 'Conv2DOptions', fields: [padding, strideW, strideH, act, ...dilations, biasType] },
  [O.DepthwiseConv2DOptions]: {
    name: 'DepthwiseConv2DOptions',
    fields: [padding, strideW, strideH, ['depth_multiplier', 'int32', 0], act, ...dilations],
  },
  [O.Pool2DOptions]: {
    name: 'Pool2DOptions',
    fields: [padding, strideW, strideH, ['filter_width', 'int32', 0], ['filter_height', 'int32', 0], act],
  },
  [O.FullyConnectedOptions]: {
    name: 'FullyConnectedOptions',
    fields: [act, ['weights_format', 'int8', 0, FullyConnectedOptionsWeightsFormat], ['keep_num_dims', 'bool', false],
      ['asymmetric_quantize_inputs', 'bool', false], biasType],
  },
  [O.SoftmaxOptions]: { name: 'SoftmaxOptions', fields: [['beta', 'float32', 0]] },
  [O.ConcatenationOptions]: { name: 'ConcatenationOptions', fields: [['axis', 'int32', 0], act] },
  [O.AddOptions]: { name: 'AddOptions', fields: [act, potScale] },
  [O.ReshapeOptions]: { name: 'ReshapeOptions', fields: [['new_shape', 'int32[]', []]] },
  [O.MulOptions]: { name: 'MulOptions', fields: [act] },
  [O.PadOptions]: { name: 'PadOptions', fields: [] },
  [O.GatherOptions]: { name: 'GatherOptions', fields: [['axis', 'int32', 0], ['batch_dims', 'int32', 0]] },
  [O.TransposeOptions]: { name: 'TransposeOptions', fields: [] },
  [O.ReducerOptions]: { name: 'ReducerOptions', fields: [['keep_dims', 'bool', false]] },
  [O.SubOptions]: { name: 'SubOptions', fields: [act, potScale] },
  [O.DivOptions]: { name: 'DivOptions', fields: [act] },
  [O.SqueezeOptions]: { name: 'SqueezeOptions', fields: [['squeeze_dims', 'int32[]', []]] },
  [O.StridedSliceOptions]: {
    name: 'StridedSliceOptions',
    fields: [['begin_mask', 'int32', 0], ['end_mask', 'int32', 0], ['ellipsis_mask', 'int32', 0],
      ['new_axis_mask', 'int32', 0], ['shrink_axis_mask', 'int32', 0], ['offset', 'bool', false]],
  },
  [O.SplitOptions]: { name: 'SplitOptions', fields: [['num_splits', 'int32', 0]] },
  [O.CastOptions]: {
    name: 'CastOptions',
    fields: [['in_data_type', 'int8', 0, TensorType], ['out_data_type', 'int8', 0, TensorType]],
  },
  [O.DequantizeOptions]: { name: 'DequantizeOptions', fields: [] },
  [O.MaximumMinimumOptions]: { name: 'MaximumMinimumOptions', fields: [] },
  [O.ArgMaxOptions]: { name: 'ArgMaxOptions', fields: [['output_type', 'int8', 0, TensorType]] },
  [O.PadV2Options]: { name: 'PadV2Options', fields: [] },
  [O.SliceOptions]: { name: 'SliceOptions', fields: [] },
  [O.TransposeConvOptions]: { name: 'TransposeConvOptions', fields: [padding, strideW, strideH, act, biasType] },
  [O.ExpandDimsOptions]: { name: 'ExpandDimsOptions', fields: [] },
  [O.ArgMinOptions]: { name: 'ArgMinOptions', fields: [['output_type', 'int8', 0, TensorType]] },
  [O.PackOptions]: { name: 'PackOptions', fields: [['values_count', 'int32', 0], ['axis', 'int32', 0]] },
  [O.UnpackOptions]: { name: 'UnpackOptions', fields: [['num', 'int32', 0], ['axis', 'int32', 0]] },
  [O.ResizeNearestNeighborOptions]: {
    name: 'ResizeNearestNeighborOptions',
    fields: [['align_corners', 'bool', false], ['half_pixel_centers', 'bool', false]],
  },
  [O.LeakyReluOptions]: { name: 'LeakyReluOptions', fields: [['alpha', 'float32', 0]] },
  [O.MirrorPadOptions]: { name: 'MirrorPadOptions', fields: [['mode', 'int8', 0, MirrorPadMode]] },
  [O.SplitVOptions]: { name: 'SplitVOptions', fields: [['num_splits', 'int32', 0]] },
  [O.QuantizeOptions]: { name: 'QuantizeOptions', fields: [] },
  [O.HardSwishOptions]: { name: 'HardSwishOptions', fields: [] },
  [O.DepthToSpaceOptions]: { name: 'DepthToSpaceOptions', fields: [['block_size', 'int32', 0]] },
  [O.SpaceToDepthOptions]: { name: 'SpaceToDepthOptions', fields: [['block_size', 'int32', 0]] },
};

const B = BuiltinOperator;
/** The union tag the TFLite converter attaches to each builtin op (ops without options use NONE). */
export const OPTIONS_FOR_OPERATOR: Readonly<Partial<Record<number, number>>> = {
  [B.CONV_2D]: O.Conv2DOptions, [B.DEPTHWISE_CONV_2D]: O.DepthwiseConv2DOptions,
  [B.AVERAGE_POOL_2D]: O.Pool2DOptions, [B.MAX_POOL_2D]: O.Pool2DOptions, [B.L2_POOL_2D]: O.Pool2DOptions,
  [B.FULLY_CONNECTED]: O.FullyConnectedOptions, [B.SOFTMAX]: O.SoftmaxOptions,
  [B.CONCATENATION]: O.ConcatenationOptions, [B.ADD]: O.AddOptions, [B.SUB]: O.SubOptions, [B.MUL]: O.MulOptions,
  [B.DIV]: O.DivOptions, [B.RESHAPE]: O.ReshapeOptions, [B.PAD]: O.PadOptions, [B.PADV2]: O.PadV2Options,
  [B.GATHER]: O.GatherOptions, [B.TRANSPOSE]: O.TransposeOptions, [B.MEAN]: O.ReducerOptions,
  [B.SUM]: O.ReducerOptions, [B.REDUCE_MAX]: O.ReducerOptions, [B.REDUCE_MIN]: O.ReducerOptions,
  [B.REDUCE_PROD]: O.ReducerOptions, [B.SQUEEZE]: O.SqueezeOptions, [B.STRIDED_SLICE]: O.StridedSliceOptions,
  [B.SPLIT]: O.SplitOptions, [B.SPLIT_V]: O.SplitVOptions, [B.CAST]: O.CastOptions,
  [B.DEQUANTIZE]: O.DequantizeOptions, [B.QUANTIZE]: O.QuantizeOptions, [B.MAXIMUM]: O.MaximumMinimumOptions,
  [B.MINIMUM]: O.MaximumMinimumOptions, [B.ARG_MAX]: O.ArgMaxOptions, [B.ARG_MIN]: O.ArgMinOptions,
  [B.SLICE]: O.SliceOptions, [B.TRANSPOSE_CONV]: O.TransposeConvOptions, [B.EXPAND_DIMS]: O.ExpandDimsOptions,
  [B.PACK]: O.PackOptions, [B.UNPACK]: O.UnpackOptions, [B.RESIZE_NEAREST_NEIGHBOR]: O.ResizeNearestNeighborOptions,
  [B.LEAKY_RELU]: O.LeakyReluOptions, [B.MIRROR_PAD]: O.MirrorPadOptions, [B.HARD_SWISH]: O.HardSwishOptions,
  [B.DEPTH_TO_SPACE]: O.DepthToSpaceOptions, [B.SPACE_TO_DEPTH]: O.SpaceToDepthOptions,
};

/** Whether `value` is one of the enum's wire values. */
export function enumHas(e: EnumObject, value: number): boolean {
  return nameOf(e, value) !== undefined;
}
