/**
 * @fileoverview ONNX is NCHW; the IR keeps 4-D activations NHWC. Shapes and weights are converted here, once,
 * so every later stage sees one layout.
 */
import type { TensorData } from '../../ir/dtype.ts';

/** IR shape of an ONNX activation: 4-D NCHW becomes NHWC, other ranks are unchanged. */
export function irShape(onnxShape: readonly number[]): number[] {
  if (onnxShape.length !== 4) return [...onnxShape];
  const [n, c, h, w] = onnxShape as [number, number, number, number];
  return [n, h, w, c];
}

/** ONNX shape of an IR activation (inverse of irShape). */
export function onnxShapeOf(irShapeValue: readonly number[]): number[] {
  if (irShapeValue.length !== 4) return [...irShapeValue];
  const [n, h, w, c] = irShapeValue as [number, number, number, number];
  return [n, c, h, w];
}

/** Whether an ONNX activation's bytes are in the same order in NCHW and NHWC (one channel, or one pixel). */
export function sameBytesInBothLayouts(onnxShape: readonly number[]): boolean {
  return onnxShape.length !== 4 || onnxShape[1] === 1 || onnxShape[2]! * onnxShape[3]! === 1;
}

/** The ONNX axis of a 4-D activation, as an IR (NHWC) axis. */
export function irAxis(onnxAxis: number, rank: number): number {
  const axis = onnxAxis < 0 ? onnxAxis + rank : onnxAxis;
  return rank === 4 ? ([0, 3, 1, 2] as const)[axis]! : axis;
}

/** Permutes the dimensions of a dense row-major array: output dimension i is input dimension perm[i]. */
export function permute(data: TensorData, dims: readonly number[], perm: readonly number[]): TensorData {
  const outDims = perm.map((p) => dims[p]!);
  const inStrides = dims.map((_, i) => dims.slice(i + 1).reduce((a, b) => a * b, 1));
  const out = data.slice();
  const index = new Array<number>(outDims.length).fill(0);
  for (let at = 0; at < data.length; at++) {
    let from = 0;
    for (let i = 0; i < perm.length; i++) from += index[i]! * inStrides[perm[i]!]!;
    (out as Int32Array)[at] = (data as Int32Array)[from]!;
    for (let i = outDims.length - 1; i >= 0; i--) {
      if (++index[i]! < outDims[i]!) break;
      index[i] = 0;
    }
  }
  return out;
}
