/**
 * Every module specifier a source file names, read with the TypeScript parser rather than a
 * regular expression, so that comments, strings and template text that merely contain
 * `import(` are never mistaken for imports, and `import type` is told from a value import the
 * way the compiler tells it (an import whose bindings are all `type` is erased at run time).
 */
import { promises as fs, existsSync } from 'node:fs';
import { builtinModules } from 'node:module';
import path from 'node:path';
import ts from 'typescript';

/** Where an import leads: a file under src, a node builtin, or an npm package. */
export type ImportTarget =
  | { kind: 'src'; path: string }
  | { kind: 'builtin' }
  | { kind: 'package'; name: string; bundled?: true }
  | { kind: 'unresolved' };

export interface ImportRecord {
  /** The importing file, relative to src, with forward slashes. */
  file: string;
  line: number;
  specifier: string;
  /** 'type' when the import is erased by the compiler; 'value' when it exists at run time. */
  kind: 'type' | 'value';
  target: ImportTarget;
}

/** The .ts files under `dir`, relative to it with forward slashes, sorted so reports are stable. */
export async function listSourceFiles(dir: string, prefix = ''): Promise<string[]> {
  const files: string[] = [];
  for (const entry of await fs.readdir(path.join(dir, prefix), { withFileTypes: true })) {
    const rel = prefix === '' ? entry.name : `${prefix}/${entry.name}`;
    if (entry.isDirectory()) files.push(...(await listSourceFiles(dir, rel)));
    else if (entry.isFile() && entry.name.endsWith('.ts') && !entry.name.endsWith('.d.ts')) files.push(rel);
  }
  return files.sort();
}

/** Resolves a specifier the way NodeNext does for this tree: `./x.js` names `./x.ts`. */
export function resolveTarget(srcDir: string, file: string, specifier: string): ImportTarget {
  if (specifier.startsWith('.')) {
    const base = path.resolve(srcDir, path.dirname(file), specifier);
    const candidates = [base.replace(/\.js$/, '.ts'), base, `${base}.ts`, path.join(base, 'index.ts')];
    const found = candidates.find((c) => c.startsWith(srcDir + path.sep) && existsSync(c) && !c.endsWith(path.sep));
    if (found === undefined) return { kind: 'unresolved' };
    return { kind: 'src', path: path.relative(srcDir, found).split(path.sep).join('/') };
  }
  if (specifier.startsWith('node:') || builtinModules.includes(specifier)) return { kind: 'builtin' };
  // package.json "imports": `#<package>` is that package bundled into one file (see scripts/bundle-*.ts).
  if (specifier.startsWith('#')) return { kind: 'package', name: specifier.slice(1), bundled: true };
  const parts = specifier.split('/');
  return { kind: 'package', name: specifier.startsWith('@') ? parts.slice(0, 2).join('/') : parts[0]! };
}

/** True when every named binding is `type`-qualified, so the compiler drops the statement. */
function allBindingsAreTypes(elements: ts.NodeArray<ts.ImportSpecifier | ts.ExportSpecifier>): boolean {
  return elements.length > 0 && elements.every((e) => e.isTypeOnly);
}

function importDeclarationKind(node: ts.ImportDeclaration): 'type' | 'value' {
  const clause = node.importClause;
  if (clause === undefined) return 'value'; // `import './x.js'` runs the module.
  if (clause.isTypeOnly) return 'type';
  if (clause.name !== undefined) return 'value';
  const bindings = clause.namedBindings;
  if (bindings !== undefined && ts.isNamedImports(bindings) && allBindingsAreTypes(bindings.elements)) return 'type';
  return 'value';
}

function exportDeclarationKind(node: ts.ExportDeclaration): 'type' | 'value' {
  if (node.isTypeOnly) return 'type';
  const clause = node.exportClause;
  if (clause !== undefined && ts.isNamedExports(clause) && allBindingsAreTypes(clause.elements)) return 'type';
  return 'value';
}

/** The imports of one file's text: static, re-exports, dynamic `import()`, `import('x').T` types and `require()`. */
export function parseImports(srcDir: string, file: string, text: string): ImportRecord[] {
  const source = ts.createSourceFile(file, text, ts.ScriptTarget.Latest, true, ts.ScriptKind.TS);
  const records: ImportRecord[] = [];
  const add = (node: ts.Node, specifierNode: ts.Node | undefined, kind: 'type' | 'value') => {
    if (specifierNode === undefined || !ts.isStringLiteralLike(specifierNode)) return;
    const specifier = specifierNode.text;
    const line = source.getLineAndCharacterOfPosition(node.getStart(source)).line + 1;
    records.push({ file, line, specifier, kind, target: resolveTarget(srcDir, file, specifier) });
  };
  const visit = (node: ts.Node): void => {
    if (ts.isImportDeclaration(node)) add(node, node.moduleSpecifier, importDeclarationKind(node));
    else if (ts.isExportDeclaration(node)) add(node, node.moduleSpecifier, exportDeclarationKind(node));
    else if (ts.isImportEqualsDeclaration(node) && ts.isExternalModuleReference(node.moduleReference)) {
      add(node, node.moduleReference.expression, node.isTypeOnly ? 'type' : 'value');
    } else if (ts.isImportTypeNode(node)) {
      const arg = node.argument;
      if (ts.isLiteralTypeNode(arg)) add(node, arg.literal, 'type');
    } else if (ts.isCallExpression(node)) {
      const callee = node.expression;
      const isDynamicImport = callee.kind === ts.SyntaxKind.ImportKeyword;
      const isRequire = ts.isIdentifier(callee) && callee.text === 'require';
      if (isDynamicImport || isRequire) add(node, node.arguments[0], 'value');
    }
    ts.forEachChild(node, visit);
  };
  visit(source);
  return records;
}

/** Every import of every .ts file under `srcDir`. */
export async function readSourceImports(srcDir: string): Promise<ImportRecord[]> {
  const files = await listSourceFiles(srcDir);
  const all = await Promise.all(files.map(async (f) => parseImports(srcDir, f, await fs.readFile(path.join(srcDir, f), 'utf8'))));
  return all.flat();
}
