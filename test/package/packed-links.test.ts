// Every relative link in the README and docs that npm ships must point at a file npm ships too:
// a reader of the installed package (or of its page on the registry) follows them.
import { execFileSync } from 'node:child_process';
import { readFileSync } from 'node:fs';
import path from 'node:path';
import { describe, expect, it } from 'vitest';

const root = path.resolve(import.meta.dirname, '../..');
const packed: string[] = JSON.parse(
  execFileSync('npm', ['pack', '--dry-run', '--json', '--ignore-scripts'], { cwd: root, encoding: 'utf8' }),
)[0].files.map((f: { path: string }) => f.path);
const shipped = new Set(packed);
const shippedDirs = new Set(
  packed.flatMap((file) =>
    file
      .split('/')
      .slice(0, -1)
      .map((_, i, parts) => parts.slice(0, i + 1).join('/')),
  ),
);

describe('the packed package', () => {
  it('ships the README, the license, the changelog and the docs', () => {
    for (const file of ['README.md', 'LICENSE', 'CHANGELOG.md', 'docs/guide.md', 'docs/guarantees.md'])
      expect(shipped, file).toContain(file);
  });

  const docs = packed.filter((file) => file.endsWith('.md'));
  it.each(docs)('%s links only to files the package ships', (doc) => {
    const text = readFileSync(path.join(root, doc), 'utf8');
    const broken: string[] = [];
    for (const [, target] of text.matchAll(/\]\(([^)\s]+)\)/g)) {
      if (/^(https?:|mailto:|#)/.test(target!)) continue;
      const file = path.posix.normalize(path.posix.join(path.posix.dirname(doc), target!.split('#')[0]!));
      if (!shipped.has(file) && !shippedDirs.has(file.replace(/\/$/, ''))) broken.push(target!);
    }
    expect(broken).toEqual([]);
  });
});
