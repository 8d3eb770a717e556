// Who imports whom, read with the TypeScript compiler's parser (never with regexes: comments, strings and
// templates are the parser's to tell apart). A module reference is any way a file makes Node load another:
// `import` (type-only ones too: they are counted, a dependency on a file's types is still one on the file),
// `export … from`, `import('…')` and `import type`/`typeof import('…')` types, and `new URL('./x.ts',
// import.meta.url)`, the way a file names a module it starts as a child process. Relative references resolve to
// repo-relative paths; the graph's closure is the set of files a set of entry points needs.
import { posix } from 'node:path';
import ts from 'typescript';
import type { SourceTree } from './source-tree.ts';

export interface ModuleReference {
  /** What the file wrote (`node:fs`, `../x.ts`, a package name); null for an `import()` of a computed value. */
  spec: string | null;
  /** The repo-relative file a relative `spec` names; null for built-ins, packages and computed imports. */
  target: string | null;
  how: 'import' | 'export' | 'dynamic' | 'url';
  /** Erased when Node strips types (`import type`, `typeof import()`): counted all the same. */
  typeOnly: boolean;
  /** 1-based line of the reference, for messages. */
  line: number;
}

/** What the rules need of a parse: the code, not its JSDoc (skipping JSDoc is much of the parser's time). */
const PARSE: ts.CreateSourceFileOptions = {
  languageVersion: ts.ScriptTarget.Latest,
  jsDocParsingMode: ts.JSDocParsingMode.ParseNone,
};

/** A parsed TypeScript file; `parents` links each node to its parent (for asking where a node stands). */
export function parseSource(path: string, text: string, parents = false): ts.SourceFile {
  return ts.createSourceFile(path, text, PARSE, parents, ts.ScriptKind.TS);
}

const literal = (n: ts.Node | undefined): string | null =>
  n && (ts.isStringLiteral(n) || ts.isNoSubstitutionTemplateLiteral(n)) ? n.text : null;

const isImportMetaUrl = (n: ts.Node | undefined): boolean =>
  n !== undefined &&
  ts.isPropertyAccessExpression(n) &&
  n.name.text === 'url' &&
  ts.isMetaProperty(n.expression) &&
  n.expression.keywordToken === ts.SyntaxKind.ImportKeyword;

/** Every module reference of one file, in the order written. */
export function moduleReferences(path: string, text: string): ModuleReference[] {
  const sf = parseSource(path, text);
  const out: ModuleReference[] = [];
  const add = (node: ts.Node, spec: string | null, how: ModuleReference['how'], typeOnly: boolean) => {
    const target = spec?.startsWith('.') ? posix.normalize(posix.join(posix.dirname(path), spec)) : null;
    const line = sf.getLineAndCharacterOfPosition(node.getStart(sf)).line + 1;
    out.push({ spec, target, how, typeOnly, line });
  };
  const visit = (node: ts.Node): void => {
    if (ts.isImportDeclaration(node)) {
      const typeOnly =
        node.importClause?.isTypeOnly === true ||
        (node.importClause !== undefined &&
          node.importClause.name === undefined &&
          node.importClause.namedBindings !== undefined &&
          ts.isNamedImports(node.importClause.namedBindings) &&
          node.importClause.namedBindings.elements.length > 0 &&
          node.importClause.namedBindings.elements.every((e) => e.isTypeOnly));
      add(node, literal(node.moduleSpecifier), 'import', typeOnly);
    } else if (ts.isExportDeclaration(node) && node.moduleSpecifier) {
      add(node, literal(node.moduleSpecifier), 'export', node.isTypeOnly);
    } else if (ts.isImportEqualsDeclaration(node) && ts.isExternalModuleReference(node.moduleReference)) {
      add(node, literal(node.moduleReference.expression), 'import', node.isTypeOnly);
    } else if (ts.isImportTypeNode(node)) {
      const arg = node.argument;
      add(node, ts.isLiteralTypeNode(arg) ? literal(arg.literal) : null, 'dynamic', true);
    } else if (ts.isCallExpression(node) && node.expression.kind === ts.SyntaxKind.ImportKeyword) {
      add(node, literal(node.arguments[0]), 'dynamic', false);
    } else if (
      ts.isNewExpression(node) &&
      ts.isIdentifier(node.expression) &&
      node.expression.text === 'URL'
    ) {
      const spec = literal(node.arguments?.[0]);
      // Only module files: `new URL('../../', import.meta.url)` names a folder, not code.
      if (spec?.startsWith('.') && /\.[cm]?[jt]s$/.test(spec) && isImportMetaUrl(node.arguments?.[1]))
        add(node, spec, 'url', false);
    }
    ts.forEachChild(node, visit);
  };
  visit(sf);
  return out;
}

export interface ImportGraph {
  /** The references of a file of the tree (parsed once). */
  references(file: string): ModuleReference[];
  /**
   * The files `entries` need: the entries and every file they reach through relative references, sorted. A
   * reference to a file the tree does not hold is an error naming the file, its line and the missing target.
   */
  closure(entries: readonly string[]): string[];
}

export function importGraph(tree: SourceTree): ImportGraph {
  const known = new Set(tree.files);
  const cache = new Map<string, ModuleReference[]>();
  const references = (file: string) => {
    let refs = cache.get(file);
    if (!refs) {
      refs = moduleReferences(file, tree.read(file));
      cache.set(file, refs);
    }
    return refs;
  };
  const closure = (entries: readonly string[]) => {
    const seen = new Set<string>();
    const queue = [...entries];
    for (let file = queue.shift(); file !== undefined; file = queue.shift()) {
      if (seen.has(file)) continue;
      if (!known.has(file)) throw new Error(`${file}: an entry point that is not a file of the tree`);
      seen.add(file);
      for (const ref of references(file)) {
        if (ref.target === null) continue;
        if (!known.has(ref.target))
          throw new Error(`${file}:${ref.line} references ${ref.spec}, and there is no file ${ref.target}`);
        queue.push(ref.target);
      }
    }
    return [...seen].sort();
  };
  return { references, closure };
}
