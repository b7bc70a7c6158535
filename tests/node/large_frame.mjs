// A visitor of the JavaScript socket.io-client pastes a long text: a frame up to the hard cap
// (1 MiB) gets a `too_large` ack and the connection stays open; only a larger one closes it.
//
// Configuration (environment): HUB_URL, SITE_KEY, ORIGIN (as protocol_chat.mjs), HARD_CAP
// (bytes of one Engine.IO packet). Prints one JSON line on stdout:
//   {"ok": true, "pasted": ack, "after": ack, "disconnected": reason}
// or {"ok": false, "error"} and exits 1.

import { io } from "socket.io-client";

const WAIT_MS = 5000;
const hardCap = Number(process.env.HARD_CAP);

function finish(code, summary) {
  process.stdout.write(`${JSON.stringify(summary)}\n`, () => process.exit(code));
}

async function main() {
  const socket = io(`${process.env.HUB_URL}/visitor`, {
    transports: ["websocket"],
    forceNew: true,
    reconnection: false,
    timeout: WAIT_MS,
    auth: { site_key: process.env.SITE_KEY },
    extraHeaders: { Origin: process.env.ORIGIN },
  });
  await new Promise((resolve, reject) => {
    socket.once("session", resolve);
    socket.once("connect_error", reject);
  });
  const disconnected = new Promise((resolve) => socket.once("disconnect", resolve));

  // `42/visitor,N["start_chat",{"text":"..."}]` stays under the cap by this much
  const pasted = await socket
    .timeout(WAIT_MS)
    .emitWithAck("start_chat", { text: "x".repeat(hardCap - 100), language: "es" });
  const after = await socket.timeout(WAIT_MS).emitWithAck("page_view", {
    url: `${process.env.ORIGIN}/inventario`,
  });
  const connectedAfter = socket.connected;
  socket.emit("page_view", { url: `${process.env.ORIGIN}/${"y".repeat(hardCap)}` });
  const reason = await Promise.race([
    disconnected,
    new Promise((resolve) => setTimeout(() => resolve("still connected"), WAIT_MS)),
  ]);
  socket.close();
  finish(0, { ok: true, pasted, after, connected_after: connectedAfter, disconnected: reason });
}

main().catch((error) => finish(1, { ok: false, error: String(error?.message ?? error) }));
