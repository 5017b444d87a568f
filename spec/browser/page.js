// The browser suite: runs on a cross-origin isolated page with the built ESM bundle and a module Web
// Worker, and leaves its report in globalThis.__report for the driver (run.mjs): the results, and which
// path SharedEvent.wait() takes on this engine (Atomics.waitAsync, or the library's polling fallback).
import { SharedEvent } from '/dist/index.js';
import { lockTests } from '/lock.js';
import { postingTests } from '/posting.js';
import { barrierTests } from '/barrier.js';
import { semaphoreTests } from '/semaphore.js';
import { startWorker } from '/replies.js';

const results = [];
const tests = [];
const test = (name, fn) => tests.push({ name, fn });
const assert = (ok, message) => {
  if (!ok) throw new Error(message);
};

/** Starts the worker with `count` events of one buffer; `fallback` removes Atomics.waitAsync there. */
async function startEventWorker(count, fallback = false) {
  const buffer = new SharedArrayBuffer(count * SharedEvent.BYTES);
  const events = Array.from({ length: count }, (_, i) => new SharedEvent(buffer, i * SharedEvent.BYTES));
  const { worker, post, next, ask } = startWorker('/worker.js');
  post({ buffer, fallback });
  await next(); // ready
  return { events, worker, ask };
}

test('the page is cross-origin isolated, so SharedArrayBuffer exists', () => {
  assert(globalThis.crossOriginIsolated === true, 'crossOriginIsolated is not true');
  assert(typeof SharedArrayBuffer === 'function', 'no SharedArrayBuffer');
});

test('SharedEvent: set() in a Web Worker wakes wait() on the page', async () => {
  const { events, worker, ask } = await startEventWorker(2);
  const woken = events[1].wait(5_000);
  await ask({ op: 'set', event: 1 });
  assert((await woken) === true, 'the page was not woken');
  worker.terminate();
});

test('SharedEvent: set() on the page wakes wait() in a Web Worker', async () => {
  const { events, worker, ask } = await startEventWorker(2);
  const answer = ask({ op: 'wait', event: 0, timeout: 5_000 });
  await new Promise((r) => setTimeout(r, 20));
  events[0].set();
  const { result } = await answer;
  assert(result === true, `the worker's wait resolved ${result}`);
  worker.terminate();
});

test('SharedEvent.waitSync() in a Web Worker returns true when the page sets the event', async () => {
  const { events, worker, ask } = await startEventWorker(1);
  const answer = ask({ op: 'waitSync', event: 0, timeout: 5_000 });
  await new Promise((r) => setTimeout(r, 20));
  events[0].set();
  const { result } = await answer;
  assert(result === true, `waitSync returned ${result}`);
  worker.terminate();
});

test('SharedEvent: a set(); clear() pulse on the page releases the worker, 1,000 times of 1,000', async () => {
  const { events, worker, ask } = await startEventWorker(3);
  const [armed, target, done] = events;
  const answer = ask({ op: 'race', rounds: 1_000 });
  for (let r = 0; r < 1_000; r++) {
    assert(await armed.wait(5_000), `round ${r}: the worker never armed`);
    armed.clear();
    target.set();
    target.clear();
    done.set();
  }
  const { result } = await answer;
  assert(result === 0, `${result} wake-ups lost`);
  worker.terminate();
});

test('SharedEvent: wait() works both ways without Atomics.waitAsync (the polling fallback)', async () => {
  const { events, worker, ask } = await startEventWorker(2, true);
  const answer = ask({ op: 'wait', event: 0, timeout: 5_000 });
  await new Promise((r) => setTimeout(r, 20));
  events[0].set();
  assert((await answer).result === true, 'the fallback worker was not woken');
  const woken = events[1].wait(5_000);
  await ask({ op: 'set', event: 1 });
  assert((await woken) === true, 'the page was not woken');
  worker.terminate();
});

test('SharedEvent.wait(ms) on the page resolves false when nobody sets the event', async () => {
  assert((await new SharedEvent().wait(30)) === false, 'did not time out');
});

test("SharedEvent.waitSync() on the page's main thread throws an Error that names wait()", () => {
  let message = 'no error';
  try {
    new SharedEvent().waitSync(10);
  } catch (error) {
    message = `${error.name}: ${error.message}`;
  }
  assert(/^Error: SharedEvent\.waitSync\(\) cannot block this thread.*await event\.wait\(\)/.test(message), message);
});

lockTests(test, assert);
postingTests(test, assert);
barrierTests(test, assert);
semaphoreTests(test, assert);

// Where the run is, for a driver whose page never reports (a test that waits for ever).
globalThis.__progress = { done: results.length, running: undefined };
for (const { name, fn } of tests) {
  const start = performance.now();
  globalThis.__progress = { done: results.length, running: name };
  try {
    await fn();
    results.push({ name, ok: true, ms: performance.now() - start });
  } catch (error) {
    // JavaScriptCore's stack leaves the message out.
    const stack = String(error?.stack ?? '');
    const message = stack.includes(String(error?.message)) ? stack : `${error}\n${stack}`;
    results.push({ name, ok: false, ms: performance.now() - start, error: message });
  }
}
const path = typeof Atomics.waitAsync === 'function' ? 'Atomics.waitAsync' : 'polling fallback';
globalThis.__report = { path, results };
