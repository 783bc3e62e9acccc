// Mutation fuzzing of readTflite: every corrupted file must either parse into a self-consistent model or
// throw TfliteFormatError, quickly. Parsed models must also survive writeTflite (or be refused with
// TfliteWriteError), so reader and writer validation agree.
import { readFileSync } from 'node:fs';
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { readTflite, type TfliteModel } from '../../compiler/frontend/tflite/reader.ts';
import { writeTflite } from '../../compiler/frontend/tflite/writer.ts';
import { TfliteFormatError, TfliteWriteError } from '../../compiler/frontend/tflite/errors.ts';
import { BUILTIN_OPERATOR_MAX, TENSOR_TYPE_MAX } from '../../compiler/frontend/tflite/schema.ts';

const MODELS = new URL('../../../shared/models/', import.meta.url);
const FILES = ['tflm/hello_world_int8.tflite', 'mlperf-tiny/kws_ref_model.tflite',
  'mlperf-tiny/pretrainedResnet_quant.tflite', 'mlperf-tiny/vww_96_int8.tflite'];
const CASES_PER_FILE = 600;
const SEED = 0x7f1c2e;

function mulberry32(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

/** Byte positions outside weight data: that is where the flatbuffer structure lives. */
function structuralPositions(bytes: Uint8Array): number[] {
  const inData = new Uint8Array(bytes.length);
  for (const d of readTflite(bytes).buffers) if (d) inData.fill(1, d.byteOffset - bytes.byteOffset, d.byteOffset - bytes.byteOffset + d.length);
  const out: number[] = [];
  for (let i = 0; i < bytes.length; i++) if (!inData[i]) out.push(i);
  return out;
}

function mutate(orig: Uint8Array, structural: number[], rnd: () => number): { bytes: Uint8Array; desc: string } {
  const int = (n: number): number => Math.floor(rnd() * n);
  const pos = (): number => (rnd() < 0.85 ? structural[int(structural.length)]! : int(orig.length));
  const kind = int(4);
  if (kind === 0) {
    const len = rnd() < 0.5 ? int(orig.length) : int(Math.min(orig.length, 4096));
    return { bytes: orig.slice(0, len), desc: `truncate to ${len}` };
  }
  const bytes = orig.slice();
  const dv = new DataView(bytes.buffer);
  const edits: string[] = [];
  const rounds = kind === 3 ? 2 + int(4) : 1 + int(3);
  for (let r = 0; r < rounds; r++) {
    if (kind === 1 || (kind === 3 && rnd() < 0.5)) {
      const p = pos();
      const v = rnd() < 0.5 ? bytes[p]! ^ (1 << int(8)) : int(256);
      bytes[p] = v;
      edits.push(`byte@${p}=${v}`);
    } else {
      const p = pos() & ~3;
      if (p + 4 > bytes.length) continue;
      const old = dv.getUint32(p, true);
      const choices = [0, 1, 0xffffffff, 0x7fffffff, 0x80000000, bytes.length, bytes.length - p, int(2 ** 32),
        int(64), old + 4, old - 4, old * 2, old + int(4096), 0x10000];
      const v = choices[int(choices.length)]! >>> 0;
      dv.setUint32(p, v, true);
      edits.push(`u32@${p}=0x${v.toString(16)}`);
    }
  }
  return { bytes, desc: edits.join(' ') };
}

/** What the importer relies on after a successful parse. */
function checkConsistent(m: TfliteModel): void {
  const n = m.tensors.length;
  assert.ok(m.subgraphCount >= 1);
  for (const i of [...m.inputs, ...m.outputs]) assert.ok(Number.isInteger(i) && i >= 0 && i < n);
  for (const t of m.tensors) {
    assert.ok(t.type >= 0 && t.type <= TENSOR_TYPE_MAX);
    assert.ok(t.shape.every((d) => Number.isInteger(d) && d >= 0));
    assert.ok(t.buffer >= 0 && t.buffer < m.buffers.length);
    if (t.quant) assert.is(t.quant.scale.length, t.quant.zeroPoint.length);
  }
  for (const op of m.operators) {
    assert.ok(op.opcode >= 0 && op.opcode <= BUILTIN_OPERATOR_MAX);
    for (const i of op.inputs) assert.ok(i >= -1 && i < n);
    for (const i of op.outputs) assert.ok(i >= 0 && i < n);
    for (const v of Object.values(op.options)) assert.ok(['number', 'boolean'].includes(typeof v) || Array.isArray(v));
  }
}

test(`fuzz: ${FILES.length * CASES_PER_FILE} mutated models parse or throw TfliteFormatError`, () => {
  const rnd = mulberry32(SEED);
  let parsed = 0;
  let rejected = 0;
  let rewritten = 0;
  let slowest = { ms: 0, what: '' };
  const t0 = performance.now();
  for (const file of FILES) {
    const orig = new Uint8Array(readFileSync(new URL(file, MODELS)));
    const structural = structuralPositions(orig);
    for (let c = 0; c < CASES_PER_FILE; c++) {
      const { bytes, desc } = mutate(orig, structural, rnd);
      const what = `${file} case ${c}: ${desc}`;
      const start = performance.now();
      let model: TfliteModel | null = null;
      try {
        model = readTflite(bytes);
      } catch (e) {
        if (!(e instanceof TfliteFormatError)) assert.unreachable(`${what}: threw ${(e as Error)?.stack ?? String(e)}`);
      }
      const ms = performance.now() - start;
      assert.ok(ms < 1000, `${what}: took ${ms.toFixed(0)} ms`);
      if (ms > slowest.ms) slowest = { ms, what };
      if (!model) {
        rejected++;
        continue;
      }
      parsed++;
      checkConsistent(model);
      // Writing is the slow part on the 333 KB model: check a sample there, everything elsewhere.
      if (bytes.length > 200_000 && c % 4 !== 0) continue;
      try {
        const again = readTflite(writeTflite(model));
        assert.equal(again, { ...model, version: 3 }, `${what}: write/read changed the model`);
        rewritten++;
      } catch (e) {
        if (!(e instanceof TfliteWriteError)) throw e;
      }
    }
  }
  const total = performance.now() - t0;
  console.log(`  fuzz: ${parsed + rejected} cases, ${parsed} parsed (${rewritten} re-written), ${rejected} rejected; ` +
    `slowest ${slowest.ms.toFixed(1)} ms (${slowest.what}); total ${(total / 1000).toFixed(1)} s`);
  assert.ok(parsed > 0 && rejected > 0);
});

test.run();
