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

/** A C array initializer, wrapped so no line gets too long; `literal` spells one element. */
export function cArrayBody(values: ArrayLike<number | bigint>, perLine = 24, literal: (v: number | bigint) => string = cInt): string {
  const out: string[] = [];
  for (let i = 0; i < values.length; i += perLine) {
    out.push('  ' + Array.prototype.slice.call(values, i, i + perLine).map(literal).join(', ') + ',');
  }
  return out.join('\n');
}

/** An integer literal valid in C99 for every int32 (INT32_MIN has no literal of its own). */
export function cInt(v: number | bigint): string {
  if (typeof v === 'bigint') return `INT64_C(${v})`;
  return v === -2147483648 ? '(-2147483647 - 1)' : String(v);
}

const f32Bits = new DataView(new ArrayBuffer(4));

/**
 * A C99 hexadecimal float literal that denotes exactly the float32 nearest `v` (`0x1.8p-3f`):
 * decimal literals would depend on the C compiler's decimal conversion, hex digits cannot.
 */
export function cFloat32(v: number): string {
  f32Bits.setFloat32(0, v);
  const bits = f32Bits.getUint32(0);
  const sign = bits >>> 31 ? '-' : '';
  const exponent = (bits >>> 23) & 0xff;
  const fraction = bits & 0x7fffff;
  if (exponent === 0xff) throw new Error(`${v} has no C float literal: tables must hold finite values`);
  // 23 fraction bits shifted to 24 fill exactly six hex digits; trailing zeros add nothing.
  const digits = (fraction << 1).toString(16).padStart(6, '0').replace(/0+$/, '');
  const mantissa = digits ? `.${digits}` : '';
  // Subnormals (and zero) have no implicit leading 1 and the exponent of the smallest normal.
  return exponent === 0 ? `${sign}0x0${mantissa}p-126f` : `${sign}0x1${mantissa}p${exponent - 127}f`;
}
