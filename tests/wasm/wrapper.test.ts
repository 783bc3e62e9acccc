/**
 * The generated wrapper as a user's code meets it: typed from the model's own inputs and outputs (checked by the
 * TypeScript compiler), inputs checked before memory is touched, outputs copied, memory fixed, and a scalar module
 * free of SIMD instructions (checked by wabt with SIMD disabled).
 */
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { pathToFileURL } from 'node:url';
import { Project, ts } from 'ts-morph';
import wabtFactory from 'wabt';
import { GraphBuilder } from '../../compiler/frontend/builder/builder.ts';
import { compileGraph } from '../../compiler/compile.ts';
import { writeOutputDir } from '../../compiler/output.ts';
import { prepareGraph } from '../../compiler/passes/prepare.ts';
import { runReference } from '../../compiler/reference/interpreter.ts';
import { Random } from '../../compiler/frontend/builder/random.ts';
import { getBoard } from '../../targets/boards.ts';

const work = mkdtempSync(join(tmpdir(), 'tinyforge-wrapper-'));
const dir = join(work, 'model');
test.after(() => rmSync(work, { recursive: true, force: true }));

/** Two inputs, two outputs: sum = a + b, pooled = maxpool(a). */
function twoByTwo() {
  const b = new GraphBuilder('two_by_two');
  const q = { scale: 0.05, zeroPoint: -3 };
  const x = b.input('a', [1, 4, 4, 3], q);
  const y = b.input('b', [1, 4, 4, 3], q);
  b.output(b.add('Add', [x, y], { activation: 'none' }, { scale: 0.1, zeroPoint: 2 }));
  b.output(b.add('MaxPool2D', [x], { padding: 'valid', filterH: 2, filterW: 2, strideH: 2, strideW: 2, activation: 'none' }, q));
  return b.build();
}

interface Model {
  simd: boolean;
  memory: WebAssembly.Memory;
  invoke(...inputs: unknown[]): Int8Array | Int8Array[];
}

const graph = twoByTwo();
let load: (options?: { simd?: boolean }) => Promise<Model>;

test.before(async () => {
  writeOutputDir(dir, (await compileGraph(graph, { board: getBoard('wasm'), rounding: 'double' })).files);
  ({ load } = await import(pathToFileURL(join(dir, 'model.js')).href));
});

test('invoke returns every output, equal to the reference, as copies', async () => {
  const random = new Random(7);
  const a = random.int8Array(48);
  const b = random.int8Array(48);
  const expected = runReference(prepareGraph(graph, { rounding: 'double' }), [new Uint8Array(a.buffer), new Uint8Array(b.buffer)]);
  for (const simd of [true, false]) {
    const m = await load({ simd });
    assert.is(m.simd, simd);
    const [sum, pooled] = m.invoke(a, b) as Int8Array[];
    assert.instance(sum, Int8Array);
    assert.equal(new Uint8Array(sum!.buffer), expected[0]);
    assert.equal(new Uint8Array(pooled!.buffer), expected[1]);
    m.invoke(b, a);
    assert.equal(new Uint8Array(sum!.buffer), expected[0], 'a returned output must not change on the next call');
  }
});

test('a wrong input count, type or length throws a TypeError naming the input, and leaves memory untouched', async () => {
  const m = await load();
  const ok = new Int8Array(48);
  const before = new Uint8Array(m.memory.buffer).slice();
  const bad: [unknown[], RegExp][] = [
    [[ok], /takes 2 input\(s\) \(a: int8 \[1x4x4x3\], 48 elements; b: int8 \[1x4x4x3\], 48 elements\), got 1/],
    [[ok, new Int8Array(47)], /input 1 must be a Int8Array \(b: int8 \[1x4x4x3\], 48 elements\); got Int8Array of 47 elements/],
    [[new Uint8Array(48), ok], /input 0 must be a Int8Array .*; got Uint8Array of 48 elements/],
    [[[1, 2, 3], ok], /input 0 must be a Int8Array .*; got object/],
  ];
  for (const [args, message] of bad) {
    assert.throws(() => m.invoke(...args), (e: Error) => e instanceof TypeError && message.test(e.message), String(message));
  }
  assert.equal(new Uint8Array(m.memory.buffer), before);
});

test('the memory is fixed: the size the report states, and it cannot grow', async () => {
  const m = await load();
  const manifest = JSON.parse(readFileSync(join(dir, 'tinyforge.json'), 'utf8'));
  assert.is(m.memory.buffer.byteLength, manifest.wasm.memoryBytes);
  assert.throws(() => m.memory.grow(1), RangeError);
});

test('the scalar module has no SIMD instruction; the SIMD module has', async () => {
  const wabt = await wabtFactory();
  const validWithoutSimd = (file: string) => {
    let module: ReturnType<typeof wabt.readWasm> | undefined;
    try {
      module = wabt.readWasm(new Uint8Array(readFileSync(join(dir, file))), { simd: false, bulk_memory: true, sign_extension: true, sat_float_to_int: true, mutable_globals: true });
      module.validate();
      return true;
    } catch {
      return false;
    } finally {
      module?.destroy();
    }
  };
  assert.ok(validWithoutSimd('model.scalar.wasm'));
  assert.not.ok(validWithoutSimd('model.wasm'));
});

test('model.d.ts types invoke from the model: right arrays compile, wrong ones do not', () => {
  const project = new Project({ compilerOptions: { strict: true, module: ts.ModuleKind.NodeNext, moduleResolution: ts.ModuleResolutionKind.NodeNext, target: ts.ScriptTarget.ES2022, noEmit: true } });
  project.addSourceFileAtPath(join(dir, 'model.d.ts'));
  const use = (body: string) => {
    const file = project.createSourceFile(join(dir, 'use.mts'), `import { load, inputs } from './model.js';\nconst m = await load({ simd: false });\n${body}\nexport {};\n`, { overwrite: true });
    return file.getPreEmitDiagnostics().map((d) => ts.flattenDiagnosticMessageText(d.compilerObject.messageText, '\n'));
  };
  assert.equal(use('const [s, p]: [Int8Array, Int8Array] = m.invoke(new Int8Array(48), new Int8Array(48));\nconst n: number = inputs[1].bytes;'), []);
  assert.ok(use('m.invoke(new Int8Array(48));').some((d) => /Expected 2 arguments/.test(d)));
  assert.ok(use('m.invoke(new Float32Array(48), new Int8Array(48));').some((d) => /Float32Array/.test(d)));
  assert.ok(use('const s: Int8Array = m.invoke(new Int8Array(48), new Int8Array(48));').length > 0, 'two outputs come back as a tuple');
});

test.run();
