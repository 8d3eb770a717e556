// Splits a byte stream into lines with a bound, for the two programs Squid feeds on stdin (the auth helper and the
// log daemon): a line longer than the bound is never held whole in memory, it comes out once, cut, and flagged, so
// a hostile or broken input costs bounded memory and can neither crash the reader nor run into the next line.
// Bytes are kept as latin1 strings (one char per byte, lossless): nothing is decoded as UTF-8 here.

export interface Line {
  /** The line without its \n (at most `max` bytes, as latin1: one char per byte). */
  text: string;
  /** The line was longer than `max`: `text` is its start, `bytes` its full length. */
  cut: boolean;
  bytes: number;
}

/** A stateful splitter: push chunks, get whole lines; `end()` returns a last line without \n, if any. */
export function lineSplitter(max: number) {
  let held: Buffer[] = [];
  let heldBytes = 0;
  let skipping = false; // inside a line already over `max`: its start is held, the rest is only counted
  let total = 0;

  const finish = (): Line => {
    const text = Buffer.concat(held).toString('latin1');
    const line = { text, cut: skipping, bytes: total };
    held = [];
    heldBytes = 0;
    skipping = false;
    total = 0;
    return line;
  };
  const take = (part: Buffer) => {
    total += part.length;
    if (skipping) return;
    const room = max - heldBytes;
    if (part.length > room) {
      held.push(part.subarray(0, room));
      heldBytes = max;
      skipping = true;
      return;
    }
    held.push(part);
    heldBytes += part.length;
  };

  return {
    push(chunk: Buffer): Line[] {
      const out: Line[] = [];
      let start = 0;
      for (let nl = chunk.indexOf(10, start); nl !== -1; nl = chunk.indexOf(10, start)) {
        take(chunk.subarray(start, nl));
        out.push(finish());
        start = nl + 1;
      }
      // Copied: the caller may reuse its chunk.
      if (start < chunk.length) take(Buffer.from(chunk.subarray(start)));
      return out;
    },
    end(): Line | null {
      return total > 0 ? finish() : null;
    },
  };
}

/** A bounded, printable excerpt of any bytes: JSON string escapes, non-ASCII as \u00XX (latin1 in, so per byte). */
export function excerpt(text: string, max = 200): string {
  const head = text.length > max ? text.slice(0, max) : text;
  const safe = JSON.stringify(head).replace(
    /[^\x20-\x7e]/g,
    (c) => `\\u${c.charCodeAt(0).toString(16).padStart(4, '0')}`,
  );
  return text.length > max ? `${safe}… (${text.length} bytes)` : safe;
}

/** Percent-escapes (as Squid writes them) to bytes, without exceptions: null on a malformed escape. */
export function percentBytes(field: string): Buffer | null {
  const bytes = Buffer.alloc(field.length);
  let n = 0;
  for (let i = 0; i < field.length; i++) {
    const c = field.charCodeAt(i);
    if (c !== 37) {
      bytes[n++] = c & 0xff;
      continue;
    }
    const hex = field.slice(i + 1, i + 3);
    if (!/^[0-9A-Fa-f]{2}$/.test(hex)) return null;
    bytes[n++] = Number.parseInt(hex, 16);
    i += 2;
  }
  return bytes.subarray(0, n);
}
