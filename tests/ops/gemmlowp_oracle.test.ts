/**
 * LOGISTIC, TANH, HARD_SWISH and SOFTMAX against fixtures/tflm_int8_activations.cc (TFLM's int8 kernels on the
 * real gemmlowp header) live, on thousands of seeded random quantizations and rows; a wider net than the
 * recorded golden tables. Needs g++ and the Debian package libgemmlowp-dev (scripts/setup installs both); fails loudly without them.
 */
import { execFileSync } from 'node:child_process';
import { existsSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { Random } from '../../compiler/frontend/builder/random.ts';
import { UnsupportedError } from '../../compiler/errors.ts';
import { softmax, softmaxExpTable, softmaxQuant, softmaxRowTflm } from '../../compiler/ops/softmax.ts';
import { sweep } from './elementwise_harness.ts';

const GEMMLOWP = '/usr/include/gemmlowp/fixedpoint/fixedpoint.h';
const SOURCE = new URL('./fixtures/tflm_int8_activations.cc', import.meta.url);
if (!existsSync(GEMMLOWP)) throw new Error(`gemmlowp_oracle.test.ts needs ${GEMMLOWP}: apt-get install libgemmlowp-dev (scripts/setup installs it)`);

const bits = (x: number): string => new Uint32Array(new Float32Array([x]).buffer)[0]!.toString(16);

interface Case {
  readonly line: string;
  /** tinyforge's answer, in the oracle's format. */
  readonly ours: () => string;
}

function cases(): Case[] {
  const random = new Random(4242);
  const out: Case[] = [];
  const table = (f: () => Int8Array): string => Array.from(f()).join(' ');
  for (let i = 0; i < 250; i++) {
    const scale = Math.fround(2 ** (-14 + random.next() * 19));
    const zeroPoint = random.int(-128, 127);
    const input = { scale, zeroPoint };
    out.push({ line: `logistic ${bits(scale)} ${zeroPoint}`, ours: () => table(() => sweep('Logistic', {}, input, { scale: 1 / 256, zeroPoint: -128 })) });
    out.push({ line: `tanh ${bits(scale)} ${zeroPoint}`, ours: () => table(() => sweep('Tanh', {}, input, { scale: 1 / 128, zeroPoint: 0 })) });
  }
  for (let i = 0; i < 400; i++) {
    const si = Math.fround(2 ** (-14 + random.next() * 19));
    const so = Math.fround(si * 2 ** (-9 + random.next() * 28));
    const input = { scale: si, zeroPoint: random.int(-128, 127) };
    const output = { scale: so, zeroPoint: random.int(-128, 127) };
    out.push({
      line: `hardswish ${bits(si)} ${input.zeroPoint} ${bits(so)} ${output.zeroPoint}`,
      ours: () => {
        try {
          return table(() => sweep('HardSwish', {}, input, output));
        } catch (e) {
          if (e instanceof UnsupportedError) return 'REFUSED';
          throw e;
        }
      },
    });
  }
  for (let i = 0; i < 2500; i++) {
    const beta = Math.fround(2 ** (-5 + random.next() * 7));
    const scale = Math.fround(2 ** (-11 + random.next() * 13));
    const n = random.int(1, i % 100 === 0 ? 800 : 48);
    const hi = random.int(-128, 127);
    const lo = random.int(-128, hi);
    const row = Int8Array.from({ length: n }, () => (random.next() < 0.25 ? hi : random.int(lo, hi)));
    out.push({
      line: `softmax ${bits(beta)} ${bits(scale)} ${n} ${row.join(' ')}`,
      ours: () => {
        const q = softmaxQuant(beta, scale);
        if (!q) return 'REFUSED';
        let direct: Int8Array;
        try {
          direct = softmaxRowTflm(row, q);
        } catch {
          return 'REFUSED';
        }
        const y = new Int8Array(n);
        softmax.evaluate({ outer: 1, depth: n, expTable: softmaxExpTable(q) }, [row], [y]);
        return y.join(' ') === direct.join(' ') ? direct.join(' ') : `table form ${y.join(' ')} != direct ${direct.join(' ')}`;
      },
    });
  }
  return out;
}

test('activations: tinyforge equals TFLM on the real gemmlowp for 3,400 random cases', () => {
  const dir = mkdtempSync(join(tmpdir(), 'tinyforge-oracle-'));
  try {
    const exe = join(dir, 'oracle');
    execFileSync('g++', ['-O2', '-std=c++14', '-I/usr/include/gemmlowp', '-o', exe, SOURCE.pathname]);
    const all = cases();
    const answers = execFileSync(exe, { input: all.map((c) => c.line).join('\n') + '\n', maxBuffer: 1 << 28 }).toString().trimEnd().split('\n');
    assert.is(answers.length, all.length);
    all.forEach((c, i) => {
      const expected = answers[i]!.trim();
      const ours = c.ours().trim();
      if (ours !== expected) assert.unreachable(`${c.line.slice(0, 60)}...\n  TFLM       ${expected.slice(0, 400)}\n  tinyforge  ${ours.slice(0, 400)}`);
    });
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});

test.run();
