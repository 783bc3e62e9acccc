// One error type per direction so callers can tell "this file is broken" (show the user, reject the
// model) from "our own builder asked for something the format cannot express" (a compiler bug).

import { UserError } from '../../errors.ts';

/** The bytes are not a well-formed TFLite flatbuffer; the message names the field being read. */
export class TfliteFormatError extends UserError {
  constructor(message: string) {
    super(message);
    this.name = 'TfliteFormatError';
  }
}

/** writeTflite was given a model it cannot encode (dangling index, unknown option, sparse tensor...). */
export class TfliteWriteError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'TfliteWriteError';
  }
}
