/**
 * @fileoverview An independent gradient oracle for the training step (issue 5), built on
 * `@tensorflow/tfjs@4.9.0` (CPU backend, float32, its own autodiff: tf.valueAndGrads + tf.customGrad).
 *
 * The caller describes a small FLOAT network as plain data (dequantized weights and biases, layouts as in the
 * IR: conv OHWI, depthwise 1HWC, fully connected [out, in]), plus, per layer, the value the int8 forward
 * produced (dequantized) and the 0/1 gradient mask. Every layer output goes through a straight-through
 * quantization:
 *   forward:  y = value            (the given float tensor; or the true float result when `value` is omitted)
 *   backward: dz = dy ⊙ mask       (mask omitted = all ones)
 * where z is the layer's float result computed from its (already straight-through) inputs and parameters.
 * The loss is softmax cross-entropy of the last layer's values against the label(s), summed over the batch.
 * The oracle returns dLoss/d(every weight and bias), in the layouts given, and dLoss/d(every layer's value).
 *
 * Why @tensorflow/tfjs (the union package) and not tfjs-core + tfjs-backend-cpu: tfjs-core 4.9.0's CommonJS
 * bundle (its `main`) registers NO gradient functions; they are only in its ESM `dist/register_all_gradients.js`
 * (extension-less ESM imports, a second copy of the engine). The union package's bundle registers them against
 * the CommonJS core; it is the leanest supported way to get tf.grad on CPU in Node.
 */
import * as tf from '@tensorflow/tfjs';

/** Index of a layer in `GradNetwork.layers`; -1 = the network input. */
export type LayerRef = number;

export interface LayerCommon {
  /** Free text used in error messages. */
  readonly name?: string;
  /** Input layer (not for `add`); default: the previous layer, or -1 (the network input) for layer 0. */
  readonly input?: LayerRef;
  /** Straight-through forward value (dequantized int8 output), NHWC / row-major, length = output size. */
  readonly value?: Float32Array | readonly number[];
  /** Straight-through gradient mask, one 0/1 entry per output element (unpacked; see unpackMask). */
  readonly mask?: Uint8Array | Float32Array | readonly number[];
  /** Optional float activation applied before the straight-through op (default 'none'). Leave it 'none'
   *  when the mask already encodes the clamp (the int8 case); it exists for pure-float checks. */
  readonly activation?: 'none' | 'relu' | 'relu6';
}

/** [top, left, bottom, right]; default all 0. */
export type Pads = readonly [number, number, number, number];

export interface Conv2DLayer extends LayerCommon {
  readonly kind: 'conv2d';
  /** OHWI [outC, KH, KW, inC] float. */
  readonly weights: Float32Array | readonly number[];
  readonly weightShape: readonly [number, number, number, number];
  /** [outC] float (omit for no bias). */
  readonly bias?: Float32Array | readonly number[];
  readonly stride?: readonly [number, number];
  readonly dilation?: readonly [number, number];
  readonly pads?: Pads;
}

export interface DepthwiseLayer extends LayerCommon {
  readonly kind: 'depthwise';
  /** 1HWC [1, KH, KW, C*M] float (M = depth multiplier = outC / inC). */
  readonly weights: Float32Array | readonly number[];
  readonly weightShape: readonly [1, number, number, number];
  readonly bias?: Float32Array | readonly number[];
  readonly stride?: readonly [number, number];
  readonly dilation?: readonly [number, number];
  readonly pads?: Pads;
}

export interface FullyConnectedLayer extends LayerCommon {
  readonly kind: 'fullyConnected';
  /** [out, in] float; the input is flattened to [N, in] (N = its first dimension). Output [N, out]. */
  readonly weights: Float32Array | readonly number[];
  readonly weightShape: readonly [number, number];
  readonly bias?: Float32Array | readonly number[];
}

export interface AddLayer extends Omit<LayerCommon, 'input'> {
  readonly kind: 'add';
  readonly a: LayerRef;
  readonly b: LayerRef;
}

/** Average pool; padded taps are excluded from the divisor (TFLite / the AveragePoolBackprop contract). */
export interface AveragePoolLayer extends LayerCommon {
  readonly kind: 'averagePool';
  readonly filter: readonly [number, number];
  readonly stride: readonly [number, number];
  readonly pads?: Pads;
}

/** Concatenation of earlier layers (or the input) along `axis`. */
export interface ConcatLayer extends LayerCommon {
  readonly kind: 'concat';
  readonly parts: readonly LayerRef[];
  readonly axis: number;
}

/** Max pool; padded taps never win (the input is padded with -1e30, then pooled 'valid'). */
export interface MaxPoolLayer extends LayerCommon {
  readonly kind: 'maxPool';
  readonly filter: readonly [number, number];
  readonly stride: readonly [number, number];
  readonly pads?: Pads;
}

/** Mean over H and W of NHWC; output [N, 1, 1, C] if keepDims (default true) else [N, C]. */
export interface MeanLayer extends LayerCommon {
  readonly kind: 'mean';
  readonly keepDims?: boolean;
}

export interface ReshapeLayer extends LayerCommon {
  readonly kind: 'reshape';
  /** New shape, one entry may be -1. */
  readonly shape: readonly number[];
}

/** Zero padding of NHWC in real values (an int8 pad with the zero point). */
export interface PadLayer extends LayerCommon {
  readonly kind: 'pad';
  readonly pads: Pads;
}

export type GradLayer =
  | Conv2DLayer
  | DepthwiseLayer
  | FullyConnectedLayer
  | AddLayer
  | AveragePoolLayer
  | ConcatLayer
  | MaxPoolLayer
  | MeanLayer
  | ReshapeLayer
  | PadLayer;

export interface GradNetwork {
  /** Network input (dequantized), NHWC. */
  readonly input: { readonly shape: readonly number[]; readonly data: Float32Array | readonly number[] };
  /** Forward order; each layer may only reference earlier layers (or -1). */
  readonly layers: readonly GradLayer[];
  /** Class per batch item (a number when N = 1). Logits = the last layer's values, shape [N, classes]
   *  (any shape with N * classes elements; classes = size / N). */
  readonly label: number | readonly number[];
}

export interface LayerGradients {
  /** dLoss/dWeights in the layout given (conv/depthwise/FC only). */
  readonly weights?: Float32Array;
  /** dLoss/dBias (conv/depthwise/FC with a bias only). */
  readonly bias?: Float32Array;
  /** dLoss/d(this layer's value), BEFORE its mask is applied (the masked gradient is this ⊙ mask). */
  readonly output: Float32Array;
  /** The layer's output shape as tfjs computed it. */
  readonly outputShape: number[];
  /** The forward value used downstream (the given `value`, or the float result). */
  readonly value: Float32Array;
}

export interface OracleResult {
  /** Loss (float32, summed over the batch) of the straight-through forward. */
  readonly loss: number;
  /** Per layer, same indices as `GradNetwork.layers`. */
  readonly layers: LayerGradients[];
  /** dLoss/d(network input). */
  readonly input: Float32Array;
}

let ready: Promise<void> | undefined;

/** Selects the CPU backend once (and silences tfjs' "install tfjs-node" advert). */
export function initTfjs(): Promise<void> {
  ready ??= (async () => {
    tf.env().set('PROD', true);
    if (!(await tf.setBackend('cpu'))) throw new Error('tfjs: the cpu backend failed to initialise');
  })();
  return ready;
}

/** Unpacks a SaveMask bit mask (bit (i & 7) of byte i >> 3) into n 0/1 bytes. */
export function unpackMask(bits: Uint8Array, n: number): Uint8Array {
  const out = new Uint8Array(n);
  for (let i = 0; i < n; i++) out[i] = (bits[i >> 3] >> (i & 7)) & 1;
  return out;
}

const isParamLayer = (l: GradLayer): l is Conv2DLayer | DepthwiseLayer | FullyConnectedLayer =>
  l.kind === 'conv2d' || l.kind === 'depthwise' || l.kind === 'fullyConnected';

/** Runs the straight-through forward and tfjs' autodiff backward; see the file comment. */
export async function tfjsGradients(net: GradNetwork): Promise<OracleResult> {
  await initTfjs();
  const layers = net.layers;
  if (layers.length === 0) throw new Error('oracle: the network has no layers');
  if (sizeOf(net.input.shape) !== net.input.data.length) {
    throw new Error(`oracle: input shape [${net.input.shape}] does not match ${net.input.data.length} values`);
  }
  const labels = typeof net.label === 'number' ? [net.label] : [...net.label];

  tf.engine().startScope(); // every tensor made below is disposed at endScope
  try {
    // Differentiable arguments: [input, per parameter layer: weights, bias?, then one zero probe per layer].
    const args: tf.Tensor[] = [tf.tensor(Float32Array.from(net.input.data), [...net.input.shape])];
    const slots: { w?: number; b?: number }[] = [];
    for (const [i, l] of layers.entries()) {
      const s: { w?: number; b?: number } = {};
      if (isParamLayer(l)) {
        if (sizeOf(l.weightShape) !== l.weights.length) {
          throw new Error(`oracle: layer ${label(i, l)} weightShape [${l.weightShape}] vs ${l.weights.length} values`);
        }
        s.w = args.push(tf.tensor(Float32Array.from(l.weights), [...l.weightShape])) - 1;
        if (l.bias) s.b = args.push(tf.tensor1d(Float32Array.from(l.bias))) - 1;
      }
      slots.push(s);
    }
    const probeBase = args.length;

    /** The straight-through network; probes (zeros) are added to every layer value when given. */
    const run = (params: readonly tf.Tensor[], probes: readonly tf.Tensor[] | null): tf.Tensor[] => {
      const outs: tf.Tensor[] = [];
      const get = (ref: LayerRef, i: number): tf.Tensor => {
        if (ref === -1) return params[0];
        if (!Number.isInteger(ref) || ref < -1 || ref >= i) {
          throw new Error(`oracle: layer ${label(i, layers[i])} references ${ref}, not an earlier layer`);
        }
        return outs[ref];
      };
      for (const [i, l] of layers.entries()) {
        const x = l.kind === 'add' || l.kind === 'concat' ? undefined : get(l.input ?? i - 1, i);
        let z: tf.Tensor;
        switch (l.kind) {
          case 'conv2d':
          case 'depthwise':
            z = conv(l, x as tf.Tensor4D, params[slots[i].w!], i);
            break;
          case 'fullyConnected': {
            const xs = x!.reshape([x!.shape[0], -1]) as tf.Tensor2D;
            if (xs.shape[1] !== l.weightShape[1]) {
              throw new Error(`oracle: layer ${label(i, l)} has ${l.weightShape[1]} inputs, gets ${xs.shape[1]}`);
            }
            z = tf.matMul(xs, params[slots[i].w!] as tf.Tensor2D, false, true);
            break;
          }
          case 'add':
            z = tf.add(get(l.a, i), get(l.b, i));
            break;
          case 'concat':
            z = tf.concat(l.parts.map((ref) => get(ref, i)), l.axis);
            break;
          case 'averagePool':
            z = averagePool(x as tf.Tensor4D, l);
            break;
          case 'maxPool':
            z = tf.maxPool(pad(x as tf.Tensor4D, l.pads, -1e30), [...l.filter], [...l.stride], 'valid');
            break;
          case 'mean':
            z = tf.mean(x!, [1, 2], l.keepDims ?? true);
            break;
          case 'reshape':
            z = x!.reshape([...l.shape]);
            break;
          case 'pad':
            z = pad(x as tf.Tensor4D, l.pads);
            break;
        }
        if (slots[i].b !== undefined) z = tf.add(z, params[slots[i].b!]);
        if (l.activation === 'relu') z = tf.relu(z);
        else if (l.activation === 'relu6') z = tf.relu6(z);
        let y = straightThrough(z, l, i);
        if (probes) y = tf.add(y, probes[i]);
        outs.push(y);
      }
      return outs;
    };

    const loss = (logits: tf.Tensor): tf.Scalar => {
      const n = labels.length;
      const classes = logits.size / n;
      if (!Number.isInteger(classes)) throw new Error(`oracle: ${logits.size} logits for ${n} labels`);
      const onehot = tf.oneHot(tf.tensor1d(labels, 'int32'), classes).toFloat();
      // -sum(onehot * log_softmax(logits)), summed over the batch.
      return tf.neg(tf.sum(tf.mul(onehot, tf.logSoftmax(logits.reshape([n, classes]))))) as tf.Scalar;
    };

    // A plain pass gives every layer's shape (for the probes) and forward value.
    const plain = run(args, null);
    const shapes = plain.map((t) => t.shape.slice());
    const values = plain.map((t) => Float32Array.from(t.dataSync() as Float32Array));
    const probes = shapes.map((s) => tf.zeros(s));
    const f = (...xs: tf.Tensor[]): tf.Scalar => {
      const outs = run(xs.slice(0, probeBase), xs.slice(probeBase));
      return loss(outs[outs.length - 1]);
    };
    const { value, grads } = tf.valueAndGrads(f)([...args, ...probes]);
    const data = (t: tf.Tensor) => Float32Array.from(t.dataSync() as Float32Array);
    return {
      loss: value.dataSync()[0],
      input: data(grads[0]),
      layers: layers.map((_, i) => ({
        ...(slots[i].w !== undefined ? { weights: data(grads[slots[i].w!]) } : {}),
        ...(slots[i].b !== undefined ? { bias: data(grads[slots[i].b!]) } : {}),
        output: data(grads[probeBase + i]),
        outputShape: shapes[i],
        value: values[i],
      })),
    };
  } finally {
    tf.engine().endScope();
  }
}

function sizeOf(shape: readonly number[]): number {
  return shape.reduce((a, b) => a * b, 1);
}

function straightThrough(z: tf.Tensor, l: GradLayer, i: number): tf.Tensor {
  const n = z.size;
  if (l.value && l.value.length !== n) {
    throw new Error(`oracle: layer ${label(i, l)} output [${z.shape}] has ${n} values, given value has ${l.value.length}`);
  }
  if (l.mask && l.mask.length !== n) {
    throw new Error(`oracle: layer ${label(i, l)} output [${z.shape}] has ${n} values, given mask has ${l.mask.length}`);
  }
  if (!l.value && !l.mask) return z;
  const value = l.value;
  const mask = l.mask;
  const st = tf.customGrad((...inputs: (tf.Tensor | tf.GradSaveFunc)[]) => ({
    value: value ? tf.tensor(Float32Array.from(value), z.shape) : (inputs[0] as tf.Tensor).clone(),
    gradFunc: (dy: tf.Tensor) => (mask ? tf.mul(dy, tf.tensor(Float32Array.from(mask), dy.shape)) : dy),
  }));
  return st(z) as tf.Tensor;
}

function label(i: number, l: GradLayer): string {
  return l.name ? `${i} (${l.name})` : `${i} (${l.kind})`;
}

function pad(x: tf.Tensor4D, pads: Pads | undefined, value = 0): tf.Tensor4D {
  const [t, l, b, r] = pads ?? [0, 0, 0, 0];
  if (t === 0 && l === 0 && b === 0 && r === 0) return x;
  if (Math.min(t, l, b, r) < 0) throw new Error(`oracle: negative pads [${pads}]`);
  return tf.pad(x, [[0, 0], [t, b], [l, r], [0, 0]], value);
}

/** Conv / depthwise with explicit pads (zero-padded input, then 'valid'), any stride and dilation. */
function conv(l: Conv2DLayer | DepthwiseLayer, x: tf.Tensor4D, w: tf.Tensor, i: number): tf.Tensor4D {
  if (x.rank !== 4) throw new Error(`oracle: layer ${label(i, l)} needs an NHWC input, got [${x.shape}]`);
  const stride = (l.stride ?? [1, 1]) as [number, number];
  const [dh, dw] = l.dilation ?? [1, 1];
  const xp = pad(x, l.pads);
  let filter: tf.Tensor4D;
  if (l.kind === 'conv2d') {
    const ic = l.weightShape[3];
    if (x.shape[3] !== ic) throw new Error(`oracle: layer ${label(i, l)} has ${ic} input channels, gets ${x.shape[3]}`);
    filter = tf.transpose(w as tf.Tensor4D, [1, 2, 3, 0]) as tf.Tensor4D; // OHWI -> HWIO
  } else {
    const [, kh, kw, oc] = l.weightShape;
    const c = x.shape[3];
    if (oc % c !== 0) throw new Error(`oracle: layer ${label(i, l)} has ${oc} output channels for ${c} input channels`);
    filter = (w as tf.Tensor4D).reshape([kh, kw, c, oc / c]) as tf.Tensor4D; // 1HW(C*M) -> HWCM, same order
  }
  // tfjs has no conv gradients for dilation > 1: dilate the filter itself with zeros (pad + reshape + slice,
  // all differentiable), then convolve with dilation 1. Same values, same gradients.
  filter = dilate(filter, dh, dw);
  return l.kind === 'conv2d'
    ? tf.conv2d(xp, filter, stride, 'valid', 'NHWC')
    : tf.depthwiseConv2d(xp, filter, stride, 'valid', 'NHWC');
}

/** [KH,KW,A,B] -> [(KH-1)*dh+1, (KW-1)*dw+1, A, B] with zeros between the taps. */
function dilate(f: tf.Tensor4D, dh: number, dw: number): tf.Tensor4D {
  if (dh === 1 && dw === 1) return f;
  const [kh, kw, a, b] = f.shape;
  const spread = tf.pad(f.reshape([kh, 1, kw, 1, a, b]), [[0, 0], [0, dh - 1], [0, 0], [0, dw - 1], [0, 0], [0, 0]]);
  return tf.slice(spread.reshape([kh * dh, kw * dw, a, b]), [0, 0, 0, 0], [(kh - 1) * dh + 1, (kw - 1) * dw + 1, a, b]) as tf.Tensor4D;
}

/** Average pool, divisor = number of valid (unpadded) taps in each window. */
function averagePool(x: tf.Tensor4D, l: AveragePoolLayer): tf.Tensor4D {
  const [fh, fw] = l.filter;
  const [sh, sw] = l.stride;
  const xp = pad(x, l.pads);
  const sums = tf.mul(tf.avgPool(xp, [fh, fw], [sh, sw], 'valid'), fh * fw);
  const ones = pad(tf.ones([1, x.shape[1], x.shape[2], 1]) as tf.Tensor4D, l.pads);
  const counts = tf.round(tf.mul(tf.avgPool(ones, [fh, fw], [sh, sw], 'valid'), fh * fw));
  return tf.div(sums, counts) as tf.Tensor4D;
}
