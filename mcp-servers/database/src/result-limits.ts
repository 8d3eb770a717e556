// A query's result is bounded in rows and in bytes, and a value too large to send is never loaded into the
// server. The statement is run wrapped, as the body of a common table expression whose outer SELECT returns for
// each column the value, or NULL and a marker 'type:bytes' when the row is over the byte limit and this value is
// over its share of it. octet_length() reads a stored text or blob's size from the record header without
// loading its content (SQLite's OPFLAG_BYTELENARG), so a 300 MB blob in a table is summarized, not read, copied
// into JavaScript, JSON and the response. A huge value the query computes (zeroblob(1e9), a sorted subquery) is
// built in SQLite's memory, in the worker process, but never reaches JavaScript (the worker's memory limit bounds
// it, query-runner.ts). Statements that cannot be a table expression by nature, PRAGMA and EXPLAIN (decided from
// their first token), run as they are: their rows are SQLite's own, small ones. Any other statement runs wrapped
// or not at all: the wrapper is named afresh for each call (the SQL cannot name it, even in a string), and a query
// whose wrapper SQLite refuses (over 1000 columns: the wrapper has two per column, and SQLite allows 2000) is
// refused, never run unguarded.
import { randomBytes } from 'node:crypto';
import { tokenize, withoutTail } from './sql-lexer.ts';

export interface ResultLimits {
  /** Stop reading after this many rows. */
  maxRows: number;
  /** Stop reading before the rows, as JSON, would pass this many bytes. */
  maxResultBytes: number;
}

/**
 * Up to this many columns, a value is omitted only when its row is over the limit (the row's size is summed in
 * each column's test: quadratic in SQL text and work); over it, any value over its share of the limit is.
 */
const MAX_SUMMED_COLUMNS = 32;

/** The most columns a wrapped query may have: the wrapper has two per column, and SQLite allows 2000. */
export const MAX_GUARDED_COLUMNS = 1000;

/** PRAGMA and EXPLAIN (from the first token): statements that cannot be a table expression, run unwrapped. */
export function runsUnguarded(sql: string): boolean {
  const first = tokenize(sql)[0];
  return first?.kind === 'word' && (first.value === 'pragma' || first.value === 'explain');
}

/**
 * The wrapped statement: 2 columns per column of `sql` (value, omitted marker), in order. The wrapper's name is
 * random (`name`: tests), so no statement can name it.
 */
export function guardedSql(
  sql: string,
  columns: number,
  maxResultBytes: number,
  name = `__mcp_guard_${randomBytes(12).toString('hex')}`,
): string {
  const CTE = `"${name}"`;
  const tokens = tokenize(sql);
  const c = Array.from({ length: columns }, (_, i) => `c${i}`);
  const share = Math.max(1, Math.floor(maxResultBytes / columns));
  const rowBytes = c.map((x) => `ifnull(octet_length(${x}), 0)`).join(' + ');
  const tooBig = (x: string) =>
    columns <= MAX_SUMMED_COLUMNS
      ? `(${rowBytes}) > ${maxResultBytes} AND octet_length(${x}) > ${share}`
      : `octet_length(${x}) > ${share}`;
  const select = c.flatMap((x) => [
    `CASE WHEN ${tooBig(x)} THEN NULL ELSE ${x} END`,
    `CASE WHEN ${tooBig(x)} THEN typeof(${x}) || ':' || octet_length(${x}) END`,
  ]);
  // The body on lines of its own: a -- comment inside it cannot reach the closing parenthesis.
  return `WITH ${CTE}(${c.join(', ')}) AS (\n${withoutTail(sql, tokens)}\n)\nSELECT ${select.join(', ')} FROM ${CTE}`;
}

/** A value as JSON can carry it: integers beyond 2^53 as strings, blobs as base64. */
export function jsonValue(v: unknown): unknown {
  if (typeof v === 'bigint') return v.toString();
  if (Buffer.isBuffer(v)) return { base64: v.toString('base64') };
  return v;
}

/** A row of the wrapped statement (value, marker pairs) as the original statement's row, and its omissions. */
export function guardedRow(
  raw: unknown[],
  names: string[],
): { row: Record<string, unknown>; omitted: number } {
  const row: Record<string, unknown> = {};
  let omitted = 0;
  names.forEach((name, i) => {
    const marker = raw[2 * i + 1];
    if (typeof marker === 'string') {
      const [type, bytes] = marker.split(':');
      row[name] = { omitted: type, bytes: Number(bytes) };
      omitted++;
    } else {
      row[name] = jsonValue(raw[2 * i]);
    }
  });
  return { row, omitted };
}

export const rowLimitNote = (maxRows: number) =>
  `stopped at the row limit of ${maxRows} rows (maxRows, capped by DATABASE_MAX_ROWS): add a WHERE or LIMIT, or page with LIMIT and OFFSET`;

export const byteLimitNote = (rows: number, maxResultBytes: number) =>
  `stopped after ${rows} rows: the next row would take the result past the size limit of ${maxResultBytes} bytes (DATABASE_MAX_RESULT_BYTES): select fewer or smaller columns (length(col), substr(col, 1, 200)) or fewer rows (WHERE, LIMIT)`;

export const omittedNote = (values: number) =>
  `${values} value(s) too large to return were replaced by {omitted: type, bytes}: read them in parts with substr(col, start, length)`;
