/**
 * @fileoverview Checks the tfjs gradient oracle itself, independently of tinyforge: its gradients must match
 * central finite differences (float64, step 1e-4; tolerance 2e-6 + 1e-4·|fd|, observed ≤ 1.3e-7) of a float64
 * forward written here from scratch (plain loops over the documented layouts: OHWI conv, 1HWC depthwise,
 * [out,in] FC, explicit pads, valid-tap average pool).
 * For the straight-through case the differentiated function is the surrogate
 *   y_k(θ) = value_k + mask_k ⊙ (z_k(θ, inputs(θ)) − z_k(θ₀, inputs(θ₀)))
 * whose value at θ₀ is value_k and whose derivative is mask_k ⊙ dz_k: exactly the straight-through rule.
 */
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import {
  tfjsGradients,
  unpackMask,
  type ConcatLayer,
  type GradLayer,
  type GradNetwork,
  type OracleResult,
  type Pads,
} from './tfjs_gradients.ts';

// ---------------------------------------------------------------- seeded random numbers
function rng(seed: number): () => number {
  let s = seed >>> 0;
  return () => {
    s = (s + 0x6d2b79f5) >>> 0;
    let t = s;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}
const randArray = (r: () => number, n: number, amp = 1): Float32Array =>
  Float32Array.from({ length: n }, () => (r() * 2 - 1) * amp);

// ---------------------------------------------------------------- float64 reference forward
interface T64 {
  shape: number[];
  data: Float64Array;
}
type Params = { w?: Float64Array; b?: Float64Array }[];

function conv64(x: T64, l: Extract<GradLayer, { kind: 'conv2d' | 'depthwise' }>, w: Float64Array): T64 {
  const [n, ih, iw, ic] = x.shape;
  const [pt, pl, pb, pr] = l.pads ?? [0, 0, 0, 0];
  const [sh, sw] = l.stride ?? [1, 1];
  const [dh, dw] = l.dilation ?? [1, 1];
  const [, kh, kw] = l.weightShape;
  const oc = l.kind === 'conv2d' ? l.weightShape[0] : l.weightShape[3];
  const mult = oc / ic;
  const oh = Math.floor((ih + pt + pb - ((kh - 1) * dh + 1)) / sh) + 1;
  const ow = Math.floor((iw + pl + pr - ((kw - 1) * dw + 1)) / sw) + 1;
  const out = new Float64Array(n * oh * ow * oc);
  for (let b = 0; b < n; b++)
    for (let oy = 0; oy < oh; oy++)
      for (let ox = 0; ox < ow; ox++)
        for (let o = 0; o < oc; o++) {
          let acc = 0;
          for (let ky = 0; ky < kh; ky++)
            for (let kx = 0; kx < kw; kx++) {
              const iy = oy * sh - pt + ky * dh;
              const ix = ox * sw - pl + kx * dw;
              if (iy < 0 || iy >= ih || ix < 0 || ix >= iw) continue;
              const xb = ((b * ih + iy) * iw + ix) * ic;
              if (l.kind === 'conv2d') {
                for (let c = 0; c < ic; c++) acc += x.data[xb + c] * w[((o * kh + ky) * kw + kx) * ic + c];
              } else {
                acc += x.data[xb + Math.floor(o / mult)] * w[(ky * kw + kx) * oc + o];
              }
            }
          out[((b * oh + oy) * ow + ox) * oc + o] = acc;
        }
  return { shape: [n, oh, ow, oc], data: out };
}

function pad64(x: T64, pads: Pads): T64 {
  const [n, h, w, c] = x.shape;
  const [pt, pl, pb, pr] = pads;
  const H = h + pt + pb;
  const W = w + pl + pr;
  const out = new Float64Array(n * H * W * c);
  for (let b = 0; b < n; b++)
    for (let y = 0; y < h; y++)
      for (let xx = 0; xx < w; xx++)
        for (let k = 0; k < c; k++) out[((b * H + y + pt) * W + xx + pl) * c + k] = x.data[((b * h + y) * w + xx) * c + k];
  return { shape: [n, H, W, c], data: out };
}

/** Max over each window's taps on the image (padding never wins). */
function maxPool64(x: T64, filter: readonly number[], stride: readonly number[], pads: Pads): T64 {
  const [n, ih, iw, c] = x.shape;
  const [pt, pl, pb, pr] = pads;
  const oh = Math.floor((ih + pt + pb - filter[0]) / stride[0]) + 1;
  const ow = Math.floor((iw + pl + pr - filter[1]) / stride[1]) + 1;
  const out = new Float64Array(n * oh * ow * c);
  for (let b = 0; b < n; b++)
    for (let oy = 0; oy < oh; oy++)
      for (let ox = 0; ox < ow; ox++)
        for (let k = 0; k < c; k++) {
          let m = -Infinity;
          for (let ky = 0; ky < filter[0]; ky++)
            for (let kx = 0; kx < filter[1]; kx++) {
              const iy = oy * stride[0] - pt + ky;
              const ix = ox * stride[1] - pl + kx;
              if (iy >= 0 && iy < ih && ix >= 0 && ix < iw) m = Math.max(m, x.data[((b * ih + iy) * iw + ix) * c + k]);
            }
          out[((b * oh + oy) * ow + ox) * c + k] = m;
        }
  return { shape: [n, oh, ow, c], data: out };
}

function avgPool64(x: T64, filter: readonly number[], stride: readonly number[], pads: Pads): T64 {
  const [n, ih, iw, c] = x.shape;
  const [pt, pl, pb, pr] = pads;
  const oh = Math.floor((ih + pt + pb - filter[0]) / stride[0]) + 1;
  const ow = Math.floor((iw + pl + pr - filter[1]) / stride[1]) + 1;
  const out = new Float64Array(n * oh * ow * c);
  for (let b = 0; b < n; b++)
    for (let oy = 0; oy < oh; oy++)
      for (let ox = 0; ox < ow; ox++)
        for (let k = 0; k < c; k++) {
          let s = 0;
          let count = 0;
          for (let ky = 0; ky < filter[0]; ky++)
            for (let kx = 0; kx < filter[1]; kx++) {
              const iy = oy * stride[0] - pt + ky;
              const ix = ox * stride[1] - pl + kx;
              if (iy < 0 || iy >= ih || ix < 0 || ix >= iw) continue;
              s += x.data[((b * ih + iy) * iw + ix) * c + k];
              count++;
            }
          out[((b * oh + oy) * ow + ox) * c + k] = s / count;
        }
  return { shape: [n, oh, ow, c], data: out };
}

/** z_k of every layer given the inputs (before the straight-through op). */
/** Layer i's float64 output from the earlier outputs (`get`: -1 = the input). */
function layerOf(l: GradLayer, get: (ref: number) => T64, i: number, p: Params[number]): T64 {
  if (l.kind === 'add') return layerZ(l, undefined, get(l.a), get(l.b), p);
  if (l.kind === 'concat') return concat64(l.parts.map(get), l.axis);
  return layerZ(l, get(l.input ?? i - 1), undefined, undefined, p);
}

/** Concatenation along `axis` of row-major tensors. */
function concat64(parts: readonly T64[], axis: number): T64 {
  const shape = [...parts[0].shape];
  shape[axis] = parts.reduce((s, t) => s + t.shape[axis], 0);
  const outer = shape.slice(0, axis).reduce((a, b) => a * b, 1);
  const inner = shape.slice(axis + 1).reduce((a, b) => a * b, 1);
  const data = new Float64Array(outer * shape[axis] * inner);
  let at = 0;
  for (let o = 0; o < outer; o++) {
    for (const t of parts) {
      const row = t.shape[axis] * inner;
      data.set(t.data.subarray(o * row, (o + 1) * row), at);
      at += row;
    }
  }
  return { shape, data };
}

function layerZ(l: Exclude<GradLayer, ConcatLayer>, x: T64 | undefined, a: T64 | undefined, b: T64 | undefined, p: Params[number]): T64 {
  let z: T64;
  switch (l.kind) {
    case 'conv2d':
    case 'depthwise':
      z = conv64(x!, l, p.w!);
      break;
    case 'fullyConnected': {
      const n = x!.shape[0];
      const [o, inn] = l.weightShape;
      const out = new Float64Array(n * o);
      for (let r = 0; r < n; r++)
        for (let j = 0; j < o; j++) {
          let s = 0;
          for (let i = 0; i < inn; i++) s += x!.data[r * inn + i] * p.w![j * inn + i];
          out[r * o + j] = s;
        }
      z = { shape: [n, o], data: out };
      break;
    }
    case 'add':
      z = { shape: a!.shape, data: a!.data.map((v, i) => v + b!.data[i]) };
      break;
    case 'averagePool':
      z = avgPool64(x!, l.filter, l.stride, l.pads ?? [0, 0, 0, 0]);
      break;
    case 'maxPool':
      z = maxPool64(x!, l.filter, l.stride, l.pads ?? [0, 0, 0, 0]);
      break;
    case 'mean': {
      const [n, h, w, c] = x!.shape;
      const out = new Float64Array(n * c);
      for (let r = 0; r < n; r++)
        for (let k = 0; k < c; k++) {
          let s = 0;
          for (let i = 0; i < h * w; i++) s += x!.data[(r * h * w + i) * c + k];
          out[r * c + k] = s / (h * w);
        }
      z = { shape: l.keepDims === false ? [n, c] : [n, 1, 1, c], data: out };
      break;
    }
    case 'reshape': {
      const total = x!.data.length;
      const known = l.shape.filter((d) => d !== -1).reduce((u, v) => u * v, 1);
      z = { shape: l.shape.map((d) => (d === -1 ? total / known : d)), data: x!.data };
      break;
    }
    case 'pad':
      z = pad64(x!, l.pads);
      break;
  }
  if (p.b) {
    const c = p.b.length;
    z = { shape: z.shape, data: z.data.map((v, i) => v + p.b![i % c]) };
  }
  if (l.activation === 'relu') z = { shape: z.shape, data: z.data.map((v) => Math.max(0, v)) };
  if (l.activation === 'relu6') z = { shape: z.shape, data: z.data.map((v) => Math.min(6, Math.max(0, v))) };
  return z;
}

/**
 * Float64 loss of the straight-through surrogate. `z0` (the z's at the base point) is filled on the first
 * call. `bump` adds `delta` to element `index` of layer `layer`'s output value (for dLoss/dvalue).
 */
function loss64(
  net: GradNetwork,
  input: Float64Array,
  params: Params,
  z0: (T64 | undefined)[],
  bump?: { layer: number; index: number; delta: number },
): number {
  const outs: T64[] = [];
  const x0: T64 = { shape: [...net.input.shape], data: input };
  const get = (ref: number) => (ref === -1 ? x0 : outs[ref]);
  for (const [i, l] of net.layers.entries()) {
    const z = layerOf(l, get, i, params[i]);
    z0[i] ??= { shape: z.shape, data: z.data.slice() };
    let y: T64 = z;
    if (l.value || l.mask) {
      const base = z0[i]!.data;
      y = {
        shape: z.shape,
        data: z.data.map((v, k) => (l.value ? l.value[k] : base[k]) + (l.mask ? l.mask[k] : 1) * (v - base[k])),
      };
    }
    if (bump && bump.layer === i) {
      y = { shape: y.shape, data: y.data.slice() };
      y.data[bump.index] += bump.delta;
    }
    outs.push(y);
  }
  const logits = outs[outs.length - 1].data;
  const labels = typeof net.label === 'number' ? [net.label] : [...net.label];
  const classes = logits.length / labels.length;
  let total = 0;
  for (const [r, lab] of labels.entries()) {
    const row = logits.subarray(r * classes, (r + 1) * classes);
    const m = Math.max(...row);
    const lse = m + Math.log(row.reduce((s, v) => s + Math.exp(v - m), 0));
    total += lse - row[lab];
  }
  return total;
}

/** Float64 forward values of every layer (to feed `value` = true float forward). */
function values64(net: GradNetwork): Float32Array[] {
  const params = paramsOf(net);
  const outs: T64[] = [];
  const x0: T64 = { shape: [...net.input.shape], data: Float64Array.from(net.input.data) };
  const get = (ref: number) => (ref === -1 ? x0 : outs[ref]);
  for (const [i, l] of net.layers.entries()) {
    outs.push(layerOf(l, get, i, params[i]));
  }
  return outs.map((t) => Float32Array.from(t.data));
}

function paramsOf(net: GradNetwork): Params {
  return net.layers.map((l) =>
    'weights' in l ? { w: Float64Array.from(l.weights), b: l.bias ? Float64Array.from(l.bias) : undefined } : {},
  );
}

// ---------------------------------------------------------------- finite-difference comparison
const EPS = 1e-4;

interface Check {
  worst: number;
  count: number;
}

function near(oracle: number, fd: number, what: string, c: Check): void {
  const err = Math.abs(oracle - fd) / (1e-3 + Math.abs(fd));
  c.worst = Math.max(c.worst, Math.abs(oracle - fd));
  c.count++;
  if (!(Math.abs(oracle - fd) <= 2e-6 + 1e-4 * Math.abs(fd))) {
    assert.unreachable(`${what}: oracle ${oracle} vs finite difference ${fd} (relative ${err})`);
  }
}

/** Compares every gradient the oracle returns (all of them, or `maxPerTensor` evenly spaced) with FD. */
function checkAgainstFd(net: GradNetwork, res: OracleResult, maxPerTensor = Infinity): Check {
  const c: Check = { worst: 0, count: 0 };
  const params = paramsOf(net);
  const input = Float64Array.from(net.input.data);
  const z0: (T64 | undefined)[] = [];
  const base = loss64(net, input, params, z0);
  assert.ok(Math.abs(res.loss - base) <= 1e-4 * Math.max(1, Math.abs(base)), `loss ${res.loss} vs float64 ${base}`);
  const pick = (n: number): number[] => {
    if (n <= maxPerTensor) return Array.from({ length: n }, (_, i) => i);
    const step = n / maxPerTensor;
    return Array.from({ length: maxPerTensor }, (_, i) => Math.floor(i * step));
  };
  const fdOf = (arr: Float64Array, i: number): number => {
    const keep = arr[i];
    arr[i] = keep + EPS;
    const up = loss64(net, input, params, z0);
    arr[i] = keep - EPS;
    const down = loss64(net, input, params, z0);
    arr[i] = keep;
    return (up - down) / (2 * EPS);
  };
  for (const [li, l] of net.layers.entries()) {
    const g = res.layers[li];
    if ('weights' in l) {
      assert.ok(g.weights && g.weights.length === l.weights.length, `layer ${li} weight gradient`);
      for (const i of pick(l.weights.length)) near(g.weights![i], fdOf(params[li].w!, i), `layer ${li} dW[${i}]`, c);
      if (l.bias) {
        assert.ok(g.bias && g.bias.length === l.bias.length, `layer ${li} bias gradient`);
        for (const i of pick(l.bias.length)) near(g.bias![i], fdOf(params[li].b!, i), `layer ${li} db[${i}]`, c);
      } else assert.is(g.bias, undefined);
    } else {
      assert.is(g.weights, undefined);
      assert.is(g.bias, undefined);
    }
    for (const i of pick(g.output.length)) {
      const up = loss64(net, input, params, z0, { layer: li, index: i, delta: EPS });
      const down = loss64(net, input, params, z0, { layer: li, index: i, delta: -EPS });
      near(g.output[i], (up - down) / (2 * EPS), `layer ${li} dvalue[${i}]`, c);
    }
  }
  for (const i of pick(input.length)) near(res.input[i], fdOf(input, i), `dinput[${i}]`, c);
  return c;
}

// ---------------------------------------------------------------- networks
/** The brief's tiny network: conv 3×3 (relu) → conv 3×3 stride 2 → mean → fully connected (10 classes). */
function tinyNet(seed: number): GradNetwork {
  const r = rng(seed);
  const layers: GradLayer[] = [
    {
      kind: 'conv2d',
      name: 'conv1',
      weightShape: [4, 3, 3, 3],
      weights: randArray(r, 4 * 9 * 3, 0.5),
      bias: randArray(r, 4, 0.2),
      pads: [1, 1, 1, 1],
      activation: 'relu',
    },
    {
      kind: 'conv2d',
      name: 'conv2',
      weightShape: [5, 3, 3, 4],
      weights: randArray(r, 5 * 9 * 4, 0.4),
      bias: randArray(r, 5, 0.2),
      stride: [2, 2],
      pads: [0, 0, 1, 1],
    },
    { kind: 'mean', name: 'gap' },
    { kind: 'fullyConnected', name: 'fc', weightShape: [10, 5], weights: randArray(r, 50, 1), bias: randArray(r, 10, 0.3) },
  ];
  return { input: { shape: [1, 6, 6, 3], data: randArray(r, 108, 1) }, layers, label: 3 };
}

/** Every layer kind: pad, depthwise (multiplier 2, stride 2, dilation 2), add (skip), average pool with pads,
 *  reshape, FC without flattening help, batch of 2. */
function allKindsNet(seed: number): GradNetwork {
  const r = rng(seed);
  const layers: GradLayer[] = [
    /* 0 */ { kind: 'pad', pads: [1, 0, 0, 2] }, // [2,7,8,2]
    /* 1 */ {
      kind: 'depthwise',
      weightShape: [1, 3, 3, 4],
      weights: randArray(r, 36, 0.6),
      bias: randArray(r, 4, 0.2),
      stride: [2, 2],
      dilation: [2, 2],
      pads: [1, 2, 1, 0],
      activation: 'relu6',
    }, // [2,3,3,4]
    /* 2 */ { kind: 'conv2d', weightShape: [4, 1, 1, 4], weights: randArray(r, 16, 0.7), pads: [0, 0, 0, 0] }, // no bias
    /* 3 */ { kind: 'add', a: 1, b: 2 },
    /* 4 */ { kind: 'averagePool', filter: [2, 2], stride: [2, 2], pads: [0, 0, 1, 1] }, // [2,2,2,4]
    /* 5 */ { kind: 'conv2d', weightShape: [3, 2, 2, 4], weights: randArray(r, 48, 0.5), bias: randArray(r, 3, 0.1), dilation: [1, 1] }, // [2,1,1,3]
    /* 6 */ { kind: 'reshape', input: 4, shape: [2, -1] }, // [2,16]
    /* 7 */ { kind: 'fullyConnected', weightShape: [6, 16], weights: randArray(r, 96, 0.5), bias: randArray(r, 6, 0.1) },
    /* 8 */ { kind: 'reshape', input: 5, shape: [2, 3] },
    /* 9 */ { kind: 'fullyConnected', weightShape: [6, 3], weights: randArray(r, 18, 0.8) },
    /* 10 */ { kind: 'add', a: 7, b: 9 },
  ];
  return { input: { shape: [2, 6, 6, 2], data: randArray(r, 144, 2) }, layers, label: [4, 1] };
}

// ---------------------------------------------------------------- tests
test('tiny network (2 convs + mean + FC), masks all ones, values = true float forward: matches finite differences', async () => {
  const net = tinyNet(1);
  const vals = values64(net);
  const withValues: GradNetwork = {
    ...net,
    layers: net.layers.map((l, i) => ({ ...l, value: vals[i], mask: new Uint8Array(vals[i].length).fill(1) })),
  };
  const res = await tfjsGradients(withValues);
  const c = checkAgainstFd(withValues, res);
  assert.ok(c.count > 250, `${c.count} gradients checked`);
  // Same gradients when the values and masks are omitted (pure float autodiff).
  const plain = await tfjsGradients(net);
  for (const [i, g] of plain.layers.entries()) {
    const h = res.layers[i];
    for (const k of ['weights', 'bias', 'output'] as const) {
      const a = g[k];
      const b = h[k];
      if (!a || !b) continue;
      for (let j = 0; j < a.length; j++) assert.ok(Math.abs(a[j] - b[j]) <= 1e-5 * (1 + Math.abs(a[j])), `layer ${i} ${k}[${j}]`);
    }
    assert.equal(g.outputShape, h.outputShape);
  }
  assert.equal(res.layers.map((l) => l.outputShape), [[1, 6, 6, 4], [1, 3, 3, 5], [1, 1, 1, 5], [1, 10]]);
});

test('every layer kind (pad, depthwise ×2 stride 2 dilation 2, add, padded average pool, reshape, batch 2)', async () => {
  const net = allKindsNet(7);
  const res = await tfjsGradients(net);
  assert.equal(res.layers[1].outputShape, [2, 3, 3, 4]);
  assert.equal(res.layers[4].outputShape, [2, 2, 2, 4]);
  const c = checkAgainstFd(net, res);
  assert.ok(c.count > 400, `${c.count} gradients checked`);
});

test('max pool with overlapping padded windows after a convolution (batch 2): matches finite differences', async () => {
  const r = rng(12);
  const net: GradNetwork = {
    input: { shape: [2, 5, 6, 3], data: randArray(r, 180, 2) },
    layers: [
      { kind: 'conv2d', weightShape: [3, 1, 1, 3], weights: randArray(r, 9, 0.8), bias: randArray(r, 3, 0.1) }, // gradients through the pool
      { kind: 'maxPool', filter: [3, 3], stride: [2, 2], pads: [1, 1, 1, 1] }, // [2,3,3,3]
      { kind: 'reshape', shape: [2, -1] },
      { kind: 'fullyConnected', weightShape: [4, 27], weights: randArray(r, 108, 0.5), bias: randArray(r, 4, 0.1) },
    ],
    label: [1, 3],
  };
  const res = await tfjsGradients(net);
  assert.equal(res.layers[1].outputShape, [2, 3, 3, 3]);
  const c = checkAgainstFd(net, res);
  assert.ok(c.count > 100, `${c.count} gradients checked`);
});

test('concatenation of two convolutions and the input along channels (batch 2): matches finite differences', async () => {
  const r = rng(21);
  const net: GradNetwork = {
    input: { shape: [2, 3, 3, 2], data: randArray(r, 36, 2) },
    layers: [
      { kind: 'conv2d', weightShape: [3, 1, 1, 2], weights: randArray(r, 6, 0.8), bias: randArray(r, 3, 0.1) },
      { kind: 'conv2d', input: -1, weightShape: [2, 3, 3, 2], weights: randArray(r, 36, 0.5), pads: [1, 1, 1, 1] },
      { kind: 'concat', parts: [1, -1, 0], axis: 3 }, // [2,3,3,7]
      { kind: 'fullyConnected', weightShape: [4, 63], weights: randArray(r, 252, 0.3), bias: randArray(r, 4, 0.1) },
    ],
    label: [0, 2],
  };
  const res = await tfjsGradients(net);
  assert.equal(res.layers[2].outputShape, [2, 3, 3, 7]);
  const c = checkAgainstFd(net, res);
  assert.ok(c.count > 100, `${c.count} gradients checked`);
});

test('straight-through: given (quantized) values and random masks follow the surrogate rule', async () => {
  for (const [seed, mk] of [[2, tinyNet], [9, allKindsNet]] as const) {
    const net = mk(seed);
    const r = rng(seed * 31);
    const vals = values64(net);
    const st: GradNetwork = {
      ...net,
      layers: net.layers.map((l, i) => ({
        ...l,
        activation: 'none' as const, // the int8 way: the mask carries the clamp
        value: vals[i].map((v) => Math.round(v * 16) / 16 + (r() < 0.2 ? 1 / 16 : 0)),
        mask: Uint8Array.from(vals[i], () => (r() < 0.7 ? 1 : 0)),
      })),
    };
    const res = await tfjsGradients(st);
    // The forward uses the given values, not the float results.
    for (const [i, l] of st.layers.entries()) assert.equal(Array.from(res.layers[i].value), Array.from(l.value!));
    const c = checkAgainstFd(st, res);
    assert.ok(c.count > 250);
  }
});

test('a zero mask stops the gradient: nothing reaches the layers before it', async () => {
  const net = tinyNet(3);
  const layers = net.layers.map((l, i) => (i === 2 ? { ...l, mask: new Uint8Array(5) } : l));
  const res = await tfjsGradients({ ...net, layers });
  assert.ok(res.layers[3].weights!.some((v) => v !== 0));
  assert.ok(res.layers[2].output.some((v) => v !== 0), 'the gradient reaching the masked layer is reported before the mask');
  for (const i of [0, 1]) {
    assert.ok(res.layers[i].weights!.every((v) => v === 0));
    assert.ok(res.layers[i].bias!.every((v) => v === 0));
  }
  assert.ok(res.input.every((v) => v === 0));
});

test('softmax cross-entropy gradient of the logits is softmax - onehot', async () => {
  const logits = Float32Array.from([0.5, -1, 2, 0.25]);
  const res = await tfjsGradients({
    input: { shape: [1, 4], data: logits },
    layers: [{ kind: 'reshape', shape: [1, 4] }],
    label: 2,
  });
  const m = Math.max(...logits);
  const e = Array.from(logits, (v) => Math.exp(v - m));
  const s = e.reduce((a, b) => a + b, 0);
  e.forEach((v, i) => assert.ok(Math.abs(res.layers[0].output[i] - (v / s - (i === 2 ? 1 : 0))) < 1e-6));
  assert.ok(Math.abs(res.loss - (Math.log(s) + m - logits[2])) < 1e-6);
});

test('unpackMask reads SaveMask bit order; size mismatches are errors', async () => {
  assert.equal(Array.from(unpackMask(Uint8Array.from([0b10000101, 0b1]), 9)), [1, 0, 1, 0, 0, 0, 0, 1, 1]);
  const net = tinyNet(4);
  const bad = net.layers.map((l, i) => (i === 1 ? { ...l, value: new Float32Array(3) } : l));
  try {
    await tfjsGradients({ ...net, layers: bad });
    assert.unreachable('should throw');
  } catch (e) {
    assert.match((e as Error).message, /layer 1 \(conv2\) output \[1,3,3,5\] has 45 values, given value has 3/);
  }
});

test.run();
