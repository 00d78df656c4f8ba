import { createServer, connect, type Server, type Socket } from 'node:net';

/**
 * A TCP proxy on a free loopback port in front of a real server, which a test can cut (every
 * connection dropped, new ones refused), make hang up (every connection dropped, new ones
 * accepted and closed at once) and restore, or freeze and thaw (bytes held, nothing closed),
 * to play an outage without touching the shared server.
 */
export class TcpProxy {
  private server?: Server;
  private readonly sockets = new Set<Socket>();
  private readonly pairs = new Set<[client: Socket, upstream: Socket]>();
  private frozen = false;
  private hangingUp = false;
  port = 0;

  constructor(
    private readonly targetHost: string,
    private readonly targetPort: number,
  ) {}

  async start(port = 0): Promise<number> {
    this.server = createServer((client) => {
      if (this.hangingUp) {
        client.destroy();
        return;
      }
      const upstream = connect(this.targetPort, this.targetHost);
      for (const socket of [client, upstream]) {
        // As Redis and its clients do: no Nagle delay on small writes, which would hold
        // (say) a pub/sub message back by up to 40 ms and make the proxy a slow network.
        socket.setNoDelay(true);
        this.sockets.add(socket);
        socket.on('close', () => this.sockets.delete(socket));
        socket.on('error', () => socket.destroy());
      }
      const pair: [Socket, Socket] = [client, upstream];
      this.pairs.add(pair);
      if (!this.frozen) link(pair);
      client.on('close', () => {
        this.pairs.delete(pair);
        upstream.destroy();
      });
      upstream.on('close', () => client.destroy());
    });
    await new Promise<void>((done, fail) => {
      this.server!.once('error', fail);
      this.server!.listen(port, '127.0.0.1', done);
    });
    this.port = (this.server.address() as { port: number }).port;
    return this.port;
  }

  /** Drops every open connection and stops listening: the server looks down. */
  async cut(): Promise<void> {
    const server = this.server;
    this.server = undefined;
    this.dropConnections();
    if (server) await new Promise<void>((done) => server.close(() => done()));
  }

  /**
   * Drops every open connection and closes every new one as soon as it is accepted: what a
   * client sees of a pooler or load balancer in front of a server that is down. Its errors
   * are "connection terminated", not "connection refused".
   */
  hangUp(): void {
    this.hangingUp = true;
    this.dropConnections();
  }

  private dropConnections(): void {
    for (const socket of this.sockets) socket.destroy();
    this.sockets.clear();
    this.pairs.clear();
    this.frozen = false;
  }

  /**
   * Holds every byte in both directions without closing anything: a stalled network path,
   * which neither side notices. `thaw()` delivers what was held, in order.
   */
  freeze(): void {
    this.frozen = true;
    for (const [client, upstream] of this.pairs) {
      client.unpipe(upstream);
      upstream.unpipe(client);
      client.pause();
      upstream.pause();
    }
  }

  thaw(): void {
    this.frozen = false;
    for (const pair of this.pairs) link(pair);
  }

  /** Passes connections on again, listening again on the same port if it was cut. */
  async restore(): Promise<void> {
    this.hangingUp = false;
    if (!this.server) await this.start(this.port);
  }

  async stop(): Promise<void> {
    await this.cut();
  }
}

function link([client, upstream]: [Socket, Socket]): void {
  client.pipe(upstream);
  upstream.pipe(client);
}
