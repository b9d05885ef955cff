import type { Server } from "./server";

/**
 * Graceful close: refuses new sessions, closes each open one after writing what it has
 * buffered (a polling session with nothing buffered and no request waiting is dropped at
 * once), and resolves once all are closed; whatever is still open after `timeout` ms is
 * dropped.
 */
export function shutdown(server: Server, timeout: number): Promise<void> {
  server.closing = true;
  const open = Object.keys(server.clients).map((id) => server.clients[id]);
  return new Promise((resolve) => {
    let left = open.length;
    let finished = false;
    const finish = () => {
      if (finished) return;
      finished = true;
      clearTimeout(timer);
      server.close();
      resolve();
    };
    const timer = setTimeout(finish, timeout);
    const onClosed = () => {
      if (--left === 0) finish();
    };
    if (left === 0) return finish();
    for (const socket of open) {
      socket.once("close", onClosed);
      const unreachable = socket.transport.name === "polling" && !socket.transport.writable;
      socket.close(unreachable && socket.bufferedPackets.length === 0);
    }
  });
}
