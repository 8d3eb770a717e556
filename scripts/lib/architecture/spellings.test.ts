// What counts as spelling a name: keys, value references and string text; never comments or a variable's own name.
import { describe, expect, it } from 'vitest';
import { spellings } from './spellings.ts';

const of = (text: string, kind: string) =>
  spellings('x.ts', text)
    .filter((s) => s.kind === kind)
    .map((s) => `${s.line}:${s.value}`);

describe('spellings', () => {
  it('keys: member access, object keys, shorthand, type members and destructuring, not variable names', () => {
    const text = [
      'const resourceSpans = 1;',
      'const a = { scopeLogs: 1, resourceSpans };',
      'type T = { items: number };',
      'const { kind, other: renamed } = a.spans as never;',
    ].join('\n');
    expect(of(text, 'key')).toEqual([
      '2:scopeLogs',
      '2:resourceSpans',
      '3:items',
      '4:kind',
      '4:other',
      '4:spans',
    ]);
  });
  it('references: values in scope and globalThis members, not members of other objects or keys', () => {
    const text = 'fetch(u);\nglobalThis.fetch(u);\nclient.fetch(u);\nconst o = { fetch: 1 };\n// fetch(u)';
    expect(of(text, 'reference').filter((s) => s.endsWith('fetch'))).toEqual(['1:fetch', '2:fetch']);
  });
  it('text: strings and each literal part of a template; comments are not text', () => {
    // A template's source, written with `$` apart so it is not read as one here.
    const text = `// '/api/traces'\nconst u = \`$\{base}/api/traces?x=$\{q}&y\`;\nconst f = 'metadata.json';`;
    expect(of(text, 'text')).toEqual(['2:', '2:/api/traces?x=', '2:&y', '3:metadata.json']);
  });
});
