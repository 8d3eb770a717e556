// A unified diff of two texts for the edit preview: one hunk spanning the changed lines, with context. Edits are
// local, so trimming the common head and tail is exact and linear, without a general diff algorithm. The diff is
// cut at `maxChars` (an edit of a whole large file would otherwise send it back twice over, in a response that
// carries the diff twice), with a last line saying so.

/** Diffs longer than this are cut: a preview, not a copy of the file. */
export const MAX_DIFF_CHARS = 64 * 1024;

export interface DiffOptions {
  /** Unchanged lines shown around the change (default 3). */
  context?: number;
  /** At most this many characters of diff (default MAX_DIFF_CHARS). */
  maxChars?: number;
}

export function unifiedDiff(
  file: string,
  before: string,
  after: string,
  { context = 3, maxChars = MAX_DIFF_CHARS }: DiffOptions = {},
): { diff: string; truncated: boolean } {
  if (before === after) return { diff: '', truncated: false };
  const a = before.split('\n');
  const b = after.split('\n');
  let head = 0;
  while (head < a.length && head < b.length && a[head] === b[head]) head++;
  let tail = 0;
  while (
    tail < a.length - head &&
    tail < b.length - head &&
    a[a.length - 1 - tail] === b[b.length - 1 - tail]
  )
    tail++;
  const from = Math.max(0, head - context);
  const aEnd = Math.min(a.length, a.length - tail + context);
  const bEnd = Math.min(b.length, b.length - tail + context);
  function* lines() {
    yield `--- ${file}`;
    yield `+++ ${file}`;
    yield `@@ -${from + 1},${aEnd - from} +${from + 1},${bEnd - from} @@`;
    for (let i = from; i < head; i++) yield ` ${a[i]}`;
    for (let i = head; i < a.length - tail; i++) yield `-${a[i]}`;
    for (let i = head; i < b.length - tail; i++) yield `+${b[i]}`;
    for (let i = a.length - tail; i < aEnd; i++) yield ` ${a[i]}`;
  }
  const out: string[] = [];
  let size = 0;
  for (const line of lines()) {
    if (size + line.length + 1 > maxChars) {
      out.push(
        `\\ diff cut at ${maxChars} characters: the edit removes ${a.length - tail - head} lines and adds ${b.length - tail - head} from line ${head + 1}`,
      );
      return { diff: `${out.join('\n')}\n`, truncated: true };
    }
    out.push(line);
    size += line.length + 1;
  }
  return { diff: `${out.join('\n')}\n`, truncated: false };
}
