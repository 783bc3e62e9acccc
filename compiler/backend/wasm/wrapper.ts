/**
 * @fileoverview The typed wrapper of a wasm build: `model.js` (an ES module that loads model.wasm in Node or a
 * browser and checks every input before it touches memory) and `model.d.ts` (the same API typed from the model's
 * own inputs and outputs).
 */
import { VariableDeclarationKind } from 'ts-morph';
import type { DType } from '../../ir/dtype.ts';
import type { GeneratedFile } from '../generated_file.ts';
import { newSourceFile } from './source_file.ts';

export const SIMD_WASM_FILE = 'model.wasm';
export const SCALAR_WASM_FILE = 'model.scalar.wasm';

export interface WrapperTensor {
  readonly name: string;
  readonly shape: readonly number[];
  readonly dtype: DType;
  readonly bytes: number;
  /** Address of the tensor in the module's linear memory. */
  readonly address: number;
}

export interface WrapperSpec {
  readonly model: string;
  readonly inputs: readonly WrapperTensor[];
  readonly outputs: readonly WrapperTensor[];
  readonly header: string;
}

const TYPED_ARRAY: Readonly<Record<DType, string>> = {
  int8: 'Int8Array',
  uint8: 'Uint8Array',
  int16: 'Int16Array',
  int32: 'Int32Array',
  int64: 'BigInt64Array',
  float32: 'Float32Array',
  bool: 'Uint8Array',
};

/** The smallest module using a v128 instruction: WebAssembly.validate() of it tells whether the host has SIMD. */
const SIMD_PROBE = [0, 97, 115, 109, 1, 0, 0, 0, 1, 5, 1, 96, 0, 1, 123, 3, 2, 1, 0, 10, 10, 1, 8, 0, 65, 0, 253, 15, 253, 98, 11];

const describe = (t: WrapperTensor): string => `${t.name}: ${t.dtype} [${t.shape.join('x')}]`;
const argName = (i: number, count: number): string => (count === 1 ? 'input' : `input${i}`);

function invokeSignature(spec: WrapperSpec): { params: { name: string; type: string }[]; returnType: string } {
  const params = spec.inputs.map((t, i) => ({ name: argName(i, spec.inputs.length), type: TYPED_ARRAY[t.dtype] }));
  const outs = spec.outputs.map((t) => TYPED_ARRAY[t.dtype]);
  return { params, returnType: outs.length === 1 ? outs[0]! : `[${outs.join(', ')}]` };
}

function emitDeclarations(spec: WrapperSpec): string {
  const file = newSourceFile('model.d.ts', spec.header);
  file.addInterface({
    name: 'TensorInfo',
    isExported: true,
    properties: [
      { name: 'name', type: 'string', isReadonly: true },
      { name: 'shape', type: 'readonly number[]', isReadonly: true },
      { name: 'dtype', type: 'string', isReadonly: true },
      { name: 'bytes', type: 'number', isReadonly: true, docs: ['Size in bytes.'] },
    ],
  });
  const tuple = (n: number) => `readonly [${Array(n).fill('TensorInfo').join(', ')}]`;
  file.addVariableStatement({ isExported: true, hasDeclareKeyword: true, declarationKind: VariableDeclarationKind.Const, declarations: [{ name: 'inputs', type: tuple(spec.inputs.length) }] });
  file.addVariableStatement({ isExported: true, hasDeclareKeyword: true, declarationKind: VariableDeclarationKind.Const, declarations: [{ name: 'outputs', type: tuple(spec.outputs.length) }] });
  file.addInterface({
    name: 'LoadOptions',
    isExported: true,
    properties: [
      { name: 'simd', type: 'boolean', hasQuestionToken: true, docs: [`Use the SIMD build (${SIMD_WASM_FILE}) or the scalar one (${SCALAR_WASM_FILE}). Default: SIMD when the host supports it.`] },
      { name: 'wasm', type: 'BufferSource', hasQuestionToken: true, docs: ['The module bytes, if you fetched them yourself; by default they are read from beside this file.'] },
    ],
  });
  const { params, returnType } = invokeSignature(spec);
  file.addInterface({
    name: 'Model',
    isExported: true,
    properties: [
      { name: 'simd', type: 'boolean', isReadonly: true, docs: ['Whether the SIMD build is running.'] },
      { name: 'memory', type: 'WebAssembly.Memory', isReadonly: true, docs: ['The module\'s linear memory (fixed size: it never grows).'] },
    ],
    methods: [
      {
        name: 'invoke',
        parameters: params,
        returnType,
        docs: [
          `Runs one inference of '${spec.model}'.\n${spec.inputs.map((t, i) => `@param ${params[i]!.name} ${describe(t)}`).join('\n')}\n` +
            `@returns ${spec.outputs.map(describe).join(', ')} (copies: they stay valid after the next call)\n` +
            '@throws TypeError if an input has the wrong type or length; memory is then left untouched.',
        ],
      },
    ],
  });
  file.addFunction({
    name: 'load',
    isExported: true,
    hasDeclareKeyword: true,
    parameters: [{ name: 'options', type: 'LoadOptions', hasQuestionToken: true }],
    returnType: 'Promise<Model>',
    docs: ['Instantiates the model (Node.js or browser).'],
  });
  return file.getFullText();
}

function emitModule(spec: WrapperSpec): string {
  const file = newSourceFile('model.js', `${spec.header}. Types: model.d.ts`);
  const info = (t: WrapperTensor) => ({ name: t.name, shape: t.shape, dtype: t.dtype, bytes: t.bytes });
  const layout = (t: WrapperTensor) => ({ ...info(t), address: t.address, type: TYPED_ARRAY[t.dtype] });
  const constant = (name: string, initializer: string, isExported = false) =>
    file.addVariableStatement({ isExported, declarationKind: VariableDeclarationKind.Const, declarations: [{ name, initializer }] });
  constant('MODEL', JSON.stringify(spec.model));
  constant('IN', `${JSON.stringify(spec.inputs.map(layout))}.map(withType)`);
  constant('OUT', `${JSON.stringify(spec.outputs.map(layout))}.map(withType)`);
  constant('SIMD_PROBE', `Uint8Array.of(${SIMD_PROBE.join(', ')})`);
  file.addFunction({
    name: 'withType',
    parameters: [{ name: 't' }],
    statements: 'return { ...t, type: globalThis[t.type] };',
  });
  constant('inputs', `${JSON.stringify(spec.inputs.map(info))}`, true);
  constant('outputs', `${JSON.stringify(spec.outputs.map(info))}`, true);
  file.addFunction({
    name: 'describe',
    parameters: [{ name: 't' }],
    statements: "return `${t.name}: ${t.dtype} [${t.shape.join('x')}], ${t.bytes / t.type.BYTES_PER_ELEMENT} elements`;",
  });
  file.addFunction({
    name: 'readBytes',
    isAsync: true,
    parameters: [{ name: 'url' }],
    statements: `if (url.protocol === 'file:') {
  const { readFile } = await import('node:fs/promises');
  return readFile(url);
}
const response = await fetch(url);
if (!response.ok) throw new Error(\`cannot fetch \${url}: HTTP \${response.status}\`);
return response.arrayBuffer();`,
  });
  file.addClass({
    name: 'CompiledModel',
    ctors: [{ parameters: [{ name: 'instance' }, { name: 'simd' }], statements: 'this.simd = simd;\nthis.memory = instance.exports.memory;\nthis.run = instance.exports.invoke;' }],
    methods: [
      {
        name: 'invoke',
        parameters: [{ name: 'args', isRestParameter: true }],
        statements: `if (args.length !== IN.length) {
  throw new TypeError(\`model '\${MODEL}' takes \${IN.length} input(s) (\${IN.map(describe).join('; ')}), got \${args.length}\`);
}
IN.forEach((t, i) => {
  const a = args[i];
  if (!(a instanceof t.type) || a.byteLength !== t.bytes) {
    const got = ArrayBuffer.isView(a) ? \`\${a.constructor.name} of \${a.length} elements\` : typeof a;
    throw new TypeError(\`model '\${MODEL}' input \${i} must be a \${t.type.name} (\${describe(t)}); got \${got}\`);
  }
});
const heap = new Uint8Array(this.memory.buffer);
IN.forEach((t, i) => heap.set(new Uint8Array(args[i].buffer, args[i].byteOffset, t.bytes), t.address));
this.run();
const results = OUT.map((t) => new t.type(this.memory.buffer.slice(t.address, t.address + t.bytes)));
return results.length === 1 ? results[0] : results;`,
      },
    ],
  });
  file.addFunction({
    name: 'load',
    isExported: true,
    isAsync: true,
    parameters: [{ name: 'options', initializer: '{}' }],
    statements: `const simd = options.simd ?? WebAssembly.validate(SIMD_PROBE);
const bytes = options.wasm ?? (await readBytes(new URL(simd ? '${SIMD_WASM_FILE}' : '${SCALAR_WASM_FILE}', import.meta.url)));
const { instance } = await WebAssembly.instantiate(bytes, {});
return new CompiledModel(instance, simd);`,
  });
  return file.getFullText();
}

export function emitWrapper(spec: WrapperSpec): GeneratedFile[] {
  return [
    { name: 'model.js', contents: emitModule(spec) },
    { name: 'model.d.ts', contents: emitDeclarations(spec) },
  ];
}
