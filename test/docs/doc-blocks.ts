// Finds the TypeScript and JavaScript code blocks of the Markdown docs, with the
// `<!-- check: … -->` annotation that may precede each one (docs/writing-docs.md).
import { readFileSync } from 'node:fs';
import { join } from 'node:path';

/** Fence languages whose blocks are compiled; every other fence (sh, plain text) is prose. */
export const CHECKED_LANGUAGES: ReadonlySet<string> = new Set(['ts', 'typescript', 'js', 'javascript']);

export type BlockCheck =
  /** Type-check with these preludes in front; `run`: then execute it too. */
  { kind: 'check'; preludes: string[]; run: boolean } | { kind: 'skip'; reason: string };

export interface DocBlock {
  /** The Markdown file, relative to the repository root (`docs/guide.md`). */
  file: string;
  /** 1-based line, in `file`, of the block's first line of code (the line after the fence). */
  line: number;
  lang: string;
  code: string;
  check: BlockCheck;
}

export interface DocBlocks {
  blocks: DocBlock[];
  /** Malformed or misplaced annotations, as `file:line message`. */
  problems: string[];
}

const FENCE = /^(\s*)(`{3,}|~{3,})\s*([^\s`]*)/;
const ANNOTATION = /^\s*<!--\s*check:(.*?)-->\s*$/;
const MIN_SKIP_REASON = 10;

/** Parses what follows `check:`; a string is the problem with it. */
export function parseCheck(text: string): BlockCheck | string {
  const words = text.trim().split(/\s+/).filter(Boolean);
  if (words[0] === 'skip') {
    const reason = words.slice(1).join(' ');
    return reason.length >= MIN_SKIP_REASON
      ? { kind: 'skip', reason }
      : `"skip" needs a reason of at least ${MIN_SKIP_REASON} characters ("skip <why this is not TypeScript>")`;
  }
  const check: BlockCheck = { kind: 'check', preludes: [], run: false };
  for (const word of words) {
    const prelude = /^prelude=([\w-]+(?:,[\w-]+)*)$/.exec(word);
    if (prelude) check.preludes.push(...prelude[1]!.split(','));
    else if (word === 'run') check.run = true;
    else return `unknown directive "${word}" (expected prelude=<name>[,<name>…], run, or skip <reason>)`;
  }
  return check;
}

/** Extracts the checked blocks of one Markdown text. */
export function extractBlocks(file: string, markdown: string): DocBlocks {
  const lines = markdown.split(/\r?\n/);
  const blocks: DocBlock[] = [];
  const problems: string[] = [];
  let pending: { line: number; check: BlockCheck } | undefined;

  for (let i = 0; i < lines.length; i++) {
    const text = lines[i]!;
    const annotation = ANNOTATION.exec(text);
    if (annotation) {
      if (pending)
        problems.push(`${file}:${pending.line} annotation is not followed by a checked code block`);
      const check = parseCheck(annotation[1]!);
      if (typeof check === 'string') problems.push(`${file}:${i + 1} ${check}`);
      else pending = { line: i + 1, check };
      continue;
    }
    const fence = FENCE.exec(text);
    if (!fence) {
      if (pending && text.trim() !== '') {
        problems.push(`${file}:${pending.line} annotation is not followed by a checked code block`);
        pending = undefined;
      }
      continue;
    }
    const [, indent, marker, lang] = fence as unknown as [string, string, string, string];
    const close = new RegExp(`^\\s*${marker[0]}{${marker.length},}\\s*$`);
    let end = i + 1;
    while (end < lines.length && !close.test(lines[end]!)) end++;
    const body = lines
      .slice(i + 1, end)
      .map((line) => (line.startsWith(indent) ? line.slice(indent.length) : line));
    const language = lang.toLowerCase();
    if (CHECKED_LANGUAGES.has(language)) {
      const check = pending?.check ?? { kind: 'check', preludes: [], run: false };
      blocks.push({ file, line: i + 2, lang: language, code: body.join('\n'), check });
    } else if (pending) {
      problems.push(
        `${file}:${pending.line} annotation precedes a \`${lang || 'plain'}\` block, which is never checked`,
      );
    }
    pending = undefined;
    i = end;
  }
  if (pending) problems.push(`${file}:${pending.line} annotation is not followed by a checked code block`);
  return { blocks, problems };
}

/** Extracts the checked blocks of several Markdown files (paths relative to `root`). */
export function extractDocBlocks(root: string, files: readonly string[]): DocBlocks {
  const all: DocBlocks = { blocks: [], problems: [] };
  for (const file of files) {
    const { blocks, problems } = extractBlocks(file, readFileSync(join(root, file), 'utf8'));
    all.blocks.push(...blocks);
    all.problems.push(...problems);
  }
  return all;
}
