// Drives one whole chat through a running Charla hub with the JavaScript socket.io-client,
// as a website widget and an agent console would (see PROTOCOL.md).
//
// Configuration (environment):
//   HUB_URL          http://127.0.0.1:PORT of a running hub
//   SITE_KEY         site key of a tenant that allows ORIGIN and has no bot
//   ORIGIN           Origin header of the visitor connection, e.g. https://dealer.example
//   AGENT_EMAIL      an agent of that tenant who speaks "es"
//   AGENT_PASSWORD
//   WAIT_MS          timeout of each wait (default 5000)
//   TOTAL_MS         timeout of the whole script (default 30000)
//
// Prints exactly one JSON line on stdout:
//   {"ok": true, "chat_id", "visitor_id", "messages": [texts in order], "steps": [...]}
// or {"ok": false, "step", "error", "steps"} and exits 1. Progress goes to stderr.

import { randomUUID } from "node:crypto";
import { io } from "socket.io-client";

const WAIT_MS = Number(process.env.WAIT_MS || 5000);
const TOTAL_MS = Number(process.env.TOTAL_MS || 30000);

const OPENING = "Hola, busco una Tacoma 2022";
const VISITOR_TEXT = "¿La tienen en color blanco?";
const AGENT_TEXT = "¡Claro! Tenemos dos blancas en inventario.";
const BARRIER_TEXT = "¿Y cuál es el precio?";
const AWAY_TEXT = "Son $38,500. ¿Le interesa una prueba de manejo?";

const steps = [];
const sockets = [];
let step = "config";
let finished = false;

function finish(code, summary) {
  if (finished) return;
  finished = true;
  for (const socket of sockets) socket.disconnect();
  process.stdout.write(`${JSON.stringify(summary)}\n`, () => process.exit(code));
}

function fail(error) {
  let message = error instanceof Error ? error.message : String(error);
  if (error?.cause) message += ` (${error.cause.message ?? error.cause})`;
  finish(1, { ok: false, step, error: message, steps });
}

function begin(name) {
  step = name;
  process.stderr.write(`[protocol_chat] ${name}\n`);
}

function done() {
  steps.push(step);
}

function check(condition, message) {
  if (!condition) throw new Error(message);
}

function show(value) {
  return JSON.stringify(value)?.slice(0, 500);
}

function env(name) {
  const value = process.env[name];
  check(value, `environment variable ${name} is not set`);
  return value;
}

// Records every event a socket receives, from before it connects, so that a wait never
// misses an event that arrived before the wait began.
class EventLog {
  constructor(socket, label) {
    this.label = label;
    this.events = [];
    this.waiters = [];
    socket.onAny((event, ...args) => {
      const entry = { event, payload: args[0], used: false };
      this.events.push(entry);
      for (const waiter of [...this.waiters]) waiter(entry);
    });
  }

  // Resolves with the payload of the first not yet consumed `event` matching `predicate`.
  waitFor(event, predicate = () => true, ms = WAIT_MS) {
    const matches = (entry) => !entry.used && entry.event === event && predicate(entry.payload);
    const seen = this.events.find(matches);
    if (seen) {
      seen.used = true;
      return Promise.resolve(seen.payload);
    }
    return new Promise((resolve, reject) => {
      const waiter = (entry) => {
        if (!matches(entry)) return;
        entry.used = true;
        clearTimeout(timer);
        this.waiters.splice(this.waiters.indexOf(waiter), 1);
        resolve(entry.payload);
      };
      const timer = setTimeout(() => {
        this.waiters.splice(this.waiters.indexOf(waiter), 1);
        const got = this.events.map((e) => e.event).join(", ") || "nothing";
        reject(new Error(`${this.label}: no '${event}' within ${ms} ms (received: ${got})`));
      }, ms);
      this.waiters.push(waiter);
    });
  }

  count(event, predicate) {
    return this.events.filter((e) => e.event === event && predicate(e.payload)).length;
  }
}

// One engine.io connection per client (forceNew): by default io() multiplexes every
// namespace of one host over a single connection, which would make the agent and the
// visitor share headers and a disconnect.
function connect(hubUrl, namespace, label, options) {
  const socket = io(`${hubUrl}${namespace}`, {
    transports: ["websocket"],
    forceNew: true,
    reconnection: false,
    timeout: WAIT_MS,
    ...options,
  });
  sockets.push(socket);
  const log = new EventLog(socket, label);
  const connected = new Promise((resolve, reject) => {
    const timer = setTimeout(
      () => reject(new Error(`${label}: not connected within ${WAIT_MS} ms`)),
      WAIT_MS,
    );
    socket.once("connect", () => {
      clearTimeout(timer);
      resolve();
    });
    socket.once("connect_error", (err) => {
      clearTimeout(timer);
      const data = err.data === undefined ? "" : ` ${show(err.data)}`;
      reject(new Error(`${label}: connect_error: ${err.message}${data}`));
    });
  });
  return { socket, log, connected };
}

async function ack(socket, label, event, payload) {
  let reply;
  try {
    reply = await socket.timeout(WAIT_MS).emitWithAck(event, payload);
  } catch (err) {
    throw new Error(`${label}: no ack to '${event}' within ${WAIT_MS} ms (${err.message})`);
  }
  check(reply && typeof reply === "object", `${label}: ack to '${event}' is not an object: ${show(reply)}`);
  return reply;
}

async function ackOk(socket, label, event, payload) {
  const reply = await ack(socket, label, event, payload);
  check(reply.ok === true, `${label}: '${event}' answered ${show(reply)}`);
  return reply;
}

function checkMessage(message, chatId, author, text) {
  check(message && typeof message === "object", `not a Message: ${show(message)}`);
  check(typeof message.id === "string" && message.id, `Message without a string id: ${show(message)}`);
  check(message.chat_id === chatId, `Message of chat ${message.chat_id}, expected ${chatId}`);
  check(message.author === author, `Message author ${message.author}, expected ${author}`);
  check(message.text === text, `Message text ${show(message.text)}, expected ${show(text)}`);
  check(
    typeof message.created_at === "string" && message.created_at.endsWith("Z"),
    `Message created_at is not an ISO UTC time ending in Z: ${show(message.created_at)}`,
  );
}

function checkOrdered(messages, label) {
  check(Array.isArray(messages), `${label}: messages is not a list: ${show(messages)}`);
  const ids = messages.map((m) => m.id);
  check(new Set(ids).size === ids.length, `${label}: duplicate message ids ${show(ids)}`);
  const sorted = [...ids].sort();
  check(
    ids.every((id, i) => id === sorted[i]),
    `${label}: message ids do not sort in the order the hub returned them: ${show(ids)}`,
  );
  const texts = messages.map((m) => m.text);
  const expected = [OPENING, VISITOR_TEXT, AGENT_TEXT, BARRIER_TEXT, AWAY_TEXT];
  let at = 0;
  for (const text of texts) if (text === expected[at]) at += 1;
  check(at === expected.length, `${label}: expected ${show(expected)} in this order, got ${show(texts)}`);
  for (const text of expected) {
    const times = texts.filter((t) => t === text).length;
    check(times === 1, `${label}: ${show(text)} stored ${times} times`);
  }
  return texts;
}

async function main() {
  const hubUrl = env("HUB_URL").replace(/\/+$/, "");
  const siteKey = env("SITE_KEY");
  const origin = env("ORIGIN");
  const email = env("AGENT_EMAIL");
  const password = env("AGENT_PASSWORD");
  done();

  begin("login");
  const response = await fetch(`${hubUrl}/api/login`, {
    method: "POST",
    headers: { "content-type": "application/json" },
    body: JSON.stringify({ email, password }),
    signal: AbortSignal.timeout(WAIT_MS),
  });
  const login = await response.json().catch(() => null);
  check(response.status === 200, `POST /api/login -> ${response.status} ${show(login)}`);
  check(typeof login?.token === "string" && login.token, `no token in ${show(login)}`);
  done();

  begin("agent_connect");
  const agent = connect(hubUrl, "/agent", "agent", { auth: { token: login.token } });
  await agent.connected;
  done();

  begin("agent_online");
  await ackOk(agent.socket, "agent", "set_status", { status: "online" });
  done();

  begin("visitor_connect");
  const visitor = connect(hubUrl, "/visitor", "visitor", {
    auth: { site_key: siteKey },
    extraHeaders: { Origin: origin },
  });
  await visitor.connected;
  const session = await visitor.log.waitFor("session");
  const visitorId = session?.visitor_id;
  check(typeof visitorId === "string" && visitorId, `session without visitor_id: ${show(session)}`);
  done();

  begin("page_view");
  await ackOk(visitor.socket, "visitor", "page_view", {
    url: `${origin}/inventario/toyota-tacoma-2022`,
    title: "Toyota Tacoma 2022",
    referrer: "https://www.google.com/",
  });
  done();

  begin("start_chat");
  const started = await ackOk(visitor.socket, "visitor", "start_chat", {
    text: OPENING,
    language: "es",
  });
  const chatId = started.chat?.id;
  check(typeof chatId === "string" && chatId, `start_chat ack without chat.id: ${show(started)}`);
  check(
    ["queued", "active"].includes(started.chat.status),
    `start_chat status ${show(started.chat.status)}: expected queued or active with an online agent and no bot`,
  );
  done();

  begin("chat_assigned");
  const assigned = await agent.log.waitFor("chat_assigned", (p) => p?.chat?.id === chatId);
  check(Array.isArray(assigned.chat.messages), `chat_assigned without messages: ${show(assigned)}`);
  done();

  begin("agent_joined");
  await visitor.log.waitFor("agent_joined", (p) => p?.chat_id === chatId);
  done();

  begin("visitor_message");
  const visitorMsgId = randomUUID();
  const sent = await ackOk(visitor.socket, "visitor", "message", {
    chat_id: chatId,
    text: VISITOR_TEXT,
    client_msg_id: visitorMsgId,
  });
  checkMessage(sent.message, chatId, "visitor", VISITOR_TEXT);
  const atAgent = await agent.log.waitFor(
    "message",
    (p) => p?.chat_id === chatId && p?.message?.id === sent.message.id,
  );
  checkMessage(atAgent.message, chatId, "visitor", VISITOR_TEXT);
  done();

  begin("agent_reply");
  const reply = await ackOk(agent.socket, "agent", "message", {
    chat_id: chatId,
    text: AGENT_TEXT,
    client_msg_id: randomUUID(),
  });
  checkMessage(reply.message, chatId, "agent", AGENT_TEXT);
  const atVisitor = await visitor.log.waitFor(
    "message",
    (p) => p?.chat_id === chatId && p?.message?.id === reply.message.id,
  );
  checkMessage(atVisitor.message, chatId, "agent", AGENT_TEXT);
  done();

  begin("idempotent_resend");
  const resent = await ackOk(visitor.socket, "visitor", "message", {
    chat_id: chatId,
    text: VISITOR_TEXT,
    client_msg_id: visitorMsgId,
  });
  check(
    resent.message?.id === sent.message.id,
    `resend got message id ${show(resent.message?.id)}, first send got ${show(sent.message.id)}`,
  );
  // A later message is a barrier: delivery is ordered, so a duplicate would arrive first.
  const barrier = await ackOk(visitor.socket, "visitor", "message", {
    chat_id: chatId,
    text: BARRIER_TEXT,
    client_msg_id: randomUUID(),
  });
  await agent.log.waitFor("message", (p) => p?.message?.id === barrier.message.id);
  const deliveries = agent.log.count(
    "message",
    (p) => p?.message?.id === sent.message.id || p?.message?.text === VISITOR_TEXT,
  );
  check(deliveries === 1, `the agent received the visitor's message ${deliveries} times`);
  done();

  begin("visitor_reconnect");
  visitor.socket.disconnect();
  // What the agent says while the visitor is away must come back through sync.
  await ackOk(agent.socket, "agent", "message", {
    chat_id: chatId,
    text: AWAY_TEXT,
    client_msg_id: randomUUID(),
  });
  const again = connect(hubUrl, "/visitor", "visitor (reconnected)", {
    auth: { site_key: siteKey, visitor_id: visitorId },
    extraHeaders: { Origin: origin },
  });
  await again.connected;
  const session2 = await again.log.waitFor("session");
  check(
    session2?.visitor_id === visitorId,
    `reconnected as visitor ${show(session2?.visitor_id)}, expected ${show(visitorId)}`,
  );
  done();

  begin("sync");
  const synced = await ackOk(again.socket, "visitor", "sync", { chat_id: chatId });
  const messages = synced.messages;
  const texts = checkOrdered(messages, "visitor sync");
  const firstVisitor = messages.findIndex((m) => m.id === sent.message.id);
  check(firstVisitor >= 0, `sync lacks message ${sent.message.id}`);
  const tail = await ackOk(again.socket, "visitor", "sync", {
    chat_id: chatId,
    after_id: sent.message.id,
  });
  const expectedTail = messages.slice(firstVisitor + 1).map((m) => m.id);
  check(
    show(tail.messages?.map((m) => m.id)) === show(expectedTail),
    `sync after_id=${sent.message.id} gave ${show(tail.messages?.map((m) => m.id))}, expected ${show(expectedTail)}`,
  );
  const agentSync = await ackOk(agent.socket, "agent", "sync", { chat_id: chatId });
  check(
    show(agentSync.messages?.map((m) => m.id)) === show(messages.map((m) => m.id)),
    `agent sync ${show(agentSync.messages?.map((m) => m.id))} differs from visitor sync ${show(messages.map((m) => m.id))}`,
  );
  done();

  begin("invalid_payload");
  for (const payload of [
    { chat_id: chatId, text: 42, client_msg_id: randomUUID() },
    "not an object",
  ]) {
    const refused = await ack(again.socket, "visitor", "message", payload);
    check(
      refused.ok === false && refused.error?.code === "invalid_payload",
      `message ${show(payload)} answered ${show(refused)}, expected invalid_payload`,
    );
    check(typeof refused.error.message === "string", `error without a message: ${show(refused)}`);
  }
  check(again.socket.connected, "the hub closed the connection after a malformed payload");
  await ackOk(again.socket, "visitor", "sync", { chat_id: chatId });
  done();

  begin("close_chat");
  await ackOk(agent.socket, "agent", "close_chat", { chat_id: chatId });
  const closed = await again.log.waitFor("chat_closed", (p) => p?.chat_id === chatId);
  done();

  finish(0, {
    ok: true,
    chat_id: chatId,
    visitor_id: visitorId,
    status: started.chat.status,
    closed_reason: closed.reason ?? null,
    messages: texts,
    message_ids: messages.map((m) => m.id),
    steps,
  });
}

// Not unref'd: it also keeps the process alive, so it never ends silently with code 0.
setTimeout(() => fail(new Error(`the script exceeded ${TOTAL_MS} ms`)), TOTAL_MS);
main().catch(fail);
