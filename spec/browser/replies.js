// The page's side of a test worker: a module Web Worker whose answers are read in turn.

/**
 * Starts the module worker at `url`. `next()` resolves with its next answer, in order (rejecting with
 * its error, if it failed); `post(message)` sends it one; `ask(message)` does both.
 */
export function startWorker(url) {
  const worker = new Worker(url, { type: 'module' });
  const replies = [];
  let wake;
  const arrived = (data) => {
    replies.push(data);
    wake?.();
  };
  worker.onmessage = ({ data }) => arrived(data);
  worker.onerror = (e) => arrived({ error: e.message });
  const next = async () => {
    while (replies.length === 0) await new Promise((r) => (wake = r));
    const data = replies.shift();
    if (data.error) throw new Error(`worker: ${data.error}`);
    return data;
  };
  const post = (message) => worker.postMessage(message);
  return { worker, post, next, ask: (message) => (post(message), next()) };
}
