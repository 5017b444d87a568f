import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { pathToFileURL } from 'node:url';
import { Worker } from 'node:worker_threads';
import { build } from 'esbuild';
import type { Request } from './agent.js';

type Op = Request extends infer R ? (R extends Request ? Omit<R, 'id'> : never) : never;

/** A worker running `agent.ts`, driven by requests. */
export interface Agent {
  call(req: Op): Promise<unknown>;
  terminate(): Promise<number>;
  readonly worker: Worker;
}

const boot = new URL('./boot.mjs', import.meta.url);

/** Starts a worker (optionally without `Atomics.waitAsync`) sharing `buffer`, once it says it is ready. */
export function startAgent(buffer: SharedArrayBuffer, options: { noWaitAsync?: boolean } = {}): Promise<Agent> {
  return startWorker<Op>('./agent.ts', buffer, options);
}

const bundles = new Map<string, Promise<URL>>();

/**
 * `entry` (a TypeScript module beside this file) bundled once, with the library, into one JavaScript
 * module in a temporary directory: a worker starts it in a fraction of the time tsx takes (each worker
 * under tsx registers its loader, on a thread of its own, and compiles every module again).
 */
function bundled(entry: string): Promise<URL> {
  let url = bundles.get(entry);
  if (url === undefined) {
    const outfile = join(mkdtempSync(join(tmpdir(), 'awaitable-event-agent-')), 'agent.mjs');
    url = build({
      entryPoints: [new URL(entry, import.meta.url).pathname],
      bundle: true,
      format: 'esm',
      platform: 'node',
      outfile,
      logLevel: 'error',
    }).then(() => pathToFileURL(outfile));
    bundles.set(entry, url);
  }
  return url;
}

/**
 * Starts `entry` (a TypeScript module beside this file, answering `{ id, ... }` requests with `{ id, result }`
 * or `{ id, error }`) in a worker sharing `buffer` (and `options.workerData`'s fields), once it says it is ready.
 */
export async function startWorker<Req extends object>(
  entry: string,
  buffer: SharedArrayBuffer | undefined,
  options: { noWaitAsync?: boolean; workerData?: object; bundle?: boolean } = {},
): Promise<{ call(req: Req): Promise<unknown>; terminate(): Promise<number>; readonly worker: Worker }> {
  // Bundled (see `bundled`): for tests that start many workers; it keeps Atomics.waitAsync.
  const worker = new Worker(options.bundle === true ? await bundled(entry) : boot, {
    ...(options.bundle === true ? { execArgv: [] } : {}),
    workerData: { ...options.workerData, entry, buffer, noWaitAsync: options.noWaitAsync === true },
  });
  const pending = new Map<number, { resolve(v: unknown): void; reject(e: Error): void }>();
  let next = 0;
  let failure: Error | undefined;
  const failAll = (error: Error) => {
    failure = error;
    for (const p of pending.values()) p.reject(error);
    pending.clear();
  };
  worker.on('error', failAll);
  worker.on('exit', (code) => failAll(new Error(`worker exited with code ${code}`)));
  await new Promise<void>((resolve, reject) => {
    worker.once('message', () => resolve());
    worker.once('error', reject);
  });
  worker.on('message', (msg: { id: number; result?: unknown; error?: string }) => {
    const p = pending.get(msg.id)!;
    pending.delete(msg.id);
    if (msg.error !== undefined) p.reject(new Error(msg.error));
    else p.resolve(msg.result);
  });
  return {
    worker,
    call(req) {
      if (failure !== undefined) return Promise.reject(failure);
      const id = next++;
      return new Promise((resolve, reject) => {
        pending.set(id, { resolve, reject });
        worker.postMessage({ ...req, id });
      });
    },
    terminate: () => worker.terminate(),
  };
}

/** Resolves `promise`, or rejects once `ms` of real time pass: a bug fails the test instead of hanging it. */
export function within<T>(promise: Promise<T>, ms: number, what: string): Promise<T> {
  let timer: NodeJS.Timeout | undefined;
  const limit = new Promise<never>((_, reject) => {
    timer = setTimeout(() => reject(new Error(`${what}: no answer within ${ms} ms`)), ms);
  });
  return Promise.race([promise, limit]).finally(() => clearTimeout(timer));
}

/** Resolves once `check()` holds, polling with setImmediate; fails after 10 s. */
export async function until(check: () => boolean, what: string): Promise<void> {
  await within(
    (async () => {
      while (!check()) await new Promise((r) => setImmediate(r));
    })(),
    10_000,
    what,
  );
}
