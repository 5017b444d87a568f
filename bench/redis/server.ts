/**
 * A throw-away `redis-server` for the Redis cases and the demo: started on a free loopback port, with no
 * persistence, and stopped when done. `REDIS_SERVER` names the binary; else `redis-server` on the PATH.
 */
import { type ChildProcess, spawn } from 'node:child_process';
import { accessSync, constants } from 'node:fs';
import { createServer } from 'node:net';
import { delimiter, join } from 'node:path';

/** The path of `redis-server`, or undefined when there is none. */
export function findRedisServer(): string | undefined {
  const named = process.env.REDIS_SERVER;
  const candidates = named ? [named] : (process.env.PATH ?? '').split(delimiter).map((d) => join(d, 'redis-server'));
  return candidates.find((path) => {
    try {
      accessSync(path, constants.X_OK);
      return true;
    } catch {
      return false;
    }
  });
}

/** A port nobody listens on now (the kernel's pick), on 127.0.0.1. */
function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const probe = createServer();
    probe.once('error', reject);
    probe.listen(0, '127.0.0.1', () => {
      const { port } = probe.address() as { port: number };
      probe.close(() => resolve(port));
    });
  });
}

export interface RedisServer {
  url: string;
  port: number;
  stop(): Promise<void>;
}

/** Starts `binary` on a free loopback port and resolves once it accepts connections. */
export async function startRedisServer(binary: string): Promise<RedisServer> {
  for (let attempt = 1; ; attempt++) {
    const port = await freePort();
    const child = spawn(binary, ['--port', String(port), '--bind', '127.0.0.1', '--save', '', '--appendonly', 'no'], {
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    try {
      await ready(child);
      return { url: `redis://127.0.0.1:${port}`, port, stop: () => stop(child) };
    } catch (error) {
      // Another process may have taken the port between the probe and the start: try another, twice.
      if (attempt === 3) throw error;
    }
  }
}

function ready(child: ChildProcess): Promise<void> {
  return new Promise((resolve, reject) => {
    let output = '';
    const onData = (d: Buffer) => {
      output += d;
      if (output.includes('Ready to accept connections')) {
        child.stdout!.off('data', onData);
        child.stdout!.resume(); // keep draining, so that the server never blocks on a full pipe
        child.off('exit', onExit);
        resolve();
      }
    };
    const onExit = (code: number | null) =>
      reject(new Error(`redis-server exited (${code}) before it was ready:\n${output}`));
    child.stdout!.on('data', onData);
    child.stderr!.on('data', (d: Buffer) => (output += d));
    child.once('exit', onExit);
    child.once('error', reject);
  });
}

function stop(child: ChildProcess): Promise<void> {
  if (child.exitCode !== null || child.signalCode !== null) return Promise.resolve();
  return new Promise((resolve) => {
    child.once('exit', () => resolve());
    child.kill('SIGTERM');
  });
}
