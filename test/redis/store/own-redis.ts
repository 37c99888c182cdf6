import { type ChildProcess, spawn } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { connectNodeRedis, waitFor } from './redis-fixtures.js';

/**
 * A redis-server of the test's own (not the shared one), persisting every write to its
 * append-only file, that the test may kill with `kill -9` and start again on the same port
 * and directory. For fault tests.
 *
 * `appendfsync always`: only then has every acknowledged write reached the AOF. With the
 * default `everysec`, Redis postpones its AOF writes (up to 2 s) while a background fsync is
 * still running, and answers meanwhile: on a busy disk a kill -9 loses acknowledged writes.
 */
export class OwnRedis {
  readonly dir = mkdtempSync(join(tmpdir(), 'busline-redis-fault-'));
  process: ChildProcess | undefined;
  /** `extraArgs`: more redis-server options, e.g. `['--enable-debug-command', 'yes']`. */
  constructor(
    readonly port: number,
    readonly extraArgs: readonly string[] = [],
  ) {}

  /** A server on a free port (not started yet). */
  static async onFreePort(extraArgs: readonly string[] = []): Promise<OwnRedis> {
    return new OwnRedis(await freePort(), extraArgs);
  }

  get url(): string {
    return `redis://127.0.0.1:${this.port}`;
  }

  async start(): Promise<void> {
    const args = ['--port', String(this.port), '--bind', '127.0.0.1'];
    args.push('--appendonly', 'yes', '--appendfsync', 'always', ...this.extraArgs);
    this.process = spawn('redis-server', [...args, '--dir', this.dir, '--save', '', '--logfile', ''], {
      stdio: 'ignore',
    });
    // Up once it answers PING (bounded: a missing redis-server fails here, not by hanging).
    await waitFor(async () => {
      const probe = await connectNodeRedis(this.url).catch(() => undefined);
      if (probe === undefined) return false;
      probe.destroy();
      return true;
    }, 10_000);
  }

  /** kill -9: no shutdown, no final save; what survives is what the AOF already had. */
  async kill(): Promise<void> {
    const child = this.process!;
    const exited = new Promise((resolve) => child.once('exit', resolve));
    child.kill('SIGKILL');
    await exited;
  }

  async remove(): Promise<void> {
    if (this.process?.exitCode === null) await this.kill();
    rmSync(this.dir, { recursive: true, force: true });
  }
}

function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const server = createServer();
    server.once('error', reject);
    server.listen(0, '127.0.0.1', () => {
      const { port } = server.address() as { port: number };
      server.close(() => resolve(port));
    });
  });
}
