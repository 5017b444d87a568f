/** The buffer layout the barrier agents and their spec share: the barrier, then Int32 data words. */
import { SharedBarrier } from '../../lib/index.js';

/** Data words (Int32 indexes from SharedBarrier.BYTES): the arrivals of every round, then the log. */
export const ARRIVALS = 0;
/** Where the log starts: one word per (round, arrival index), the number of whoever had that index. */
export const LOG = 8;

export const barrierBytes = (logWords: number) => SharedBarrier.BYTES + 4 * (LOG + logWords);
export const barrierData = (buffer: SharedArrayBuffer) => new Int32Array(buffer, SharedBarrier.BYTES);
