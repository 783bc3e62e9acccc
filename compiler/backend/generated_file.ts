/** @fileoverview What a backend produces: named files, text or binary, written all-or-nothing by output.ts. */
export interface GeneratedFile {
  readonly name: string;
  readonly contents: string | Uint8Array;
}
