// A TCP proxy in front of an EVM JSON-RPC node, for tests of an RPC outage: cut() drops every open
// connection and resets new ones at once (what a client sees when the node's host goes away),
// restore() lets traffic through again. The node behind it keeps running, so no chain state is lost.
import * as net from 'node:net';

export interface RpcProxy {
  /** http://127.0.0.1:<port>: use it instead of the node's URL. */
  url: string;
  port: number;
  /** Drops open connections and resets new ones until restore(). */
  cut(): void;
  restore(): void;
  readonly isCut: boolean;
  close(): Promise<void>;
}

export async function startRpcProxy(
  targetUrl: string,
  options: { port?: number } = {},
): Promise<RpcProxy> {
  const target = new URL(targetUrl);
  const targetHost = target.hostname.replace(/^\[|\]$/g, '');
  const targetPort = Number(target.port || (target.protocol === 'https:' ? 443 : 80));
  const open = new Set<net.Socket>();
  let cut = false;

  const drop = (socket: net.Socket) => {
    if (typeof socket.resetAndDestroy === 'function' && !socket.destroyed) socket.resetAndDestroy();
    else socket.destroy();
  };
  const track = (socket: net.Socket) => {
    open.add(socket);
    socket.once('close', () => open.delete(socket));
  };

  const server = net.createServer((client) => {
    if (cut) {
      client.on('error', () => undefined);
      drop(client);
      return;
    }
    const upstream = net.connect({ host: targetHost, port: targetPort });
    track(client);
    track(upstream);
    // Either side failing ends both: the client then sees the outage the node had.
    client.on('error', () => drop(upstream));
    upstream.on('error', () => drop(client));
    client.pipe(upstream);
    upstream.pipe(client);
  });

  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(options.port ?? 0, '127.0.0.1', () => {
      server.off('error', reject);
      resolve();
    });
  });
  const port = (server.address() as net.AddressInfo).port;

  return {
    url: `http://127.0.0.1:${port}`,
    port,
    cut() {
      cut = true;
      for (const socket of open) drop(socket);
    },
    restore() {
      cut = false;
    },
    get isCut() {
      return cut;
    },
    close() {
      for (const socket of open) drop(socket);
      return new Promise<void>((resolve) => server.close(() => resolve()));
    },
  };
}
