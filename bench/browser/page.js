// The page of the browser benchmarks (run.ts drives it): runs the round trips it is asked for, page <->
// module worker or worker <-> worker, with bench/ping-pong.ts (served as JavaScript) and the built
// library, and hands back each variant's round times (µs, warm-up rounds dropped).
import * as lib from '/dist/index.js';
import { LOCK_AT, pingPongA } from '/ping-pong.js';
import { BARRIER_ROUND_BYTES, barrierSide } from '/barrier-round.js';

/** A module worker playing `role` of a round trip; `go()` starts it once it is loaded. */
async function start(role, task) {
  const worker = new Worker('/worker.js', { type: 'module' });
  const replies = [];
  let wake = () => {};
  worker.onmessage = ({ data }) => {
    replies.push(data);
    wake();
  };
  worker.onerror = (e) => {
    replies.push({ error: e.message ?? 'failed to load' });
    wake();
  };
  const reply = async () => {
    while (replies.length === 0) await new Promise((r) => (wake = r));
    const data = replies.shift();
    if (data.error !== undefined) throw new Error(`worker ${role}: ${data.error}`);
    return data;
  };
  await reply(); // loaded
  return {
    go: () => (worker.postMessage({ ...task, role }), reply()),
    stop: () => worker.terminate(),
  };
}

/** One run of `variant`: A's rounds, on the page or in a worker. */
async function run(variant, rounds, between, batch) {
  const buffer = new SharedArrayBuffer(LOCK_AT + Math.max(lib.SharedLock.BYTES, lib.SharedSemaphore.BYTES));
  const task = { variant, buffer, rounds, batch };
  if (between === 'page-worker') {
    const b = await start('b', task);
    const done = b.go();
    const result = await pingPongA(variant, buffer, rounds, lib, batch);
    await done;
    b.stop();
    return result;
  }
  const [a, b] = await Promise.all([start('a', task), start('b', task)]);
  const [{ result }] = await Promise.all([a.go(), b.go()]);
  a.stop();
  b.stop();
  return result;
}

/**
 * Runs every variant of every group `passes` times, round-robin (so that drift of the machine's load
 * hits all alike), `rounds / passes` rounds each time, timed in batches of `batch` rounds (ping-pong.ts),
 * dropping the first tenth of each run as warm-up. Returns, per group id and variant, the time per round
 * of each batch in µs, and the rounds left out.
 */
globalThis.bench = async ({ groups, rounds, passes, batch }) => {
  if (globalThis.crossOriginIsolated !== true) throw new Error('the page is not cross-origin isolated');
  const out = {};
  for (const { id } of groups) out[id] = {};
  const each = Math.ceil(rounds / passes);
  for (let pass = 0; pass < passes; pass++) {
    for (const { id, variants, between } of groups) {
      for (const variant of variants) {
        const { times, missed } = await run(variant, each, between, batch);
        const row = (out[id][variant] ??= { times: [], missed: 0, rounds: 0 });
        row.times.push(...times.slice(Math.floor(times.length / 10)).map((ms) => ms * 1000));
        row.missed += missed;
        row.rounds += each;
      }
    }
  }
  return out;
};
/**
 * The barrier rounds (bench/barrier-round.ts), page <-> module worker: each variant `passes` times,
 * round-robin, `rounds / passes` rounds each time, timed on the page in batches of `batch` rounds, the
 * first tenth of each run dropped. Returns, per variant, the time per round of each batch in µs.
 */
globalThis.barrierBench = async ({ variants, rounds, passes, batch }) => {
  const out = {};
  const each = Math.ceil(rounds / passes);
  for (let pass = 0; pass < passes; pass++) {
    for (const variant of variants) {
      const buffer = new SharedArrayBuffer(BARRIER_ROUND_BYTES);
      const b = await start('b', { variant, buffer, rounds: each, barrier: true });
      const done = b.go();
      const times = await barrierSide(variant, buffer, each, true, lib, batch);
      await done;
      b.stop();
      (out[variant] ??= []).push(...times.slice(Math.floor(times.length / 10)).map((ms) => ms * 1000));
    }
  }
  return out;
};
globalThis.benchReady = true;
