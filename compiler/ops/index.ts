/** @fileoverview The one list of operators. Adding an operator: its file, its kernels, its test, and a line here. */
import type { OpDef } from './op.ts';
import { UnsupportedError } from '../errors.ts';
import { fullyConnected } from './fully_connected.ts';

// Each OpDef is generic over its own attributes and parameters; the registry erases them.
// eslint-disable-next-line @typescript-eslint/no-explicit-any
type AnyOpDef = OpDef<any, any>;

export const OPS: readonly AnyOpDef[] = [
  fullyConnected,
];

const byName = new Map(OPS.map((d) => [d.name, d]));
const byTfliteCode = new Map(OPS.map((d) => [d.tflite.code, d]));

export function opDef(name: string): AnyOpDef {
  const def = byName.get(name);
  if (!def) throw new UnsupportedError(`unknown operator '${name}'`);
  return def;
}

export function opDefForTflite(code: number): AnyOpDef | undefined {
  return byTfliteCode.get(code);
}
