/** @fileoverview A tiny line writer for generated C: indentation by blocks, no hand-placed tabs. */
export class CWriter {
  private readonly lines: string[] = [];
  private depth = 0;

  line(text = ''): this {
    this.lines.push(text ? '  '.repeat(this.depth) + text : '');
    return this;
  }

  comment(text: string): this {
    return this.line(`/* ${text.replace(/\*\//g, '* /')} */`);
  }

  /** `head {` ... `}` around the lines `body` writes. */
  block(head: string, body: () => void, tail = '}'): this {
    this.line(`${head} {`);
    this.depth++;
    body();
    this.depth--;
    return this.line(tail);
  }

  toString(): string {
    return this.lines.join('\n') + '\n';
  }
}

/** A C array initializer, wrapped so no line gets too long. */
export function cArrayBody(values: ArrayLike<number | bigint>, perLine = 24): string {
  const out: string[] = [];
  for (let i = 0; i < values.length; i += perLine) {
    out.push('  ' + Array.prototype.slice.call(values, i, i + perLine).map(cInt).join(', ') + ',');
  }
  return out.join('\n');
}

/** An integer literal valid in C99 for every int32 (INT32_MIN has no literal of its own). */
export function cInt(v: number | bigint): string {
  if (typeof v === 'bigint') return `INT64_C(${v})`;
  return v === -2147483648 ? '(-2147483647 - 1)' : String(v);
}
