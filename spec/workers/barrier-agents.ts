import type { Worker } from 'node:worker_threads';
import { startWorker } from './agents.js';
import type { Request } from './barrier-agent.js';

type Op = Request extends infer R ? (R extends Request ? Omit<R, 'id'> : never) : never;

/** A worker running `barrier-agent.ts`, driven by requests. */
export interface BarrierAgent {
  call(req: Op): Promise<unknown>;
  terminate(): Promise<number>;
  readonly worker: Worker;
}

/**
 * Starts a barrier agent sharing `buffer` (optionally without `Atomics.waitAsync`, or bundled to start
 * faster: see `startWorker`), once it is ready.
 */
export function startBarrierAgent(
  buffer: SharedArrayBuffer,
  options: { noWaitAsync?: boolean; bundle?: boolean } = {},
): Promise<BarrierAgent> {
  return startWorker<Op>('./barrier-agent.ts', buffer, options);
}
