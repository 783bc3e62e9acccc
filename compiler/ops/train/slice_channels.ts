/**
 * @fileoverview Saves the first `keep` channels of an int8 activation: a partial weight update (the first
 * ceil(r * C) input channels) needs only those, so only those outlive the forward pass. Kernel: `slice_channels_s8`.
 */
import type { Attrs } from '../../ir/graph.ts';
import { elementCount } from '../../ir/graph.ts';
import type { OpDef } from '../op.ts';
import { arg } from '../op.ts';
import { requireInt8 } from '../common/checks.ts';

export interface SliceChannelsAttrs extends Attrs {
  readonly keep: number;
}

interface SliceChannelsParams {
  readonly pixels: number;
  readonly channels: number;
  readonly keep: number;
}

export const sliceChannels: OpDef<SliceChannelsAttrs, SliceChannelsParams> = {
  name: 'SliceChannels',
  infer: ([x], a) => [{ shape: [...x!.shape.slice(0, -1), a.keep], dtype: 'int8' }],
  prepare(ctx) {
    const x = requireInt8(ctx.inputs[0], ctx.node, 'input');
    const channels = x.shape[x.shape.length - 1]!;
    const params = { pixels: elementCount(x.shape) / channels, channels, keep: ctx.node.attrs.keep };
    return {
      params,
      kernel: { name: 'slice_channels_s8', args: [arg.input(ctx, 0), arg.output(ctx), arg.int(params.pixels), arg.int(channels), arg.int(params.keep)] },
      scratchBytes: 0,
      macs: 0,
    };
  },
  evaluate(p, [x], [out]) {
    const from = x as Int8Array;
    const to = out as Int8Array;
    for (let i = 0; i < p.pixels; i++) to.set(from.subarray(i * p.channels, i * p.channels + p.keep), i * p.keep);
  },
};
