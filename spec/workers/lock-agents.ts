import type { Worker } from 'node:worker_threads';
import { startWorker } from './agents.js';
import type { Request } from './lock-agent.js';

type Op = Request extends infer R ? (R extends Request ? Omit<R, 'id'> : never) : never;

/** A worker running `lock-agent.ts`, driven by requests. */
export interface LockAgent {
  call(req: Op): Promise<unknown>;
  terminate(): Promise<number>;
  readonly worker: Worker;
}

/** Starts a lock agent sharing `buffer` (optionally without `Atomics.waitAsync`), once it is ready. */
export function startLockAgent(buffer: SharedArrayBuffer, options: { noWaitAsync?: boolean } = {}): Promise<LockAgent> {
  return startWorker<Op>('./lock-agent.ts', buffer, options);
}
