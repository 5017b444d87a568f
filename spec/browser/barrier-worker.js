// The Web Worker side of the browser suite's SharedBarrier checks (barrier.js): rebuilds the barrier the
// page posted with SharedBarrier.from() and meets the others at it.
import { SharedBarrier } from '/dist/index.js';

self.onmessage = async ({ data }) => {
  try {
    const barrier = SharedBarrier.from(data.barrier);
    switch (data.op) {
      case 'rounds': {
        for (let round = 0; round < data.rounds; round++) {
          const index = data.sync ? barrier.waitSync(20_000) : await barrier.wait(20_000);
          data.log[round * barrier.parties + index] = data.me;
        }
        return self.postMessage({ from: SharedBarrier.from(data.barrier) === barrier });
      }
      case 'wait':
        try {
          await barrier.wait(data.timeout);
          return self.postMessage({ message: 'passed' });
        } catch (error) {
          return self.postMessage({ message: `${error.name}: ${error.message}` });
        }
    }
  } catch (error) {
    self.postMessage({ error: String(error?.stack ?? error) });
  }
};
