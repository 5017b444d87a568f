/**
 * A TCP proxy between clients and a server, for the fault tests: it forwards bytes both ways until told to
 * stall (it stops reading from either side, so nothing passes in either direction and the connections stay
 * open, as with a hung network path), resumes, or drops every connection.
 */
import { type Server, type Socket, connect, createServer } from 'node:net';
import { HOST } from './server.js';

export class FaultProxy {
  private readonly pairs = new Set<[Socket, Socket]>();
  private stalled = false;

  private constructor(
    private readonly server: Server,
    readonly port: number,
  ) {}

  /** Listens on a free loopback port and forwards every connection to `target` on loopback. */
  static start(target: number): Promise<FaultProxy> {
    return new Promise((resolve, reject) => {
      const server = createServer();
      server.once('error', reject);
      server.listen(0, HOST, () => {
        const proxy = new FaultProxy(server, (server.address() as { port: number }).port);
        server.on('connection', (socket) => proxy.pipe(socket, target));
        resolve(proxy);
      });
    });
  }

  private pipe(client: Socket, target: number): void {
    const upstream = connect(target, HOST);
    const pair: [Socket, Socket] = [client, upstream];
    this.pairs.add(pair);
    for (const [from, to] of [pair, [upstream, client] as const]) {
      from.on('data', (d) => to.write(d));
      from.on('error', () => to.destroy());
      from.on('close', () => {
        to.destroy();
        this.pairs.delete(pair);
      });
    }
    if (this.stalled) {
      client.pause();
      upstream.pause();
    }
  }

  /** How many client connections pass through now. */
  get connections(): number {
    return this.pairs.size;
  }

  /** Stops forwarding in both directions; connections stay open. New ones are accepted and stalled too. */
  stall(): void {
    this.stalled = true;
    for (const [a, b] of this.pairs) {
      a.pause();
      b.pause();
    }
  }

  resume(): void {
    this.stalled = false;
    for (const [a, b] of this.pairs) {
      a.resume();
      b.resume();
    }
  }

  /** Closes every connection at once (both sides see a reset). */
  drop(): void {
    for (const [a, b] of this.pairs) {
      a.destroy();
      b.destroy();
    }
    this.pairs.clear();
  }

  async stop(): Promise<void> {
    this.drop();
    await new Promise<void>((resolve) => this.server.close(() => resolve()));
  }
}
