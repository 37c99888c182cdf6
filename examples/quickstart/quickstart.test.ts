import { execFileSync } from 'node:child_process';
import { resolve } from 'node:path';
import { expect, it } from 'vitest';

const root = resolve(import.meta.dirname, '../..');

it('runs the quickstart demo end to end against the built package', () => {
  const out = execFileSync(resolve(root, 'node_modules/.bin/tsx'), ['examples/quickstart/main.ts'], {
    cwd: root,
    encoding: 'utf8',
  });
  expect(out).toContain('[task.*]         task.created {"id":"t1","title":"Write the docs"}');
  expect(out).toContain('[**.failed]      build#42 failed: tests red');
  expect(out).toContain('[** admin only]  task.done');
  expect(out).toMatch(/\[iterator\]\s+test#2[\s\S]*\[iterator\]\s+deploy#3/);
  expect(out).not.toMatch(/\[iterator\]\s+lint#1/);
  expect(out).toMatch(
    /\[late joiner\]\s+task\.created t3 \(replayed\)\n[\s\S]*\[late joiner\]\s+task\.done t2 \(replayed\)\n[\s\S]*\[late joiner\]\s+task\.created t4 \(live\)/,
  );
  expect(out.match(/\[late joiner\]/g)).toHaveLength(3);
  expect(out).toContain('INVALID_PATTERN');
  expect(out).toContain('Done: 10 events published, 15 deliveries, 1 dropped.');
});
