import net from 'node:net';

/**
 * A socket node-postgres connects itself (its `stream` option), from
 * `localAddress`: Linux routes all of 127.0.0.0/8 to lo, so one machine can
 * play many clients.
 */
export function socketFrom(localAddress: string): net.Socket {
  const socket = new net.Socket();
  const connect = socket.connect.bind(socket);
  socket.connect = ((port: number) =>
    connect({ port, host: '127.0.0.1', localAddress })) as typeof socket.connect;
  return socket;
}
