/**
 * `npm run demo:redis`: a fleet of three processes coordinated through Redis (`awaitable-event/redis`).
 * Starts a `redis-server` of its own on a free loopback port when one is installed (or uses the server
 * at `REDIS_URL`), runs the three replicas of examples/redis-fleet-member.ts, prints what each does,
 * checks the story, stops the server and exits.
 */
import { type ChildProcess, fork } from 'node:child_process';
import { createInterface } from 'node:readline';
import { fileURLToPath } from 'node:url';
import { createClient } from 'redis';
import { type RedisServer, findRedisServer, startRedisServer } from '../bench/redis/server.js';

const HOW_TO = `npm run demo:redis needs a Redis server, and found none.
  Install one and the demo starts its own on a free port:
    Debian/Ubuntu: sudo apt-get install redis-server    macOS: brew install redis
  or point the demo at a running one:
    REDIS_URL=redis://localhost:6379 npm run demo:redis`;

let server: RedisServer | undefined;
let url = process.env.REDIS_URL;
if (url === undefined) {
  const binary = findRedisServer();
  if (binary === undefined) {
    console.log(HOW_TO);
    process.exit(1);
  }
  server = await startRedisServer(binary);
  url = server.url;
  console.log(`Started redis-server on ${url}.\n`);
} else {
  console.log(`Using the Redis server at ${url}.\n`);
}

const prefix = `demo:${process.pid}:${Date.now()}`;
const member = fileURLToPath(new URL('./redis-fleet-member.ts', import.meta.url));
const fleet: [string, string?][] = [['web-1', 'migrator'], ['web-2'], ['worker']];
const lines: string[] = [];

const replicas = fleet.map(([name, role]) => {
  const child = fork(member, [url, name, prefix, ...(role ? [role] : [])], {
    execArgv: ['--import', 'tsx'],
    stdio: ['ignore', 'pipe', 'inherit', 'ipc'],
  });
  createInterface({ input: child.stdout! }).on('line', (line) => {
    lines.push(line);
    console.log(`  ${line}`);
  });
  return child;
});
const message = (child: ChildProcess) => new Promise((resolve) => child.once('message', resolve));
await Promise.all(replicas.map(message)); // every replica connected
console.log(`Three replicas started: ${fleet.map(([n, r]) => (r ? `${n} (runs the migrations)` : n)).join(', ')}.`);
for (const child of replicas) child.send('go');

const exited = (child: ChildProcess) =>
  new Promise<number | null>((resolve) => {
    if (child.exitCode !== null) resolve(child.exitCode);
    else child.once('exit', resolve);
  });
const codes = await Promise.all(replicas.map(exited));

// The story, checked from what the replicas said.
const migrationsDone = lines.findIndex((l) => l.includes('migrations done'));
const serving = lines.filter((l) => l.includes('starts serving'));
const beforeMigrations = lines.slice(0, migrationsDone).filter((l) => l.includes('starts serving'));
const nightlyRuns = lines.filter((l) => l.includes('runs the nightly job')).length;
const inFlight = lines.flatMap((l) => /(\d) of 2 in flight/.exec(l)?.[1] ?? []).map(Number);
console.log('');
console.log(
  `Migrations ran ${lines.filter((l) => l.includes('runs the migrations')).length} time(s); ` +
    `${serving.length} replica(s) waited and started serving after them, ${beforeMigrations.length} before.`,
);
console.log(`The nightly job ran ${nightlyRuns} time(s) across the fleet.`);
console.log(`${inFlight.length} slow API calls, never more than ${Math.max(...inFlight)} at once.`);

if (server !== undefined) await server.stop();
else {
  // Someone else's server: leave nothing of the demo there (its own keys, and the primitives', whose
  // names all start with the prefix: the primitives keep their state under `...{name}...`).
  const client = await createClient({ url }).connect();
  for await (const keys of client.scanIterator({ MATCH: `*${prefix}:*`, COUNT: 100 })) {
    if (keys.length > 0) await client.del(keys);
  }
  await client.close();
}
if (codes.some((c) => c !== 0)) {
  console.log(`A replica failed (exit codes ${codes.join(', ')}).`);
  process.exitCode = 1;
}
