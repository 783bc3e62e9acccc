/**
 * The C kernels of the training ops (runtime/c/kernels) against the TypeScript reference `evaluate` of
 * compiler/ops/train, bit for bit (the bytes of every buffer after the call, inputs included, so a kernel that writes
 * where it should not fails too). Random data and geometries: strides, dilations, padding, fully connected shapes,
 * zero gradients, partial channels, saturating biases, weights pushed past the int8 limits. Host cc with
 * -ffp-contract=off and -fsanitize=address,undefined; every buffer is its own exact-size allocation, except where a
 * kernel may write its output over its input (the depthwise input gradient), which is also run with both one buffer.
 * The weight updates' outputs are int8 after stochastic rounding, so a 1-ulp difference in a weight's gradient shows
 * only when the draw lands within that ulp: those cases pin the loop and draw order, indexing and rounding, not every
 * last bit of the sums (the backprop kernels, whose outputs are the float sums themselves, do).
 * Weights split by a partial update (a trained head and a frozen tail) are checked in the forward kernel, under each
 * requantization rounding, and in the input gradient and bias refold that read both parts.
 */
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { spawnSync } from 'node:child_process';
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import {
  addGradients, applyMask, averagePool2dBackprop, biasUpdate, concatenationBackprop, maxPool2dBackprop, maxPoolArgmax, padBackprop, foldedBiasUpdate, conv2dBackpropInput, conv2dWeightUpdate,
  depthwiseConv2dBackpropInput, depthwiseConv2dWeightUpdate, foldBias, saveMask, sliceChannels, softmaxCrossEntropy, splitConv1x1,
} from '../../compiler/ops/train/index.ts';
import type { Rounding } from '../../compiler/ops/common/fixed_point.ts';
import { channelMultiplier, ROUNDINGS } from '../../compiler/ops/common/fixed_point.ts';
import { f32, floatBits } from '../../compiler/ops/common/float32_math.ts';
import { Random } from '../../compiler/frontend/builder/random.ts';
import { REPO_ROOT } from '../helpers/shared.ts';
import { mergePadDims } from '../../compiler/ops/pad.ts';

/** The brief's prototypes: the kernels are compiled against them, so a signature that drifts fails the build. */
const KERNELS = {
  softmax_cross_entropy_f32: 'const int8_t *, const int32_t *, float *, float *, int32_t, int32_t, int32_t',
  mask_s8: 'const int8_t *, uint8_t *, int32_t, int32_t, int32_t',
  apply_mask_f32: 'const float *, const uint8_t *, float *, int32_t',
  slice_channels_s8: 'const int8_t *, int8_t *, int32_t, int32_t, int32_t',
  conv2d_backprop_input_f32: `const float *, const int8_t *, const int8_t *, const float *, float *${', int32_t'.repeat(17)}`,
  depthwise_conv2d_backprop_input_f32: `const float *, const int8_t *, const float *, float *, void *${', int32_t'.repeat(14)}`,
  bias_update_f32: 'const float *, int32_t *, const float *, const float *, int32_t, int32_t',
  folded_bias_update_f32: 'const float *, int32_t *, const float *, const int32_t *, const int32_t *, const float *, int32_t, int32_t',
  conv2d_weight_update_f32: `const float *, const int8_t *, int8_t *, const float *, const float *, int32_t *, void *${', int32_t'.repeat(20)}`,
  depthwise_conv2d_weight_update_f32: `const float *, const int8_t *, int8_t *, const float *, const float *, int32_t *${', int32_t'.repeat(18)}`,
  fold_bias_s8: `const int8_t *, const int32_t *, const int32_t *, const int32_t *, int32_t *, int32_t *${', int32_t'.repeat(5)}`,
  split_conv1x1_s8: 'const int8_t *, const int8_t *, const int8_t *, const int32_t *, int8_t *, int32_t, int32_t, int32_t, int32_t, const int32_t *, const int32_t *, int32_t, int32_t, int32_t',
  add_f32: 'const float *, const float *, float *, int32_t',
  average_pool2d_backprop_f32: `const float *, float *${', int32_t'.repeat(12)}`,
  pad_backprop_f32: 'const float *, float *, int32_t, const int32_t *, const int32_t *, const int32_t *',
  concatenation_backprop_f32: 'const float *, float *, int32_t, int32_t, int32_t, int32_t',
  max_pool2d_argmax_s8: `const int8_t *, uint8_t *${', int32_t'.repeat(12)}`,
  max_pool2d_backprop_f32: `const float *, const uint8_t *, float *${', int32_t'.repeat(12)}`,
} as const;
type KernelName = keyof typeof KERNELS;
const NAMES = Object.keys(KERNELS) as KernelName[];

function parameterTypes(name: KernelName): string[] {
  return KERNELS[name].split(', ');
}

/** A call of every kernel with its buffers (NULL when empty) and ints, read from stdin; all buffers written back. */
function harness(): string {
  const cases = NAMES.map((name, id) => {
    const types = parameterTypes(name);
    let buffer = 0;
    let int = 0;
    const args = types.map((t) => (t === 'int32_t' ? `a[${int++}]` : `(${t})b[${buffer++}]`));
    return `    case ${id}: ${name}(${args.join(', ')}); break;`;
  });
  return `#include <stdio.h>
#include <stdlib.h>
#include "tf_kernels.h"

/* Cases on stdin: int32 kernel, buffer count, per buffer its byte length and bytes (length -1 - j: buffer j's
   pointer again, neither read nor written back), int count, ints. */
static int read_i32(int32_t *v) { return fread(v, 4, 1, stdin) == 1; }

int main(void) {
  int32_t kernel;
  while (read_i32(&kernel)) {
    void *b[8] = {0};
    int32_t size[8] = {0}, a[32] = {0}, buffers, ints, i;
    if (!read_i32(&buffers) || buffers > 8) return 1;
    for (i = 0; i < buffers; ++i) {
      if (!read_i32(&size[i]) || size[i] < -i) return 1;
      if (size[i] < 0) {
        b[i] = b[-1 - size[i]];
        continue;
      }
      if (size[i] > 0 && ((b[i] = malloc((size_t)size[i])) == NULL || fread(b[i], 1, (size_t)size[i], stdin) != (size_t)size[i])) return 1;
    }
    if (!read_i32(&ints) || ints > 32 || fread(a, 4, (size_t)ints, stdin) != (size_t)ints) return 1;
    switch (kernel) {
${cases.join('\n')}
    default: return 1;
    }
    for (i = 0; i < buffers; ++i) {
      if (size[i] <= 0) continue;
      fwrite(b[i], 1, (size_t)size[i], stdout);
      free(b[i]);
    }
  }
  return 0;
}
`;
}

function kernelsHeader(): string {
  return `#ifndef TF_KERNELS_H
#define TF_KERNELS_H
#include <stddef.h>
#include <stdint.h>
#include "tf_fixed_point.h"
${NAMES.map((n) => `void ${n}(${KERNELS[n]});`).join('\n')}
#endif
`;
}

const FLAGS = ['-std=c99', '-O2', '-Wall', '-Wextra', '-Werror', '-ffp-contract=off', '-fsanitize=address,undefined', '-fno-sanitize-recover=all'];

const executables = new Map<Rounding, string>();
const workDir = mkdtempSync(join(tmpdir(), 'tf-train-kernels-'));

/** The harness built with the requantization of `rounding` (tf_config.h as the C backend writes it). */
function build(rounding: Rounding): string {
  const built = executables.get(rounding);
  if (built) return built;
  const dir = join(workDir, rounding);
  mkdirSync(dir);
  writeFileSync(join(dir, 'tf_kernels.h'), kernelsHeader());
  writeFileSync(join(dir, 'tf_config.h'), `#define TF_SINGLE_ROUNDING ${rounding === 'single' ? 1 : 0}\n#define TF_FLOAT32_REQUANT ${rounding === 'float32' ? 1 : 0}\n`);
  writeFileSync(join(dir, 'main.c'), harness());
  const sources = [join(dir, 'main.c'), ...NAMES.map((n) => join(REPO_ROOT, 'runtime/c/kernels', `${n}.c`))];
  const exe = join(dir, 'main');
  const cc = spawnSync('cc', [...FLAGS, `-I${dir}`, `-I${join(REPO_ROOT, 'runtime/c')}`, ...sources, '-o', exe, '-lm'], { encoding: 'utf8' });
  assert.is(cc.status, 0, cc.stderr);
  executables.set(rounding, exe);
  return exe;
}

type Data = Int8Array | Uint8Array | Int32Array | Float32Array;

interface Case {
  readonly kernel: KernelName;
  readonly what: string;
  /** The kernel's pointer arguments, in order (length 0: NULL), their contents before the call. */
  readonly buffers: readonly Data[];
  /** Buffer index -> the earlier buffer whose pointer it is passed instead (a kernel writing over its input). */
  readonly aliases?: ReadonlyMap<number, number>;
  /** A scratch buffer, whose contents after the call are the kernel's own business. */
  readonly scratch?: number;
  readonly ints: readonly number[];
  /** Runs the reference on (copies of) the buffers, in the same order. */
  readonly reference: (buffers: readonly Data[]) => void;
}

function bytesOf(b: Data): Uint8Array {
  return new Uint8Array(b.buffer, b.byteOffset, b.byteLength);
}

function clone(b: Data): Data {
  return new (b.constructor as new (x: ArrayLike<number>) => Data)(b);
}

/** Runs every case through the C harness and compares each buffer with the reference's, byte for byte. */
function check(cases: readonly Case[], rounding: Rounding = 'double'): void {
  const parts: Uint8Array[] = [];
  const i32 = (v: number) => bytesOf(Int32Array.of(v));
  for (const c of cases) {
    parts.push(i32(NAMES.indexOf(c.kernel)), i32(c.buffers.length));
    c.buffers.forEach((b, i) => {
      const alias = c.aliases?.get(i);
      parts.push(...(alias === undefined ? [i32(b.byteLength), bytesOf(b)] : [i32(-1 - alias)]));
    });
    parts.push(i32(c.ints.length), bytesOf(Int32Array.from(c.ints)));
  }
  const run = spawnSync(build(rounding), [], { input: Buffer.concat(parts), maxBuffer: 1 << 30 });
  assert.is(run.status, 0, `C harness failed: ${run.stderr?.toString()}`);
  const out = run.stdout as Buffer;
  let at = 0;
  for (const c of cases) {
    const expected = c.buffers.map(clone);
    c.reference(expected);
    expected.forEach((want, i) => {
      if (c.aliases?.has(i)) return;
      const wantBytes = bytesOf(want);
      const got = out.subarray(at, at + wantBytes.length);
      at += wantBytes.length;
      if (i !== c.scratch && !Buffer.from(wantBytes).equals(got)) {
        const view = new (want.constructor as new (b: ArrayBuffer) => Data)(new Uint8Array(got).buffer);
        const k = view.findIndex((v, j) => floatBits(v) !== floatBits(want[j]!) || v !== want[j]);
        assert.unreachable(`${c.kernel} (${c.what}): buffer ${i} differs at element ${k}: C ${view[k]}, reference ${want[k]}`);
      }
    });
  }
  assert.is(at, out.length, 'C harness wrote more than the cases hold');
}

const random = new Random(2024);
const pick = <T>(xs: readonly T[]): T => xs[random.int(0, xs.length - 1)]!;
const int8s = (n: number, lo = -128, hi = 127) => random.int8Array(n, lo, hi);
const scale = () => f32(2 ** (-12 + random.next() * 10));

/** Gradients as training makes them: mostly small, some exact zeros (skipped by the backprops), a few large. */
function gradients(n: number, zeros = 0.2): Float32Array {
  return Float32Array.from({ length: n }, () => {
    const r = random.next();
    if (r < zeros) return random.next() < 0.5 ? 0 : -0;
    return (random.next() - 0.5) * 2 ** random.int(-12, 4);
  });
}

/** Garbage in the output buffers, which the kernels must overwrite completely. */
function garbage(n: number): Float32Array {
  return Float32Array.from({ length: n }, () => random.next() * 1e6 - 5e5);
}

interface Geometry {
  readonly batches: number; readonly inH: number; readonly inW: number; readonly outH: number; readonly outW: number;
  readonly filterH: number; readonly filterW: number; readonly strideH: number; readonly strideW: number;
  readonly dilationH: number; readonly dilationW: number; readonly padTop: number; readonly padLeft: number;
}

/** A random window geometry, or a fully connected layer's (everything 1). */
function geometry(fullyConnected: boolean): Geometry {
  if (fullyConnected) {
    return { batches: random.int(1, 3), inH: 1, inW: 1, outH: 1, outW: 1, filterH: 1, filterW: 1, strideH: 1, strideW: 1, dilationH: 1, dilationW: 1, padTop: 0, padLeft: 0 };
  }
  const filterH = random.int(1, 3);
  const filterW = random.int(1, 3);
  const dilationH = random.int(1, 2);
  const dilationW = random.int(1, 2);
  const strideH = random.int(1, 2);
  const strideW = random.int(1, 2);
  const inH = random.int(1, 7);
  const inW = random.int(1, 7);
  const padTop = random.int(0, dilationH * (filterH - 1));
  const padLeft = random.int(0, dilationW * (filterW - 1));
  const padBottom = random.int(0, dilationH * (filterH - 1));
  const padRight = random.int(0, dilationW * (filterW - 1));
  const outH = Math.max(1, Math.floor((inH + padTop + padBottom - dilationH * (filterH - 1) - 1) / strideH) + 1);
  const outW = Math.max(1, Math.floor((inW + padLeft + padRight - dilationW * (filterW - 1) - 1) / strideW) + 1);
  return { batches: random.int(1, 2), inH, inW, outH, outW, filterH, filterW, strideH, strideW, dilationH, dilationW, padTop, padLeft };
}

function pointwiseGeometry(): Geometry {
  const [h, w] = [random.int(1, 6), random.int(1, 6)];
  return { ...geometry(true), inH: h, inW: w, outH: h, outW: w };
}

const windowInts = (g: Geometry) => [g.filterH, g.filterW, g.strideH, g.strideW, g.dilationH, g.dilationW, g.padTop, g.padLeft];
const describe = (g: Geometry) => `${g.batches}x${g.inH}x${g.inW} -> ${g.outH}x${g.outW}, filter ${g.filterH}x${g.filterW}, stride ${g.strideH},${g.strideW}, dilation ${g.dilationH},${g.dilationW}, pad ${g.padTop},${g.padLeft}`;

test('softmax_cross_entropy_f32 equals the reference', () => {
  const cases: Case[] = [];
  for (let k = 0; k < 300; k++) {
    const classes = pick([1, 2, 10, 12, 100, random.int(1, 40)]);
    // Scales from "all logits alike" to "exp underflows to 0 for most classes".
    const p = { classes, scale: pick([f32(1 / 256), scale(), f32(0.1 + random.next()), f32(2)]), zeroPoint: random.int(-128, 127) };
    cases.push({
      kernel: 'softmax_cross_entropy_f32',
      what: `${classes} classes, scale ${p.scale}`,
      buffers: [int8s(classes), Int32Array.of(random.int(0, classes - 1)), garbage(1), garbage(classes)],
      ints: [classes, floatBits(p.scale), p.zeroPoint],
      reference: ([logits, label, loss, grad]) => softmaxCrossEntropy.evaluate(p, [logits!, label!], [loss!, grad!]),
    });
  }
  check(cases);
});

test('mask_s8, apply_mask_f32, slice_channels_s8, add_f32 equal the reference', () => {
  const cases: Case[] = [];
  for (let k = 0; k < 200; k++) {
    const n = random.int(1, 70);
    const lo = pick([-128, random.int(-128, 0)]);
    const hi = pick([127, random.int(0, 127)]);
    const maskBytes = Math.ceil(n / 8);
    cases.push({
      kernel: 'mask_s8', what: `${n} elements in (${lo}, ${hi})`,
      buffers: [int8s(n), Uint8Array.from({ length: maskBytes }, () => random.int(0, 255))], ints: [n, lo, hi],
      reference: ([y, mask]) => saveMask.evaluate({ lo, hi, count: n }, [y!], [mask!]),
    });
    cases.push({
      kernel: 'apply_mask_f32', what: `${n} elements`,
      buffers: [gradients(n), Uint8Array.from({ length: maskBytes }, () => random.int(0, 255)), garbage(n)], ints: [n],
      reference: ([dy, mask, out]) => applyMask.evaluate({ count: n }, [dy!, mask!], [out!]),
    });
    // In place (the planner's choice for it), whole bytes of ones and zeros among the others.
    cases.push({
      kernel: 'apply_mask_f32', what: `${n} elements in place`,
      buffers: [gradients(n), Uint8Array.from({ length: maskBytes }, () => pick([0, 255, random.int(0, 255)])), new Float32Array(0)], ints: [n],
      aliases: new Map([[2, 0]]),
      reference: ([dy, mask]) => applyMask.evaluate({ count: n }, [dy!, mask!], [dy!]),
    });
    const pixels = random.int(1, 20);
    const channels = random.int(1, 12);
    const keep = random.int(1, channels);
    cases.push({
      kernel: 'slice_channels_s8', what: `${pixels} pixels, ${keep} of ${channels} channels`,
      buffers: [int8s(pixels * channels), int8s(pixels * keep)], ints: [pixels, channels, keep],
      reference: ([x, out]) => sliceChannels.evaluate({ pixels, channels, keep }, [x!], [out!]),
    });
    cases.push({
      kernel: 'add_f32', what: `${n} elements`,
      buffers: [gradients(n), gradients(n), garbage(n)], ints: [n],
      reference: ([a, b, out]) => addGradients.evaluate({ count: n }, [a!, b!], [out!]),
    });
  }
  check(cases);
});

test('conv2d_backprop_input_f32 and depthwise_conv2d_backprop_input_f32 equal the reference', () => {
  const cases: Case[] = [];
  for (let k = 0; k < 200; k++) {
    const g = geometry(k % 5 === 0);
    const inC = random.int(1, 9);
    const outC = random.int(1, 9);
    // Every other case has weights split at `keep` (a trained head and a frozen tail), else keep = inC and no tail.
    const keep = inC > 1 && k % 2 === 1 ? random.int(1, inC - 1) : inC;
    const p = { ...g, inC, outC, keep, weightScales: Array.from({ length: outC }, scale) };
    const dyCount = g.batches * g.outH * g.outW * outC;
    const rows = outC * g.filterH * g.filterW;
    cases.push({
      kernel: 'conv2d_backprop_input_f32', what: `${describe(g)}, ${inC} -> ${outC} channels, ${keep} in the head`,
      buffers: [gradients(dyCount), int8s(rows * keep, -127, 127), int8s(rows * (inC - keep), -127, 127), Float32Array.from(p.weightScales), garbage(g.batches * g.inH * g.inW * inC)],
      ints: [g.batches, g.inH, g.inW, inC, g.outH, g.outW, outC, ...windowInts(g), keep],
      reference: ([dy, w, tail, , dx]) => conv2dBackpropInput.evaluate(p, [dy!, w!, keep < inC ? tail! : null], [dx!]),
    });
    cases.push(...depthwiseCases(g, `${describe(g)}`));
  }
  // Wider layers, from a generator of their own (the later tests keep their data): the 1x1 gathering loop works in
  // blocks of four pixels by four input channels over tables of sixteen output channels, leaving out the ones zero at
  // all four pixels, and the depthwise loop in groups of four live channels; ReLU masks zero whole channels.
  const wide = new Random(0x5eed);
  // Output gradients as a ReLU mask leaves them: a share of the channels (none to all) zero at every pixel, scattered
  // zeros of either sign in the others.
  const masked = (pixels: number, channels: number): Float32Array => {
    const share = [0, 0.3, 0.7, 1][wide.int(0, 3)]!;
    const dead = Array.from({ length: channels }, () => wide.next() < share);
    return Float32Array.from({ length: pixels * channels }, (_, i) => {
      if (dead[i % channels] || wide.next() < 0.2) return wide.next() < 0.5 ? 0 : -0;
      return (wide.next() - 0.5) * 2 ** wide.int(-12, 4);
    });
  };
  const junk = (n: number) => Float32Array.from({ length: n }, () => wide.next() * 1e6 - 5e5);
  const scales = (n: number) => Array.from({ length: n }, () => f32(2 ** (-12 + wide.next() * 10)));
  for (let k = 0; k < 60; k++) {
    const [h, w] = [wide.int(1, 5), wide.int(1, 5)];
    const g: Geometry = k % 4 === 3
      ? { batches: wide.int(1, 2), inH: h, inW: w, outH: h, outW: w, filterH: 3, filterW: 3, strideH: 1, strideW: 1, dilationH: 1, dilationW: 1, padTop: 1, padLeft: 1 }
      : { batches: wide.int(1, 3), inH: h, inW: w, outH: h, outW: w, filterH: 1, filterW: 1, strideH: 1, strideW: 1, dilationH: 1, dilationW: 1, padTop: 0, padLeft: 0 };
    const pixels = g.batches * h * w;
    const inC = wide.int(1, 40);
    const outC = wide.int(1, 70);
    const keep = inC > 1 && k % 2 === 1 ? wide.int(1, inC - 1) : inC;
    const p = { ...g, inC, outC, keep, weightScales: scales(outC) };
    const rows = outC * g.filterH * g.filterW;
    cases.push({
      kernel: 'conv2d_backprop_input_f32', what: `wide: ${describe(g)}, ${inC} -> ${outC} channels, ${keep} in the head`,
      buffers: [masked(pixels, outC), wide.int8Array(rows * keep, -127, 127), wide.int8Array(rows * (inC - keep), -127, 127), Float32Array.from(p.weightScales), junk(pixels * inC)],
      ints: [g.batches, h, w, inC, h, w, outC, ...windowInts(g), keep],
      reference: ([dy, wt, tail, , dx]) => conv2dBackpropInput.evaluate(p, [dy!, wt!, keep < inC ? tail! : null], [dx!]),
    });
  }
  for (let k = 0; k < 60; k++) {
    const filterH = wide.int(1, 7);
    const filterW = wide.int(1, 7);
    const strideH = wide.int(1, 2);
    const strideW = wide.int(1, 2);
    const inH = wide.int(1, 8);
    const inW = wide.int(1, 8);
    const padTop = wide.int(0, filterH - 1);
    const padLeft = wide.int(0, filterW - 1);
    const outH = Math.max(1, Math.floor((inH + padTop + wide.int(0, filterH - 1) - filterH) / strideH) + 1);
    const outW = Math.max(1, Math.floor((inW + padLeft + wide.int(0, filterW - 1) - filterW) / strideW) + 1);
    const g: Geometry = { batches: wide.int(1, 2), inH, inW, outH, outW, filterH, filterW, strideH, strideW, dilationH: 1, dilationW: 1, padTop, padLeft };
    const c = wide.int(1, 40);
    const dp = { ...g, inC: c, outC: c, weightScales: scales(c) };
    const dy = masked(g.batches * outH * outW, c);
    const wt = wide.int8Array(filterH * filterW * c, -127, 127);
    const ring = Math.min(filterH, inH) * inW * c;
    const ints = [g.batches, inH, inW, c, outH, outW, ...windowInts(g)];
    for (const scratch of [0, ring]) {
      cases.push({
        kernel: 'depthwise_conv2d_backprop_input_f32', what: `wide: ${describe(g)}, ${c} channels, ${scratch > 0 ? 'scratch ring' : 'no scratch'}`,
        buffers: [dy, wt, Float32Array.from(dp.weightScales), junk(g.batches * inH * inW * c), junk(scratch)], ints, scratch: 4,
        reference: ([d, wd, , dx]) => depthwiseConv2dBackpropInput.evaluate(dp, [d!, wd!], [dx!]),
      });
    }
  }
  check(cases);
});

/**
 * The depthwise input gradient three ways: without scratch (dx accumulates in place), with its scratch ring into a dx
 * of its own, and, where the op may run in place (stride 1, equal shapes), with dx passed as dy's own buffer.
 */
function depthwiseCases(g: Geometry, what: string): Case[] {
  const c = random.int(1, 9);
  const dp = { ...g, inC: c, outC: c, weightScales: Array.from({ length: c }, scale) };
  const dy = gradients(g.batches * g.outH * g.outW * c);
  const w = int8s(g.filterH * g.filterW * c, -127, 127);
  const ring = Math.min((g.filterH - 1) * g.dilationH + 1, g.inH) * g.inW * c;
  const ints = [g.batches, g.inH, g.inW, c, g.outH, g.outW, ...windowInts(g)];
  const separate = (scratch: number): Case => ({
    kernel: 'depthwise_conv2d_backprop_input_f32', what: `${what}, ${c} channels, ${scratch > 0 ? 'scratch ring' : 'no scratch'}`,
    buffers: [dy, w, Float32Array.from(dp.weightScales), garbage(g.batches * g.inH * g.inW * c), garbage(scratch)], ints, scratch: 4,
    reference: ([d, wt, , dx]) => depthwiseConv2dBackpropInput.evaluate(dp, [d!, wt!], [dx!]),
  });
  const cases = [separate(0), separate(ring)];
  if (g.strideH === 1 && g.inH === g.outH && g.inW === g.outW) {
    cases.push({
      kernel: 'depthwise_conv2d_backprop_input_f32', what: `${what}, ${c} channels, dx over dy`,
      buffers: [dy, w, Float32Array.from(dp.weightScales), new Float32Array(0), garbage(ring)], ints, aliases: new Map([[3, 0]]), scratch: 4,
      reference: ([d, wt]) => {
        const dx = new Float32Array(d!.length);
        depthwiseConv2dBackpropInput.evaluate(dp, [d!.slice(), wt!], [dx]);
        (d as Float32Array).set(dx);
      },
    });
  }
  return cases;
}

test('depthwise_conv2d_backprop_input_f32 writes dx over dy (stride 1, equal shapes) as the reference computes it', () => {
  const cases: Case[] = [];
  for (let k = 0; k < 200; k++) {
    const filterH = random.int(1, 7);
    const filterW = random.int(1, 7);
    const dilationH = random.int(1, 3);
    const dilationW = random.int(1, 3);
    const padTop = random.int(0, dilationH * (filterH - 1));
    const padLeft = random.int(0, dilationW * (filterW - 1));
    const inH = random.int(1, 9);
    const inW = random.int(1, 9);
    // Equal shapes: the other side's padding makes up the window; 'same' padding is the balanced case.
    const g: Geometry = { batches: random.int(1, 2), inH, inW, outH: inH, outW: inW, filterH, filterW, strideH: 1, strideW: 1, dilationH, dilationW, padTop, padLeft };
    cases.push(...depthwiseCases(g, describe(g)));
  }
  // Wider channel counts and ReLU-masked gradients (groups of four live channels), from a generator of their own (the
  // later tests keep their data): a share of the channels zero at every pixel, scattered zeros in the others.
  const wide = new Random(0xd1ce);
  const masked = (pixels: number, channels: number): Float32Array => {
    const share = [0, 0.3, 0.7, 1][wide.int(0, 3)]!;
    const dead = Array.from({ length: channels }, () => wide.next() < share);
    return Float32Array.from({ length: pixels * channels }, (_, i) => {
      if (dead[i % channels] || wide.next() < 0.2) return wide.next() < 0.5 ? 0 : -0;
      return (wide.next() - 0.5) * 2 ** wide.int(-12, 4);
    });
  };
  for (let k = 0; k < 40; k++) {
    const filterH = wide.int(1, 7);
    const filterW = wide.int(1, 7);
    const dilationH = wide.int(1, 2);
    const dilationW = wide.int(1, 2);
    const inH = wide.int(1, 9);
    const inW = wide.int(1, 9);
    const g: Geometry = { batches: wide.int(1, 2), inH, inW, outH: inH, outW: inW, filterH, filterW, strideH: 1, strideW: 1, dilationH, dilationW, padTop: wide.int(0, dilationH * (filterH - 1)), padLeft: wide.int(0, dilationW * (filterW - 1)) };
    const c = wide.int(1, 40);
    const dp = { ...g, inC: c, outC: c, weightScales: Array.from({ length: c }, () => f32(2 ** (-12 + wide.next() * 10))) };
    const dy = masked(g.batches * inH * inW, c);
    const wt = wide.int8Array(filterH * filterW * c, -127, 127);
    const ring = Math.min((filterH - 1) * dilationH + 1, inH) * inW * c;
    cases.push({
      kernel: 'depthwise_conv2d_backprop_input_f32', what: `wide: ${describe(g)}, ${c} channels, dx over dy`,
      buffers: [dy, wt, Float32Array.from(dp.weightScales), new Float32Array(0), Float32Array.from({ length: ring }, () => wide.next() * 1e6 - 5e5)], ints: [g.batches, inH, inW, c, inH, inW, ...windowInts(g)], aliases: new Map([[3, 0]]), scratch: 4,
      reference: ([d, wd]) => {
        const dx = new Float32Array(d!.length);
        depthwiseConv2dBackpropInput.evaluate(dp, [d!.slice(), wd!], [dx]);
        (d as Float32Array).set(dx);
      },
    });
  }
  check(cases);
});

test('average_pool2d_backprop_f32 equals the reference (pools and a whole-map mean)', () => {
  const cases: Case[] = [];
  for (let k = 0; k < 200; k++) {
    const channels = random.int(1, 9);
    const batches = random.int(1, 2);
    let p;
    if (k % 4 === 0) {
      const inH = random.int(1, 8);
      const inW = random.int(1, 8);
      p = { batches, inH, inW, channels, outH: 1, outW: 1, filterH: inH, filterW: inW, strideH: 1, strideW: 1, padTop: 0, padLeft: 0 };
    } else {
      const filterH = random.int(1, 3);
      const filterW = random.int(1, 3);
      const strideH = random.int(1, 3);
      const strideW = random.int(1, 3);
      const inH = random.int(filterH, 9);
      const inW = random.int(filterW, 9);
      const padTop = random.int(0, filterH - 1);
      const padLeft = random.int(0, filterW - 1);
      const outH = Math.floor((inH + 2 * padTop - filterH) / strideH) + 1;
      const outW = Math.floor((inW + 2 * padLeft - filterW) / strideW) + 1;
      p = { batches, inH, inW, channels, outH, outW, filterH, filterW, strideH, strideW, padTop, padLeft };
    }
    const q = p;
    cases.push({
      kernel: 'average_pool2d_backprop_f32', what: JSON.stringify(p),
      buffers: [gradients(batches * p.outH * p.outW * channels), garbage(batches * p.inH * p.inW * channels)],
      ints: [batches, p.inH, p.inW, channels, p.outH, p.outW, p.filterH, p.filterW, p.strideH, p.strideW, p.padTop, p.padLeft],
      reference: ([dy, dx]) => averagePool2dBackprop.evaluate(q, [dy!], [dx!]),
    });
  }
  check(cases);
});

test('max_pool2d_argmax_s8 and max_pool2d_backprop_f32 equal the reference (ties, overlapping windows, padding)', () => {
  const cases: Case[] = [];
  for (let k = 0; k < 200; k++) {
    const filterH = random.int(1, 4);
    const filterW = random.int(1, 4);
    const strideH = random.int(1, 3);
    const strideW = random.int(1, 3);
    const inH = random.int(1, 9);
    const inW = random.int(1, 9);
    // Padding up to filter - 1 keeps at least one tap of every window on the image (SAME and VALID do).
    const padTop = random.int(0, Math.min(filterH - 1, inH - 1));
    const padLeft = random.int(0, Math.min(filterW - 1, inW - 1));
    const outH = Math.floor((inH + padTop - 1) / strideH) + 1;
    const outW = Math.floor((inW + padLeft - 1) / strideW) + 1;
    const p = { batches: random.int(1, 2), inH, inW, channels: random.int(1, 6), outH, outW, filterH, filterW, strideH, strideW, padTop, padLeft };
    const ints = [p.batches, inH, inW, p.channels, outH, outW, filterH, filterW, strideH, strideW, padTop, padLeft];
    const outputs = p.batches * outH * outW * p.channels;
    // A narrow value range makes ties common: the first tap in window order must win in both.
    const x = int8s(p.batches * inH * inW * p.channels, k % 2 ? -3 : -128, k % 2 ? 3 : 127);
    cases.push({
      kernel: 'max_pool2d_argmax_s8', what: JSON.stringify(p),
      buffers: [x, new Uint8Array(outputs).fill(255)],
      ints,
      reference: ([input, argmax]) => maxPoolArgmax.evaluate(p, [input!], [argmax!]),
    });
    const argmax = new Uint8Array(outputs);
    maxPoolArgmax.evaluate(p, [x], [argmax]);
    cases.push({
      kernel: 'max_pool2d_backprop_f32', what: JSON.stringify(p),
      buffers: [gradients(outputs), argmax, garbage(p.batches * inH * inW * p.channels)],
      ints,
      reference: ([dy, a, dx]) => maxPool2dBackprop.evaluate(p, [dy!, a!], [dx!]),
    });
  }
  check(cases);
});

test('concatenation_backprop_f32 equals the reference (first, middle and last inputs)', () => {
  const cases: Case[] = [];
  for (let k = 0; k < 100; k++) {
    const outer = random.int(1, 6);
    const inner = random.int(1, 5);
    const [before, own, after] = [random.int(0, 3), random.int(1, 4), random.int(0, 3)];
    const p = { outer, dyRow: (before + own + after) * inner, dxRow: own * inner, start: before * inner };
    cases.push({
      kernel: 'concatenation_backprop_f32', what: JSON.stringify(p),
      buffers: [gradients(outer * p.dyRow), garbage(outer * p.dxRow)],
      ints: [p.outer, p.dyRow, p.dxRow, p.start],
      reference: ([dy, dx]) => concatenationBackprop.evaluate(p, [dy!], [dx!]),
    });
  }
  check(cases);
});

test('pad_backprop_f32 equals the reference (ranks 1 to 6, unpadded dimensions merged as the compiler does)', () => {
  const cases: Case[] = [];
  for (let k = 0; k < 200; k++) {
    const rank = random.int(1, 6);
    const inDims = Array.from({ length: rank }, () => random.int(1, rank > 4 ? 3 : 5));
    // Each dimension padded with probability 1/2, by up to 2 before and after.
    const padded = inDims.map(() => random.next() < 0.5);
    const before = padded.map((p) => (p ? random.int(0, 2) : 0));
    const outDims = inDims.map((d, i) => d + before[i]! + (padded[i] ? random.int(0, 2) : 0));
    const dims = { outDims, inDims, before };
    const merged = mergePadDims(dims);
    cases.push({
      kernel: 'pad_backprop_f32', what: JSON.stringify(dims),
      buffers: [gradients(outDims.reduce((a, b) => a * b, 1)), garbage(inDims.reduce((a, b) => a * b, 1)),
        Int32Array.from(merged.outDims), Int32Array.from(merged.inDims), Int32Array.from(merged.before)],
      ints: [merged.outDims.length],
      reference: ([dy, dx]) => padBackprop.evaluate(dims, [dy!], [dx!]),
    });
  }
  check(cases);
});

test('bias_update_f32 equals the reference (rounding ties, saturation)', () => {
  const cases: Case[] = [];
  for (let k = 0; k < 300; k++) {
    const channels = random.int(1, 12);
    const pixels = pick([1, random.int(1, 30)]);
    const invScale = Array.from({ length: channels }, () => f32(1 / (scale() * scale())));
    const bias = Int32Array.from({ length: channels }, () => pick([random.int(-1000, 1000), random.int(-(2 ** 31), 2 ** 31 - 1), 2 ** 31 - 1, -(2 ** 31)]));
    // Gradients of halves, with lr 1 and inv_scale 1, make exact ties; huge rates saturate.
    const ties = k % 5 === 0;
    const dy = ties ? Float32Array.from({ length: pixels * channels }, () => random.int(-9, 9) / 2) : gradients(pixels * channels);
    const lr = ties ? 1 : pick([f32(0.01), f32(0.1), f32(1e6), f32(1e30)]);
    const inv = ties ? invScale.map(() => 1) : invScale;
    cases.push({
      kernel: 'bias_update_f32', what: `${pixels} pixels x ${channels} channels, lr ${lr}`,
      buffers: [dy, bias, Float32Array.from(inv), Float32Array.of(lr)], ints: [pixels, channels],
      reference: ([d, b, , l]) => biasUpdate.evaluate({ pixels, channels, invScale: inv }, [d!, b!, l!], []),
    });
  }
  check(cases);
});

test('folded_bias_update_f32 equals the reference (limits)', () => {
  const cases: Case[] = [];
  for (let k = 0; k < 200; k++) {
    const channels = random.int(1, 12);
    const pixels = random.int(1, 30);
    const invScale = Array.from({ length: channels }, () => f32(1 / (scale() * scale())));
    const limit = Array.from({ length: channels }, () => pick([random.int(1000, 2 ** 31 - 1), 2 ** 31 - 1, random.int(0, 100)]));
    const offsetSum = limit.map((l) => random.int(-Math.min(2 ** 31 - 1 - l, 2 ** 20), Math.min(2 ** 31 - 1 - l, 2 ** 20)));
    const folded = Int32Array.from(limit, (l, c) => random.int(-l, l) + offsetSum[c]!);
    const lr = pick([f32(0.01), f32(0.1), f32(1e6), f32(1e30)]);
    cases.push({
      kernel: 'folded_bias_update_f32', what: `${pixels} pixels x ${channels} channels, lr ${lr}`,
      buffers: [gradients(pixels * channels), folded, Float32Array.from(invScale), Int32Array.from(offsetSum), Int32Array.from(limit), Float32Array.of(lr)],
      ints: [pixels, channels],
      reference: ([d, f, , , , l]) => foldedBiasUpdate.evaluate({ pixels, channels, invScale, offsetSum, limit }, [d!, f!, l!], []),
    });
  }
  check(cases);
});

test('conv2d_weight_update_f32 and depthwise_conv2d_weight_update_f32 equal the reference (RNG state included)', () => {
  const cases: Case[] = [];
  for (let k = 0; k < 200; k++) {
    // k % 5 === 1: a 1x1 stride-1 layer, whose kernel sums four output channels at once (partial blocks included).
    const g = k % 5 === 1 ? pointwiseGeometry() : geometry(k % 5 === 0);
    const inC = random.int(1, 11);
    const outC = random.int(1, k % 5 <= 1 ? 10 : 6);
    const keep = random.int(1, inC);
    const sliced = random.next() < 0.5;
    const savedChannels = sliced ? keep : inC;
    const inputScale = scale();
    const inputZeroPoint = random.int(-128, 127);
    // lr such that steps run from a fraction of a weight step (stochastic rounding matters) to past the int8 limits.
    const lr = f32(pick([1e-4, 1e-3, 1e-2, 1, 100]));
    const p = {
      ...g, inC, outC, savedChannels, keep, inputScale, inputZeroPoint,
      invWeightScale: Array.from({ length: outC }, () => f32(1 / scale())),
    };
    const rng = Int32Array.of(random.int(1, 2 ** 31 - 1) * pick([1, -1]));
    // Every other 1x1 layer dequantizes through its table of codes, as the compiler has it do at the memory peak.
    const byTable = k % 10 === 1;
    const pixels = g.batches * g.inH * g.inW;
    cases.push({
      kernel: 'conv2d_weight_update_f32', what: `${describe(g)}, ${keep} of ${inC} (saved ${savedChannels}) -> ${outC} channels, lr ${lr}${byTable ? ', by table' : ''}`,
      // 1x1 layers: mostly zero gradients, as behind an output mask, so whole pixels of four rows are skipped too.
      buffers: [gradients(g.batches * g.outH * g.outW * outC, k % 5 === 1 ? 0.7 : 0.2), int8s(pixels * savedChannels), int8s(outC * g.filterH * g.filterW * inC, -127, 127), Float32Array.from(p.invWeightScale), Float32Array.of(lr), rng,
        new Float32Array(byTable ? 256 + pixels * 4 + 3 * keep : (pixels + 3) * keep).fill(NaN)],
      scratch: 6,
      ints: [g.batches, g.inH, g.inW, savedChannels, inC, g.outH, g.outW, outC, ...windowInts(g), inputZeroPoint, floatBits(inputScale), keep, byTable ? 1 : 0],
      reference: ([dy, x, w, , l, r]) => conv2dWeightUpdate.evaluate(p, [dy!, x!, w!, l!, r!], []),
    });
    const c = random.int(1, 9);
    const dkeep = random.int(1, c);
    const dsaved = random.next() < 0.5 ? dkeep : c;
    const dp = { ...p, inC: c, outC: c, keep: dkeep, savedChannels: dsaved, invWeightScale: Array.from({ length: c }, () => f32(1 / scale())) };
    cases.push({
      kernel: 'depthwise_conv2d_weight_update_f32', what: `${describe(g)}, ${dkeep} of ${c} (saved ${dsaved}) channels, lr ${lr}`,
      buffers: [gradients(g.batches * g.outH * g.outW * c), int8s(g.batches * g.inH * g.inW * dsaved), int8s(g.filterH * g.filterW * c, -127, 127), Float32Array.from(dp.invWeightScale), Float32Array.of(lr), Int32Array.of(random.int(1, 2 ** 31 - 1))],
      ints: [g.batches, g.inH, g.inW, dsaved, c, g.outH, g.outW, ...windowInts(g), inputZeroPoint, floatBits(inputScale), dkeep],
      reference: ([dy, x, w, , l, r]) => depthwiseConv2dWeightUpdate.evaluate(dp, [dy!, x!, w!, l!, r!], []),
    });
  }
  check(cases);
});

test('fold_bias_s8 equals the reference (conv rows, depthwise columns, saturation)', () => {
  const cases: Case[] = [];
  for (let k = 0; k < 300; k++) {
    const depthwise = k % 2 === 1;
    // 300k taps make sum|w| * max_input exceed 2^31: the limit goes negative, as the reference computes it.
    const huge = k % 25 === 0;
    const channels = huge ? random.int(1, 2) : random.int(1, 12);
    const taps = huge ? 300_000 : pick([1, 9, random.int(1, 40), 1000]);
    const inputOffset = random.int(-127, 128);
    const maxInput = pick([255, random.int(0, 255)]);
    // Conv rows split at `keep` (k % 4 === 0: a trained head and a frozen tail), else keep = taps and no tail.
    const keep = !depthwise && taps > 1 && k % 4 === 0 ? random.int(1, taps - 1) : taps;
    const p = { depthwise, inputOffset, maxInput, channels, taps, keep };
    const bias = Int32Array.from({ length: channels }, () => pick([random.int(-5000, 5000), random.int(-(2 ** 31), 2 ** 31 - 1), 2 ** 31 - 1, -(2 ** 31)]));
    // The frozen tail reaches the kernel as the compile-time sums FoldBias's prepare computes from it.
    const rest = taps - keep;
    const tail = int8s(channels * rest, -127, 127);
    const tailSums = (term: (v: number) => number) =>
      rest > 0 ? Int32Array.from({ length: channels }, (_, c) => tail.subarray(c * rest, (c + 1) * rest).reduce((s, v) => s + term(v), 0)) : new Int32Array(0);
    cases.push({
      kernel: 'fold_bias_s8', what: `${channels} channels x ${taps} taps (${keep} in the head), ${depthwise ? 'depthwise' : 'conv'}`,
      buffers: [int8s(channels * keep, -127, 127), tailSums((v) => v), tailSums(Math.abs), bias,
        depthwise ? Int32Array.from({ length: channels }, () => random.int(-9, 9)) : new Int32Array(0), Int32Array.from({ length: channels }, () => random.int(-9, 9))],
      ints: [channels, keep, depthwise ? 1 : 0, inputOffset, maxInput],
      reference: ([w, , , b, s, f]) => foldBias.evaluate(p, [w!, b!, rest > 0 ? tail : null], depthwise ? [f!, s!] : [f!]),
    });
  }
  check(cases);
});

for (const rounding of ROUNDINGS) {
  test(`split_conv1x1_s8 equals the reference (${rounding} rounding, activation clamps, saturating outputs)`, () => {
    const cases: Case[] = [];
    for (let k = 0; k < 200; k++) {
      const pixels = pick([1, random.int(1, 64)]);
      const inC = random.int(2, 60);
      const keep = random.int(1, inC - 1);
      const outC = random.int(1, 12);
      // Real multipliers from tiny to above 1: every shift and the saturation at both int8 ends.
      const quantized = Array.from({ length: outC }, () => channelMultiplier(2 ** (-16 + random.next() * 17), rounding));
      const outputOffset = random.int(-128, 127);
      const [actMin, actMax] = pick([[-128, 127], [outputOffset, 127], [random.int(-128, 0), random.int(0, 127)]]);
      const p = {
        pixels, inC, outC, keep, multipliers: quantized.map((q) => q.multiplier), shifts: quantized.map((q) => q.shift),
        outputOffset, actMin: actMin!, actMax: actMax!, rounding,
      };
      cases.push({
        kernel: 'split_conv1x1_s8', what: `${pixels} pixels, ${keep} + ${inC - keep} -> ${outC} channels`,
        buffers: [int8s(pixels * inC), int8s(outC * keep, -127, 127), int8s(outC * (inC - keep), -127, 127),
          Int32Array.from({ length: outC }, () => random.int(-(2 ** 20), 2 ** 20)), int8s(pixels * outC), Int32Array.from(p.multipliers), Int32Array.from(p.shifts)],
        ints: [pixels, inC, outC, keep, outputOffset, actMin!, actMax!],
        reference: ([x, head, tail, folded, out]) => splitConv1x1.evaluate(p, [x!, head!, tail!, null, folded!], [out!]),
      });
    }
    check(cases, rounding);
  });
}

test.after(() => rmSync(workDir, { recursive: true, force: true }));

test.run();
