/**
 * examples/chat (what `npm start` runs), driven by two socket.io-client clients: the page
 * and bundle are served, each client gets the room list and a guest nickname, nickname
 * changes and room switches are acknowledged and announced to the room, messages are
 * acknowledged and reach only the sender's room, the typing indicator reaches the others
 * in the room only, and a dropped connection comes back recovered (`socket.recovered`),
 * with its nickname and room kept and the messages it missed delivered.
 */
import { test } from "node:test";
import assert from "node:assert/strict";
import { io as connect, type Socket as ClientSocket } from "socket.io-client";
import type { Server } from "../../src/index";
import { within } from "../helpers";
import { T, ack, http, loadExample, next, type Running } from "./util";

const { start } = loadExample<{ start(port: number, host?: string): Promise<Running & { io: Server }> }>("chat");

interface Joined {
  room: string;
  nick: string;
}
interface Message {
  nick: string;
  text: string;
  at: number;
}

/** A chat client, with what the server sends on connection. */
async function join(url: string, clients: ClientSocket[], opts: object = {}): Promise<{ socket: ClientSocket; rooms: string[]; joined: Joined }> {
  const socket = connect(url, { forceNew: true, reconnection: false, ...opts });
  clients.push(socket);
  const rooms = next<string[]>(socket, "rooms");
  const joined = next<Joined>(socket, "joined");
  return { socket, rooms: await rooms, joined: await joined };
}

/** Resolves once `socket` has received no `event` for `ms` (proof of absence, bounded). */
function silent(socket: ClientSocket, event: string, ms = 150): Promise<void> {
  return new Promise((resolve, reject) => {
    const fail = (...args: unknown[]) => reject(new Error(`unexpected ${event}: ${JSON.stringify(args)}`));
    socket.once(event, fail);
    setTimeout(() => {
      socket.off(event, fail);
      resolve();
    }, ms);
  });
}

test("chat example: page, nicknames, rooms, acked messages and the typing indicator", async () => {
  const running = await start(0, "127.0.0.1");
  const url = `http://127.0.0.1:${running.port}`;
  const clients: ClientSocket[] = [];
  try {
    const page = await http(`${url}/`);
    assert.equal(page.status, 200);
    assert.match(page.type, /^text\/html/);
    assert.match(page.text, /<script src="\/socket.io\/socket.io.js"><\/script>/);
    assert.equal((await http(`${url}/socket.io/socket.io.js`)).status, 200);
    assert.equal((await http(`${url}/missing`)).status, 404);

    const ann = await join(url, clients);
    const bob = await join(url, clients, { transports: ["polling"] });
    assert.deepEqual(ann.rooms, ["general", "random", "help"]);
    assert.deepEqual(ann.joined, { room: "general", nick: `guest-${ann.socket.id!.slice(0, 4)}` });
    assert.equal(bob.joined.room, "general");

    // Nicknames: acknowledged, announced to the room, empty ones refused.
    const renamed = [next<string>(ann.socket, "system"), next<string>(bob.socket, "system")];
    assert.deepEqual(await ack(ann.socket, "nick", "  Ann  "), { ok: true, nick: "Ann" });
    assert.deepEqual(await Promise.all(renamed), [`${ann.joined.nick} is now Ann`, `${ann.joined.nick} is now Ann`]);
    assert.deepEqual(await ack(bob.socket, "nick", "   "), { ok: false, error: "empty nickname" });
    assert.deepEqual(await ack(bob.socket, "nick", "Bob"), { ok: true, nick: "Bob" });

    // Messages: the sender's ack carries the server's timestamp; everyone in the room gets it.
    const toBob = next<Message>(bob.socket, "message");
    const toAnn = next<Message>(ann.socket, "message");
    const sent = await ack<{ ok: boolean; at: number }>(ann.socket, "message", "hello");
    assert.equal(sent.ok, true);
    assert.deepEqual(await toBob, { nick: "Ann", text: "hello", at: sent.at });
    assert.deepEqual(await toAnn, { nick: "Ann", text: "hello", at: sent.at });

    // Typing: the others in the room see it, the typist does not. (Typing is volatile: a
    // polling client between two requests would miss it, so the WebSocket client listens.)
    const typing = next(ann.socket, "typing");
    const bobSilent = silent(bob.socket, "typing");
    bob.socket.emit("typing", true);
    assert.deepEqual(await typing, { nick: "Bob", typing: true });
    await bobSilent;

    // Rooms: unknown ones refused; a switch is announced to the old room and isolates traffic.
    assert.deepEqual(await ack(bob.socket, "join", "nowhere"), { ok: false, error: "no such room" });
    const left = next<string>(ann.socket, "system");
    assert.deepEqual(await ack(bob.socket, "join", "random"), { ok: true, room: "random" });
    assert.equal(await left, "Bob left");

    const annQuiet = Promise.all([silent(ann.socket, "message"), silent(ann.socket, "typing")]);
    const bobOwn = next<Message>(bob.socket, "message");
    bob.socket.emit("typing", true);
    await ack(bob.socket, "message", "anyone here?");
    assert.equal((await bobOwn).text, "anyone here?");
    await annQuiet;

    const joinedBack = next<string>(bob.socket, "system");
    assert.deepEqual(await ack(ann.socket, "join", "random"), { ok: true, room: "random" });
    assert.equal(await joinedBack, "Ann joined");
  } finally {
    for (const c of clients) c.disconnect();
    await running.close();
  }
});

test("chat example: a dropped connection is recovered, keeps its nickname and room, and gets what it missed", async () => {
  const running = await start(0, "127.0.0.1");
  const url = `http://127.0.0.1:${running.port}`;
  const clients: ClientSocket[] = [];
  try {
    const ann = await join(url, clients, { reconnection: true, reconnectionDelay: 50, reconnectionDelayMax: 50, randomizationFactor: 0 });
    const bob = await join(url, clients);
    assert.equal(ann.socket.recovered, false);
    await ack(ann.socket, "nick", "Ann");
    await ack(ann.socket, "join", "help");
    await ack(bob.socket, "join", "help");

    // The server drops Ann's connection (without a Socket.IO disconnect: a recoverable close).
    const dropped = next<string>(ann.socket, "disconnect");
    running.io.sockets.sockets.get(ann.socket.id!)!.conn.close();
    assert.equal(await dropped, "transport close");

    // Bob talks while Ann is away.
    const bobSent = await ack<{ ok: boolean }>(bob.socket, "message", "did you see this?");
    assert.equal(bobSent.ok, true);

    const missed = next<Message>(ann.socket, "message");
    await within(new Promise<void>((resolve) => ann.socket.once("connect", () => resolve())), T, "reconnect");
    assert.equal(ann.socket.recovered, true);
    assert.equal((await missed).text, "did you see this?");

    // Same nickname and room as before the drop: a message reaches Bob in #help as Ann.
    const toBob = next<Message>(bob.socket, "message");
    await ack(ann.socket, "message", "back");
    assert.deepEqual([(await toBob).nick, (await toBob).text], ["Ann", "back"]);
  } finally {
    for (const c of clients) c.disconnect();
    await running.close();
  }
});
