/**
 * The gradient rules of the training ops, each against central finite differences of an independent float64
 * implementation of the forward function it differentiates (written here, not taken from compiler/ops):
 * softmax cross-entropy, the input gradients of convolution, depthwise convolution, fully connected, average
 * and max pooling, pad and concatenation, and the weight and bias updates (whose applied step must equal lr x gradient / scale up to the one
 * unit of stochastic rounding, unbiased on average).
 */
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { Random } from '../../compiler/frontend/builder/random.ts';
import { softmaxCrossEntropy } from '../../compiler/ops/train/softmax_cross_entropy.ts';
import { conv2dBackpropInput, depthwiseConv2dBackpropInput } from '../../compiler/ops/train/backprop_input.ts';
import type { BackpropInputParams } from '../../compiler/ops/train/backprop_input.ts';
import type { ConvDims, WindowAttrs } from '../../compiler/ops/train/geometry.ts';
import { averagePool2dBackprop } from '../../compiler/ops/train/average_pool_backprop.ts';
import { padBackprop } from '../../compiler/ops/train/pad_backprop.ts';
import { concatenationBackprop } from '../../compiler/ops/train/concatenation_backprop.ts';
import { maxPool2dBackprop, maxPoolArgmax } from '../../compiler/ops/train/max_pool_backprop.ts';
import { biasUpdate, conv2dWeightUpdate, depthwiseConv2dWeightUpdate } from '../../compiler/ops/train/parameter_update.ts';
import type { WeightUpdateParams } from '../../compiler/ops/train/parameter_update.ts';

const random = new Random(2026);
const floats = (n: number, scale = 1) => Float32Array.from({ length: n }, () => Math.fround((random.next() * 2 - 1) * scale));

/** max |a - b| / max(|b|, floor) over all elements. */
function relativeError(a: ArrayLike<number>, b: ArrayLike<number>, floor = 1e-3): number {
  let worst = 0;
  for (let i = 0; i < b.length; i++) worst = Math.max(worst, Math.abs(a[i]! - b[i]!) / Math.max(Math.abs(b[i]!), floor));
  return worst;
}

/** Central differences of f at x along every coordinate. */
function numericGradient(f: (x: Float64Array) => number, x: Float64Array, h: number): Float64Array {
  const g = new Float64Array(x.length);
  for (let i = 0; i < x.length; i++) {
    const keep = x[i]!;
    x[i] = keep + h;
    const up = f(x);
    x[i] = keep - h;
    const down = f(x);
    x[i] = keep;
    g[i] = (up - down) / (2 * h);
  }
  return g;
}

/** The dimensions and window of a convolution, as the gradient kernels take them. */
type Geometry = ConvDims & WindowAttrs;

/** Float64 convolution, NHWC x OHWI (depthwise: 1HWC, multiplier 1); taps outside the input read 0. */
function convolve(g: Geometry, x: ArrayLike<number>, w: ArrayLike<number>, depthwise: boolean): Float64Array {
  const y = new Float64Array(g.batches * g.outH * g.outW * g.outC);
  for (let n = 0; n < g.batches; n++)
    for (let oy = 0; oy < g.outH; oy++)
      for (let ox = 0; ox < g.outW; ox++)
        for (let oc = 0; oc < g.outC; oc++) {
          let s = 0;
          for (let ky = 0; ky < g.filterH; ky++)
            for (let kx = 0; kx < g.filterW; kx++) {
              const iy = oy * g.strideH - g.padTop + ky * g.dilationH;
              const ix = ox * g.strideW - g.padLeft + kx * g.dilationW;
              if (iy < 0 || iy >= g.inH || ix < 0 || ix >= g.inW) continue;
              const at = ((n * g.inH + iy) * g.inW + ix) * g.inC;
              if (depthwise) s += x[at + oc]! * w[(ky * g.filterW + kx) * g.outC + oc]!;
              else for (let ic = 0; ic < g.inC; ic++) s += x[at + ic]! * w[((oc * g.filterH + ky) * g.filterW + kx) * g.inC + ic]!;
            }
          y[((n * g.outH + oy) * g.outW + ox) * g.outC + oc] = s;
        }
  return y;
}

const dot = (a: ArrayLike<number>, b: ArrayLike<number>) => {
  let s = 0;
  for (let i = 0; i < a.length; i++) s += a[i]! * b[i]!;
  return s;
};

const GEOMETRIES: readonly (Geometry & { readonly name: string })[] = [
  { name: '3x3 stride 2, padded', batches: 1, inH: 7, inW: 6, inC: 3, outH: 4, outW: 3, outC: 4, filterH: 3, filterW: 3, strideH: 2, strideW: 2, dilationH: 1, dilationW: 1, padTop: 1, padLeft: 1 },
  { name: '2x3 dilated, asymmetric padding', batches: 2, inH: 6, inW: 6, inC: 2, outH: 4, outW: 3, outC: 3, filterH: 2, filterW: 3, strideH: 1, strideW: 2, dilationH: 2, dilationW: 1, padTop: 0, padLeft: 1 },
  { name: '1x1 (pointwise)', batches: 1, inH: 4, inW: 4, inC: 8, outH: 4, outW: 4, outC: 5, filterH: 1, filterW: 1, strideH: 1, strideW: 1, dilationH: 1, dilationW: 1, padTop: 0, padLeft: 0 },
  { name: 'fully connected (1x1 image)', batches: 3, inH: 1, inW: 1, inC: 16, outH: 1, outW: 1, outC: 6, filterH: 1, filterW: 1, strideH: 1, strideW: 1, dilationH: 1, dilationW: 1, padTop: 0, padLeft: 0 },
];

test('softmax cross-entropy: loss and gradient against float64 and finite differences', () => {
  for (const [classes, scale, zeroPoint] of [[10, 0.125, 0], [1000, 0.17, -34], [3, 0.9, 20]] as const) {
    const logits = random.int8Array(classes);
    const label = random.int(0, classes - 1);
    const loss = new Float32Array(1);
    const grad = new Float32Array(classes);
    softmaxCrossEntropy.evaluate({ classes, scale: Math.fround(scale), zeroPoint }, [logits, Int32Array.of(label)], [loss, grad]);
    const crossEntropy = (r: Float64Array) => {
      const max = Math.max(...r);
      return Math.log(r.reduce((s, v) => s + Math.exp(v - max), 0)) + max - r[label]!;
    };
    const real = Float64Array.from(logits, (q) => (q - zeroPoint) * Math.fround(scale));
    assert.ok(Math.abs(loss[0]! - crossEntropy(real)) < 1e-5 * Math.max(1, crossEntropy(real)), `loss ${loss[0]} vs ${crossEntropy(real)}`);
    assert.ok(relativeError(grad, numericGradient(crossEntropy, real, 1e-4), 1e-3) < 1e-4, `${classes} classes: gradient`);
  }
});

for (const g of GEOMETRIES) {
  for (const depthwise of [false, true]) {
    if (depthwise && g.inC !== g.outC && g.filterH === 1 && g.batches > 1) continue;
    const geometry = depthwise ? { ...g, inC: g.outC } : g;
    const kind = depthwise ? 'depthwise' : 'conv';
    const weightCount = depthwise ? geometry.filterH * geometry.filterW * geometry.outC : geometry.outC * geometry.filterH * geometry.filterW * geometry.inC;
    const weights = random.int8Array(weightCount, -127, 127);
    const weightScales = Array.from({ length: geometry.outC }, () => Math.fround(0.001 + random.next() * 0.02));
    const realWeights = Float64Array.from(weights, (w, i) => w * weightScales[depthwise ? i % geometry.outC : Math.floor(i / (weightCount / geometry.outC))]!);
    const inputCount = geometry.batches * geometry.inH * geometry.inW * geometry.inC;
    const dy = floats(geometry.batches * geometry.outH * geometry.outW * geometry.outC);

    test(`${kind} ${g.name}: input gradient = d/dx of sum(dy * conv(x, W)) by finite differences`, () => {
      const params: BackpropInputParams = { ...geometry, weightScales };
      const dx = new Float32Array(inputCount);
      (depthwise ? depthwiseConv2dBackpropInput : conv2dBackpropInput).evaluate(params, [dy, weights], [dx]);
      const x = Float64Array.from(floats(inputCount));
      const numeric = numericGradient((v) => dot(dy, convolve(geometry, v, realWeights, depthwise)), x, 0.5);
      assert.ok(relativeError(dx, numeric, 1e-2) < 1e-4, `relative error ${relativeError(dx, numeric, 1e-2)}`);
    });

    test(`${kind} ${g.name}: weight update = -lr x dL/dW / s_w, stochastically rounded, first k channels only`, () => {
      const keep = Math.max(1, Math.floor((depthwise ? geometry.outC : geometry.inC) / 2));
      const xScale = 0.05;
      const xZero = 3;
      const x = random.int8Array(inputCount, -100, 100);
      const xReal = Float64Array.from(x, (q) => (q - xZero) * Math.fround(xScale));
      const params: WeightUpdateParams = {
        ...geometry, savedChannels: geometry.inC, keep, inputZeroPoint: xZero, inputScale: Math.fround(xScale),
        invWeightScale: weightScales.map((s) => Math.fround(1 / s)),
      };
      // Small weights, so that steps of several units never reach the int8 limits.
      const before = random.int8Array(weightCount, -40, 40);
      const realBefore = Float64Array.from(before, (w, i) => w * weightScales[depthwise ? i % geometry.outC : Math.floor(i / (weightCount / geometry.outC))]!);
      const gradient = numericGradient((w) => dot(dy, convolve(geometry, xReal, w, depthwise)), realBefore, 1e-3);
      const lr = 6 / Math.max(...gradient.map((v, i) => Math.abs(v / weightScales[depthwise ? i % geometry.outC : Math.floor(i / (weightCount / geometry.outC))]!)));
      const after = before.slice();
      const rng = Int32Array.of(12345);
      (depthwise ? depthwiseConv2dWeightUpdate : conv2dWeightUpdate).evaluate(params, [dy, x, after, Float32Array.of(lr), rng], []);
      let bias = 0;
      let updated = 0;
      after.forEach((w, i) => {
        const channel = depthwise ? i % geometry.outC : i % geometry.inC;
        const oc = depthwise ? channel : Math.floor(i / (weightCount / geometry.outC));
        const expected = before[i]! - (lr * gradient[i]!) / weightScales[oc]!;
        if (channel >= keep) {
          assert.is(w, before[i], `weight ${i} (channel ${channel} >= ${keep}) must stay frozen`);
          return;
        }
        assert.ok(Math.abs(w - expected) < 1 + 1e-4, `weight ${i}: ${w} vs ${expected}`);
        bias += w - expected;
        updated++;
      });
      assert.ok(updated > 0);
      assert.ok(Math.abs(bias / updated) < 0.35, `stochastic rounding is biased: mean error ${bias / updated}`);
    });

    test(`${kind} ${g.name}: bias update = -lr x dL/db / (s_x s_w), rounded to nearest`, () => {
      const bias = Int32Array.from({ length: geometry.outC }, () => random.int(-5000, 5000));
      const xScale = Math.fround(0.05);
      const after = bias.slice();
      const lr = 0.01;
      const invScale = weightScales.map((s) => Math.fround(1 / (xScale * s)));
      const pixels = dy.length / geometry.outC;
      biasUpdate.evaluate({ pixels, channels: geometry.outC, invScale }, [dy, after, Float32Array.of(lr)], []);
      const realBias = Float64Array.from(bias, (b, c) => b * xScale * weightScales[c]!);
      const gradient = numericGradient((b) => dot(dy, Float64Array.from(dy, (_, i) => b[i % geometry.outC]!)), realBias, 1e-3);
      after.forEach((b, c) => {
        const expected = bias[c]! - (lr * gradient[c]!) / (xScale * weightScales[c]!);
        assert.ok(Math.abs(b - expected) <= 0.5 + 1e-3 * Math.abs(expected - bias[c]!), `bias ${c}: ${b} vs ${expected}`);
      });
    });
  }
}

test('average pool and spatial mean: input gradient = d/dx of sum(dy * pool(x)) by finite differences', () => {
  for (const p of [
    { batches: 1, inH: 5, inW: 6, channels: 3, outH: 3, outW: 3, filterH: 3, filterW: 2, strideH: 2, strideW: 2, padTop: 1, padLeft: 0 },
    { batches: 2, inH: 4, inW: 4, channels: 5, outH: 1, outW: 1, filterH: 4, filterW: 4, strideH: 1, strideW: 1, padTop: 0, padLeft: 0 },
  ]) {
    const pool = (x: ArrayLike<number>) => {
      const y = new Float64Array(p.batches * p.outH * p.outW * p.channels);
      for (let n = 0; n < p.batches; n++)
        for (let oy = 0; oy < p.outH; oy++)
          for (let ox = 0; ox < p.outW; ox++)
            for (let c = 0; c < p.channels; c++) {
              let s = 0;
              let count = 0;
              for (let iy = oy * p.strideH - p.padTop; iy < oy * p.strideH - p.padTop + p.filterH; iy++)
                for (let ix = ox * p.strideW - p.padLeft; ix < ox * p.strideW - p.padLeft + p.filterW; ix++) {
                  if (iy < 0 || iy >= p.inH || ix < 0 || ix >= p.inW) continue;
                  s += x[((n * p.inH + iy) * p.inW + ix) * p.channels + c]!;
                  count++;
                }
              y[((n * p.outH + oy) * p.outW + ox) * p.channels + c] = s / count;
            }
      return y;
    };
    const dy = floats(p.batches * p.outH * p.outW * p.channels);
    const dx = new Float32Array(p.batches * p.inH * p.inW * p.channels);
    averagePool2dBackprop.evaluate(p, [dy], [dx]);
    const numeric = numericGradient((x) => dot(dy, pool(x)), Float64Array.from(floats(dx.length)), 0.5);
    assert.ok(relativeError(dx, numeric, 1e-2) < 1e-5);
  }
});

test('pad: input gradient = d/dx of sum(dy * pad(x)) by finite differences', () => {
  const cases: [inDims: number[], before: number[], after: number[]][] = [
    [[1, 4, 5, 3], [0, 1, 2, 0], [0, 2, 0, 0]],
    [[2, 3, 3, 2], [0, 0, 0, 1], [0, 1, 1, 2]],
    [[6], [3], [1]],
  ];
  for (const [inDims, before, after] of cases) {
    const outDims = inDims.map((d, k) => d + before[k]! + after[k]!);
    // Zero padding in float64, written with its own index arithmetic: out[..., i_k + before_k, ...] = x[..., i_k, ...].
    const padded = (x: ArrayLike<number>) => {
      const y = new Float64Array(outDims.reduce((a, b) => a * b, 1));
      for (let i = 0; i < x.length; i++) {
        let rest = i;
        let at = 0;
        let stride = 1;
        for (let k = inDims.length - 1; k >= 0; k--) {
          at += ((rest % inDims[k]!) + before[k]!) * stride;
          rest = Math.floor(rest / inDims[k]!);
          stride *= outDims[k]!;
        }
        y[at] = x[i]!;
      }
      return y;
    };
    const dy = floats(outDims.reduce((a, b) => a * b, 1));
    const dx = new Float32Array(inDims.reduce((a, b) => a * b, 1));
    padBackprop.evaluate({ outDims, inDims, before }, [dy], [dx]);
    const numeric = numericGradient((x) => dot(dy, padded(x)), Float64Array.from(floats(dx.length)), 0.5);
    assert.ok(relativeError(dx, numeric) < 1e-9, `pad ${inDims.join('x')}`);
  }
});

test('max pool: input gradient (through the saved argmax) = d/dx of sum(dy * maxpool(x)) by finite differences', () => {
  for (const p of [
    { batches: 1, inH: 6, inW: 5, channels: 2, outH: 3, outW: 3, filterH: 3, filterW: 3, strideH: 2, strideW: 2, padTop: 1, padLeft: 1 },
    { batches: 2, inH: 4, inW: 4, channels: 3, outH: 2, outW: 2, filterH: 2, filterW: 2, strideH: 2, strideW: 2, padTop: 0, padLeft: 0 },
  ]) {
    const count = p.batches * p.inH * p.inW * p.channels;
    // Distinct int8 values (a shuffled range): no ties, so steps of 0.25 never change a window's maximum.
    const values = Array.from({ length: count }, (_, i) => i - 128);
    for (let i = count - 1; i > 0; i--) {
      const j = random.int(0, i);
      [values[i], values[j]] = [values[j]!, values[i]!];
    }
    const x = Int8Array.from(values);
    const maxPool = (v: ArrayLike<number>) => {
      const y = new Float64Array(p.batches * p.outH * p.outW * p.channels);
      for (let n = 0; n < p.batches; n++)
        for (let oy = 0; oy < p.outH; oy++)
          for (let ox = 0; ox < p.outW; ox++)
            for (let c = 0; c < p.channels; c++) {
              let m = -Infinity;
              for (let iy = oy * p.strideH - p.padTop; iy < oy * p.strideH - p.padTop + p.filterH; iy++)
                for (let ix = ox * p.strideW - p.padLeft; ix < ox * p.strideW - p.padLeft + p.filterW; ix++) {
                  if (iy >= 0 && iy < p.inH && ix >= 0 && ix < p.inW) m = Math.max(m, v[((n * p.inH + iy) * p.inW + ix) * p.channels + c]!);
                }
              y[((n * p.outH + oy) * p.outW + ox) * p.channels + c] = m;
            }
      return y;
    };
    const argmax = new Uint8Array(p.batches * p.outH * p.outW * p.channels);
    maxPoolArgmax.evaluate(p, [x], [argmax]);
    const dy = floats(argmax.length);
    const dx = new Float32Array(count);
    maxPool2dBackprop.evaluate(p, [dy, argmax], [dx]);
    const numeric = numericGradient((v) => dot(dy, maxPool(v)), Float64Array.from(x), 0.25);
    assert.ok(relativeError(dx, numeric) < 1e-6, `${p.filterH}x${p.filterW} stride ${p.strideH}`);
  }
});

test('concatenation: each input gradient = d/dx_i of sum(dy * concat(x_0, x_1, x_2)) by finite differences', () => {
  const cases: [shapes: number[][], axis: number][] = [
    [[[2, 3, 2], [2, 1, 2], [2, 4, 2]], 1],
    [[[1, 2, 2, 3], [1, 2, 2, 1], [1, 2, 2, 2]], 3],
    [[[1, 4], [2, 4], [3, 4]], 0],
  ];
  for (const [shapes, axis] of cases) {
    const size = (s: readonly number[]) => s.reduce((a, b) => a * b, 1);
    const outShape = [...shapes[0]!];
    outShape[axis] = shapes.reduce((s, t) => s + t[axis]!, 0);
    const outer = size(outShape.slice(0, axis));
    // Float64 concatenation written here: per outer index, each part's slice in turn.
    const concat = (parts: readonly ArrayLike<number>[]) => {
      const y: number[] = [];
      for (let o = 0; o < outer; o++) {
        parts.forEach((x, i) => {
          const row = size(shapes[i]!) / outer;
          for (let j = 0; j < row; j++) y.push(x[o * row + j]!);
        });
      }
      return y;
    };
    const xs = shapes.map((s) => Float64Array.from(floats(size(s))));
    const dy = floats(size(outShape));
    let offset = 0;
    shapes.forEach((shape, i) => {
      const dims = { shape: outShape, dtype: 'float32' as const };
      const prepared = concatenationBackprop.prepare({
        graph: { name: 'concat', tensors: [], nodes: [], inputs: [], outputs: [] },
        node: { id: 0, op: 'ConcatenationBackprop', inputs: [0], outputs: [1], attrs: { axis, offset }, origin: 'test' },
        inputs: [{ id: 0, name: 'dy', quant: null, data: null, ...dims }],
        outputs: [{ id: 1, name: 'dx', quant: null, data: null, shape, dtype: 'float32' }],
        options: { rounding: 'double' },
      });
      const dx = new Float32Array(size(shape));
      concatenationBackprop.evaluate(prepared.params, [dy], [dx]);
      const numeric = numericGradient((x) => dot(dy, concat(xs.map((other, k) => (k === i ? x : other)))), Float64Array.from(xs[i]!), 0.5);
      assert.ok(relativeError(dx, numeric) < 1e-9, `input ${i} of [${shapes.map((s) => s.join('x')).join(', ')}] along axis ${axis}`);
      offset += shape[axis]!;
    });
  }
});

test.run();
