// The Web Worker side of the browser suite: answers the page's requests with SharedEvents of the
// buffer it was given. With `fallback`, Atomics.waitAsync is removed before the library loads.
let events;
let SharedEvent;

self.onmessage = async ({ data }) => {
  try {
    if (data.buffer) {
      if (data.fallback) delete Atomics.waitAsync;
      ({ SharedEvent } = await import('/dist/index.js'));
      const n = data.buffer.byteLength / SharedEvent.BYTES;
      events = Array.from({ length: n }, (_, i) => new SharedEvent(data.buffer, i * SharedEvent.BYTES));
      return self.postMessage({ ready: true });
    }
    const e = events[data.event];
    switch (data.op) {
      case 'set':
        e.set();
        return self.postMessage({ result: true });
      case 'wait':
        return self.postMessage({ result: await e.wait(data.timeout) });
      case 'waitSync':
        return self.postMessage({ result: e.waitSync(data.timeout) });
      case 'race': {
        const [armed, target, done] = events;
        let lost = 0;
        for (let r = 0; r < data.rounds; r++) {
          const p = target.wait(5_000);
          armed.set();
          if (!(await p)) lost++;
          await done.wait();
          done.clear();
        }
        return self.postMessage({ result: lost });
      }
    }
  } catch (error) {
    self.postMessage({ error: String(error?.stack ?? error) });
  }
};
