/** @fileoverview Errors a user can act on: the CLI prints their message and exits 1. */

/** Base of every error caused by the user's model or options rather than by a bug in tinyforge. */
export class UserError extends Error {}

/** The model uses something tinyforge does not implement (an operator, a type, an attribute value). */
export class UnsupportedError extends UserError {
  override readonly name = 'UnsupportedError';
}

/** The model is inconsistent (shapes that do not match, missing quantization, bad constant data). */
export class InvalidModelError extends UserError {
  override readonly name = 'InvalidModelError';
}

/** The compiled program does not fit the target's SRAM or flash budget. */
export class BudgetError extends UserError {
  override readonly name = 'BudgetError';
}
