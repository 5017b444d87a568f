/*
 * A waiter whose leaving may let others through: in a line where the first one's request decides who
 * is served (a weighted semaphore, a reader-writer lock, a remote queue), one that gives up (deadline,
 * abort) calls its owner's `serve` once it is out, so that the line moves on at once.
 */
import { type Resolve, Waiter, type WaiterQueue } from './queue.js';

export class ServingWaiter extends Waiter {
  declare readonly serve: () => void;

  constructor(
    serve: () => void,
    queue: WaiterQueue,
    resolve: Resolve,
    reject: ((reason: unknown) => void) | undefined,
    signal: AbortSignal | undefined,
  ) {
    super(queue, resolve, reject, signal);
    this.serve = serve;
  }

  override expire(): void {
    super.expire();
    this.serve();
  }

  override abort(reason: unknown): void {
    super.abort(reason);
    this.serve();
  }
}
