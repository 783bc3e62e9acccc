/**
 * @fileoverview Builds a model's module. The AssemblyScript compiler builds the runtime kernels (runtime/as, with
 * the root asconfig.json) once per process and variant (SIMD or scalar, rounding) into a kernel library. Each model
 * then gets its `invoke` function written directly in binaryen IR (its kernel calls in order, every argument a
 * constant), its constants as a data segment and a fixed memory; binaryen optimises (unused kernels go away, calls
 * may inline), and wabt, independent of the two that built the module, validates it and prints it as text on request.
 */
import { fileURLToPath } from 'node:url';
import type Binaryen from 'binaryen';
import wabtFactory from 'wabt';
import type { WasmLayout } from './layout.ts';
import { WASM_PAGE_BYTES } from './layout.ts';
import { readCachedLibrary, writeCachedLibrary } from './library_cache.ts';
import type { Rounding } from '../../ops/common/fixed_point.ts';
import { convArithmetic } from '../../ops/common/fixed_point.ts';

// assemblyscript and binaryen are ES modules with top-level await and no CommonJS entry: they are imported
// dynamically, on first use, which also spares every non-wasm compile their load time.

/** Builds runtime/as/index.ts, every kernel exported under its own name; written to memory, never to disk. */
const ASCONFIG = fileURLToPath(new URL('../../../asconfig.json', import.meta.url));

export interface AssembleOptions {
  readonly simd: boolean;
  readonly rounding: Rounding;
  readonly text: boolean;
}

export interface AssembledModule {
  readonly wasm: Uint8Array;
  readonly wat: string | null;
  /** Linear memory, fixed: initial = maximum. */
  readonly memoryBytes: number;
}

/** A method binaryen.js has but its typings (v131) still describe under an older name. */
interface DataSegmentApi {
  getNumDataSegments(): number;
}

/** A failure of the toolchain on code we generated or ship: a compiler bug, never the user's input. */
export class WasmAssembleError extends Error {
  override name = 'WasmAssembleError';
}

async function compileKernelLibrary(simd: boolean, rounding: Rounding): Promise<Uint8Array> {
  const { default: asc } = await import('assemblyscript/asc');
  let binary: Uint8Array | undefined;
  const diagnostics: string[] = [];
  const sink = { write: (chunk: string | Uint8Array) => diagnostics.push(String(chunk)) };
  const target = simd ? 'simd' : 'scalar';
  const flag = (single: boolean) => (single ? 1 : 0);
  const defines = [
    '--use', `TF_SINGLE_ROUNDING=${flag(convArithmetic(rounding) === 'single')}`,
    '--use', `TF_FLOAT32_REQUANT=${flag(rounding === 'float32')}`,
  ];
  const result = await asc.main(['--config', ASCONFIG, '--target', target, ...defines], {
    writeFile: (_name: string, contents: Uint8Array | string) => {
      if (typeof contents !== 'string') binary = contents;
    },
    stdout: sink,
    stderr: sink,
  });
  if (result.error || !binary) {
    throw new WasmAssembleError(`AssemblyScript failed to build the runtime kernels (asconfig.json target ${target}): ${result.error?.message ?? 'no output'}\n${diagnostics.join('')}`);
  }
  return binary;
}

const libraries = new Map<string, Promise<Uint8Array>>();

/**
 * The kernel library of one variant: from this process, else from the disk cache, else built (the AssemblyScript
 * compiler keeps global state: one build at a time).
 */
export function kernelLibrary(simd: boolean, rounding: Rounding): Promise<Uint8Array> {
  const key = `${simd ? 'simd' : 'scalar'}-${rounding}`;
  let library = libraries.get(key);
  if (!library) {
    const previous = Promise.all(libraries.values());
    library = previous.then(async () => {
      const cached = readCachedLibrary(key);
      if (cached) return cached;
      const built = await compileKernelLibrary(simd, rounding);
      writeCachedLibrary(key, built);
      return built;
    });
    library.catch(() => libraries.delete(key));
    libraries.set(key, library);
  }
  return library;
}

function features(binaryen: typeof Binaryen, simd: boolean): Binaryen.Features {
  const F = binaryen.Features;
  const base = F.MutableGlobals | F.NontrappingFPToInt | F.BulkMemory | F.BulkMemoryOpt | F.SignExt;
  return simd ? base | F.SIMD128 : base;
}

/** The layout's kernel calls `indices`, in order, every argument an i32 constant. */
function kernelCalls(binaryen: typeof Binaryen, module: Binaryen.Module, layout: WasmLayout, indices: readonly number[]): Binaryen.ExpressionRef[] {
  return indices.map((i) => {
    const call = layout.calls[i]!;
    const exported = module.getExport(call.kernel);
    if (!exported) throw new WasmAssembleError(`runtime/as/index.ts exports no kernel '${call.kernel}' (needed by ${call.comment})`);
    const internal = binaryen.getExportInfo(exported).value;
    const params = binaryen.expandType(binaryen.getFunctionInfo(module.getFunction(internal)).params);
    if (params.length !== call.args.length || params.some((p) => p !== binaryen.i32)) {
      throw new WasmAssembleError(`runtime kernel '${call.kernel}' takes ${params.length} parameters, but ${call.comment} passes ${call.args.length} i32 arguments`);
    }
    return module.call(internal, call.args.map((a) => module.i32.const(a)), binaryen.none);
  });
}

/**
 * The module's functions, replacing the kernel library's exports: `invoke` (the inference program) and, for a
 * training step, `trainStep(label: i32, lr: f32): f32`, which stores its operands where the graph reads them, runs
 * every call and returns the loss.
 */
function addEntryPoints(binaryen: typeof Binaryen, module: Binaryen.Module, layout: WasmLayout): void {
  const all = layout.calls.map((_, i) => i);
  const { training } = layout;
  const invoke = kernelCalls(binaryen, module, layout, training ? training.inferenceCalls : all);
  module.addFunction('invoke', binaryen.none, binaryen.none, [], module.block(null, invoke, binaryen.none));
  if (training) {
    const address = (a: number) => module.i32.const(a);
    const body = [
      module.i32.store(0, 4, address(training.label), module.local.get(0, binaryen.i32)),
      module.f32.store(0, 4, address(training.learningRate), module.local.get(1, binaryen.f32)),
      ...kernelCalls(binaryen, module, layout, all),
      module.f32.load(0, 4, address(training.loss)),
    ];
    module.addFunction('trainStep', binaryen.createType([binaryen.i32, binaryen.f32]), binaryen.f32, [], module.block(null, body, binaryen.f32));
  }
  for (let i = module.getNumExports() - 1; i >= 0; i--) module.removeExport(binaryen.getExportInfo(module.getExportByIndex(i)).name);
  module.addFunctionExport('invoke', 'invoke');
  if (training) module.addFunctionExport('trainStep', 'trainStep');
}

/** The layout's memory, fixed (initial = maximum), with the constants and initial state as its only data segment. */
function setMemory(module: Binaryen.Module, layout: WasmLayout): number {
  const ownSegments = (module as unknown as DataSegmentApi).getNumDataSegments();
  if (ownSegments) throw new WasmAssembleError(`the runtime kernels must not have static data (they have ${ownSegments} segments): every table is a kernel argument`);
  const pages = Math.max(1, Math.ceil(layout.memoryEnd / WASM_PAGE_BYTES));
  module.setMemory(pages, pages, 'memory', [{ offset: module.i32.const(layout.dataBase), data: layout.data, passive: false }]);
  return pages * WASM_PAGE_BYTES;
}

let wabt: ReturnType<typeof wabtFactory> | undefined;

async function validate(wasm: Uint8Array, options: AssembleOptions): Promise<string | null> {
  wabt ??= wabtFactory();
  const module = (await wabt).readWasm(wasm, { readDebugNames: true, simd: options.simd, bulk_memory: true, sign_extension: true, sat_float_to_int: true, mutable_globals: true });
  try {
    module.validate();
    return options.text ? module.toText({ foldExprs: false, inlineExport: true }) : null;
  } catch (e) {
    throw new WasmAssembleError(`wabt rejected the ${options.simd ? 'SIMD' : 'scalar'} module: ${(e as Error).message}`);
  } finally {
    module.destroy();
  }
}

export async function assemble(layout: WasmLayout, options: AssembleOptions): Promise<AssembledModule> {
  const library = await kernelLibrary(options.simd, options.rounding);
  const { default: binaryen } = await import('binaryen');
  const module = binaryen.readBinary(library);
  let wasm: Uint8Array;
  let memoryBytes: number;
  try {
    module.setFeatures(features(binaryen, options.simd));
    addEntryPoints(binaryen, module, layout);
    memoryBytes = setMemory(module, layout);
    binaryen.setOptimizeLevel(3);
    binaryen.setShrinkLevel(0);
    module.optimize();
    if (!module.validate()) throw new WasmAssembleError('binaryen rejected the optimised module');
    wasm = module.emitBinary();
  } finally {
    module.dispose();
  }
  return { wasm, wat: await validate(wasm, options), memoryBytes };
}
