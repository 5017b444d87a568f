// The browser suite's SharedBarrier checks: a barrier posted as it is to module Web Workers
// (barrier-worker.js), rebuilt there with SharedBarrier.from(), and met by the page and the workers.
import { BrokenBarrierError, SharedBarrier } from '/dist/index.js';
import { startWorker } from '/replies.js';

/** Whether this engine has Atomics.waitAsync (else every async wait polls: 1 ms, doubling to 32 ms). */
const waitAsync = typeof Atomics.waitAsync === 'function';

export function barrierTests(test, assert) {
  test('SharedBarrier posted as it is to 3 Web Workers (two awaiting wait(), one blocking in waitSync()) and met by the page: every round gives each index once', async () => {
    // A round reaching a polling thread waits for its next poll (up to 32 ms): fewer rounds there.
    const rounds = waitAsync ? 300 : 30;
    const barrier = new SharedBarrier(4);
    const log = new Int32Array(new SharedArrayBuffer(4 * 4 * rounds));
    const workers = [0, 1, 2].map(() => startWorker('/barrier-worker.js'));
    workers.forEach(({ post }, i) => post({ op: 'rounds', barrier, log, rounds, me: i + 1, sync: i === 2 }));
    for (let round = 0; round < rounds; round++) {
      const index = await barrier.wait(20_000);
      log[round * 4 + index] = 4;
    }
    const answers = await Promise.all(workers.map(({ next }) => next()));
    assert(
      answers.every((a) => a.from === true),
      'a worker did not get the same barrier from from()',
    );
    let bad = 0;
    for (let round = 0; round < rounds; round++) {
      const who = Array.from(log.subarray(round * 4, round * 4 + 4)).sort();
      if (who.join() !== '1,2,3,4') bad++;
    }
    assert(bad === 0, `${bad} of ${rounds} rounds did not give each index once`);
    assert(!barrier.broken && barrier.waiting === 0, 'the barrier was left broken or waited on');
    for (const { worker } of workers) worker.terminate();
  });

  test('SharedBarrier met by 40 barrier objects on the page and a Web Worker (more threads than its 32 seats): every round gives each index once', async () => {
    const rounds = waitAsync ? 50 : 5;
    const barrier = new SharedBarrier(41);
    // Each object over the barrier's memory is a thread to it: the 33rd on wait in its hall.
    const objects = Array.from({ length: 40 }, () => new SharedBarrier(41, barrier.buffer, barrier.byteOffset));
    const log = new Int32Array(new SharedArrayBuffer(4 * 41 * rounds));
    const { worker, post, next } = startWorker('/barrier-worker.js');
    post({ op: 'rounds', barrier, log, rounds, me: 41, sync: false });
    for (let round = 0; round < rounds; round++) {
      const indexes = await Promise.all(objects.map((o) => o.wait(20_000)));
      indexes.forEach((index, i) => (log[round * 41 + index] = i + 1));
    }
    await next();
    let bad = 0;
    for (let round = 0; round < rounds; round++) {
      const who = Array.from(log.subarray(round * 41, round * 41 + 41)).sort((a, b) => a - b);
      if (who.some((w, i) => w !== i + 1)) bad++;
    }
    assert(bad === 0, `${bad} of ${rounds} rounds did not give each index once`);
    assert(!barrier.broken && barrier.waiting === 0, 'the barrier was left broken or waited on');
    worker.terminate();
  });

  test("SharedBarrier: a Web Worker's wait() that times out breaks the barrier, and the page's waiter rejects with a BrokenBarrierError", async () => {
    const barrier = new SharedBarrier(3);
    const { worker, post, next } = startWorker('/barrier-worker.js');
    const mine = barrier.wait(20_000).then(
      () => 'passed',
      (error) => error,
    );
    post({ op: 'wait', barrier, timeout: 30 });
    const { message } = await next();
    assert(/^BrokenBarrierError: .*a waiter timed out/.test(message), message);
    const error = await mine;
    assert(error instanceof BrokenBarrierError && /a waiter timed out/.test(error.message), String(error));
    assert(barrier.broken, 'the barrier is not broken');
    worker.terminate();
  });

  test("SharedBarrier.waitSync() on the page's main thread throws an Error that names wait(), and arrives nowhere", () => {
    const barrier = new SharedBarrier(2);
    let message = 'no error';
    try {
      barrier.waitSync(10);
    } catch (error) {
      message = `${error.name}: ${error.message}`;
    }
    assert(
      /^Error: SharedBarrier\.waitSync\(\) cannot block this thread.*await barrier\.wait\(\)/.test(message),
      message,
    );
    assert(barrier.waiting === 0, 'it arrived');
  });
}
