// README "Abort": the service shuts down (aborts) 20 ms into a wait for readiness that never comes.
import { Event } from 'awaitable-event';

const ready = new Event();
setTimeout(() => shutdown.abort(new Error('shutting down')), 20);

// #region README
const shutdown = new AbortController(); // aborted elsewhere, e.g. on SIGTERM

try {
  const isReady = await ready.wait({ timeout: 10_000, signal: shutdown.signal });
  console.log(isReady ? 'ready' : 'not ready after 10 s');
} catch (error) {
  console.log('gave up:', error); // the signal's reason
}
// #endregion
