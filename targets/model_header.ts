/**
 * @fileoverview Reads the sizes a generated model.h declares, so the runner can check inputs
 * and split outputs without being told twice (the header is the single source of truth).
 */
import { readFile } from 'node:fs/promises';
import { join } from 'node:path';

export interface ModelHeader {
  readonly inputCount: number;
  readonly inputBytes: number;
  readonly outputCount: number;
  readonly outputBytes: number;
  /** TF_MODEL_OUTPUT<k>_BYTES for k = 0 .. outputCount-1. */
  readonly outputTensorBytes: readonly number[];
  readonly arenaBytes: number;
  /** Present when the model was compiled with --train (TF_MODEL_CLASSES and TF_MODEL_PARAMS_BYTES). */
  readonly training?: { readonly classes: number; readonly paramsBytes: number };
}

export async function readModelHeader(modelDir: string): Promise<ModelHeader> {
  const path = join(modelDir, 'model.h');
  const text = await readFile(path, 'utf8').catch((error: NodeJS.ErrnoException) => {
    throw new Error(`cannot read ${path}: ${error.code ?? error.message}`);
  });
  return parseModelHeader(text, path);
}

export function parseModelHeader(text: string, path = 'model.h'): ModelHeader {
  const defines = new Map<string, number>();
  // Values are integer literals, optionally a parenthesised product like (300 * 1024).
  const define = /^[ \t]*#[ \t]*define[ \t]+(TF_MODEL_\w+)[ \t]+\(?([0-9uU \t*]+)\)?[ \t]*(?:\/\*.*\*\/|\/\/.*)?$/gm;
  for (const match of text.matchAll(define)) {
    const factors = match[2]!.split('*').map((factor) => factor.trim().replace(/[uU]$/, ''));
    if (factors.every((factor) => /^\d+$/.test(factor))) {
      defines.set(match[1]!, factors.reduce((product, factor) => product * Number(factor), 1));
    }
  }
  const need = (name: string): number => {
    const value = defines.get(name);
    if (value === undefined) {
      throw new Error(`${path}: no '#define ${name} <integer>'`);
    }
    return value;
  };
  const outputCount = need('TF_MODEL_OUTPUT_COUNT');
  const outputTensorBytes = Array.from({ length: outputCount }, (_, k) => need(`TF_MODEL_OUTPUT${k}_BYTES`));
  const header: ModelHeader = {
    inputCount: need('TF_MODEL_INPUT_COUNT'),
    inputBytes: need('TF_MODEL_INPUT_BYTES'),
    outputCount,
    outputBytes: need('TF_MODEL_OUTPUT_BYTES'),
    outputTensorBytes,
    arenaBytes: need('TF_MODEL_ARENA_BYTES'),
    ...(defines.has('TF_MODEL_PARAMS_BYTES') ? { training: { classes: need('TF_MODEL_CLASSES'), paramsBytes: need('TF_MODEL_PARAMS_BYTES') } } : {}),
  };
  const sum = outputTensorBytes.reduce((a, b) => a + b, 0);
  if (sum !== header.outputBytes) {
    throw new Error(`${path}: TF_MODEL_OUTPUT_BYTES is ${header.outputBytes} but the per-output sizes add up to ${sum}`);
  }
  return header;
}
