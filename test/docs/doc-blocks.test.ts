import { describe, expect, it } from 'vitest';
import { blockModule, type CheckerSetup } from './block-checker.js';
import { extractBlocks, parseCheck } from './doc-blocks.js';

const md = (...lines: string[]) => lines.join('\n');

describe('extractBlocks', () => {
  it('finds ts, typescript and js fences, with the line of their first line of code', () => {
    const { blocks, problems } = extractBlocks(
      'a.md',
      md(
        '# A',
        '```ts',
        'const a = 1;',
        '```',
        'text',
        '```TypeScript',
        'let b;',
        '```',
        '```js',
        'c();',
        '```',
      ),
    );
    expect(problems).toEqual([]);
    expect(blocks.map(({ line, lang, code }) => ({ line, lang, code }))).toEqual([
      { line: 3, lang: 'ts', code: 'const a = 1;' },
      { line: 7, lang: 'typescript', code: 'let b;' },
      { line: 10, lang: 'js', code: 'c();' },
    ]);
  });

  it('leaves other fences alone, also when they contain a ts fence', () => {
    const { blocks } = extractBlocks(
      'a.md',
      md('```sh', 'npm test', '```', '````md', '```ts', 'x', '```', '````'),
    );
    expect(blocks).toEqual([]);
  });

  it('takes indented fences (in a list) without their indentation, and ~~~ fences', () => {
    const { blocks } = extractBlocks(
      'a.md',
      md('- item', '  ```ts', '  if (a) {', '    b();', '  }', '  ```', '~~~ts', 'd', '~~~'),
    );
    expect(blocks.map((block) => block.code)).toEqual(['if (a) {\n  b();\n}', 'd']);
  });

  it('checks a block without annotation, with no prelude, and does not run it', () => {
    const [block] = extractBlocks('a.md', md('```ts', 'x', '```')).blocks;
    expect(block!.check).toEqual({ kind: 'check', preludes: [], run: false });
  });

  it('applies the annotation on the last non-blank line before the fence', () => {
    const { blocks, problems } = extractBlocks(
      'a.md',
      md(
        '<!-- check: prelude=bus,signal run -->',
        '',
        '```ts',
        'x',
        '```',
        '<!-- check: skip shell output, not code -->',
        '```ts',
        '$ y',
        '```',
      ),
    );
    expect(problems).toEqual([]);
    expect(blocks.map((block) => block.check)).toEqual([
      { kind: 'check', preludes: ['bus', 'signal'], run: true },
      { kind: 'skip', reason: 'shell output, not code' },
    ]);
  });

  it('reports an annotation that no checked block follows', () => {
    const { blocks, problems } = extractBlocks(
      'a.md',
      md(
        '<!-- check: run -->',
        'prose',
        '```ts',
        'x',
        '```',
        '<!-- check: run -->',
        '```sh',
        'ls',
        '```',
        '<!-- check: run -->',
      ),
    );
    expect(blocks[0]!.check).toEqual({ kind: 'check', preludes: [], run: false });
    expect(problems).toEqual([
      'a.md:1 annotation is not followed by a checked code block',
      'a.md:6 annotation precedes a `sh` block, which is never checked',
      'a.md:10 annotation is not followed by a checked code block',
    ]);
  });

  it('reports a malformed annotation, and still checks the block', () => {
    const { blocks, problems } = extractBlocks(
      'a.md',
      md('<!-- check: prelude=bus runn -->', '```ts', 'x', '```'),
    );
    expect(problems).toEqual([expect.stringMatching(/^a\.md:1 unknown directive "runn"/)]);
    expect(blocks[0]!.check.kind).toBe('check');
  });
});

describe('parseCheck', () => {
  it('wants a reason for every skip', () => {
    expect(parseCheck(' skip ')).toMatch(/needs a reason/);
    expect(parseCheck('skip short')).toMatch(/needs a reason/);
    expect(parseCheck('skip an API sketch, not a program')).toEqual({
      kind: 'skip',
      reason: 'an API sketch, not a program',
    });
  });

  it('refuses anything but prelude=…, run and skip', () => {
    expect(parseCheck('prelude=')).toMatch(/unknown directive/);
    expect(parseCheck('prelude=a, b')).toMatch(/unknown directive "prelude=a,"/);
    expect(parseCheck('')).toEqual({ kind: 'check', preludes: [], run: false });
  });
});

describe('blockModule', () => {
  const setup: CheckerSetup = {
    root: '/repo',
    modules: {},
    stubs: {},
    preludes: {
      ambient: { about: '', code: 'declare const a: number;', runnable: false },
      real: { about: '', code: 'const b = 1;\nconst c = 2;', runnable: true },
    },
  };
  const block = (annotation: string) =>
    extractBlocks('docs/x.md', md(annotation, '```ts', 'a + b;', '```')).blocks[0]!;

  it('puts the preludes in front and counts their lines', () => {
    const module = blockModule(block('<!-- check: prelude=ambient,real -->'), setup);
    expect(module).toMatchObject({
      fileName: '/repo/test/docs/blocks/docs-x-md-L3.mts',
      text: 'declare const a: number;\nconst b = 1;\nconst c = 2;\na + b;\nexport {};\n',
      preludeLines: 3,
    });
  });

  it('refuses an unknown prelude, and running on a prelude that only declares', () => {
    expect(blockModule(block('<!-- check: prelude=nope -->'), setup)).toBe(
      'docs/x.md:3 unknown prelude "nope" (see test/docs/preludes.ts)',
    );
    expect(blockModule(block('<!-- check: prelude=ambient run -->'), setup)).toMatch(/only declares types/);
  });
});
