/**
 * The float32 arithmetic of training (compiler/ops/common/float32_math.ts) against runtime/c/tf_float32.h built with
 * the host cc (-ffp-contract=off, sanitizers): bit for bit on ~100k inputs (random floats in the ranges softmax and
 * the updates use, random bit patterns, special values). The fused multiply-add of the gradient sums, in TypeScript
 * and in the AssemblyScript runtime, against the C library's fmaf. And exp / log against Math.exp / Math.log: within
 * 1 ulp.
 */
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { spawnSync } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { expF32, f32, floatBits, floatFromBits, fmaF32, logF32, roundHalfEvenToInt32, uniformFromState, xorshift32 } from '../../compiler/ops/common/float32_math.ts';
import { Random } from '../../compiler/frontend/builder/random.ts';
import { REPO_ROOT } from '../helpers/shared.ts';

const HARNESS = `
#include <stdio.h>
#include <stdlib.h>
#include "tf_float32.h"

/* stdin: uint32 count, then count float bit patterns; stdout: per input exp, log, round, xorshift32, uniform bits and
 * the stochastic rounding of the input with the uniform draw of its bits. */
int main(void) {
  uint32_t n, i;
  uint32_t *in, *out;
  if (fread(&n, 4, 1, stdin) != 1) return 1;
  in = malloc((size_t)n * 4);
  out = malloc((size_t)n * 24);
  if (!in || !out || fread(in, 4, n, stdin) != n) return 1;
  for (i = 0; i < n; ++i) {
    const float x = tf_f32_from_bits((int32_t)in[i]);
    const uint32_t s = tf_xorshift32(in[i]);
    int32_t state = (int32_t)in[i];
    if (tf_next_draw(&state) != s || (uint32_t)state != s) return 2;
    out[i * 6 + 0] = (uint32_t)tf_f32_bits(tf_expf(x));
    out[i * 6 + 1] = (uint32_t)tf_f32_bits(tf_logf(x));
    out[i * 6 + 2] = (uint32_t)tf_round_half_even_to_int32(x);
    out[i * 6 + 3] = s;
    out[i * 6 + 4] = (uint32_t)tf_f32_bits(tf_uniform(s));
    out[i * 6 + 5] = (uint32_t)tf_stochastic_round_weight(x, s);
  }
  fwrite(out, 24, n, stdout);
  free(in);
  free(out);
  return 0;
}
`;

/* stdin: uint32 count, then count triples of float bit patterns a, b, c; stdout: tf_fmaf(a, b, c) of each. */
const FMA_HARNESS = `
#include <stdio.h>
#include <stdlib.h>
#include "tf_float32.h"

int main(void) {
  uint32_t n, i;
  uint32_t *in, *out;
  if (fread(&n, 4, 1, stdin) != 1) return 1;
  in = malloc((size_t)n * 12);
  out = malloc((size_t)n * 4);
  if (!in || !out || fread(in, 12, n, stdin) != n) return 1;
  for (i = 0; i < n; ++i) {
    const float a = tf_f32_from_bits((int32_t)in[3 * i]), b = tf_f32_from_bits((int32_t)in[3 * i + 1]);
    out[i] = (uint32_t)tf_f32_bits(tf_fmaf(a, b, tf_f32_from_bits((int32_t)in[3 * i + 2])));
  }
  fwrite(out, 4, n, stdout);
  free(in);
  free(out);
  return 0;
}
`;

/** Runs a harness, built with the host cc, on `count` records of 32-bit words. */
function runC(bits: Uint32Array, harness = HARNESS, count = bits.length): Uint32Array {
  const dir = mkdtempSync(join(tmpdir(), 'tf-f32-'));
  try {
    const source = join(dir, 'main.c');
    const exe = join(dir, 'main');
    writeFileSync(source, harness);
    const flags = ['-std=c99', '-O2', '-Wall', '-Wextra', '-Werror', '-ffp-contract=off', '-fsanitize=address,undefined', '-fno-sanitize-recover=all'];
    const cc = spawnSync('cc', [...flags, `-I${join(REPO_ROOT, 'runtime/c')}`, source, '-o', exe, '-lm'], { encoding: 'utf8' });
    assert.is(cc.status, 0, cc.stderr);
    const input = new Uint32Array(bits.length + 1);
    input[0] = count;
    input.set(bits, 1);
    const run = spawnSync(exe, [], { input: Buffer.from(input.buffer), maxBuffer: 64 * 1024 * 1024 });
    assert.is(run.status, 0, run.stderr?.toString());
    const out = run.stdout as Buffer;
    return new Uint32Array(out.buffer.slice(out.byteOffset, out.byteOffset + out.byteLength));
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

const random = new Random(5);
const F32_MIN_NORMAL = floatFromBits(0x00800000);
const EXP_UNDERFLOW = floatFromBits(0xc2aeac4f | 0);
const EXP_OVERFLOW = floatFromBits(0x42b17220);

function inputs(): Uint32Array {
  const values: number[] = [];
  const special = [
    0, -0, 1, -1, 0.5, -0.5, 1.5, 2.5, -2.5, 3.5, 126.5, -126.5, 127, -127, 126.99999, -126.99999, 127.5, -127.5,
    2 ** 23 + 1, -(2 ** 23) - 1, 2 ** 24, 2 ** 31, -(2 ** 31), 2 ** 31 - 128, -(2 ** 31) + 128, 2 ** 32,
    Infinity, -Infinity, NaN, F32_MIN_NORMAL, floatFromBits(1), floatFromBits(0x007fffff), floatFromBits(0x7f7fffff),
    Math.LN2, -Math.LN2, Math.LN2 / 2, -Math.LN2 / 2, 88.72283935546875, 88.7, -87.3, -103, -104,
  ];
  for (const v of special) values.push(v);
  for (const edge of [EXP_UNDERFLOW, EXP_OVERFLOW]) for (let d = -4; d <= 4; d++) values.push(floatFromBits(floatBits(edge) + d));
  const bits = new Uint32Array(100_000);
  let i = 0;
  for (const v of values) bits[i++] = floatBits(v) >>> 0;
  // Softmax arguments (x - max <= 0), the whole exp domain, updated weights near the int8 range, log of sums >= 1.
  for (let k = 0; k < 30_000; k++) bits[i++] = floatBits(-random.next() * 100) >>> 0;
  for (let k = 0; k < 20_000; k++) bits[i++] = floatBits(-110 + random.next() * 210) >>> 0;
  for (let k = 0; k < 15_000; k++) bits[i++] = floatBits(-130 + random.next() * 260) >>> 0;
  for (let k = 0; k < 10_000; k++) bits[i++] = floatBits(2 ** (random.next() * 20)) >>> 0;
  for (let k = 0; k < 5_000; k++) bits[i++] = floatBits(random.int(-200, 200) / 2) >>> 0;
  while (i < bits.length) bits[i++] = random.int(0, 0xffffffff);
  return bits;
}

/** The brief's stochastic rounding of an updated weight (items 8, 9), as the reference writes it into an Int8Array. */
function stochasticRound(v: number, u: number): number {
  const lo = Math.floor(v);
  const q = lo + (u < f32(v - lo) ? 1 : 0);
  return new Int8Array([Math.min(127, Math.max(-127, q))])[0]!;
}

function sameFloat(got: number, want: number): boolean {
  return (got !== got && want !== want) || floatBits(got) === floatBits(want);
}

test('float32 math: TypeScript equals tf_float32.h (host cc) bit for bit', () => {
  const bits = inputs();
  const c = runC(bits);
  assert.is(c.length, bits.length * 6);
  for (let i = 0; i < bits.length; i++) {
    const x = floatFromBits(bits[i]!);
    const at = `input 0x${bits[i]!.toString(16)} (${x})`;
    const e = expF32(x);
    if (!sameFloat(floatFromBits(c[i * 6]!), e)) assert.unreachable(`exp of ${at}: C 0x${c[i * 6]!.toString(16)}, TS 0x${(floatBits(e) >>> 0).toString(16)}`);
    const l = logF32(x);
    if (!sameFloat(floatFromBits(c[i * 6 + 1]!), l)) assert.unreachable(`log of ${at}: C 0x${c[i * 6 + 1]!.toString(16)}, TS 0x${(floatBits(l) >>> 0).toString(16)}`);
    if ((c[i * 6 + 2]! | 0) !== roundHalfEvenToInt32(x)) assert.unreachable(`round of ${at}: C ${c[i * 6 + 2]! | 0}, TS ${roundHalfEvenToInt32(x)}`);
    const s = xorshift32(bits[i]!);
    if (c[i * 6 + 3] !== s) assert.unreachable(`xorshift32 of ${at}`);
    if (c[i * 6 + 4] !== floatBits(uniformFromState(s)) >>> 0) assert.unreachable(`uniform of ${at}`);
    if ((c[i * 6 + 5]! | 0) !== stochasticRound(x, uniformFromState(s))) assert.unreachable(`stochastic rounding of ${at}: C ${c[i * 6 + 5]! | 0}`);
  }
});

/**
 * runtime/as/float32_math.ts's tf_fmaf on the triples (a, b, c) of `abc`, built by the AssemblyScript compiler into a
 * probe module of its own: the entry file is given to the compiler from memory, next to the runtime's sources.
 */
async function fmaAssemblyScript(abc: Float32Array): Promise<Float32Array> {
  const { default: asc } = await import('assemblyscript/asc');
  const entry = 'runtime/as/fma_probe.ts';
  const probe = `import { tf_fmaf } from './float32_math';
export function fma_all(at: usize, n: i32): void {
  for (let i = 0; i < n; ++i, at += 16) store<f32>(at + 12, tf_fmaf(load<f32>(at), load<f32>(at + 4), load<f32>(at + 8)));
}
`;
  let wasm: Uint8Array | undefined;
  const diagnostics: string[] = [];
  const sink = { write: (chunk: string | Uint8Array) => diagnostics.push(String(chunk)) };
  const result = await asc.main([entry, '--baseDir', REPO_ROOT, '--outFile', 'probe.wasm', '-O3', '--runtime', 'stub', '--initialMemory', '64'], {
    readFile: (name: string, baseDir: string) => {
      const path = join(baseDir, name);
      if (path === join(REPO_ROOT, entry)) return probe;
      if (path === join(REPO_ROOT, 'asconfig.json')) return '{}';
      return existsSync(path) ? readFileSync(path, 'utf8') : null;
    },
    writeFile: (_name: string, contents: Uint8Array | string) => {
      if (typeof contents !== 'string') wasm = contents;
    },
    listFiles: () => [],
    stdout: sink,
    stderr: sink,
  });
  assert.ok(!result.error && wasm, `${result.error?.message}\n${diagnostics.join('')}`);
  const { exports } = new WebAssembly.Instance(new WebAssembly.Module(new Uint8Array(wasm!)), {});
  const memory = new Float32Array((exports['memory'] as WebAssembly.Memory).buffer);
  const n = abc.length / 3;
  const base = 1024;
  for (let i = 0; i < n; i++) memory.set(abc.subarray(3 * i, 3 * i + 3), base / 4 + 4 * i);
  (exports['fma_all'] as (at: number, n: number) => void)(base, n);
  return Float32Array.from({ length: n }, (_, i) => memory[base / 4 + 4 * i + 3]!);
}

/**
 * Triples for the fused multiply-add: random values of every magnitude and random bit patterns, and three families
 * of ties, where a * b + c rounded to a double lands exactly halfway between two floats while the exact value does not
 * (the double sum's error must decide): a * b = ±(1 ± 2^-u)(1 ∓ 2^-u) h away from a float c whose half ulp is h, the
 * same with c subnormal (h = 2^-150), and a * b = (1 + i 2^-12)(1 + j 2^-12), often a tie itself, plus a c far below
 * its double ulp.
 */
function fmaInputs(): Float32Array {
  const abc = new Float32Array(3 * 70_000);
  let at = 0;
  const push = (a: number, b: number, c: number) => abc.set([a, b, c], (at++) * 3);
  const sign = () => (random.next() < 0.5 ? -1 : 1);
  for (const v of [[0, 0, 0], [-0, 0, -0], [-0, 1, -0], [1, -0, 0], [Infinity, 0, 1], [Infinity, 1, -Infinity], [NaN, 1, 2], [2 ** 127, 4, -(2 ** 127)], [2 ** 100, 2 ** 100, 0], [2 ** -100, 2 ** -60, 0]]) push(v[0]!, v[1]!, v[2]!);
  for (let k = 0; k < 10_000; k++) {
    const e = random.int(-120, 120);
    const c = sign() * f32((1 + random.next()) * 2 ** e);
    const u = random.int(15, 23);
    const h = 2 ** (Math.floor(Math.log2(Math.abs(c))) - 24);
    const s = sign();
    push(sign() * (1 + s * 2 ** -u), f32(sign() * h * (1 - s * 2 ** -u)), c);
  }
  for (let k = 0; k < 10_000; k++) {
    const u = random.int(15, 23);
    push(sign() * (1 + 2 ** -u) * 2 ** -75, sign() * (1 - 2 ** -u) * 2 ** -75, sign() * random.int(1, 2 ** 23 - 1) * 2 ** -149);
  }
  for (let k = 0; k < 10_000; k++) {
    const scale = 2 ** random.int(-60, 60);
    push(sign() * (1 + random.int(1, 4095) * 2 ** -12) * scale, sign() * (1 + random.int(1, 4095) * 2 ** -12), sign() * scale * 2 ** random.int(-80, -30));
  }
  for (let k = 0; k < 20_000; k++) push(f32(sign() * random.next() * 2 ** random.int(-30, 10)), f32(sign() * random.next() * 2 ** random.int(-30, 10)), f32(sign() * random.next() * 2 ** random.int(-40, 20)));
  const words = new Uint32Array(abc.buffer);
  while (at * 3 < abc.length) {
    for (let j = 0; j < 3; j++) words[at * 3 + j] = random.int(0, 0xffffffff);
    at++;
  }
  return abc;
}

test('float32 fused multiply-add: TypeScript and the AssemblyScript runtime equal the C library\'s fmaf bit for bit, ties included', async () => {
  const abc = fmaInputs();
  const n = abc.length / 3;
  const c = runC(new Uint32Array(abc.buffer), FMA_HARNESS, n);
  const as = await fmaAssemblyScript(abc);
  let ties = 0;
  for (let i = 0; i < n; i++) {
    const [a, b, z] = [abc[3 * i]!, abc[3 * i + 1]!, abc[3 * i + 2]!];
    const want = floatFromBits(c[i]!);
    const at = `fma(${a}, ${b}, ${z}) = C ${want}`;
    if (!sameFloat(fmaF32(a, b, z), want)) assert.unreachable(`${at}, TS ${fmaF32(a, b, z)}`);
    if (!sameFloat(as[i]!, want)) assert.unreachable(`${at}, AS ${as[i]}`);
    if (!sameFloat(f32(a * b + z), want)) ties++;
  }
  assert.ok(ties > 1000, `${ties} triples where rounding the double sum is not the fused result`);
});

test('float32 math: exp and log are within 1 ulp of Math.exp and Math.log', () => {
  const ulp = (v: number) => floatFromBits(floatBits(v) + 1) - v;
  for (let i = 0; i < 300_000; i++) {
    const x = f32(EXP_UNDERFLOW + random.next() * (EXP_OVERFLOW - 1 - EXP_UNDERFLOW));
    const exact = Math.exp(x);
    const err = Math.abs(expF32(x) - exact) / ulp(Math.abs(f32(exact)));
    if (!(err <= 1)) assert.unreachable(`exp(${x}) = ${expF32(x)}, exact ${exact}: ${err} ulp`);
    const y = floatFromBits(random.int(1, 0x7f7fffff));
    const ln = Math.log(y);
    const lerr = Math.abs(logF32(y) - ln) / ulp(Math.abs(f32(ln)));
    if (!(lerr <= 1)) assert.unreachable(`log(${y}) = ${logF32(y)}, exact ${ln}: ${lerr} ulp`);
  }
  assert.is(expF32(0), 1);
  assert.is(logF32(1), 0);
  assert.is(expF32(f32(EXP_UNDERFLOW - 1)), 0);
  assert.is(expF32(89), Infinity);
  assert.is(logF32(0), -Infinity);
  assert.ok(Number.isNaN(logF32(-1)));
});

test('float32 math: rounding and the generator', () => {
  assert.equal([0.5, 1.5, 2.5, -0.5, -1.5, -2.5, 2.4999998, -2.5000002].map(roundHalfEvenToInt32), [0, 2, 2, 0, -2, -2, 2, -3]);
  assert.equal([NaN, Infinity, -Infinity, 2 ** 31, -(2 ** 31), 3e9].map(roundHalfEvenToInt32), [0, 2147483647, -2147483648, 2147483647, -2147483648, 2147483647]);
  assert.is(xorshift32(1), 270369);
  assert.is(uniformFromState(0xffffffff), f32(1 - 2 ** -24));
  assert.is(uniformFromState(0xff), 0);
});

test.run();
