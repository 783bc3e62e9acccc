/**
 * @fileoverview The WebAssembly backend: a prepared, planned graph -> model.wasm (SIMD), model.scalar.wasm, the
 * typed wrapper (model.js + model.d.ts) and, on request, model.wat (the SIMD module as text). Same IR and memory
 * plan as the C backend. A training step (graph.training) also exports `trainStep` (see assemble.ts).
 */
import { elementCount, tensorBytes } from '../../ir/graph.ts';
import type { PreparedGraph } from '../../passes/prepare.ts';
import type { MemoryPlan } from '../../plan/memory.ts';
import type { GeneratedFile } from '../generated_file.ts';
import { assemble } from './assemble.ts';
import { layoutMemory } from './layout.ts';
import { emitWrapper, SCALAR_WASM_FILE, SIMD_WASM_FILE } from './wrapper.ts';
import type { WrapperTensor } from './wrapper.ts';

export interface WasmEmitOptions {
  readonly provenance: string;
  /** Also write model.wat, the text form of the SIMD module. */
  readonly text: boolean;
}

export interface WasmModuleStats {
  /** Size of model.wasm (the SIMD build) and of model.scalar.wasm. */
  readonly wasmBytes: number;
  readonly scalarWasmBytes: number;
  /** Linear memory of the module, fixed at instantiation (whole 64 KiB pages). */
  readonly memoryBytes: number;
  /** Of which constants (weights, biases, tables; convolution weights widened to int16) and the arena. */
  readonly constantBytes: number;
  readonly arenaBytes: number;
  /** Training step only: the trainable parameters (writable copies) and the int16 copy of trained convolution weights. */
  readonly stateBytes: number;
  readonly widenBytes: number;
}

export async function emitWasm(pg: PreparedGraph, plan: MemoryPlan, opts: WasmEmitOptions): Promise<{ files: GeneratedFile[]; stats: WasmModuleStats }> {
  const { graph } = pg;
  const layout = layoutMemory(pg, plan);
  const rounding = pg.options.rounding;
  const simd = await assemble(layout, { simd: true, rounding, text: opts.text });
  const scalar = await assemble(layout, { simd: false, rounding, text: false });
  const tensor = (id: number, address: number): WrapperTensor => {
    const t = graph.tensors[id]!;
    return { name: t.name, shape: t.shape, dtype: t.dtype, bytes: tensorBytes(t), address };
  };
  const { training } = layout;
  // A training step's wrapper: invoke takes the image and returns the logits; trainStep passes label and lr itself.
  const wrapper = emitWrapper({
    model: graph.name,
    header: opts.provenance,
    ...(graph.training && training
      ? {
          inputs: [tensor(graph.training.image, layout.inputs[graph.inputs.indexOf(graph.training.image)]!)],
          outputs: [tensor(graph.training.logits, training.logits)],
          training: {
            classes: elementCount(graph.tensors[graph.training.logits]!.shape),
            state: training.state.map((s) => tensor(s.id, s.address)),
          },
        }
      : {
          inputs: graph.inputs.map((id, i) => tensor(id, layout.inputs[i]!)),
          outputs: graph.outputs.map((id, i) => tensor(id, layout.outputs[i]!)),
        }),
  });
  const files: GeneratedFile[] = [
    { name: SIMD_WASM_FILE, contents: simd.wasm },
    { name: SCALAR_WASM_FILE, contents: scalar.wasm },
    ...wrapper,
  ];
  if (simd.wat !== null) files.push({ name: 'model.wat', contents: simd.wat });
  return {
    files,
    stats: {
      wasmBytes: simd.wasm.length,
      scalarWasmBytes: scalar.wasm.length,
      memoryBytes: simd.memoryBytes,
      constantBytes: layout.constantBytes,
      arenaBytes: layout.arenaBytes,
      stateBytes: layout.stateBytes,
      widenBytes: layout.widenBytes,
    },
  };
}
