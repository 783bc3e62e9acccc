/**
 * @fileoverview `npm run example`, step 1: writes the bundled example model as a .tflite file
 * and a sample input, so the next steps are exactly what a user runs with their own model.
 */
import { mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { graphToTflite } from '../compiler/frontend/builder/to_tflite.ts';
import { Random } from '../compiler/frontend/builder/random.ts';
import { tinyKws } from './tiny_kws.ts';

const outDir = join(process.cwd(), 'out/example');
mkdirSync(outDir, { recursive: true });
const graph = tinyKws();
writeFileSync(join(outDir, 'tiny_kws.tflite'), graphToTflite(graph));
const inputBytes = graph.tensors[graph.inputs[0]!]!.shape.reduce((a, b) => a * b, 1);
writeFileSync(join(outDir, 'sample.bin'), new Random(1).int8Array(inputBytes));
process.stdout.write(`wrote ${join('out/example', 'tiny_kws.tflite')} and sample.bin (${inputBytes} bytes)\n`);
