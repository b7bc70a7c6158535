// The agent's live state: one Socket.IO connection to /agent, and what it has told us.
// Components read `floor.state` and re-render on `subscribe`; they act through the methods.

import { io, type Socket } from "socket.io-client";
import { api, type ApiError, type Me } from "./api";
import type { Canned, Chat, Lead, Message, QueueEntry, Stats, TeamMember, TenantInfo, Ticket, Visitor } from "./model";
import { mergeMessages, newClientId } from "./model";

export interface ChatState {
  chat: Chat;
  unread: number;
  typing: boolean;
  ended: string | null;
  lead: Lead | null;
}

export interface FloorState {
  connected: boolean;
  status: string;
  chats: Record<string, ChatState>;
  order: string[];
  activeId: string | null;
  queue: QueueEntry[];
  queueReceivedAt: number;
  queueVisitors: Record<string, Visitor>;
  team: Record<string, TeamMember>;
  stats: Stats | null;
  canned: Canned[];
  tenant: TenantInfo | null;
  /** Leads saved on the tenant's chats since login (lead_saved), for chats handed over later. */
  leads: Record<string, Lead>;
  /** Tickets filed since login (ticket_created), newest last: the Tickets screen reloads. */
  tickets: Ticket[];
  /** Chats about to miss the answer target, or missed (sla_warning), newest last. */
  slaWarnings: SlaWarning[];
}

/** One sla_warning from the hub: a chat at 80% of its answer target, or past it. */
export interface SlaWarning {
  chat_id: string;
  kind: "at_risk" | "breached";
  language: string;
  status: string;
  agent_id: string | null;
  due_at: string;
  answer_s: number;
  waited_s: number;
}

export interface Ack {
  ok: boolean;
  error?: { code: string; message: string };
  [key: string]: unknown;
}

const ACK_TIMEOUT_MS = 10_000;
const TYPING_EVERY_MS = 2_000;
const TYPING_IDLE_MS = 3_000;

export class Floor {
  state: FloorState = {
    connected: false,
    status: "offline",
    chats: {},
    order: [],
    activeId: null,
    queue: [],
    queueReceivedAt: Date.now(),
    queueVisitors: {},
    team: {},
    stats: null,
    canned: [],
    tenant: null,
    leads: {},
    tickets: [],
    slaWarnings: [],
  };
  private socket: Socket | null = null;
  // events a view listens to while it is open ("On site now": visitors)
  private readonly hearers = new Map<string, Set<(data: unknown) => void>>();
  private listeners = new Set<() => void>();
  private typingSent = new Map<string, number>();
  private typingStop = new Map<string, ReturnType<typeof setTimeout>>();
  private typingSeen = new Map<string, ReturnType<typeof setTimeout>>();
  private audio: AudioContext | null = null;
  private fetchingVisitor = new Set<string>();

  constructor(
    readonly token: string,
    readonly me: Me,
    private readonly onExpired: () => void,
  ) {}

  subscribe(listener: () => void): () => void {
    this.listeners.add(listener);
    return () => this.listeners.delete(listener);
  }

  private set(patch: Partial<FloorState>): void {
    this.state = { ...this.state, ...patch };
    for (const listener of this.listeners) listener();
    this.updateTitle();
  }

  private setChat(id: string, patch: Partial<ChatState>): void {
    const current = this.state.chats[id];
    if (!current) return;
    this.set({ chats: { ...this.state.chats, [id]: { ...current, ...patch } } });
  }

  /** A user gesture (the login click) lets the page play sound later. */
  unlockSound(): void {
    try {
      this.audio = this.audio ?? new AudioContext();
      void this.audio.resume();
    } catch {
      this.audio = null;
    }
  }

  private beep(): void {
    const ctx = this.audio;
    if (!ctx) return;
    const osc = ctx.createOscillator();
    const gain = ctx.createGain();
    osc.frequency.value = 880;
    gain.gain.setValueAtTime(0.15, ctx.currentTime);
    gain.gain.exponentialRampToValueAtTime(0.001, ctx.currentTime + 0.25);
    osc.connect(gain).connect(ctx.destination);
    osc.start();
    osc.stop(ctx.currentTime + 0.25);
  }

  unreadTotal(): number {
    return Object.values(this.state.chats).reduce((n, c) => n + c.unread, 0);
  }

  private updateTitle(): void {
    const unread = this.unreadTotal();
    document.title = unread > 0 ? `(${unread}) Charla` : "Charla";
  }

  async start(): Promise<void> {
    const socket = io("/agent", {
      auth: { token: this.token },
      transports: ["websocket"],
      reconnectionDelayMax: 5000,
    });
    this.socket = socket;
    socket.onAny((event: string, data: unknown) => this.hearers.get(event)?.forEach((heard) => heard(data)));
    socket.on("connect", () => {
      this.set({ connected: true });
      void this.loadTeam();
      void this.resendFailed();
    });
    socket.on("disconnect", (reason: string) => {
      this.set({ connected: false });
      // The hub closed this connection itself (say, the agent was deactivated): socket.io
      // does not retry that, so ask whether the session still holds, then reconnect.
      if (reason === "io server disconnect") void this.recheck();
    });
    socket.on("connect_error", (err: Error & { data?: { code?: string } }) => {
      if (err.data?.code === "unauthorized") {
        this.stop();
        this.onExpired();
      }
    });
    socket.on("chat_assigned", (data: { chat: Chat }) => this.onAssigned(data.chat));
    socket.on("message", (data: { chat_id: string; message: Message }) => this.onMessage(data));
    socket.on("queue", (data: { waiting: QueueEntry[] }) => this.onQueue(data.waiting));
    socket.on("typing", (data: { chat_id: string; typing: boolean }) => this.onTyping(data));
    socket.on("visitor_activity", (data: { chat_id: string; page_view: Visitor["pages"][0] }) => {
      const queued = this.state.queueVisitors[data.chat_id];
      if (queued) {
        const visitor = { ...queued, pages: [...queued.pages, data.page_view] };
        this.set({ queueVisitors: { ...this.state.queueVisitors, [data.chat_id]: visitor } });
      }
      const chat = this.state.chats[data.chat_id];
      if (!chat) return;
      const visitor = { ...chat.chat.visitor, pages: [...chat.chat.visitor.pages, data.page_view] };
      this.setChat(data.chat_id, { chat: { ...chat.chat, visitor } });
    });
    socket.on("chat_closed", (data: { chat_id: string; reason: string }) => this.onClosed(data));
    socket.on("agent_status", (data: { agent_id: string; status: string; load: number }) => {
      const member = this.state.team[data.agent_id];
      if (data.agent_id === this.me.id) this.set({ status: data.status });
      if (member) {
        this.set({
          team: { ...this.state.team, [data.agent_id]: { ...member, status: data.status, load: data.load } },
        });
      } else {
        void this.loadTeam();
      }
    });
    socket.on("stats", (data: Stats) => this.set({ stats: data }));
    socket.on("lead_saved", (data: { chat_id: string; lead: Lead }) => {
      this.set({ leads: { ...this.state.leads, [data.chat_id]: data.lead } });
      if (this.state.chats[data.chat_id]) this.setChat(data.chat_id, { lead: data.lead });
    });
    socket.on("sla_warning", (data: SlaWarning) => {
      // one line per chat: a miss replaces its warning; at most the last twenty chats
      const others = this.state.slaWarnings.filter((w) => w.chat_id !== data.chat_id);
      this.set({ slaWarnings: [...others, data].slice(-20) });
    });
    socket.on("ticket_created", (data: { ticket: Ticket }) => {
      this.set({ tickets: [...this.state.tickets.filter((t) => t.id !== data.ticket.id), data.ticket] });
    });
    await Promise.all([this.loadCanned(), this.loadTenant()]);
  }

  /** Another screen's listener on the socket (supervision: the chats a supervisor joined). */
  on<T>(event: string, handler: (data: T) => void): () => void {
    const socket = this.socket;
    const listener = (data: T) => handler(data);
    socket?.on(event, listener);
    return () => {
      socket?.off(event, listener);
    };
  }

  private async recheck(): Promise<void> {
    try {
      await api("GET", "/api/me", this.token);
      this.socket?.connect();
    } catch (err) {
      // A 401 has ended the session already (whenUnauthorized); anything else: try again.
      if ((err as ApiError).status !== 401 && this.socket) setTimeout(() => void this.recheck(), 3000);
    }
  }

  stop(): void {
    this.socket?.removeAllListeners();
    this.socket?.disconnect();
    this.socket = null;
  }

  private async loadTeam(): Promise<void> {
    try {
      const body = await api<{ agents: TeamMember[] }>("GET", "/api/agents", this.token);
      const team: Record<string, TeamMember> = {};
      for (const member of body.agents) team[member.id] = member;
      const mine = team[this.me.id];
      this.set({ team, status: mine ? mine.status : this.state.status });
    } catch {
      /* the next agent_status retries */
    }
  }

  async loadCanned(): Promise<void> {
    try {
      const body = await api<{ canned_responses: Canned[] }>("GET", "/api/canned-responses", this.token);
      this.set({ canned: body.canned_responses });
    } catch {
      /* canned responses are a convenience; the chat works without */
    }
  }

  private async loadTenant(): Promise<void> {
    try {
      this.set({ tenant: await api<TenantInfo>("GET", "/api/tenant", this.token) });
    } catch {
      /* shown as missing options */
    }
  }

  private onAssigned(chat: Chat): void {
    const existing = this.state.chats[chat.id];
    const fresh = !existing || existing.ended !== null;
    const entry: ChatState = existing
      ? {
          ...existing,
          chat: { ...chat, messages: mergeMessages(existing.chat.messages, chat.messages) },
          ended: null,
        }
      : { chat, unread: 0, typing: false, ended: null, lead: this.state.leads[chat.id] ?? chat.lead ?? null };
    const order = this.state.order.includes(chat.id) ? this.state.order : [...this.state.order, chat.id];
    const activeId = this.state.activeId ?? chat.id;
    if (fresh && activeId !== chat.id) entry.unread = Math.max(entry.unread, 1);
    this.set({ chats: { ...this.state.chats, [chat.id]: entry }, order, activeId });
    if (fresh) this.beep();
  }

  private onMessage(data: { chat_id: string; message: Message }): void {
    const chat = this.state.chats[data.chat_id];
    if (!chat) return;
    const messages = mergeMessages(chat.chat.messages, [data.message]);
    const seen = this.state.activeId === data.chat_id && document.visibilityState === "visible";
    const fromVisitor = data.message.author === "visitor";
    this.setChat(data.chat_id, {
      chat: { ...chat.chat, messages },
      unread: chat.unread + (seen || !fromVisitor ? 0 : 1),
      typing: fromVisitor ? false : chat.typing,
    });
    if (fromVisitor && !seen) this.beep();
  }

  /** A message the hub stored and answered over HTTP (a file sent): shown at once. */
  received(message: Message): void {
    this.onMessage({ chat_id: message.chat_id, message });
  }

  private onQueue(waiting: QueueEntry[]): void {
    this.set({ queue: waiting, queueReceivedAt: Date.now() });
    for (const entry of waiting) {
      if (!this.state.queueVisitors[entry.chat_id]) void this.fetchQueuedVisitor(entry.chat_id);
    }
  }

  /** The queue event names chats only; their visitors (and current page) come from HTTP. */
  async fetchQueuedVisitor(chatId: string): Promise<void> {
    if (this.fetchingVisitor.has(chatId)) return;
    this.fetchingVisitor.add(chatId);
    try {
      const chat = await api<Chat>("GET", `/api/chats/${encodeURIComponent(chatId)}`, this.token);
      this.set({ queueVisitors: { ...this.state.queueVisitors, [chatId]: chat.visitor } });
    } catch {
      /* shown without a page */
    } finally {
      this.fetchingVisitor.delete(chatId);
    }
  }

  private onTyping(data: { chat_id: string; typing: boolean }): void {
    if (!this.state.chats[data.chat_id]) return;
    this.setChat(data.chat_id, { typing: data.typing });
    clearTimeout(this.typingSeen.get(data.chat_id));
    if (data.typing) {
      // A lost "stopped" must not leave the indicator on forever.
      this.typingSeen.set(
        data.chat_id,
        setTimeout(() => this.setChat(data.chat_id, { typing: false }), 8000),
      );
    }
  }

  private onClosed(data: { chat_id: string; reason: string }): void {
    if (!this.state.chats[data.chat_id]) return;
    if (data.reason === "transferred" || data.reason === "requeued") {
      this.remove(data.chat_id);
      return;
    }
    this.setChat(data.chat_id, { ended: data.reason, typing: false });
  }

  remove(chatId: string): void {
    const chats = { ...this.state.chats };
    delete chats[chatId];
    const order = this.state.order.filter((id) => id !== chatId);
    const activeId = this.state.activeId === chatId ? (order[0] ?? null) : this.state.activeId;
    this.set({ chats, order, activeId });
  }

  select(chatId: string): void {
    if (!this.state.chats[chatId]) return;
    this.set({ activeId: chatId });
    this.setChat(chatId, { unread: 0 });
  }

  /** Alt+1..9 and Ctrl+Arrow: by position, or one step from the chat in view. */
  selectAt(index: number): void {
    const id = this.state.order[index];
    if (id) this.select(id);
  }

  /** Alt+N: the next open chat after the one in view whose visitor waits for an answer
   * (wrote last, or unread), in tab order; nothing when none waits. */
  nextWaiting(): void {
    const { order, activeId, chats } = this.state;
    const at = activeId ? order.indexOf(activeId) : -1;
    for (let i = 1; i <= order.length; i++) {
      const entry = chats[order[(at + i + order.length) % order.length]];
      const last = entry.chat.messages[entry.chat.messages.length - 1];
      if (entry.chat.id !== activeId && !entry.ended && (entry.unread > 0 || last?.author === "visitor")) {
        this.select(entry.chat.id);
        return;
      }
    }
  }

  step(delta: number): void {
    const { order, activeId } = this.state;
    if (order.length === 0) return;
    const at = activeId ? order.indexOf(activeId) : 0;
    this.select(order[(at + delta + order.length) % order.length]);
  }

  /** Hear a hub event until the returned function is called. */
  listen<T>(event: string, heard: (data: T) => void): () => void {
    const all = this.hearers.get(event) ?? new Set();
    this.hearers.set(event, all);
    const entry = heard as (data: unknown) => void;
    all.add(entry);
    return () => all.delete(entry);
  }

  call(event: string, payload: unknown): Promise<Ack> {
    const socket = this.socket;
    if (!socket || !socket.connected) {
      return Promise.resolve({ ok: false, error: { code: "unavailable", message: "not connected" } });
    }
    return socket
      .timeout(ACK_TIMEOUT_MS)
      .emitWithAck(event, payload)
      .catch(() => ({ ok: false, error: { code: "unavailable", message: "no answer from the hub" } }));
  }

  async setStatus(status: string): Promise<Ack> {
    const ack = await this.call("set_status", { status });
    // Redraw either way: a refused change must put the select back to the real status.
    this.set({ status: ack.ok ? status : this.state.status });
    return ack;
  }

  async send(chatId: string, text: string, whisper = false): Promise<Ack> {
    const chat = this.state.chats[chatId];
    if (!chat) return { ok: false };
    const clientId = newClientId();
    const pending: Message = {
      id: `~${clientId}`,
      chat_id: chatId,
      author: "agent",
      author_name: this.me.name,
      text,
      created_at: new Date().toISOString(),
      client_msg_id: clientId,
      pending: true,
      ...(whisper ? { whisper } : {}),
    };
    this.setChat(chatId, { chat: { ...chat.chat, messages: [...chat.chat.messages, pending] } });
    this.stopTyping(chatId);
    return this.deliver(chatId, clientId, text, whisper);
  }

  /** Send (or resend: the same client_msg_id is stored once) and settle the pending copy. */
  private async deliver(chatId: string, clientId: string, text: string, whisper = false): Promise<Ack> {
    const ack = await this.call("message", { chat_id: chatId, text, client_msg_id: clientId, ...(whisper ? { whisper } : {}) });
    const now = this.state.chats[chatId];
    if (!now) return ack;
    if (ack.ok) {
      const stored = ack.message as Message;
      this.setChat(chatId, { chat: { ...now.chat, messages: mergeMessages(now.chat.messages, [stored]) } });
    } else {
      const retry = ack.error?.code === "unavailable" || ack.error?.code === "rate_limited";
      const messages = now.chat.messages.map((m) =>
        m.client_msg_id === clientId && !m.id.match(/^\d+$/)
          ? { ...m, pending: false, failed: ack.error?.message ?? "error", retry }
          : m,
      );
      this.setChat(chatId, { chat: { ...now.chat, messages } });
    }
    return ack;
  }

  /** After a reconnect: what could not be sent goes out again, in order. */
  private async resendFailed(): Promise<void> {
    for (const id of this.state.order) {
      const entry = this.state.chats[id];
      if (!entry || entry.ended) continue;
      for (const m of entry.chat.messages.filter((x) => x.retry && x.client_msg_id)) {
        const current = this.state.chats[id];
        if (!current) break;
        const messages = current.chat.messages.map((x) =>
          x.client_msg_id === m.client_msg_id && x.retry
            ? { ...x, pending: true, failed: undefined, retry: false }
            : x,
        );
        this.setChat(id, { chat: { ...current.chat, messages } });
        await this.deliver(id, m.client_msg_id as string, m.text, m.whisper === true);
      }
    }
  }

  typing(chatId: string): void {
    const last = this.typingSent.get(chatId) ?? 0;
    if (Date.now() - last > TYPING_EVERY_MS) {
      this.typingSent.set(chatId, Date.now());
      this.socket?.emit("typing", { chat_id: chatId, typing: true });
    }
    clearTimeout(this.typingStop.get(chatId));
    this.typingStop.set(
      chatId,
      setTimeout(() => this.stopTyping(chatId), TYPING_IDLE_MS),
    );
  }

  private stopTyping(chatId: string): void {
    clearTimeout(this.typingStop.get(chatId));
    if (this.typingSent.has(chatId)) {
      this.typingSent.delete(chatId);
      this.socket?.emit("typing", { chat_id: chatId, typing: false });
    }
  }

  transfer(chatId: string, target: { agent_id: string } | { language: string }): Promise<Ack> {
    return this.call("transfer", { chat_id: chatId, ...target });
  }

  async close(chatId: string, disposition: string): Promise<Ack> {
    const ack = await this.call("close_chat", { chat_id: chatId, disposition });
    if (ack.ok) this.remove(chatId);
    return ack;
  }

  async saveLead(chatId: string, lead: Record<string, unknown>): Promise<Ack> {
    const ack = await this.call("save_lead", { chat_id: chatId, lead });
    if (ack.ok) {
      const lead = ack.lead as Lead;
      this.set({ leads: { ...this.state.leads, [chatId]: lead } });
      if (this.state.chats[chatId]) this.setChat(chatId, { lead });
    }
    return ack;
  }
}
