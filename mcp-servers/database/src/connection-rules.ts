// The connections that run statements are shared: one write worker runs every client's writes, a pool of read
// workers every client's queries. A statement must not leave anything behind in its connection for the next
// client: an open transaction (later writes would land in it, and be lost when the worker is killed although they
// were reported done), a changed setting (PRAGMA foreign_keys = OFF, query_only, locking_mode = EXCLUSIVE,
// busy_timeout, cache_size, mmap_size ...), a TEMP trigger acting on the next client's writes. These rules decide
// from the tokens (sql-lexer.ts), before SQLite compiles anything, because compiling a PRAGMA that sets a value
// already sets it (sqlite3Pragma acts while generating code), on the server's checking connection too:
// - transaction control (BEGIN, COMMIT, END, ROLLBACK, SAVEPOINT, RELEASE) is refused: each call is a transaction
//   of its own (`transaction-refused`); the END closing a trigger's body is part of its CREATE TRIGGER
//   (statements() in sql-lexer.ts keeps a trigger together);
// - a query may run only the read-only PRAGMAs of READ_PRAGMAS, with an argument only where it names a table or
//   index (never `= value`); the write tool only the PRAGMAs of WRITE_PRAGMAS, which change the database file,
//   not the connection (`pragma-refused`). PRAGMA table functions (`pragma_table_info(...)`) follow the query's
//   list (a quoted `'pragma_x'` is one only where a table is named, not as a value); `pragma_database_list` and
//   `PRAGMA database_list` are refused: they show the database's absolute path;
// - TEMP tables, views, indexes and triggers are refused in writes (`temp-object-refused`): they live in the
//   connection, not the file.
// The write worker checks after each statement that no transaction is open and no TEMP object exists (db.ts), in
// case a form slipped past the tokens.
import { RuleError } from '@claude-code-telemetry/mcp-common/tool-result';
import { statements, type Token, tokenize } from './sql-lexer.ts';

export type ConnectionRule = 'transaction-refused' | 'pragma-refused' | 'temp-object-refused';

export class ConnectionRuleError extends RuleError<ConnectionRule> {}

/** Read-only PRAGMAs whose argument names a table or index (or a row count for the checks). */
const PRAGMAS_WITH_ARGUMENT = [
  'table_info',
  'table_xinfo',
  'table_list',
  'index_list',
  'index_info',
  'index_xinfo',
  'foreign_key_list',
  'foreign_key_check',
  'integrity_check',
  'quick_check',
];
/** Read-only PRAGMAs that only report (with an argument or `= value` most of them would set something). */
const PRAGMAS_WITHOUT_ARGUMENT = [
  'application_id',
  'collation_list',
  'compile_options',
  'data_version',
  'encoding',
  'foreign_keys',
  'freelist_count',
  'function_list',
  'journal_mode',
  'module_list',
  'page_count',
  'page_size',
  'pragma_list',
  'schema_version',
  'user_version',
];
/** The PRAGMAs a query may run (and the PRAGMA table functions it may use). */
export const READ_PRAGMAS: ReadonlySet<string> = new Set([
  ...PRAGMAS_WITH_ARGUMENT,
  ...PRAGMAS_WITHOUT_ARGUMENT,
]);
/** The PRAGMAs a write may run: they change the database file, not the connection's settings. */
export const WRITE_PRAGMAS: ReadonlySet<string> = new Set([
  'user_version',
  'application_id',
  'optimize',
  'incremental_vacuum',
]);

const TRANSACTION_WORDS = new Set(['begin', 'commit', 'end', 'rollback', 'savepoint', 'release']);

const isWord = (t: Token | undefined, ...words: string[]) => t?.kind === 'word' && words.includes(t.value);
const isPunct = (t: Token | undefined, c: string) => t?.kind === 'punct' && t.value === c;
/** A token SQLite may take as a name: a bare word, a quoted name, even a string ('x' in FROM 'x'). */
const nameOf = (t: Token | undefined) =>
  t && (t.kind === 'word' || t.kind === 'name' || t.kind === 'string') ? t.value.toLowerCase() : undefined;

/** Words that end a FROM clause (at its own depth of parentheses). */
const AFTER_FROM = new Set([
  'where',
  'group',
  'having',
  'window',
  'order',
  'limit',
  'union',
  'intersect',
  'except',
  'returning',
  'select',
  'values',
  'set',
  'do',
]);

/**
 * The tokens of `stmt` in a place where SQLite takes a table or table function: called (`x(...)`), after FROM,
 * JOIN, IN or a schema's `.`, or after a `,` of a FROM list. A string there is a name too (`FROM 'x'`); elsewhere it
 * is a value.
 */
function tablePlaces(stmt: Token[]): Set<Token> {
  const places = new Set<Token>();
  const inFrom = [false]; // per depth of parentheses: in a FROM list
  stmt.forEach((t, k) => {
    const prev = stmt[k - 1];
    const depth = inFrom.length - 1;
    if (isPunct(t, '(')) inFrom.push(false);
    else if (isPunct(t, ')')) {
      if (depth > 0) inFrom.pop();
    } else if (isPunct(t, ';')) inFrom.splice(0, inFrom.length, false);
    else if (isWord(t, 'from'))
      inFrom[depth] = !isWord(prev, 'distinct'); // not `a IS DISTINCT FROM b`
    else if (t.kind === 'word' && AFTER_FROM.has(t.value)) inFrom[depth] = false;
    if (
      isPunct(stmt[k + 1], '(') ||
      isWord(prev, 'from', 'join', 'in') ||
      isPunct(prev, '.') ||
      (isPunct(prev, ',') && inFrom[depth])
    ) {
      places.add(t);
    }
  });
  return places;
}

/**
 * `pragma_xxx` table functions other than those of READ_PRAGMAS: named as a bare word anywhere, or quoted (a name
 * or a string) where a table can be named; `INSERT INTO t VALUES ('pragma_x')` is a value.
 */
function refusePragmaFunctions(stmt: Token[]): void {
  const places = tablePlaces(stmt);
  for (const t of stmt) {
    const name = nameOf(t);
    if (
      name?.startsWith('pragma_') &&
      !READ_PRAGMAS.has(name.slice('pragma_'.length)) &&
      (t.kind === 'word' || places.has(t))
    ) {
      throw new ConnectionRuleError(
        'pragma-refused',
        `${name} is refused: the PRAGMA table functions allowed are those of the read-only PRAGMAs (${[...READ_PRAGMAS].map((p) => `pragma_${p}`).join(', ')})`,
      );
    }
  }
}

/** PRAGMA [schema.]name [= value | (value)], from its tokens; `first` is the index of the PRAGMA token. */
function refusePragma(stmt: Token[], first: number, tool: 'read' | 'write'): void {
  const dotted = isPunct(stmt[first + 2], '.');
  const nameToken = stmt[first + (dotted ? 3 : 1)];
  const name = nameOf(nameToken) ?? '';
  const rest = stmt.slice(first + (dotted ? 4 : 2));
  if (tool === 'write') {
    if (!WRITE_PRAGMAS.has(name)) {
      throw new ConnectionRuleError(
        'pragma-refused',
        `PRAGMA ${name} is refused: the write connection is shared, and a setting would stay for every later call; writes may run only PRAGMA ${[...WRITE_PRAGMAS].join(', ')}`,
      );
    }
    return;
  }
  if (!READ_PRAGMAS.has(name)) {
    throw new ConnectionRuleError(
      'pragma-refused',
      `PRAGMA ${name} is refused: queries may run only the read-only PRAGMAs ${[...READ_PRAGMAS].join(', ')}`,
    );
  }
  if (rest.length > 0 && !PRAGMAS_WITH_ARGUMENT.includes(name)) {
    throw new ConnectionRuleError(
      'pragma-refused',
      `PRAGMA ${name} with a value sets it, and queries only read: run PRAGMA ${name} alone`,
    );
  }
}

/**
 * Refuses what would leave state in the shared connection of `tool` (`read`: the query tool, `write`: execute),
 * from the tokens of every statement of `sql`, before anything is compiled.
 */
export function refuseConnectionState(sql: string, tool: 'read' | 'write'): void {
  for (const stmt of statements(tokenize(sql))) {
    let i = 0;
    if (isWord(stmt[i], 'explain')) i += isWord(stmt[i + 1], 'query') && isWord(stmt[i + 2], 'plan') ? 3 : 1;
    const first = stmt[i];
    if (first?.kind === 'word' && TRANSACTION_WORDS.has(first.value)) {
      throw new ConnectionRuleError(
        'transaction-refused',
        `${first.value.toUpperCase()} is refused: each call runs as a transaction of its own, on a connection shared with other clients (BEGIN, COMMIT, END, ROLLBACK, SAVEPOINT and RELEASE are refused)`,
      );
    }
    if (isWord(first, 'pragma')) refusePragma(stmt, i, tool);
    refusePragmaFunctions(stmt);
    if (tool === 'write' && isWord(first, 'create')) {
      const temp = stmt.some(
        (t, k) =>
          (k === i + 1 && isWord(t, 'temp', 'temporary')) ||
          (['temp', 'temporary'].includes(nameOf(t) ?? '') && isPunct(stmt[k + 1], '.')),
      );
      if (temp) {
        throw new ConnectionRuleError(
          'temp-object-refused',
          `TEMP tables, views, indexes and triggers are refused: they would live on in the shared write connection (a TEMP trigger would act on later clients' writes); create the object in the database itself`,
        );
      }
    }
  }
}
