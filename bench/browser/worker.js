// A module worker of the browser benchmarks: plays side A (times the rounds) or side B (answers) of one
// round trip of bench/ping-pong.ts, with the built library, then reports to the page.
import * as lib from '/dist/index.js';
import { pingPongA, pingPongB } from '/ping-pong.js';
import { barrierSide } from '/barrier-round.js';

self.onmessage = async ({ data: { variant, role, buffer, rounds, batch, barrier } }) => {
  try {
    if (barrier) {
      await barrierSide(variant, buffer, rounds, false, lib);
      self.postMessage({ done: true });
    } else if (role === 'a') self.postMessage({ result: await pingPongA(variant, buffer, rounds, lib, batch) });
    else {
      await pingPongB(variant, buffer, rounds, lib);
      self.postMessage({ done: true });
    }
  } catch (error) {
    self.postMessage({ error: String(error?.stack ?? error) });
  }
};
self.postMessage({ loaded: true });
