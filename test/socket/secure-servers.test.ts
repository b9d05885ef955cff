import { test } from "node:test";
import assert from "node:assert/strict";
import { execFileSync } from "node:child_process";
import { mkdtempSync, readFileSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { createServer as createHttps } from "node:https";
import { createSecureServer } from "node:http2";
import type { AddressInfo } from "node:net";
import { io as connect } from "socket.io-client";
import { Server } from "../../src/index";
import { T, once, within } from "../helpers";

/** A throwaway self-signed certificate for localhost (openssl is on every Debian machine). */
function selfSigned(): { key: Buffer; cert: Buffer } {
  const dir = mkdtempSync(join(tmpdir(), "volley-cert-"));
  try {
    execFileSync("openssl", [
      "req", "-x509", "-newkey", "rsa:2048", "-nodes", "-days", "1", "-subj", "/CN=localhost",
      "-keyout", join(dir, "key.pem"), "-out", join(dir, "cert.pem"),
    ], { stdio: "ignore" });
    return { key: readFileSync(join(dir, "key.pem")), cert: readFileSync(join(dir, "cert.pem")) };
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

const credentials = selfSigned();

const servers = {
  https: () => createHttps(credentials),
  "http2 (allowHTTP1)": () => createSecureServer({ ...credentials, allowHTTP1: true }),
};

for (const [name, make] of Object.entries(servers)) {
  for (const transports of [["polling"], ["websocket"], ["polling", "websocket"]]) {
    test(`${name}: socket.io-client connects over ${transports.join("+")} and exchanges acks`, async (t) => {
      const srv = make();
      const io = new Server(srv);
      io.on("connection", (socket) => {
        socket.on("whoami", (ack: (info: unknown) => void) =>
          ack({ secure: socket.handshake.secure, transport: socket.conn.transport.name }),
        );
      });
      await new Promise<void>((resolve) => srv.listen(0, "127.0.0.1", resolve));
      const port = (srv.address() as AddressInfo).port;
      const client = connect(`https://localhost:${port}`, {
        transports,
        rejectUnauthorized: false,
        reconnection: false,
        forceNew: true,
      });
      t.after(async () => {
        client.disconnect();
        await io.close();
      });
      await within(once(client, "connect"), T, "connect");
      const info = (await within(client.emitWithAck("whoami"), T, "ack")) as { secure: boolean; transport: string };
      assert.equal(info.secure, true);
      assert.ok(transports.includes(info.transport), `transport ${info.transport}`);
    });
  }
}
