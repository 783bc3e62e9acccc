/** Element types the IR knows. Activations are int8; biases int32; LUTs int8/int16; float only at the edges. */
export type DType = 'int8' | 'uint8' | 'int16' | 'int32' | 'int64' | 'float32' | 'bool';

export type TensorData = Int8Array | Uint8Array | Int16Array | Int32Array | BigInt64Array | Float32Array;

const BYTES: Record<DType, number> = { int8: 1, uint8: 1, bool: 1, int16: 2, int32: 4, int64: 8, float32: 4 };

export function bytesPerElement(dtype: DType): number {
  return BYTES[dtype];
}

/** C element type used by the backends for a dtype. */
export function cTypeOf(dtype: DType): string {
  switch (dtype) {
    case 'int8':
      return 'int8_t';
    case 'uint8':
    case 'bool':
      return 'uint8_t';
    case 'int16':
      return 'int16_t';
    case 'int32':
      return 'int32_t';
    case 'int64':
      return 'int64_t';
    case 'float32':
      return 'float';
  }
}

export function allocData(dtype: DType, length: number): TensorData {
  switch (dtype) {
    case 'int8':
      return new Int8Array(length);
    case 'uint8':
    case 'bool':
      return new Uint8Array(length);
    case 'int16':
      return new Int16Array(length);
    case 'int32':
      return new Int32Array(length);
    case 'int64':
      return new BigInt64Array(length);
    case 'float32':
      return new Float32Array(length);
  }
}
