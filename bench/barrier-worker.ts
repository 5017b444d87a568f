/** The worker side of the Node barrier rounds (bench/barriers.ts): pinned, untimed, then says it is done. */
import { parentPort, workerData } from 'node:worker_threads';
import { SharedBarrier } from './lib.js';
import { type BarrierVariant, barrierSide } from './barrier-round.js';
import { pinThread } from './pin.js';

const { variant, buffer, rounds, cores } = workerData as {
  variant: BarrierVariant;
  buffer: SharedArrayBuffer;
  rounds: number;
  cores: string;
};

pinThread(cores);
// A bare Atomics.waitAsync keeps no worker alive; this timer does, for both variants alike.
const keepAlive = setInterval(() => {}, 1 << 30);
await barrierSide(variant, buffer, rounds, false, { SharedBarrier });
parentPort!.postMessage('done');
clearInterval(keepAlive);
