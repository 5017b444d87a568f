// README "Service readiness": a request that arrives while the service starts waits for it.
import assert from 'node:assert/strict';
import { Event } from 'awaitable-event';

const connectToDatabase = () => new Promise<void>((resolve) => setTimeout(resolve, 10));
const respond = (status: number, body: string) => new Response(body, { status });
const query = (request: Request) => Promise.resolve(`rows for ${new URL(request.url).pathname}`);

// #region README
const ready = new Event();

async function start(): Promise<void> {
  await connectToDatabase();
  ready.set(); // every request waiting below goes on, in the order it arrived
}

async function handle(request: Request): Promise<Response> {
  if (!(await ready.wait(2_000))) return respond(503, 'still starting');
  return respond(200, await query(request));
}
// #endregion

const early = handle(new Request('http://localhost/orders'));
await start();
const response = await early;
assert.equal(response.status, 200);
console.log(await response.text());
