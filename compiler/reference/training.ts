/**
 * @fileoverview The reference training step: the golden model of `train_step` in every backend. It owns the
 * trainable state (copies of the state tensors' initial values) and runs the training graph's nodes over it.
 */
import type { TensorData } from '../ir/dtype.ts';
import { allocData } from '../ir/dtype.ts';
import type { TrainingStep } from '../ir/graph.ts';
import { elementCount, tensorBytes } from '../ir/graph.ts';
import type { PreparedGraph } from '../passes/prepare.ts';
import { InvalidModelError } from '../errors.ts';
import { execute } from './interpreter.ts';

export class ReferenceTrainer {
  private readonly training: TrainingStep;
  private readonly state = new Map<number, TensorData>();

  constructor(private readonly pg: PreparedGraph) {
    const { training } = pg.graph;
    if (!training) throw new Error(`graph '${pg.graph.name}' is not a training step`);
    this.training = training;
    for (const id of training.state) this.state.set(id, pg.graph.tensors[id]!.data!.slice());
  }

  get classes(): number {
    return elementCount(this.pg.graph.tensors[this.training.logits]!.shape);
  }

  /** One training step on one image; returns the loss. */
  step(image: Uint8Array, label: number, learningRate: number): number {
    if (!Number.isInteger(label) || label < 0 || label >= this.classes) {
      throw new InvalidModelError(`label ${label} is outside the model's ${this.classes} classes (0 to ${this.classes - 1})`);
    }
    const values = this.valuesWithImage(image);
    values.set(this.training.label, Int32Array.of(label));
    values.set(this.training.learningRate, Float32Array.of(learningRate));
    execute(this.pg, this.pg.nodes, values);
    return (values.get(this.training.loss) as Float32Array)[0]!;
  }

  /** Inference with the parameters as they are now; returns the int8 logits' bytes. */
  invoke(image: Uint8Array): Uint8Array {
    const values = this.valuesWithImage(image);
    execute(this.pg, this.training.inferenceNodes.map((i) => this.pg.nodes[i]!), values);
    const logits = values.get(this.training.logits)!;
    return new Uint8Array(logits.buffer.slice(logits.byteOffset, logits.byteOffset + logits.byteLength));
  }

  /** The state tensors' bytes, concatenated in `training.state` order (the `--dump-params` layout). */
  params(): Uint8Array {
    const parts = this.training.state.map((id) => {
      const d = this.state.get(id)!;
      return new Uint8Array(d.buffer, d.byteOffset, d.byteLength);
    });
    const out = new Uint8Array(parts.reduce((n, p) => n + p.length, 0));
    let at = 0;
    for (const p of parts) {
      out.set(p, at);
      at += p.length;
    }
    return out;
  }

  private valuesWithImage(image: Uint8Array): Map<number, TensorData> {
    const t = this.pg.graph.tensors[this.training.image]!;
    if (image.length !== tensorBytes(t)) throw new InvalidModelError(`input '${t.name}' needs ${tensorBytes(t)} bytes, got ${image.length}`);
    const data = allocData(t.dtype, elementCount(t.shape));
    new Uint8Array(data.buffer).set(image);
    const values = new Map<number, TensorData>(this.state);
    values.set(this.training.image, data);
    return values;
  }
}
