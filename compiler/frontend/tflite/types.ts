/** @fileoverview TFLite TensorType codes <-> IR dtypes. */
import type { DType } from '../../ir/dtype.ts';

const DTYPE_OF_TFLITE: ReadonlyMap<number, DType> = new Map<number, DType>([
  [0, 'float32'],
  [2, 'int32'],
  [3, 'uint8'],
  [4, 'int64'],
  [6, 'bool'],
  [7, 'int16'],
  [9, 'int8'],
]);

const TFLITE_OF_DTYPE = new Map<DType, number>([...DTYPE_OF_TFLITE].map(([code, dtype]) => [dtype, code]));

export function dtypeFromTflite(code: number): DType | undefined {
  return DTYPE_OF_TFLITE.get(code);
}

export function dtypeToTflite(dtype: DType): number {
  return TFLITE_OF_DTYPE.get(dtype)!;
}
