/**
 * Every training kernel of runtime/as against the TypeScript reference of its op (compiler/ops/train), bit for bit:
 * the op's own `prepare` gives the kernel call (so the argument order is checked too), the SIMD and the scalar
 * kernel libraries run it on random data, and every output and every tensor the kernel may update in place must
 * equal what `evaluate` computes. Outputs start as garbage in wasm, so a kernel must write all of them. An op that
 * may run in place is run as the planner may bind it: with or without its scratch, and with its output over input 0.
 * Weights split by a partial update (a trained head, a frozen tail) are checked in the forward kernel under each
 * rounding, and in the input gradient and the bias refold.
 */
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import type { DType, TensorData } from '../../compiler/ir/dtype.ts';
import { allocData, bytesPerElement } from '../../compiler/ir/dtype.ts';
import type { Attrs, Graph, Node, QuantParams, Tensor } from '../../compiler/ir/graph.ts';
import { elementCount } from '../../compiler/ir/graph.ts';
import { opDef } from '../../compiler/ops/index.ts';
import { kernelLibrary } from '../../compiler/backend/wasm/assemble.ts';
import { Random } from '../../compiler/frontend/builder/random.ts';
import type { Rounding } from '../../compiler/ops/common/fixed_point.ts';
import { ROUNDINGS } from '../../compiler/ops/common/fixed_point.ts';
import { maxPoolArgmax } from '../../compiler/ops/train/max_pool_backprop.ts';

const PAGES = 64;

type Kernel = (...args: number[]) => void;

interface Kernels {
  readonly memory: WebAssembly.Memory;
  readonly exports: Readonly<Record<string, Kernel>>;
}

/** The kernel library of one variant with a memory of its own, exported (the library's is internal). */
async function instantiate(simd: boolean, rounding: Rounding): Promise<Kernels> {
  const library = await kernelLibrary(simd, rounding);
  const { default: binaryen } = await import('binaryen');
  const module = binaryen.readBinary(library);
  let wasm: Uint8Array;
  try {
    module.setFeatures(binaryen.Features.All);
    module.setMemory(PAGES, PAGES, 'memory');
    wasm = module.emitBinary();
  } finally {
    module.dispose();
  }
  const instance = new WebAssembly.Instance(new WebAssembly.Module(new Uint8Array(wasm)), {});
  return { memory: instance.exports.memory as WebAssembly.Memory, exports: instance.exports as unknown as Record<string, Kernel> };
}

const libraries = new Map<string, Promise<Kernels>>();
const kernels = (simd: boolean, rounding: Rounding): Promise<Kernels> => {
  const key = `${simd} ${rounding}`;
  let k = libraries.get(key);
  if (!k) libraries.set(key, (k = instantiate(simd, rounding)));
  return k;
};

interface TensorSpec {
  readonly shape: readonly number[];
  readonly dtype: DType;
  readonly quant?: QuantParams;
  /** Absent for outputs. */
  readonly data?: TensorData;
  /** A trainable parameter: `data` is its value now, not a constant (isState). */
  readonly state?: boolean;
}

const perTensor = (scale: number, zeroPoint: number): QuantParams => ({ scale: [scale], zeroPoint: [zeroPoint], axis: 0 });
const perChannel = (random: Random, channels: number, axis: number): QuantParams => ({
  scale: Array.from({ length: channels }, () => 0.002 + random.next() * 0.05),
  zeroPoint: new Array(channels).fill(0),
  axis,
});

const bytesOf = (d: TensorData): Uint8Array => new Uint8Array(d.buffer, d.byteOffset, d.byteLength);

/** Gradients as training meets them: mostly small, some exact zeros (a skipped tap), a few negative zeros and large values. */
function gradient(random: Random, n: number): Float32Array {
  return Float32Array.from({ length: n }, () => {
    const r = random.next();
    if (r < 0.1) return 0;
    if (r < 0.13) return -0;
    const magnitude = r > 0.97 ? 1e3 : 1e-3;
    return (random.next() * 2 - 1) * magnitude * Math.exp(random.next() * 5);
  });
}

/**
 * How the planner may bind an op that can run in place (Prepared.inPlace): 'separate' buffers without its scratch
 * (a null pointer), 'scratch' (separate buffers and the scratch), 'in place' (output 0 at input 0's address, scratch).
 */
type Binding = 'separate' | 'scratch' | 'in place';

/**
 * Runs op `name` (inputs `ins`, -1 for an absent one, outputs `outs`) through the reference and both kernel
 * libraries and compares every tensor the kernel can write.
 */
async function check(
  name: string, attrs: Attrs, ins: readonly (TensorSpec | null)[], outs: readonly TensorSpec[], label: string, rounding: Rounding = 'double',
  binding: Binding = 'scratch',
): Promise<void> {
  const op = opDef(name);
  const specs = [...ins, ...outs];
  const tensors: Tensor[] = [];
  const idOf = specs.map((s, i) => {
    if (!s) return -1;
    tensors.push({ id: tensors.length, name: `t${i}`, shape: s.shape, dtype: s.dtype, quant: s.quant ?? null, data: s.data ?? null });
    return tensors.length - 1;
  });
  const state = idOf.filter((_, i) => specs[i]?.state);
  const training = { image: -1, label: -1, learningRate: -1, loss: -1, logits: -1, state, inferenceNodes: [] };
  const graph: Graph = { name: 'kernel', tensors, nodes: [], inputs: [], outputs: [], ...(state.length > 0 ? { training } : {}) };
  const node: Node = { id: 0, op: name, inputs: idOf.slice(0, ins.length), outputs: idOf.slice(ins.length), attrs, origin: `test ${label}` };
  const tensorOf = (id: number) => (id < 0 ? null : tensors[id]!);
  const prepared = op.prepare({ graph, node, inputs: node.inputs.map(tensorOf), outputs: node.outputs.map((id) => tensors[id]!), options: { rounding } });
  const kernel = prepared.kernel!;
  assert.ok(binding !== 'in place' || prepared.inPlace, `${name} (${label}) may run in place`);

  const reference = tensors.map((t) => (t.data ? t.data.slice() : allocData(t.dtype, elementCount(t.shape))));
  op.evaluate(prepared.params, node.inputs.map((id) => (id < 0 ? null : reference[id]!)), node.outputs.map((id) => reference[id]!));
  const written = new Set(kernel.args.flatMap((a) => (a.kind === 'tensor' && a.write && a.tensor >= 0 ? [a.tensor] : [])));

  for (const simd of [true, false]) {
    const { memory, exports } = await kernels(simd, rounding);
    const heap = new Uint8Array(memory.buffer);
    let next = 64;
    const place = (bytes: Uint8Array): number => {
      const at = next;
      heap.set(bytes, at);
      next = Math.ceil((at + bytes.length + 1) / 16) * 16 + 16;
      if (next > heap.length) throw new Error('test memory too small');
      return at;
    };
    const garbage = (n: number) => new Uint8Array(n).fill(0xa5);
    const addresses = tensors.map((t) => place(t.data ? bytesOf(t.data) : garbage(elementCount(t.shape) * bytesPerElement(t.dtype))));
    if (binding === 'in place') addresses[node.outputs[0]!] = addresses[node.inputs[0]!]!;
    const args = kernel.args.map((a) => {
      switch (a.kind) {
        case 'tensor':
          return a.tensor < 0 ? 0 : addresses[a.tensor]!;
        case 'int':
          return a.value;
        case 'table': {
          const typed = { int8: Int8Array, int16: Int16Array, int32: Int32Array, float32: Float32Array }[a.dtype].from(a.values);
          return place(bytesOf(typed));
        }
        case 'scratch':
          return binding === 'separate' && prepared.inPlace ? 0 : place(garbage(prepared.scratchBytes));
      }
    });
    const fn = exports[kernel.name];
    assert.ok(fn, `the kernel library exports ${kernel.name}`);
    fn!(...args);
    for (const id of written) {
      const want = bytesOf(reference[id]!);
      const got = heap.slice(addresses[id]!, addresses[id]! + want.length);
      const at = got.findIndex((v, i) => v !== want[i]);
      if (at >= 0) {
        const element = Math.floor(at / bytesPerElement(tensors[id]!.dtype));
        const value = (bytes: Uint8Array) => {
          const typed = allocData(tensors[id]!.dtype, want.length / bytesPerElement(tensors[id]!.dtype));
          bytesOf(typed).set(bytes);
          return typed[element];
        };
        assert.unreachable(`${kernel.name} (${simd ? 'SIMD' : 'scalar'}, ${rounding}, ${label}): tensor ${id} element ${element}: wasm ${value(got)}, reference ${value(want)}`);
      }
    }
  }
}

const float = (shape: readonly number[], data?: Float32Array): TensorSpec => ({ shape, dtype: 'float32', ...(data ? { data } : {}) });

test('softmax_cross_entropy_f32', async () => {
  const random = new Random(1);
  for (const [classes, scale, zp] of [[10, 0.1, -3], [2, 0.5, 0], [100, 0.03, 12], [7, 2.5, -128]] as const) {
    for (let trial = 0; trial < 4; trial++) {
      const logits = random.int8Array(classes);
      const label = Int32Array.of(random.int(0, classes - 1));
      await check('SoftmaxCrossEntropy', {},
        [{ shape: [1, classes], dtype: 'int8', quant: perTensor(scale, zp), data: logits }, { shape: [1], dtype: 'int32', data: label }],
        [float([1]), float([1, classes])], `${classes} classes, trial ${trial}`);
    }
  }
});

test('mask_s8 and apply_mask_f32', async () => {
  const random = new Random(2);
  for (const n of [5, 16, 37, 100, 1000]) {
    for (const [lo, hi] of [[-128, 127], [-5, 127], [-129, 128], [0, 40], [127, -128]] as const) {
      await check('SaveMask', { lo, hi }, [{ shape: [n], dtype: 'int8', quant: perTensor(1, 0), data: random.int8Array(n) }], [{ shape: [Math.ceil(n / 8)], dtype: 'uint8' }], `n ${n}, (${lo}, ${hi})`);
    }
    const mask = Uint8Array.from({ length: Math.ceil(n / 8) }, () => random.int(0, 255));
    await check('ApplyMask', {}, [float([n], gradient(random, n)), { shape: [mask.length], dtype: 'uint8', data: mask }], [float([n])], `n ${n}`);
  }
});

test('slice_channels_s8 and add_f32', async () => {
  const random = new Random(3);
  for (const [pixels, channels, keep] of [[25, 12, 5], [9, 3, 3], [4, 40, 17]] as const) {
    await check('SliceChannels', { keep }, [{ shape: [1, pixels, 1, channels], dtype: 'int8', quant: perTensor(1, 0), data: random.int8Array(pixels * channels) }],
      [{ shape: [1, pixels, 1, keep], dtype: 'int8' }], `${pixels}x${channels} keep ${keep}`);
  }
  for (const n of [1, 7, 64, 333]) {
    await check('AddGradients', {}, [float([n], gradient(random, n)), float([n], gradient(random, n))], [float([n])], `n ${n}`);
  }
});

interface ConvCase {
  readonly inH: number;
  readonly inW: number;
  readonly inC: number;
  readonly outC: number;
  readonly k: number;
  readonly stride: number;
  readonly dilation: number;
  readonly pad: number;
  readonly batches?: number;
}

const CONV_CASES: readonly ConvCase[] = [
  { inH: 6, inW: 5, inC: 3, outC: 4, k: 3, stride: 1, dilation: 1, pad: 1 },
  { inH: 7, inW: 7, inC: 5, outC: 2, k: 3, stride: 2, dilation: 1, pad: 1 },
  { inH: 8, inW: 6, inC: 4, outC: 3, k: 2, stride: 1, dilation: 2, pad: 0 },
  { inH: 4, inW: 4, inC: 8, outC: 6, k: 1, stride: 1, dilation: 1, pad: 0, batches: 2 },
  { inH: 5, inW: 5, inC: 2, outC: 3, k: 5, stride: 1, dilation: 1, pad: 2 },
  { inH: 7, inW: 4, inC: 3, outC: 2, k: 3, stride: 1, dilation: 2, pad: 2, batches: 2 },
  { inH: 2, inW: 3, inC: 4, outC: 4, k: 5, stride: 1, dilation: 1, pad: 2 },
];

const outSize = (n: number, c: ConvCase) => Math.floor((n + 2 * c.pad - c.dilation * (c.k - 1) - 1) / c.stride) + 1;
const window = (c: ConvCase) => ({ strideH: c.stride, strideW: c.stride, dilationH: c.dilation, dilationW: c.dilation, padTop: c.pad, padLeft: c.pad });

test('conv2d_backprop_input_f32 and depthwise_conv2d_backprop_input_f32 (and the fully connected form)', async () => {
  const random = new Random(4);
  for (const c of CONV_CASES) {
    const n = c.batches ?? 1;
    const [outH, outW] = [outSize(c.inH, c), outSize(c.inW, c)];
    const label = JSON.stringify(c);
    await check('Conv2DBackpropInput', window(c),
      [float([n, outH, outW, c.outC], gradient(random, n * outH * outW * c.outC)),
        { shape: [c.outC, c.k, c.k, c.inC], dtype: 'int8', quant: perChannel(random, c.outC, 0), data: random.int8Array(c.outC * c.k * c.k * c.inC, -127, 127) }],
      [float([n, c.inH, c.inW, c.inC])], label);
    const dy = gradient(random, n * outH * outW * c.inC);
    const dw = { shape: [1, c.k, c.k, c.inC], dtype: 'int8', quant: perChannel(random, c.inC, 3), data: random.int8Array(c.k * c.k * c.inC, -127, 127) } as const;
    const inPlace = c.stride === 1 && outH === c.inH && outW === c.inW;
    const bindings: Binding[] = inPlace ? ['separate', 'scratch', 'in place'] : ['separate', 'scratch'];
    for (const binding of bindings) {
      await check('DepthwiseConv2DBackpropInput', window(c), [float([n, outH, outW, c.inC], dy), dw], [float([n, c.inH, c.inW, c.inC])], `${label}, ${binding}`, 'double', binding);
    }
  }
  const fc = { strideH: 1, strideW: 1, dilationH: 1, dilationW: 1, padTop: 0, padLeft: 0 };
  await check('Conv2DBackpropInput', fc,
    [float([3, 10], gradient(random, 30)), { shape: [10, 24], dtype: 'int8', quant: perChannel(random, 10, 0), data: random.int8Array(240, -127, 127) }],
    [float([3, 24])], 'fully connected');
});

test('conv2d_backprop_input_f32 with split weights (head and frozen tail: 1x1, 3x3, fully connected)', async () => {
  const random = new Random(14);
  const weights = (shape: readonly number[], quant: QuantParams): TensorSpec => ({ shape, dtype: 'int8', quant, data: random.int8Array(elementCount(shape), -127, 127) });
  for (const c of [CONV_CASES[3]!, CONV_CASES[0]!, { inH: 5, inW: 3, inC: 13, outC: 7, k: 1, stride: 1, dilation: 1, pad: 0 }]) {
    const n = c.batches ?? 1;
    const [outH, outW] = [outSize(c.inH, c), outSize(c.inW, c)];
    for (const keep of [1, Math.ceil(c.inC / 2), c.inC - 1]) {
      const quant = perChannel(random, c.outC, 0);
      await check('Conv2DBackpropInput', window(c),
        [float([n, outH, outW, c.outC], gradient(random, n * outH * outW * c.outC)), weights([c.outC, c.k, c.k, keep], quant), weights([c.outC, c.k, c.k, c.inC - keep], quant)],
        [float([n, c.inH, c.inW, c.inC])], `${JSON.stringify(c)} keep ${keep}`);
    }
  }
  const quant = perChannel(random, 10, 0);
  await check('Conv2DBackpropInput', { strideH: 1, strideW: 1, dilationH: 1, dilationW: 1, padTop: 0, padLeft: 0 },
    [float([3, 10], gradient(random, 30)), weights([10, 7], quant), weights([10, 17], quant)], [float([3, 24])], 'fully connected keep 7');
});

for (const rounding of ROUNDINGS) {
  test(`split_conv1x1_s8 (1x1 convolution and fully connected, ${rounding} rounding)`, async () => {
    const random = new Random(15);
    for (const [shape, outC, keep, activation] of [
      [[1, 8, 8, 48], 144, 12, 'relu6'], [[1, 7, 7, 56], 336, 7, 'none'], [[2, 3, 5, 9], 5, 4, 'relu'], [[3, 40], 10, 33, 'none'], [[1, 1, 1, 160], 12, 1, 'relu6'],
    ] as const) {
      const inC = shape[shape.length - 1]!;
      const fc = shape.length === 2;
      const quant = perChannel(random, outC, 0);
      const w = (c: number): TensorSpec => ({ shape: fc ? [outC, c] : [outC, 1, 1, c], dtype: 'int8', quant, data: random.int8Array(outC * c, -127, 127) });
      const int32 = (data: Int32Array): TensorSpec => ({ shape: [outC], dtype: 'int32', data });
      const pixels = elementCount(shape) / inC;
      await check('SplitConv1x1', { activation },
        [{ shape, dtype: 'int8', quant: perTensor(0.02 + random.next() * 0.1, random.int(-128, 20)), data: random.int8Array(elementCount(shape)) }, w(keep), w(inC - keep),
          int32(Int32Array.from({ length: outC }, () => random.int(-20000, 20000))), int32(Int32Array.from({ length: outC }, () => random.int(-200000, 200000)))],
        [{ shape: [...shape.slice(0, -1), outC], dtype: 'int8', quant: perTensor(0.05 + random.next() * 0.2, random.int(-128, 10)) }],
        `${pixels} pixels, ${keep} + ${inC - keep} -> ${outC}, ${activation}`, rounding);
    }
  });
}

test('average_pool2d_backprop_f32', async () => {
  const random = new Random(5);
  for (const [inH, inW, f, s, pad] of [[6, 6, 2, 2, 0], [5, 7, 3, 2, 1], [4, 4, 4, 1, 0], [7, 7, 7, 7, 0]] as const) {
    const outH = Math.floor((inH + 2 * pad - f) / s) + 1;
    const outW = Math.floor((inW + 2 * pad - f) / s) + 1;
    await check('AveragePool2DBackprop', { filterH: f, filterW: f, strideH: s, strideW: s, padTop: pad, padLeft: pad },
      [float([1, outH, outW, 3], gradient(random, outH * outW * 3))], [float([1, inH, inW, 3])], `${inH}x${inW} f ${f} s ${s} pad ${pad}`);
  }
});

test('max_pool2d_argmax_s8 and max_pool2d_backprop_f32 (ties, overlapping windows, same padding)', async () => {
  const random = new Random(18);
  for (const [inH, inW, f, s, pad, narrow] of [[6, 6, 2, 2, 0, false], [5, 7, 3, 2, 1, true], [4, 4, 3, 1, 1, true], [7, 7, 7, 7, 0, false]] as const) {
    const outH = Math.floor((inH + 2 * pad - f) / s) + 1;
    const outW = Math.floor((inW + 2 * pad - f) / s) + 1;
    const window = { filterH: f, filterW: f, strideH: s, strideW: s, padTop: pad, padLeft: pad };
    const x = random.int8Array(inH * inW * 3, narrow ? -2 : -128, narrow ? 2 : 127);
    const label = `${inH}x${inW} f ${f} s ${s} pad ${pad}`;
    await check('MaxPoolArgmax', window, [{ shape: [1, inH, inW, 3], dtype: 'int8', quant: perTensor(0.05, 0), data: x }], [{ shape: [1, outH, outW, 3], dtype: 'uint8' }], label);
    const argmax = new Uint8Array(outH * outW * 3);
    maxPoolArgmax.evaluate({ ...window, batches: 1, inH, inW, channels: 3, outH, outW }, [x], [argmax]);
    await check('MaxPool2DBackprop', window,
      [float([1, outH, outW, 3], gradient(random, outH * outW * 3)), { shape: [1, outH, outW, 3], dtype: 'uint8', data: argmax }], [float([1, inH, inW, 3])], label);
  }
});

test('concatenation_backprop_f32 (each input of a channel and of a row concatenation)', async () => {
  const random = new Random(19);
  const cases: [parts: number[][], axis: number][] = [[[[1, 3, 3, 2], [1, 3, 3, 5], [1, 3, 3, 1]], 3], [[[2, 1, 4, 3], [2, 3, 4, 3]], 1]];
  for (const [parts, axis] of cases) {
    const outShape = [...parts[0]!];
    outShape[axis] = parts.reduce((s, t) => s + t[axis]!, 0);
    const dy = gradient(random, outShape.reduce((a, b) => a * b, 1));
    let offset = 0;
    for (const shape of parts) {
      await check('ConcatenationBackprop', { axis, offset }, [float(outShape, dy)], [float(shape)], `[${shape.join('x')}] at ${offset} of axis ${axis}`);
      offset += shape[axis]!;
    }
  }
});

test('pad_backprop_f32 (every dimension, inner only, outer only, rank 1 and 6)', async () => {
  const random = new Random(17);
  for (const [inDims, pairs] of [
    [[1, 5, 4, 3], [0, 0, 1, 2, 2, 0, 0, 1]],
    [[2, 3, 3, 4], [0, 0, 0, 0, 0, 0, 2, 1]],
    [[2, 3, 3, 4], [1, 1, 0, 0, 0, 0, 0, 0]],
    [[7], [3, 2]],
    [[2, 1, 2, 3, 2, 2], [0, 1, 1, 0, 0, 0, 1, 1, 0, 0, 2, 0]],
  ] as const) {
    const outDims = inDims.map((d, k) => d + pairs[2 * k]! + pairs[2 * k + 1]!);
    const count = (dims: readonly number[]) => dims.reduce((a, b) => a * b, 1);
    await check('PadBackprop', {},
      [float(outDims, gradient(random, count(outDims))), { shape: [inDims.length, 2], dtype: 'int32', data: Int32Array.from(pairs) }],
      [float(inDims)], `${inDims.join('x')} padded ${pairs.join(',')}`);
  }
});

test('bias_update_f32', async () => {
  const random = new Random(6);
  for (const [pixels, channels, lr] of [[16, 5, 0.01], [1, 10, 0.5], [49, 3, 1e-4]] as const) {
    const invScale = Array.from({ length: channels }, () => 1 / (0.0001 + random.next() * 0.001));
    const bias = Int32Array.from({ length: channels }, () => random.int(-50000, 50000));
    bias[0] = 2147483600; // saturates when the gradient is negative enough
    await check('BiasUpdate', { invScale },
      [float([1, pixels, 1, channels], gradient(random, pixels * channels)), { shape: [channels], dtype: 'int32', data: bias }, float([1], Float32Array.of(lr))],
      [], `${pixels} pixels x ${channels}`);
  }
});

test('folded_bias_update_f32 (limits)', async () => {
  const random = new Random(16);
  for (const [pixels, channels, lr] of [[16, 5, 0.01], [1, 10, 0.5], [49, 3, 1e4]] as const) {
    const invScale = Array.from({ length: channels }, () => 1 / (0.0001 + random.next() * 0.001));
    const limit = Array.from({ length: channels }, (_, c) => (c === 0 ? 50 : random.int(100000, 2 ** 30)));
    const offsetSum = limit.map(() => random.int(-100000, 100000));
    const folded = Int32Array.from(limit, (l, c) => random.int(-Math.min(l, 40000), Math.min(l, 40000)) + offsetSum[c]!);
    await check('FoldedBiasUpdate', { invScale, offsetSum, limit },
      [
        float([1, pixels, 1, channels], gradient(random, pixels * channels)),
        { shape: [channels], dtype: 'int32', data: folded },
        float([1], Float32Array.of(lr)),
      ],
      [], `${pixels} pixels x ${channels}`);
  }
});

test('conv2d_weight_update_f32 and depthwise_conv2d_weight_update_f32 (partial channels, sliced inputs, fully connected)', async () => {
  const random = new Random(7);
  const rng = () => Int32Array.of(random.int(1, 0x7fffffff) * (random.next() < 0.5 ? -1 : 1));
  for (const c of CONV_CASES) {
    const n = c.batches ?? 1;
    const [outH, outW] = [outSize(c.inH, c), outSize(c.inW, c)];
    for (const keep of [c.inC, Math.ceil(c.inC / 2)]) {
      for (const sliced of keep === c.inC ? [false] : [false, true]) {
        const xc = sliced ? keep : c.inC;
        const lr = Float32Array.of([0.05, 2, 1e-3][random.int(0, 2)]!);
        const x = { shape: [n, c.inH, c.inW, xc], dtype: 'int8', quant: perTensor(0.02 + random.next() * 0.1, random.int(-20, 20)), data: random.int8Array(n * c.inH * c.inW * xc) } as const;
        const label = `${JSON.stringify(c)} keep ${keep}${sliced ? ' sliced' : ''}`;
        // A 1x1 layer also dequantizes through its table of codes, as the compiler has it do at the memory peak.
        for (const dequantizeByTable of c.k === 1 ? [false, true] : [false]) {
          await check('Conv2DWeightUpdate', { ...window(c), keep, dequantizeByTable },
            [float([n, outH, outW, c.outC], gradient(random, n * outH * outW * c.outC)), x,
              { shape: [c.outC, c.k, c.k, c.inC], dtype: 'int8', quant: perChannel(random, c.outC, 0), data: random.int8Array(c.outC * c.k * c.k * c.inC, -127, 127) },
              float([1], lr), { shape: [1], dtype: 'int32', data: rng() }],
            [], `${label}${dequantizeByTable ? ' by table' : ''}`);
        }
        await check('DepthwiseConv2DWeightUpdate', { ...window(c), keep },
          [float([n, outH, outW, c.inC], gradient(random, n * outH * outW * c.inC)), x,
            { shape: [1, c.k, c.k, c.inC], dtype: 'int8', quant: perChannel(random, c.inC, 3), data: random.int8Array(c.k * c.k * c.inC, -127, 127) },
            float([1], lr), { shape: [1], dtype: 'int32', data: rng() }],
          [], label);
      }
    }
  }
  const fc = { strideH: 1, strideW: 1, dilationH: 1, dilationW: 1, padTop: 0, padLeft: 0 };
  for (const keep of [24, 9]) {
    await check('Conv2DWeightUpdate', { ...fc, keep, dequantizeByTable: keep === 9 },
      [float([2, 10], gradient(random, 20)), { shape: [2, 24], dtype: 'int8', quant: perTensor(0.05, 3), data: random.int8Array(48) },
        { shape: [10, 24], dtype: 'int8', quant: perChannel(random, 10, 0), data: random.int8Array(240, -127, 127) },
        float([1], Float32Array.of(0.3)), { shape: [1], dtype: 'int32', data: rng() }],
      [], `fully connected keep ${keep}${keep === 9 ? ' by table' : ''}`);
  }
});

test('fold_bias_s8', async () => {
  const random = new Random(8);
  // Trained weights are summed by the kernel; frozen ones (a bias-only layer) at compile time.
  for (const [depthwise, state] of [[false, true], [true, true], [true, false]] as const) {
    for (const [channels, taps, inputOffset, maxInput] of [[6, 27, 5, 133], [16, 9, -128, 255], [3, 4000, 100, 228]] as const) {
      const shape = depthwise ? [1, taps, 1, channels] : [channels, taps, 1, 1];
      const bias = Int32Array.from({ length: channels }, () => random.int(-100000, 100000));
      bias[0] = 2147483000;
      bias[1] = -2147483000;
      const int32 = (data?: Int32Array): TensorSpec => ({ shape: [channels], dtype: 'int32', ...(data ? { data } : {}) });
      await check('FoldBias', { depthwise, inputOffset, maxInput },
        [{ shape, dtype: 'int8', quant: perChannel(random, channels, depthwise ? 3 : 0), data: random.int8Array(channels * taps, -127, 127), state }, int32(bias)],
        depthwise ? [int32(), int32()] : [int32()], `${depthwise ? 'depthwise' : 'conv'} ${channels}x${taps}${state ? '' : ', frozen'}`);
    }
  }
  for (const [channels, taps, keep, inputOffset, maxInput] of [[6, 48, 12, 5, 133], [16, 9, 1, -128, 255], [3, 4000, 3999, 100, 228]] as const) {
    const bias = Int32Array.from({ length: channels }, () => random.int(-100000, 100000));
    bias[0] = 2147483000;
    const quant = perChannel(random, channels, 0);
    const w = (c: number, state: boolean): TensorSpec => ({ shape: [channels, 1, 1, c], dtype: 'int8', quant, data: random.int8Array(channels * c, -127, 127), state });
    const int32 = (data?: Int32Array): TensorSpec => ({ shape: [channels], dtype: 'int32', ...(data ? { data } : {}) });
    await check('FoldBias', { depthwise: false, inputOffset, maxInput },
      [w(keep, true), int32(bias), w(taps - keep, false)], [int32()], `split ${channels}x${taps} keep ${keep}`);
  }
});

test.run();
