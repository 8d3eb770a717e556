import { describe, expect, it } from 'vitest';
import { statements, tokenize, withoutTail } from './sql-lexer.ts';

const values = (sql: string) => tokenize(sql).map((t) => `${t.kind}:${t.value}`);

describe('tokenize', () => {
  it('drops comments and blanks, lower-cases words, unquotes names and strings', () => {
    expect(values("VaCuUm/* x */\n--y\n\tINTO 'a''b'")).toEqual(['word:vacuum', 'word:into', "string:a'b"]);
    expect(values('"Quoted ""Name""" [Br Acket] `Back`')).toEqual([
      'name:quoted "name"',
      'name:br acket',
      'name:back',
    ]);
    expect(values('x = ?1 AND y = :name AND z = 1.5e3;')).toEqual([
      'word:x',
      'punct:=',
      'param:?1',
      'word:and',
      'word:y',
      'punct:=',
      'param::name',
      'word:and',
      'word:z',
      'punct:=',
      'number:1.5e3',
      'punct:;',
    ]);
  });

  it('runs an unterminated comment or quote to the end, as SQLite does', () => {
    expect(values('SELECT 1 /* open')).toEqual(['word:select', 'number:1']);
    expect(values("SELECT 'open")).toEqual(['word:select', 'string:open']);
    expect(values('SELECT 1 -- no newline')).toEqual(['word:select', 'number:1']);
  });

  it('does not see keywords inside strings, names or comments', () => {
    expect(values('SELECT \'attach\' AS "vacuum" -- into')).toEqual([
      'word:select',
      'string:attach',
      'word:as',
      'name:vacuum',
    ]);
  });
});

describe('statements and withoutTail', () => {
  it('splits at semicolons outside strings', () => {
    expect(statements(tokenize("SELECT ';'; ATTACH x;;")).map((s) => s.map((t) => t.value))).toEqual([
      ['select', ';'],
      ['attach', 'x'],
    ]);
  });

  const split = (sql: string) => statements(tokenize(sql)).map((s) => s.map((t) => t.value).join(' '));

  it('keeps a trigger together: its body ends at the END right after a `;`, not at a CASE or column end', () => {
    expect(
      split(
        'CREATE TRIGGER tr AFTER INSERT ON t WHEN CASE new.a WHEN 1 THEN 1 END BEGIN UPDATE t SET end = CASE WHEN 1 THEN 2 END; DELETE FROM u; END; BEGIN; END',
      ),
    ).toEqual([
      'create trigger tr after insert on t when case new . a when 1 then 1 end begin update t set end = case when 1 then 2 end ; delete from u ; end',
      'begin',
      'end',
    ]);
    expect(
      split('explain query plan create temp trigger x before delete on t begin select 1; end commit'),
    ).toEqual(['explain query plan create temp trigger x before delete on t begin select 1 ; end', 'commit']);
    // Not a trigger: split at each `;` as before.
    expect(split('CREATE TABLE trigger_log (x); END')).toEqual(['create table trigger_log ( x )', 'end']);
  });

  it('removes trailing semicolons, comments and blanks, nothing else', () => {
    expect(withoutTail('SELECT 1;;  -- done\n; /* x */ ')).toBe('SELECT 1');
    expect(withoutTail("SELECT ';' -- c")).toBe("SELECT ';'");
    expect(withoutTail('SELECT 1 /* open')).toBe('SELECT 1');
    expect(withoutTail('-- only')).toBe('');
  });
});
