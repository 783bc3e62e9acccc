/**
 * Dev-only oracle: the TFLite interpreter (reference kernels, XNNPACK disabled) compiled to WebAssembly, as shipped by
 * npm `@tensorflow/tfjs-tflite@0.0.1-alpha.10` (`wasm/tflite_web_api_cc.{js,wasm}`, the single-threaded non-SIMD build).
 *
 * Numerics (see /work/shared/notes/oracles.md §2): CONV_2D and FULLY_CONNECTED requantize with *single* rounding,
 * DEPTHWISE_CONV_2D, ADD, pooling and softmax match TFLM exactly. So this is bit-exact with a reference interpreter
 * in `single` rounding mode, and within ±1 LSB per conv/FC op of TFLM's double rounding.
 *
 * `createTfliteRuntime({ simd: true, xnnpack: true })` is the runtime as shipped at its fastest single-threaded
 * setting (SIMD build, XNNPACK on): the speed peer of `npm run bench`, not an oracle.
 *
 * Used by tests and the bench only; never imported by the compiler.
 */
import { readFileSync } from 'node:fs';
import { createRequire } from 'node:module';

export interface TfliteRuntime {
  /** Runs the model once per call; inputs are raw bytes of each input tensor in order; returns raw bytes of each output tensor. */
  run(model: Uint8Array, inputs: readonly Uint8Array[]): Uint8Array[];
  /** One interpreter kept for many runs (for timing); close() frees it. */
  open(model: Uint8Array): TfliteSession;
}

export interface TfliteSession {
  /** Copies the inputs in, runs, returns copies of the outputs. */
  run(inputs: readonly Uint8Array[]): Uint8Array[];
  /** Copies the inputs in once, for `infer()`. */
  setInputs(inputs: readonly Uint8Array[]): void;
  /** Runs on the inputs already set; nothing is copied. */
  infer(): void;
  close(): void;
}

export interface TfliteRuntimeOptions {
  /**
   * Leave TFLite's default XNNPACK delegate on (it requantizes in float: not bit-exact with anything).
   * For timing comparisons (bench) and for tests that check the oracle really has it off. Default false.
   */
  xnnpack?: boolean;
  /** Load the SIMD build (`tflite_web_api_cc_simd`) instead of the plain one. Default false. */
  simd?: boolean;
}

// ---------------------------------------------------------------------------------------------------------------------
// Minimal typings of the embind surface we use.

interface EmbindObject {
  delete(): void;
}
interface TensorInfo extends EmbindObject {
  readonly id: number;
  readonly name: string;
  readonly dataType: string;
  readonly shape: string;
  data(): ArrayBufferView;
}
interface TensorInfoVector extends EmbindObject {
  size(): number;
  get(i: number): TensorInfo;
}
interface ModelRunner extends EmbindObject {
  GetInputs(): TensorInfoVector;
  GetOutputs(): TensorInfoVector;
  Infer(): boolean;
}
interface StatusOrModelRunner extends EmbindObject {
  ok(): boolean;
  errorMessage(): string;
  value(): ModelRunner | null;
}
interface TfliteModule {
  HEAPU8: Uint8Array;
  _malloc(size: number): number;
  _free(ptr: number): void;
  TFLiteWebModelRunner: {
    CreateFromBufferAndOptions(
      ptr: number,
      len: number,
      options: { numThreads: number; enableProfiling: boolean; maxProfilingBufferEntries: number },
    ): StatusOrModelRunner;
  };
}
type ModuleFactory = (moduleArg: {
  wasmBinary: Uint8Array;
  print: (s: string) => void;
  printErr: (s: string) => void;
}) => Promise<TfliteModule>;

// ---------------------------------------------------------------------------------------------------------------------
// Disabling XNNPACK by patching the wasm binary.
//
// No runtime option disables XNNPACK in this build: the InterpreterBuilder registers a lazy delegate provider, the
// lambda `[=](TfLiteContext* ctx) { return MaybeCreateXNNPACKDelegate(ctx, ...); }`, which returns a
// `std::unique_ptr<TfLiteDelegate, void (*)(TfLiteDelegate*)>`. clang inlined TfLiteXNNPackDelegateCreate and the
// xnnpack::Delegate constructor (which logs "Created TensorFlow Lite XNNPACK delegate for CPU.") into that lambda, so
// the only wasm function referencing the log string is the provider itself, compiled as
// `void provider(unique_ptr* sret, const Lambda* self, TfLiteContext** ctx)` (an indirect-call target, type
// (i32, i32, i32) -> ()), which ends by storing {delegate, deleter} to the sret: `sret[4] = deleter; sret[0] = ptr`.
// Interpreter::ApplyLazyDelegateProviders skips providers that return a null delegate (that is exactly what happens
// when xnn_initialize fails), so we rewrite the body to store {nullptr, deleter} and return: the graph then runs on
// TFLite's builtin kernels.
//
// How the function is found, without symbol names (the binary has no name section and minified exports): locate the
// log string's address in the active data segments, then the single function whose code contains `i32.const <addr>`,
// and check its signature and its sret epilogue before patching; any mismatch throws instead of silently leaving
// XNNPACK on. The patch is done in place (same body size, padded with `nop`), so no other offset in the module moves.

const XNNPACK_LOG = 'Created TensorFlow Lite XNNPACK delegate for CPU.';

class WasmReader {
  pos: number;
  constructor(
    readonly buf: Uint8Array,
    pos = 0,
  ) {
    this.pos = pos;
  }
  byte(): number {
    if (this.pos >= this.buf.length) throw new Error('wasm: unexpected end of binary');
    return this.buf[this.pos++]!;
  }
  u32(): number {
    let result = 0;
    let shift = 0;
    for (;;) {
      const b = this.byte();
      result += (b & 0x7f) * 2 ** shift;
      if ((b & 0x80) === 0) return result;
      shift += 7;
      if (shift > 35) throw new Error('wasm: bad LEB128');
    }
  }
  s32(): number {
    let result = 0;
    let shift = 0;
    let b: number;
    do {
      b = this.byte();
      result |= (b & 0x7f) << shift;
      shift += 7;
    } while (b & 0x80 && shift < 35);
    if (shift < 32 && b & 0x40) result |= -1 << shift;
    return result | 0;
  }
  advance(n: number): void {
    this.pos += n;
  }
}

function encodeS32(v: number): number[] {
  const out: number[] = [];
  for (;;) {
    const b = v & 0x7f;
    v >>= 7;
    if ((v === 0 && (b & 0x40) === 0) || (v === -1 && (b & 0x40) !== 0)) {
      out.push(b);
      return out;
    }
    out.push(b | 0x80);
  }
}

function indexOfBytes(hay: Uint8Array, needle: readonly number[] | Uint8Array, from: number, to: number): number {
  const n = needle.length;
  const first = needle[0]!;
  for (let i = hay.indexOf(first, from); i !== -1 && i + n <= to; i = hay.indexOf(first, i + 1)) {
    let j = 1;
    while (j < n && hay[i + j] === needle[j]) j++;
    if (j === n) return i;
  }
  return -1;
}

/** Returns a copy of the wasm binary with the XNNPACK delegate provider patched to return a null delegate. */
export function disableXnnpack(wasm: Uint8Array): Uint8Array {
  const out = new Uint8Array(wasm);
  const r = new WasmReader(out, 8);
  const sections = new Map<number, { start: number; end: number }>();
  while (r.pos < out.length) {
    const id = r.byte();
    const size = r.u32();
    if (id !== 0) sections.set(id, { start: r.pos, end: r.pos + size });
    r.advance(size);
  }
  const need = (id: number, what: string) => {
    const s = sections.get(id);
    if (!s) throw new Error(`disableXnnpack: no ${what} section`);
    return s;
  };

  // Types and per-function type indices, plus the number of imported functions (they come first in the index space).
  const types: { params: number[]; results: number[] }[] = [];
  {
    const s = need(1, 'type');
    const t = new WasmReader(out, s.start);
    for (let n = t.u32(); n > 0; n--) {
      if (t.byte() !== 0x60) throw new Error('disableXnnpack: unexpected type form');
      const params = Array.from({ length: t.u32() }, () => t.byte());
      const results = Array.from({ length: t.u32() }, () => t.byte());
      types.push({ params, results });
    }
  }
  let importedFuncs = 0;
  const imp = sections.get(2);
  if (imp) {
    const t = new WasmReader(out, imp.start);
    for (let n = t.u32(); n > 0; n--) {
      t.advance(t.u32()); // module
      t.advance(t.u32()); // field
      const kind = t.byte();
      if (kind === 0) {
        t.u32();
        importedFuncs++;
      } else if (kind === 1 || kind === 2) {
        if (kind === 1) t.byte(); // table element type
        const hasMax = t.byte() & 1; // limits
        t.u32();
        if (hasMax) t.u32();
      } else if (kind === 3) t.advance(2);
      else throw new Error(`disableXnnpack: unknown import kind ${kind}`);
    }
  }
  const funcTypes: number[] = [];
  {
    const t = new WasmReader(out, need(3, 'function').start);
    for (let n = t.u32(); n > 0; n--) funcTypes.push(t.u32());
  }

  // Address of the log string in linear memory (active data segments with a constant i32 offset).
  const needle = new TextEncoder().encode(XNNPACK_LOG + '\0');
  const addrs: number[] = [];
  {
    const s = need(11, 'data');
    const t = new WasmReader(out, s.start);
    for (let n = t.u32(); n > 0; n--) {
      const flag = t.u32();
      let base: number | null = null;
      if (flag === 0 || flag === 2) {
        if (flag === 2) t.u32();
        const op = t.byte();
        const v = t.s32();
        if (t.byte() !== 0x0b) throw new Error('disableXnnpack: unsupported data segment offset expression');
        if (op === 0x41) base = v;
      }
      const len = t.u32();
      if (base !== null) {
        for (let at = indexOfBytes(out, needle, t.pos, t.pos + len); at !== -1; ) {
          addrs.push(base + (at - t.pos));
          at = indexOfBytes(out, needle, at + 1, t.pos + len);
        }
      }
      t.advance(len);
    }
  }
  if (addrs.length !== 1) throw new Error(`disableXnnpack: log string found ${addrs.length} times in data segments`);
  const constInsn = [0x41, ...encodeS32(addrs[0]!)];

  // The function(s) whose body loads that address.
  const hits: { index: number; bodyStart: number; bodyEnd: number }[] = [];
  {
    const t = new WasmReader(out, need(10, 'code').start);
    const n = t.u32();
    for (let i = 0; i < n; i++) {
      const size = t.u32();
      const bodyStart = t.pos;
      const bodyEnd = bodyStart + size;
      if (indexOfBytes(out, constInsn, bodyStart, bodyEnd) !== -1) hits.push({ index: importedFuncs + i, bodyStart, bodyEnd });
      t.advance(size);
    }
  }
  if (hits.length !== 1) throw new Error(`disableXnnpack: ${hits.length} functions reference the XNNPACK log string`);
  const { index, bodyStart, bodyEnd } = hits[0]!;
  const type = types[funcTypes[index - importedFuncs]!]!;
  const I32 = 0x7f;
  if (type.params.length !== 3 || type.params.some((p) => p !== I32) || type.results.length !== 0) {
    throw new Error(`disableXnnpack: delegate provider has unexpected signature (${type.params}) -> (${type.results})`);
  }
  // Epilogue storing the unique_ptr into the sret (param 0):
  //   local.get 0; i32.const <deleter>; i32.store offset=4; local.get 0; local.get <p>; i32.store offset=0
  let deleter: number | null = null;
  for (let at = out.indexOf(0x20, bodyStart); at !== -1 && at < bodyEnd; at = out.indexOf(0x20, at + 1)) {
    if (out[at + 1] !== 0x00 || out[at + 2] !== 0x41) continue;
    const t = new WasmReader(out, at + 3);
    const d = t.s32();
    const tail = [0x36, 0x02, 0x04, 0x20, 0x00, 0x20];
    if (tail.every((b, k) => out[t.pos + k] === b)) {
      t.advance(tail.length);
      t.u32();
      if (out[t.pos] === 0x36 && out[t.pos + 1] === 0x02 && out[t.pos + 2] === 0x00) {
        deleter = d;
        break;
      }
    }
  }
  if (deleter === null) throw new Error('disableXnnpack: delegate provider does not end by returning a unique_ptr via sret');

  // New body: no locals; sret->ptr = 0; sret->deleter = deleter; nop padding; end.
  const body = [
    0x00,
    ...[0x20, 0x00, 0x41, 0x00, 0x36, 0x02, 0x00],
    ...[0x20, 0x00, 0x41, ...encodeS32(deleter), 0x36, 0x02, 0x04],
  ];
  const size = bodyEnd - bodyStart;
  if (body.length + 1 > size) throw new Error('disableXnnpack: delegate provider body too small to patch');
  out.fill(0x01, bodyStart, bodyEnd - 1);
  out.set(body, bodyStart);
  out[bodyEnd - 1] = 0x0b;
  if (!WebAssembly.validate(out)) throw new Error('disableXnnpack: patched module does not validate');
  return out;
}

// ---------------------------------------------------------------------------------------------------------------------
// Runtime

const LOG_LINES_KEPT = 50;

/** Loads a fresh WASM instance (not cached). Prefer `loadTfliteRuntime()`. */
export async function createTfliteRuntime(options: TfliteRuntimeOptions = {}): Promise<TfliteRuntime> {
  const require = createRequire(import.meta.url);
  const jsPath = require.resolve(`@tensorflow/tfjs-tflite/wasm/tflite_web_api_cc${options.simd ? '_simd' : ''}.js`);
  const wasmPath = jsPath.replace(/\.js$/, '.wasm');
  // The Emscripten glue is a CommonJS/UMD script (`module.exports = tflite_web_api_ModuleFactory`; its package has no
  // "type": "module"), so createRequire loads it as-is. Passing `wasmBinary` means it never fetches or reads files.
  const factory = require(jsPath) as ModuleFactory;
  const raw = new Uint8Array(readFileSync(wasmPath));
  const wasmBinary = options.xnnpack ? raw : disableXnnpack(raw);

  // Keep the runtime quiet: its log lines (stdout and stderr) go to a small ring kept for error messages.
  const log: string[] = [];
  const keep = (s: string) => {
    log.push(s);
    if (log.length > LOG_LINES_KEPT) log.shift();
  };
  const M = await factory({ wasmBinary, print: keep, printErr: keep });

  const bytesOf = (info: TensorInfo): Uint8Array => {
    const v = info.data(); // a fresh view on the current heap (memory may have grown)
    return new Uint8Array(v.buffer, v.byteOffset, v.byteLength);
  };
  const failure = (msg: string) => {
    const tail = log.length ? `\n  runtime log:\n    ${log.slice(-10).join('\n    ')}` : '';
    return new Error(`tflite_runtime: ${msg}${tail}`);
  };
  /** Gets every element of an embind vector and deletes the vector. */
  const drain = (vec: TensorInfoVector): TensorInfo[] => {
    try {
      return Array.from({ length: vec.size() }, (_, i) => vec.get(i));
    } finally {
      vec.delete();
    }
  };

  const open = (model: Uint8Array): TfliteSession => {
    log.length = 0;
    const modelPtr = M._malloc(model.length);
    if (!modelPtr) throw failure(`malloc(${model.length}) failed`);
    const owned: EmbindObject[] = [];
    const close = () => {
      for (const o of owned.reverse()) o.delete();
      owned.length = 0;
      M._free(modelPtr); // after the runner: the interpreter reads the flatbuffer in place
    };
    try {
      M.HEAPU8.set(model, modelPtr);
      const status = M.TFLiteWebModelRunner.CreateFromBufferAndOptions(modelPtr, model.length, {
        numThreads: 1,
        enableProfiling: false,
        maxProfilingBufferEntries: 1024,
      });
      owned.push(status);
      if (!status.ok()) throw failure(`cannot create interpreter: ${status.errorMessage()}`);
      const runner = status.value(); // moves the runner out of the status: both must be deleted
      if (!runner) throw failure('StatusOr holds no runner');
      owned.push(runner);
      const ins = drain(runner.GetInputs());
      owned.push(...ins);
      const outs = drain(runner.GetOutputs());
      owned.push(...outs);
      const setInputs = (inputs: readonly Uint8Array[]) => {
        if (inputs.length !== ins.length) throw failure(`model has ${ins.length} inputs, got ${inputs.length}`);
        ins.forEach((info, i) => {
          const dst = bytesOf(info);
          const src = inputs[i]!;
          if (src.length !== dst.length) {
            throw failure(`input ${i} (${info.name}, ${info.dataType} [${info.shape}]) needs ${dst.length} bytes, got ${src.length}`);
          }
          dst.set(src);
        });
      };
      const infer = () => {
        if (!runner.Infer()) throw failure('Infer() failed');
      };
      return {
        setInputs,
        infer,
        run(inputs) {
          setInputs(inputs);
          infer();
          return outs.map((info) => bytesOf(info).slice());
        },
        close,
      };
    } catch (e) {
      close();
      throw e;
    }
  };

  return {
    open,
    run(model: Uint8Array, inputs: readonly Uint8Array[]): Uint8Array[] {
      const session = open(model);
      try {
        return session.run(inputs);
      } finally {
        session.close();
      }
    },
  };
}

let cached: Promise<TfliteRuntime> | undefined;

/** The oracle runtime with XNNPACK off, loaded once per process. */
export function loadTfliteRuntime(): Promise<TfliteRuntime> {
  cached ??= createTfliteRuntime().catch((e: unknown) => {
    cached = undefined;
    throw e;
  });
  return cached;
}
