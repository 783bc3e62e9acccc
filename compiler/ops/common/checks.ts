/** @fileoverview Compile-time checks with messages that name the node and tensor at fault. */
import type { DType } from '../../ir/dtype.ts';
import type { Node, Tensor } from '../../ir/graph.ts';
import { describeNode, describeTensor } from '../../ir/graph.ts';
import { InvalidModelError, UnsupportedError } from '../../errors.ts';

export function requireTensor(t: Tensor | null | undefined, node: Node<object>, role: string): Tensor {
  if (!t) throw new InvalidModelError(`${describeNode(node as Node)}: missing ${role} tensor`);
  return t;
}

export function requireDType(t: Tensor | null | undefined, node: Node<object>, role: string, dtypes: readonly DType[]): Tensor {
  const tensor = requireTensor(t, node, role);
  if (!dtypes.includes(tensor.dtype)) {
    throw new UnsupportedError(`${describeNode(node as Node)}: ${role} ${describeTensor(tensor)} has type ${tensor.dtype}; supported: ${dtypes.join(', ')}`);
  }
  return tensor;
}

export function requireInt8(t: Tensor | null | undefined, node: Node<object>, role: string): Tensor {
  return requireDType(t, node, role, ['int8']);
}

export function requireConstant(t: Tensor | null | undefined, node: Node<object>, role: string): Tensor {
  const tensor = requireTensor(t, node, role);
  if (!tensor.data) throw new UnsupportedError(`${describeNode(node as Node)}: ${role} ${describeTensor(tensor)} must be a constant`);
  return tensor;
}
