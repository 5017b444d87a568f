import { Worker } from 'node:worker_threads';
import type { Request } from './lock-agent.js';

type Op = Request extends infer R ? (R extends Request ? Omit<R, 'id'> : never) : never;

/** A worker running `lock-agent.ts`, driven by requests. */
export interface LockAgent {
  call(req: Op): Promise<unknown>;
  terminate(): Promise<number>;
  readonly worker: Worker;
}

const boot = new URL('./boot.mjs', import.meta.url);

/** Starts a lock agent sharing `buffer` (optionally without `Atomics.waitAsync`), once it is ready. */
export async function startLockAgent(
  buffer: SharedArrayBuffer,
  options: { noWaitAsync?: boolean } = {},
): Promise<LockAgent> {
  const worker = new Worker(boot, {
    workerData: { entry: './lock-agent.ts', buffer, noWaitAsync: options.noWaitAsync === true },
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
