/**
 * The worker side of the cross-thread benchmarks: answers each ping of the main thread (or of the other
 * worker) with a pong, by the means the variant names, `rounds` times. Role `a` starts each round and
 * times it; role `b` answers.
 */
import { parentPort, workerData } from 'node:worker_threads';
import { SharedEvent, SharedLock, SharedSemaphore } from './lib.js';
import { pinThread } from './pin.js';
import { type Variant, pingPongA, pingPongB } from './ping-pong.js';

const { variant, role, buffer, rounds, cores } = workerData as {
  variant: Variant;
  role: 'a' | 'b';
  buffer: SharedArrayBuffer;
  rounds: number;
  cores: string;
};

pinThread(cores);

// A bare Atomics.waitAsync keeps no worker alive; this timer does, for every variant alike.
const keepAlive = setInterval(() => {}, 1 << 30);

if (variant === 'postMessage') {
  parentPort!.on('message', (r: number) => {
    parentPort!.postMessage(r);
    if (r === rounds - 1) {
      clearInterval(keepAlive);
      parentPort!.close();
    }
  });
} else {
  if (role === 'a')
    parentPort!.postMessage(await pingPongA(variant, buffer, rounds, { SharedEvent, SharedLock, SharedSemaphore }));
  else {
    await pingPongB(variant, buffer, rounds, { SharedEvent, SharedLock, SharedSemaphore });
    parentPort!.postMessage('done');
  }
  clearInterval(keepAlive);
}
