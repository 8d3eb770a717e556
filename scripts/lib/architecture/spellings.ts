// What a file's code spells, read with the TypeScript compiler's parser: the member names (keys) it uses, the values
// it refers to, and the text of its strings and templates; comments are not code and never count. The rules of the form
// "only X spells Y" (the OTLP JSON shape, `fetch`, a backend's API paths, the record's file names) ask this.
import ts from 'typescript';
import { parseSource } from './import-graph.ts';

export interface Spelling {
  /**
   * `key`: a member's name (`a.key`, `{ key: … }`, `{ key }`, a type's member, a destructured key); `reference`: an
   * identifier used as a value that is not a member of something else (`fetch(…)`, `globalThis.fetch`); `text`: the
   * text of a string literal or of a template's literal parts. A variable's own name is neither.
   */
  kind: 'key' | 'reference' | 'text';
  value: string;
  /** 1-based line, for messages. */
  line: number;
}

/** Whether an identifier names a member of an object or type. */
function isKey(id: ts.Identifier): boolean {
  const p = id.parent;
  if (ts.isPropertyAccessExpression(p)) return p.name === id;
  if (ts.isShorthandPropertyAssignment(p)) return true;
  if (ts.isBindingElement(p)) return ts.isObjectBindingPattern(p.parent) && (p.propertyName ?? p.name) === id;
  if (
    ts.isPropertyAssignment(p) ||
    ts.isPropertySignature(p) ||
    ts.isPropertyDeclaration(p) ||
    ts.isMethodDeclaration(p) ||
    ts.isMethodSignature(p) ||
    ts.isGetAccessor(p) ||
    ts.isSetAccessor(p)
  )
    return p.name === id;
  return false;
}

/** Whether an identifier stands for a value of its scope (not a member name, a key, or a name being declared). */
function isReference(id: ts.Identifier): boolean {
  const p = id.parent;
  if (ts.isPropertyAccessExpression(p) && p.name === id) {
    return ts.isIdentifier(p.expression) && p.expression.text === 'globalThis';
  }
  if (ts.isQualifiedName(p)) return p.left === id;
  if (ts.isPropertyAssignment(p) || ts.isPropertySignature(p)) return p.name !== id;
  if (ts.isPropertyDeclaration(p) || ts.isMethodDeclaration(p) || ts.isMethodSignature(p))
    return p.name !== id;
  if (ts.isGetAccessor(p) || ts.isSetAccessor(p) || ts.isEnumMember(p)) return p.name !== id;
  if (ts.isImportSpecifier(p) || ts.isExportSpecifier(p) || ts.isImportClause(p)) return false;
  if (ts.isLabeledStatement(p) || ts.isBreakOrContinueStatement(p)) return false;
  if (ts.isBindingElement(p) && p.propertyName === id) return false;
  if (ts.isTypeReferenceNode(p) || ts.isTypeAliasDeclaration(p) || ts.isInterfaceDeclaration(p)) return false;
  if (ts.isTypeParameterDeclaration(p)) return false;
  return true;
}

/** Every spelling of one file (a shorthand `{ a }` is both a key and a reference). */
export function spellings(path: string, text: string): Spelling[] {
  const sf = parseSource(path, text, true);
  const out: Spelling[] = [];
  const line = (n: ts.Node) => sf.getLineAndCharacterOfPosition(n.getStart(sf)).line + 1;
  const visit = (node: ts.Node): void => {
    if (ts.isIdentifier(node)) {
      if (isKey(node)) out.push({ kind: 'key', value: node.text, line: line(node) });
      if (isReference(node)) out.push({ kind: 'reference', value: node.text, line: line(node) });
    } else if (
      ts.isStringLiteral(node) ||
      ts.isNoSubstitutionTemplateLiteral(node) ||
      ts.isTemplateHead(node) ||
      ts.isTemplateMiddle(node) ||
      ts.isTemplateTail(node)
    ) {
      out.push({ kind: 'text', value: node.text, line: line(node) });
    }
    ts.forEachChild(node, visit);
  };
  visit(sf);
  return out;
}
