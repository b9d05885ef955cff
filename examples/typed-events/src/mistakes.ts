// Never run: each line below is a mistake the compiler must reject. `tsc` fails if one of
// them compiles (an unused @ts-expect-error is itself an error), which keeps the types honest.
import type { TypedServer } from "./server";
import type { TypedClient } from "./client";

export function mistakes(io: TypedServer, client: TypedClient): void {
  // @ts-expect-error "chat" carries a ChatMessage, not a string
  io.emit("chat", "hello");
  // @ts-expect-error no event of that name
  io.emit("chta", { id: 1, from: "a", text: "b" });
  // @ts-expect-error "userCount" takes no acknowledgement, so it has none to wait for
  void io.timeout(1000).emitWithAck("userCount", 1);

  io.on("connection", (socket) => {
    // @ts-expect-error the acknowledgement takes a ChatResult
    socket.on("chat", (_text, ack) => ack("ok"));
    // @ts-expect-error socket.data.name is a string
    socket.data.name = 42;
    // @ts-expect-error the listener gets a string
    socket.on("chat", (text: number) => text);
  });

  // @ts-expect-error the client sends text
  client.emit("chat", 42, () => undefined);
  // @ts-expect-error the vote is "yes" or "no"
  client.on("poll", (_question, answer) => answer("maybe"));
}
