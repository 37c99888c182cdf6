/**
 * Where the test suite finds the JavaScript runtimes besides Node it runs busline in.
 *
 * Bun, Deno and workerd come from npm (devDependencies `bun`, `deno` and `miniflare`, whose
 * packages carry the binaries, so `npm ci` is all a machine needs); Chromium is Debian's,
 * installed by scripts/provision.sh and driven by playwright-core (it never downloads one).
 */
import { existsSync } from 'node:fs';
import { createRequire } from 'node:module';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { type BrowserContext, chromium } from 'playwright-core';

export const repoRoot = resolve(dirname(fileURLToPath(import.meta.url)), '../..');
const bin = (name: string) => join(repoRoot, 'node_modules/.bin', name);

/** The `bun` binary (npm package `bun`). */
export const bunPath = bin('bun');
/** The `deno` binary (npm package `deno`). */
export const denoPath = bin('deno');
/** The `workerd` binary that miniflare runs (npm package `workerd`, a dependency of miniflare). */
export const workerdPath = bin('workerd');

/** Debian's Chromium; CHROMIUM_PATH points at another one. */
export const chromiumPath = process.env.CHROMIUM_PATH ?? '/usr/bin/chromium';

/** Flags for a headless Chromium on a machine with no outside network (see scripts/provision.sh). */
export const chromiumArgs: readonly string[] = [
  '--no-sandbox',
  '--disable-gpu',
  '--disable-quic',
  '--no-first-run',
  '--disable-background-networking',
  '--disable-component-update',
  '--disable-sync',
];

/**
 * A headless Chromium with a fresh profile in `profileDir`. Throws, naming the fix, when
 * Chromium is missing, so a machine without it fails loudly instead of skipping.
 */
export async function launchChromium(
  profileDir: string,
  extraArgs: readonly string[] = [],
): Promise<BrowserContext> {
  if (!existsSync(chromiumPath)) {
    throw new Error(
      `Chromium not found at ${chromiumPath}: apt-get install -y chromium (or set CHROMIUM_PATH)`,
    );
  }
  return chromium.launchPersistentContext(profileDir, {
    executablePath: chromiumPath,
    headless: true,
    args: [...chromiumArgs, ...extraArgs],
  });
}

/** Resolves a package's module from the repository (for miniflare, which is CommonJS). */
export const requireFromRepo = createRequire(join(repoRoot, 'package.json'));
