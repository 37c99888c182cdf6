// Type-checks doc code blocks in process: one TypeScript Program for all of them, each block
// (behind its preludes) a virtual module, with `busline`, `busline/redis`… resolved to src/.
import { dirname, join, relative, resolve } from 'node:path';
import ts from 'typescript';
import type { DocBlock } from './doc-blocks.js';

export interface Prelude {
  /** What the prelude provides, for docs/writing-docs.md and failure messages. */
  about: string;
  /** TypeScript put in front of the block. Alias its imports (`EventBus as _EventBus`) so they cannot clash. */
  code: string;
  /** Whether it is real code (not only `declare`s), so that blocks using it can `run`. */
  runnable: boolean;
}

/** A block as the compiler sees it: its preludes, then its code, as one module. */
export interface BlockModule {
  block: DocBlock;
  /** Absolute path of the virtual file (it never exists on disk). */
  fileName: string;
  text: string;
  /** How many lines of `text` come before the block's first line. */
  preludeLines: number;
}

export interface CheckerSetup {
  root: string;
  preludes: Readonly<Record<string, Prelude>>;
  /** Bare specifier → absolute path of its source entry (`busline/sse` → …/src/sse/index.ts). */
  modules: Readonly<Record<string, string>>;
  /** Modules a block imports as the reader's own files (`./my-store.js`): file name in BLOCKS_DIR → code. */
  stubs: Readonly<Record<string, string>>;
}

/** Where virtual block files live: relative imports in preludes are written from here. */
export const BLOCKS_DIR = 'test/docs/blocks';

/** Builds each block's module; a string instead is the problem (an unknown prelude, a skipped block). */
export function blockModule(block: DocBlock, setup: CheckerSetup): BlockModule | string {
  if (block.check.kind === 'skip') return `${block.file}:${block.line} is skipped: ${block.check.reason}`;
  const parts: string[] = [];
  for (const name of block.check.preludes) {
    const prelude = setup.preludes[name];
    if (!prelude) return `${block.file}:${block.line} unknown prelude "${name}" (see test/docs/preludes.ts)`;
    if (block.check.run && !prelude.runnable) {
      return `${block.file}:${block.line} prelude "${name}" only declares types: the block cannot "run"`;
    }
    parts.push(prelude.code.trim());
  }
  const prelude = parts.join('\n');
  const preludeLines = prelude === '' ? 0 : prelude.split('\n').length;
  const extension = block.lang.startsWith('j') ? 'mjs' : 'mts';
  const slug = block.file.replace(/[^\w]+/g, '-');
  return {
    block,
    fileName: resolve(setup.root, BLOCKS_DIR, `${slug}-L${block.line}.${extension}`),
    // `export {}` makes every block a module: top-level await works, names stay local.
    text: `${preludeLines === 0 ? '' : `${prelude}\n`}${block.code}\nexport {};\n`,
    preludeLines,
  };
}

/** Compiler options: the project's tsconfig, with the package's entry points mapped to src/. */
export function compilerOptions(setup: CheckerSetup): ts.CompilerOptions {
  const configPath = join(setup.root, 'tsconfig.json');
  const config = ts.readConfigFile(configPath, ts.sys.readFile);
  if (config.error) throw new Error(ts.flattenDiagnosticMessageText(config.error.messageText, '\n'));
  const parsed = ts.parseJsonConfigFileContent(config.config, ts.sys, setup.root, undefined, configPath);
  const paths = Object.fromEntries(Object.entries(setup.modules).map(([name, file]) => [name, [file]]));
  return { ...parsed.options, noEmit: true, allowJs: true, checkJs: true, paths };
}

/** Type-checks every module in one Program; returns the errors of each, mapped to doc lines. */
export function typeCheckBlocks(
  modules: readonly BlockModule[],
  setup: CheckerSetup,
): Map<BlockModule, string[]> {
  const options = compilerOptions(setup);
  const byFile = new Map(modules.map((module) => [module.fileName, module]));
  const stubs = new Map(
    Object.entries(setup.stubs).map(([name, code]) => [resolve(setup.root, BLOCKS_DIR, name), code]),
  );
  const host = ts.createCompilerHost(options, true);
  const { fileExists, readFile, getSourceFile } = host;
  const virtual = (fileName: string) => byFile.get(fileName)?.text ?? stubs.get(fileName);
  const blocksDir = resolve(setup.root, BLOCKS_DIR);
  const { directoryExists } = host;
  host.directoryExists = (name) =>
    name === blocksDir || (directoryExists?.call(host, name) ?? ts.sys.directoryExists(name));
  host.fileExists = (fileName) => virtual(fileName) !== undefined || fileExists.call(host, fileName);
  host.readFile = (fileName) => virtual(fileName) ?? readFile.call(host, fileName);
  host.getSourceFile = (fileName, languageVersion, onError, shouldCreate) => {
    const text = virtual(fileName);
    return text !== undefined
      ? ts.createSourceFile(fileName, text, languageVersion, true)
      : getSourceFile.call(host, fileName, languageVersion, onError, shouldCreate);
  };
  const program = ts.createProgram([...byFile.keys()], options, host);

  const errors = new Map<BlockModule, string[]>(modules.map((module) => [module, []]));
  const elsewhere: string[] = [];
  for (const diagnostic of ts.getPreEmitDiagnostics(program)) {
    if (diagnostic.category !== ts.DiagnosticCategory.Error) continue;
    const module = diagnostic.file && byFile.get(diagnostic.file.fileName);
    if (module) errors.get(module)!.push(describe(diagnostic, module));
    else elsewhere.push(describeElsewhere(diagnostic, setup.root));
  }
  // An error outside the blocks (src/, a prelude's import) fails every block: none was really checked.
  if (elsewhere.length > 0) for (const list of errors.values()) list.push(...elsewhere);
  return errors;
}

function describe(diagnostic: ts.Diagnostic, module: BlockModule): string {
  const message = ts.flattenDiagnosticMessageText(diagnostic.messageText, '\n');
  const { line, character } = diagnostic.file!.getLineAndCharacterOfPosition(diagnostic.start ?? 0);
  const where =
    line < module.preludeLines
      ? `${module.block.file}:${module.block.line} (prelude ${preludeNames(module)}, line ${line + 1})`
      : `${module.block.file}:${module.block.line + line - module.preludeLines}:${character + 1}`;
  return `${where} TS${diagnostic.code}: ${message}`;
}

function preludeNames(module: BlockModule): string {
  return module.block.check.kind === 'check' ? module.block.check.preludes.join(',') : '';
}

function describeElsewhere(diagnostic: ts.Diagnostic, root: string): string {
  const message = ts.flattenDiagnosticMessageText(diagnostic.messageText, '\n');
  if (!diagnostic.file) return `TS${diagnostic.code}: ${message}`;
  const { line, character } = diagnostic.file.getLineAndCharacterOfPosition(diagnostic.start ?? 0);
  return `${relative(root, diagnostic.file.fileName)}:${line + 1}:${character + 1} TS${diagnostic.code}: ${message}`;
}

/**
 * The module's text with every import specifier made absolute, so that it runs from a
 * temporary directory: `busline…` → its src entry, `./x.js` → resolved from BLOCKS_DIR.
 */
export function runnableText(module: BlockModule, setup: CheckerSetup): string {
  const source = ts.createSourceFile(module.fileName, module.text, ts.ScriptTarget.ES2022, true);
  const edits: { start: number; end: number; text: string }[] = [];
  const visit = (node: ts.Node): void => {
    const specifier =
      (ts.isImportDeclaration(node) || ts.isExportDeclaration(node)) && node.moduleSpecifier
        ? node.moduleSpecifier
        : ts.isCallExpression(node) && node.expression.kind === ts.SyntaxKind.ImportKeyword
          ? node.arguments[0]
          : undefined;
    if (specifier && ts.isStringLiteral(specifier)) {
      const target = setup.modules[specifier.text] ?? relativeTarget(specifier.text, module.fileName);
      if (target)
        edits.push({ start: specifier.getStart(source), end: specifier.end, text: JSON.stringify(target) });
    }
    ts.forEachChild(node, visit);
  };
  visit(source);
  let text = module.text;
  for (const edit of edits.reverse()) text = text.slice(0, edit.start) + edit.text + text.slice(edit.end);
  return text;
}

function relativeTarget(specifier: string, fileName: string): string | undefined {
  return specifier.startsWith('.') ? resolve(dirname(fileName), specifier) : undefined;
}
