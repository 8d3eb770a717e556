// SQLite's tokens, as far as the rules need them: words (keywords and bare names, lower-cased), quoted names
// ("x", [x], `x`, unquoted), strings ('x'), numbers, parameters (?1, :name, @name, $name) and single punctuation
// characters. Comments and whitespace are dropped, so a rule sees `VACUUM/**/INTO` as `vacuum`, `into`.
// Follows SQLite's tokenizer (tokenize.c): -- comments run to the end of the line, an unterminated /* comment or
// quote runs to the end of the text.

export interface Token {
  kind: 'word' | 'name' | 'string' | 'number' | 'param' | 'punct';
  /** Words lower-cased; quoted names and strings unquoted (names lower-cased: SQLite compares them so). */
  value: string;
  start: number;
  end: number;
}

const isIdStart = (c: string) => /[A-Za-z_]/.test(c) || c.charCodeAt(0) >= 0x80;
const isIdChar = (c: string) => /[A-Za-z0-9_$]/.test(c) || c.charCodeAt(0) >= 0x80;

/** Where a quoted token that starts at `i` ends (after its closing quote; doubled quotes are escapes). */
function quoted(sql: string, i: number, close: string, doubled: boolean): number {
  let j = i + 1;
  for (;;) {
    const k = sql.indexOf(close, j);
    if (k < 0) return sql.length;
    if (doubled && sql[k + 1] === close) {
      j = k + 2;
      continue;
    }
    return k + 1;
  }
}

export function tokenize(sql: string): Token[] {
  const tokens: Token[] = [];
  let i = 0;
  while (i < sql.length) {
    const c = sql[i] as string;
    const start = i;
    if (/\s/.test(c)) {
      i++;
    } else if (c === '-' && sql[i + 1] === '-') {
      const nl = sql.indexOf('\n', i);
      i = nl < 0 ? sql.length : nl + 1;
    } else if (c === '/' && sql[i + 1] === '*') {
      const close = sql.indexOf('*/', i + 2);
      i = close < 0 ? sql.length : close + 2;
    } else if (c === "'" || c === '"' || c === '`' || c === '[') {
      const close = c === '[' ? ']' : c;
      i = quoted(sql, i, close, c !== '[');
      const inner = sql.slice(start + 1, sql[i - 1] === close && i - 1 > start ? i - 1 : i);
      const value = c === '[' ? inner : inner.replaceAll(close + close, close);
      tokens.push(
        c === "'"
          ? { kind: 'string', value, start, end: i }
          : { kind: 'name', value: value.toLowerCase(), start, end: i },
      );
    } else if (isIdStart(c)) {
      while (i < sql.length && isIdChar(sql[i] as string)) i++;
      tokens.push({ kind: 'word', value: sql.slice(start, i).toLowerCase(), start, end: i });
    } else if (/[0-9]/.test(c) || (c === '.' && /[0-9]/.test(sql[i + 1] ?? ''))) {
      i++;
      while (i < sql.length && /[0-9A-Za-z_.]/.test(sql[i] as string)) i++;
      tokens.push({ kind: 'number', value: sql.slice(start, i), start, end: i });
    } else if (c === '?' || c === ':' || c === '@' || c === '$') {
      i++;
      while (i < sql.length && isIdChar(sql[i] as string)) i++;
      tokens.push({ kind: 'param', value: sql.slice(start, i), start, end: i });
    } else {
      i++;
      tokens.push({ kind: 'punct', value: c, start, end: i });
    }
  }
  return tokens;
}

const isSemi = (t: Token | undefined) => t?.kind === 'punct' && t.value === ';';

/** Whether a statement's tokens start with [EXPLAIN [QUERY PLAN]] CREATE [TEMP | TEMPORARY] TRIGGER. */
function opensTrigger(stmt: Token[]): boolean {
  const w = stmt.slice(0, 6).map((t) => (t.kind === 'word' ? t.value : ''));
  let i = 0;
  if (w[0] === 'explain') i = w[1] === 'query' && w[2] === 'plan' ? 3 : 1;
  if (w[i] !== 'create') return false;
  if (w[i + 1] === 'temp' || w[i + 1] === 'temporary') i++;
  return w[i + 1] === 'trigger';
}

/**
 * The tokens of each statement: split at `;`, except inside a trigger. A CREATE TRIGGER statement runs to the END
 * that closes its body: in SQLite's grammar every statement of the body ends with `;`, so that END is the first
 * one right after a `;` (as sqlite3_complete() has it). A CASE's END never follows a `;`, and counting CASE ... END
 * would not do: `end` is also a valid bare column name (`UPDATE t SET end = 1`).
 */
export function statements(tokens: Token[]): Token[][] {
  const out: Token[][] = [];
  let stmt: Token[] = [];
  const close = () => {
    if (stmt.length > 0) out.push(stmt);
    stmt = [];
  };
  for (let k = 0; k < tokens.length; k++) {
    const t = tokens[k] as Token;
    if (!isSemi(t)) stmt.push(t);
    else if (!opensTrigger(stmt)) close();
    else {
      stmt.push(t);
      const next = tokens[k + 1];
      if (next?.kind === 'word' && next.value === 'end') {
        stmt.push(next);
        k++;
        close();
      }
    }
  }
  close();
  return out;
}

/** The SQL up to its last token that is not a `;`: trailing semicolons, comments and blanks removed. */
export function withoutTail(sql: string, tokens: Token[] = tokenize(sql)): string {
  for (let k = tokens.length - 1; k >= 0; k--) {
    const t = tokens[k] as Token;
    if (!(t.kind === 'punct' && t.value === ';')) return sql.slice(0, t.end);
  }
  return '';
}
