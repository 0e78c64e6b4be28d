// Every export of every package has TSDoc: values (functions, classes, constants) with an @example,
// types with at least a description. Read with the TypeScript compiler, from each package's entry.
import { existsSync, readdirSync } from 'node:fs';
import { join } from 'node:path';
import ts from 'typescript';
import { describe, expect, it } from 'vitest';

const root = join(import.meta.dirname, '..', '..');
const entries = readdirSync(join(root, 'packages'))
  .map((name) => ({ name, file: join(root, 'packages', name, 'src', 'index.ts') }))
  .filter(({ file }) => existsSync(file));

const program = ts.createProgram(
  entries.map((e) => e.file),
  {
    target: ts.ScriptTarget.ES2022,
    module: ts.ModuleKind.ESNext,
    moduleResolution: ts.ModuleResolutionKind.Bundler,
    noEmit: true,
    allowJs: false,
  },
);
const checker = program.getTypeChecker();

function docOf(declaration: ts.Declaration): { text: string; hasExample: boolean } {
  // A variable's TSDoc sits on its statement.
  const node = ts.isVariableDeclaration(declaration) ? declaration.parent.parent : declaration;
  const jsDocs = (node as { jsDoc?: ts.JSDoc[] }).jsDoc ?? [];
  const text = jsDocs
    .map((d) => ts.getTextOfJSDocComment(d.comment) ?? '')
    .join(' ')
    .trim();
  const hasExample = ts.getJSDocTags(node).some((tag) => tag.tagName.text === 'example');
  return { text, hasExample };
}

function undocumented(file: string): string[] {
  const source = program.getSourceFile(file);
  if (!source) throw new Error(`not in the program: ${file}`);
  const moduleSymbol = checker.getSymbolAtLocation(source);
  if (!moduleSymbol) return [];
  const problems: string[] = [];
  for (const exported of checker.getExportsOfModule(moduleSymbol)) {
    const symbol = exported.flags & ts.SymbolFlags.Alias ? checker.getAliasedSymbol(exported) : exported;
    const declaration = symbol.declarations?.[0];
    if (!declaration) continue;
    const isValue =
      (symbol.flags & (ts.SymbolFlags.Function | ts.SymbolFlags.Class | ts.SymbolFlags.Variable)) !== 0;
    const { text, hasExample } = docOf(declaration);
    const where = `${exported.name} (${declaration.getSourceFile().fileName.slice(root.length + 1)})`;
    if (!text && !hasExample) problems.push(`${where}: no TSDoc`);
    else if (isValue && !hasExample) problems.push(`${where}: no @example`);
  }
  return problems;
}

describe('TSDoc on every export', () => {
  it.each(entries.map((e) => [e.name, e.file]))('@meshless/%s', (_name, file) => {
    expect(undocumented(file)).toEqual([]);
  });
});
