/**
 * @fileoverview What `--update` trains: `bias-only` (every layer's bias), `last:N` (the last N layers' weights and
 * biases), `full`, or a sparse-update scheme from a JSON file (`schemes.json#model/scheme`, the format of the
 * paper's schemes: trailing biases, which layers' weights, how many channels of each). The classifier always
 * trains. A partial weight update trains the first k channels (input channels of a convolution, channels of a
 * depthwise one), as the paper's compiler does.
 */
import { readFileSync } from 'node:fs';
import { UserError } from '../errors.ts';
import type { TrainableLayer } from './layers.ts';

export interface LayerUpdate {
  readonly bias: boolean;
  /** Channels whose weights train, counted from the first; 0 leaves the weights frozen. */
  readonly weightChannels: number;
}

/** Keyed by the layer's node index in the forward graph; layers absent stay frozen. */
export type UpdatePlan = ReadonlyMap<number, LayerUpdate>;

interface SchemeFile {
  readonly models?: Record<string, { readonly classifier_node?: string; readonly schemes?: Record<string, Scheme> }>;
}

interface Scheme {
  readonly bias_update_onnx_nodes?: readonly string[];
  readonly weight_update?: readonly { readonly onnx_node: string; readonly n_channels_updated: number }[];
}

export function parseUpdate(spec: string, layers: readonly TrainableLayer[]): UpdatePlan {
  if (layers.length === 0) throw new UserError('the model has no convolution or fully connected layer to train');
  const all = (weights: boolean) => new Map(layers.map((l) => [l.nodeIndex, { bias: true, weightChannels: weights ? l.channels : 0 }]));
  const classifier = layers[layers.length - 1]!;
  const withClassifier = (plan: Map<number, LayerUpdate>) => plan.set(classifier.nodeIndex, { bias: true, weightChannels: classifier.channels });
  if (spec === 'full') return all(true);
  if (spec === 'bias-only') return withClassifier(all(false));
  const last = /^last:(\d+)$/.exec(spec);
  if (last) {
    const n = Number(last[1]);
    if (n < 1 || n > layers.length) throw new UserError(`--update ${spec}: the model has ${layers.length} trainable layers; N must be 1 to ${layers.length}`);
    return new Map(layers.slice(-n).map((l) => [l.nodeIndex, { bias: true, weightChannels: l.channels }]));
  }
  const hash = spec.lastIndexOf('#');
  if (hash > 0) return withClassifier(schemePlan(spec.slice(0, hash), spec.slice(hash + 1), layers));
  throw new UserError(`--update '${spec}' is not bias-only, last:N, full or FILE.json#model/scheme`);
}

function schemePlan(file: string, key: string, layers: readonly TrainableLayer[]): Map<number, LayerUpdate> {
  let parsed: SchemeFile;
  try {
    parsed = JSON.parse(readFileSync(file, 'utf8')) as SchemeFile;
  } catch (e) {
    throw new UserError(`--update: cannot read the scheme file ${file}: ${(e as Error).message}`);
  }
  const [model, name] = key.split('/');
  const entry = model ? parsed.models?.[model] : undefined;
  if (!entry) throw new UserError(`--update: ${file} has no model '${model}' (it has: ${Object.keys(parsed.models ?? {}).join(', ') || 'none'})`);
  const scheme = name ? entry.schemes?.[name] : undefined;
  if (!scheme) throw new UserError(`--update: model '${model}' in ${file} has no scheme '${name}' (it has: ${Object.keys(entry.schemes ?? {}).join(', ')})`);
  const layerNamed = (onnxNode: string): TrainableLayer => {
    const layer = layers.find((l) => l.node.origin.includes(`'${onnxNode}'`));
    if (!layer) throw new UserError(`--update ${key}: the scheme names node '${onnxNode}', which is not a convolution of this model`);
    return layer;
  };
  const plan = new Map<number, LayerUpdate>();
  for (const node of scheme.bias_update_onnx_nodes ?? []) plan.set(layerNamed(node).nodeIndex, { bias: true, weightChannels: 0 });
  for (const w of scheme.weight_update ?? []) {
    const layer = layerNamed(w.onnx_node);
    if (w.n_channels_updated > layer.channels) {
      throw new UserError(`--update ${key}: node '${w.onnx_node}' has ${layer.channels} channels, the scheme updates ${w.n_channels_updated}`);
    }
    plan.set(layer.nodeIndex, { bias: plan.get(layer.nodeIndex)?.bias ?? false, weightChannels: w.n_channels_updated });
  }
  return plan;
}
