// Charla's visitor widget: one <script src="https://HUB/widget.js" data-site-key="..." async>.
// It finds the hub from its own src, lives in an open shadow root, and speaks the /visitor
// protocol (docs/protocol.md) over Socket.IO, WebSocket first.
import { io, type Socket } from "socket.io-client";
import { clear, el } from "./dom";
import { browserLang, type Lang, texts, type Texts } from "./i18n";
import { Memory } from "./store";
import { CSS } from "./style";

interface Message {
  id: string;
  chat_id: string;
  author: "visitor" | "agent" | "bot" | "system";
  author_name?: string;
  text: string;
  client_msg_id?: string;
}
interface Config {
  name: string;
  languages: string[];
  prechat_fields: string[];
  open: boolean;
}
interface Ack {
  ok: boolean;
  error?: { code: string; message: string };
  [key: string]: unknown;
}
type View = "prechat" | "offline" | "chat" | "ended" | "thanks";

const ICON =
  '<svg viewBox="0 0 24 24" aria-hidden="true"><path d="M4 4h16a2 2 0 0 1 2 2v10a2 2 0 0 1-2 2H8l-4 4V6a2 2 0 0 1 2-2z"/></svg>';

function findScript(): HTMLScriptElement | null {
  const current = document.currentScript;
  if (current instanceof HTMLScriptElement && current.dataset.siteKey) return current;
  return document.querySelector<HTMLScriptElement>("script[data-site-key][src*='widget.js']");
}

class Widget {
  private readonly memory: Memory;
  private readonly socket: Socket;
  private lang: Lang;
  private t: Texts;
  private config: Config = { name: "", languages: ["es", "en"], prechat_fields: ["name", "phone", "email"], open: true };
  private view: View = "prechat";
  private chatId: string | null;
  private messages: Message[] = [];
  private readonly early = new Map<string, { status?: string; agent?: string }>();
  private agentName = "";
  private invitation: { id: string; text: string } | null = null;
  private lastUrl = "";
  private typingSent = 0;
  private typingTimer = 0;
  private statusText = "";
  private draft = "";
  private rating = 0;

  private readonly rootEl: HTMLElement;
  private readonly shadow: ShadowRoot;
  private readonly launcher: HTMLButtonElement;
  private readonly panel: HTMLElement;
  private readonly bubble: HTMLElement;
  private readonly live: HTMLElement;
  private log: HTMLElement | null = null;
  private typingEl: HTMLElement | null = null;
  private statusEl: HTMLElement | null = null;

  constructor(
    private readonly hub: string,
    private readonly siteKey: string,
  ) {
    this.memory = new Memory(`charla:${siteKey}:`);
    const chosen = this.memory.get("lang");
    this.lang = chosen === "es" || chosen === "en" ? chosen : browserLang(navigator.languages || [navigator.language]);
    this.t = texts(this.lang);
    this.chatId = this.memory.get("chat_id");
    if (this.chatId) {
      this.view = "chat";
      this.agentName = this.memory.get("agent") || "";
      if (this.agentName) this.statusText = this.t.chattingWith(this.agentName);
    }

    const host = document.createElement("charla-widget");
    const shadow = host.attachShadow({ mode: "open" });
    this.shadow = shadow;
    shadow.append(el("style", {}, CSS));
    this.live = el("div", { class: "sr", "aria-live": "polite", role: "status" });
    this.bubble = el("div", { class: "bubble", role: "dialog", hidden: true });
    this.panel = el("section", { class: "panel", id: "charla-panel", role: "dialog", hidden: true });
    this.launcher = el("button", {
      class: "launcher",
      type: "button",
      "aria-controls": "charla-panel",
      "aria-expanded": "false",
      onclick: () => this.toggle(),
    });
    this.launcher.innerHTML = ICON; // a constant icon, never data
    this.rootEl = el("div", { class: "root", lang: this.lang }, this.live, this.bubble, this.panel, this.launcher);
    this.rootEl.addEventListener("keydown", (ev) => {
      if (ev.key === "Escape" && !this.panel.hidden) {
        this.setOpen(false);
        this.launcher.focus();
      }
    });
    shadow.append(this.rootEl);
    (document.body || document.documentElement).append(host);

    this.socket = io(`${hub}/visitor`, {
      transports: ["websocket", "polling"],
      auth: (cb) => cb({ site_key: siteKey, ...(this.memory.get("visitor_id") ? { visitor_id: this.memory.get("visitor_id") } : {}) }),
    });
    this.listen();
    this.render();
    if (this.memory.get("open") === "1") this.setOpen(true, false);
    void this.loadConfig();
    this.watchHistory();
  }

  // -- protocol ---------------------------------------------------------------------------

  private call(event: string, data: unknown): Promise<Ack> {
    return new Promise((resolve) => {
      this.socket.timeout(10000).emit(event, data, (err: unknown, ack: Ack) => {
        resolve(err ? { ok: false, error: { code: "unavailable", message: String(err) } } : ack);
      });
    });
  }

  private listen(): void {
    const s = this.socket;
    s.on("session", (data: { visitor_id: string }) => {
      this.memory.set("visitor_id", data.visitor_id);
      this.setStatus(this.statusText); // in place of "reconnecting"
      this.pageView(); // once per URL: a reconnect sends only a page changed meanwhile
      if (this.chatId) void this.sync();
    });
    s.on("disconnect", () => {
      if (this.statusEl) this.statusEl.textContent = this.t.reconnecting;
    });
    s.on("message", (data: { chat_id: string; message: Message }) => {
      if (data.chat_id !== this.chatId) return;
      this.add(data.message);
      if (data.message.author !== "visitor") {
        this.showTyping(false);
        this.announce(`${data.message.author_name || ""}: ${data.message.text}`);
      }
    });
    // Both can come before the ack that names the chat: kept until it does.
    s.on("queue_position", (data: { chat_id: string; position: number; estimated_wait_s: number }) => {
      const text = this.t.queue(data.position, Math.max(1, Math.round(data.estimated_wait_s / 60)));
      if (data.chat_id === this.chatId) this.setStatus(text);
      else if (!this.chatId) this.early.set(data.chat_id, { status: text });
    });
    s.on("agent_joined", (data: { chat_id: string; agent: { name: string } }) => {
      if (data.chat_id === this.chatId) this.joined(data.agent.name);
      else if (!this.chatId) this.early.set(data.chat_id, { agent: data.agent.name });
    });
    s.on("typing", (data: { chat_id: string; typing: boolean }) => {
      if (data.chat_id === this.chatId) this.showTyping(data.typing);
    });
    s.on("chat_closed", (data: { chat_id: string }) => {
      if (data.chat_id === this.chatId) this.ended();
    });
    s.on("invitation", (data: { invitation_id: string; text: string }) => {
      if (this.chatId && this.view === "chat") return;
      this.invitation = { id: data.invitation_id, text: data.text };
      this.renderBubble();
    });
  }

  private pageView(): void {
    if (location.href === this.lastUrl || !this.socket.connected) return;
    this.lastUrl = location.href;
    void this.call("page_view", {
      url: location.href,
      title: document.title.slice(0, 200),
      referrer: document.referrer || undefined,
      language: this.lang,
    });
  }

  private watchHistory(): void {
    const changed = () => setTimeout(() => this.pageView(), 0);
    for (const name of ["pushState", "replaceState"] as const) {
      const original = history[name];
      history[name] = function (this: History, ...args: Parameters<History["pushState"]>) {
        const result = original.apply(this, args);
        changed();
        return result;
      };
    }
    window.addEventListener("popstate", changed);
  }

  private async loadConfig(): Promise<void> {
    try {
      const r = await fetch(`${this.hub}/api/widget/config?site_key=${encodeURIComponent(this.siteKey)}`);
      if (r.ok) this.config = (await r.json()) as Config;
    } catch {
      /* keep the defaults: the chat itself still works */
    }
    if (!this.chatId) this.view = this.config.open ? "prechat" : "offline";
    this.render();
  }

  private async sync(): Promise<void> {
    const chatId = this.chatId;
    if (!chatId) return;
    const last = this.messages[this.messages.length - 1];
    const ack = await this.call("sync", { chat_id: chatId, ...(last ? { after_id: last.id } : {}) });
    if (!ack.ok) {
      if (ack.error?.code === "not_found") this.forgetChat();
      return;
    }
    for (const m of ack.messages as Message[]) this.add(m);
    const status = (ack.chat as { status: string } | undefined)?.status;
    if (status === "closed") this.ended();
    else if (status === "offline") this.forgetChat();
  }

  // -- actions ----------------------------------------------------------------------------

  private async startChat(form: HTMLFormElement, offline: boolean): Promise<void> {
    const data = new FormData(form);
    const text = String(data.get("text") || "").trim();
    if (!text) return this.formError(form, this.t.required);
    const payload: Record<string, string> = { text, language: this.lang, client_msg_id: this.msgId() };
    for (const f of ["name", "phone", "email"]) {
      const v = String(data.get(f) || "").trim();
      if (v) payload[f] = v;
    }
    const ack = await this.call("start_chat", payload);
    if (!ack.ok) return this.formError(form, ack.error?.message || this.t.error);
    const chat = ack.chat as { id: string; status: string };
    if (chat.status === "offline") {
      this.view = "thanks";
      this.render();
      return;
    }
    this.openChat(chat.id);
    await this.sync();
  }

  private openChat(chatId: string): void {
    this.chatId = chatId;
    this.memory.set("chat_id", chatId);
    this.memory.set("rated", null);
    this.messages = [];
    this.agentName = "";
    this.view = "chat";
    this.render();
    this.setOpen(true);
    const early = this.early.get(chatId);
    this.early.clear();
    if (early?.agent) this.joined(early.agent);
    else if (early?.status) this.setStatus(early.status);
  }

  private joined(name: string): void {
    this.agentName = name;
    this.memory.set("agent", name);
    this.setStatus(this.t.chattingWith(name));
    this.announce(this.t.joined(name));
  }

  private async send(text: string): Promise<void> {
    const chatId = this.chatId;
    if (!chatId || !text.trim()) return;
    const id = this.msgId();
    const pending = this.bubbleFor({ id: "", chat_id: chatId, author: "visitor", text, client_msg_id: id });
    pending.classList.add("pending");
    this.log?.append(pending);
    this.scroll();
    this.typing(false);
    const ack = await this.call("message", { chat_id: chatId, text, client_msg_id: id });
    pending.remove();
    if (ack.ok) this.add(ack.message as Message);
    else {
      this.setStatus(ack.error?.code === "closed" ? this.t.ended : this.t.error);
      this.draft = text;
      if (ack.error?.code === "closed") this.ended();
      else this.render();
    }
  }

  private async endChat(): Promise<void> {
    if (this.chatId) await this.call("end_chat", { chat_id: this.chatId });
    this.ended();
  }

  private async answer(accepted: boolean): Promise<void> {
    const invitation = this.invitation;
    if (!invitation) return;
    this.invitation = null;
    this.renderBubble();
    const ack = await this.call("invitation_response", { invitation_id: invitation.id, accepted });
    if (!accepted) return this.launcher.focus();
    if (ack.ok && ack.chat) {
      this.openChat((ack.chat as { id: string }).id);
      if (ack.message) this.add(ack.message as Message);
      await this.sync();
    } else {
      this.view = "offline";
      this.render();
      this.setOpen(true);
    }
  }

  private async rate(form: HTMLFormElement): Promise<void> {
    if (!this.chatId || !this.rating) return this.formError(form, this.t.required);
    const comment = String(new FormData(form).get("comment") || "").trim();
    const ack = await this.call("rate", {
      chat_id: this.chatId,
      score: this.rating,
      ...(comment ? { comment } : {}),
    });
    if (!ack.ok) return this.formError(form, ack.error?.message || this.t.error);
    this.memory.set("rated", "1");
    this.render();
    this.announce(this.t.thanksRating);
  }

  private typing(on: boolean): void {
    if (!this.chatId) return;
    const now = Date.now();
    clearTimeout(this.typingTimer);
    if (on) {
      this.typingTimer = window.setTimeout(() => this.typing(false), 3000);
      if (now - this.typingSent < 2000) return;
      this.typingSent = now;
    } else {
      if (!this.typingSent) return;
      this.typingSent = 0;
    }
    this.socket.emit("typing", { chat_id: this.chatId, typing: on });
  }

  // -- state ------------------------------------------------------------------------------

  /** Once per message id, in id order (the order the hub stored them). */
  private add(message: Message): void {
    if (this.messages.some((m) => m.id === message.id)) return;
    let at = this.messages.length;
    while (at > 0 && this.messages[at - 1].id > message.id) at--;
    this.messages.splice(at, 0, message);
    if (!this.log) return;
    this.log.insertBefore(this.bubbleFor(message), this.log.children[at] || null);
    this.scroll();
  }

  private ended(): void {
    this.showTyping(false);
    this.view = "ended";
    this.setStatus(this.t.ended);
    this.announce(this.t.ended);
    this.render();
  }

  private forgetChat(): void {
    this.chatId = null;
    this.memory.set("chat_id", null);
    this.memory.set("agent", null);
    this.messages = [];
    this.agentName = "";
    this.view = this.config.open ? "prechat" : "offline";
    this.setStatus("");
    this.render();
  }

  private msgId(): string {
    return `w${Date.now().toString(36)}${Math.random().toString(36).slice(2, 10)}`;
  }

  private toggle(): void {
    this.setOpen(this.panel.hidden);
  }

  private setOpen(open: boolean, focus = true): void {
    this.panel.hidden = !open;
    this.launcher.setAttribute("aria-expanded", String(open));
    this.launcher.setAttribute("aria-label", open ? this.t.close : this.t.open);
    this.memory.set("open", open ? "1" : null);
    if (open) {
      if (this.invitation) {
        this.invitation = null;
        this.renderBubble();
      }
      if (focus) this.focusFirst();
    }
  }

  private focusFirst(): void {
    for (const selector of [".stars button", "form input, form textarea", ".view button", "[data-close]"]) {
      const target = this.panel.querySelector<HTMLElement>(selector);
      if (target) return target.focus();
    }
  }

  private setStatus(text: string): void {
    this.statusText = text;
    if (this.statusEl) this.statusEl.textContent = text;
  }

  private announce(text: string): void {
    this.live.textContent = text;
  }

  private showTyping(on: boolean): void {
    if (this.typingEl) this.typingEl.textContent = on ? this.t.typing : "";
  }

  private scroll(): void {
    if (this.log) this.log.scrollTop = this.log.scrollHeight;
  }

  private formError(form: HTMLFormElement, message: string): void {
    let error = form.querySelector(".error");
    if (!error) {
      error = el("p", { class: "error", role: "alert" });
      form.append(error);
    }
    error.textContent = message;
  }

  // -- rendering --------------------------------------------------------------------------

  private switchLang(): void {
    this.lang = this.lang === "es" ? "en" : "es";
    this.t = texts(this.lang);
    this.memory.set("lang", this.lang);
    this.rootEl.setAttribute("lang", this.lang);
    if (this.agentName && this.view === "chat") this.statusText = this.t.chattingWith(this.agentName);
    this.render();
    this.setOpen(!this.panel.hidden, false);
  }

  private bubbleFor(m: Message): HTMLElement {
    const who = m.author === "visitor" ? this.t.you : m.author_name || "";
    return el("div", { class: `msg ${m.author}`, "data-id": m.id, "data-author": m.author }, who ? el("small", {}, who) : null, m.text);
  }

  private render(): void {
    const t = this.t;
    // A view change must not drop the keyboard user's focus on the page's <body>.
    const hadFocus = this.panel.contains(this.shadow.activeElement);
    clear(this.panel);
    this.panel.setAttribute("aria-label", this.config.name || t.title);
    this.launcher.setAttribute("aria-label", this.panel.hidden ? t.open : t.close);
    const head = el(
      "div",
      { class: "head" },
      el("h2", {}, this.config.name || t.title),
      el("button", { type: "button", lang: this.lang === "es" ? "en" : "es", "aria-label": t.switchLabel, "data-action": "lang", onclick: () => this.switchLang() }, t.switchTo),
      this.chatId && this.view === "chat"
        ? el("button", { type: "button", "data-action": "end", onclick: () => void this.endChat() }, t.endChat)
        : null,
      el("button", { type: "button", "aria-label": t.close, "data-close": true, onclick: () => { this.setOpen(false); this.launcher.focus(); } }, "✕"),
    );
    this.statusEl = el("p", { class: "status" }, this.statusText);
    this.panel.append(head, this.statusEl);
    this.log = null;
    this.typingEl = null;
    if (this.view === "prechat" || this.view === "offline") this.panel.append(this.prechatForm(this.view === "offline"));
    else if (this.view === "thanks") this.panel.append(el("div", { class: "view" }, el("p", { role: "status" }, t.offlineThanks)));
    else {
      this.log = el("div", { class: "log", role: "log", "aria-live": "polite", "aria-label": t.title });
      for (const m of this.messages) this.log.append(this.bubbleFor(m));
      this.typingEl = el("p", { class: "typing", "aria-live": "polite" });
      this.panel.append(this.log, this.typingEl);
      this.panel.append(this.view === "chat" ? this.composer() : this.ratingView());
      this.scroll();
    }
    this.renderBubble();
    if (hadFocus) this.focusFirst();
  }

  private prechatForm(offline: boolean): HTMLFormElement {
    const t = this.t;
    const form = el("form", { class: "view", novalidate: true });
    form.addEventListener("submit", (ev) => {
      ev.preventDefault();
      void this.startChat(form, offline);
    });
    form.append(el("p", {}, offline ? t.offlineIntro : t.prechatIntro));
    const kinds: Record<string, [string, string]> = { name: ["text", "name"], phone: ["tel", "tel"], email: ["email", "email"] };
    for (const f of this.config.prechat_fields) {
      const kind = kinds[f];
      if (!kind) continue;
      form.append(el("label", {}, t[f as "name" | "phone" | "email"], el("input", { name: f, type: kind[0], autocomplete: kind[1], maxlength: "200" })));
    }
    form.append(el("label", {}, t.message, el("textarea", { name: "text", required: true, rows: "3", maxlength: "4000" })));
    form.append(el("button", { class: "primary", type: "submit" }, offline ? t.offlineSend : t.start));
    return form;
  }

  private composer(): HTMLFormElement {
    const t = this.t;
    const input = el("textarea", { name: "text", rows: "1", maxlength: "4000", "aria-label": t.compose, placeholder: t.compose });
    input.value = this.draft;
    this.draft = "";
    const form = el("form", { class: "compose" }, input, el("button", { class: "primary", type: "submit" }, t.send));
    const submit = () => {
      const text = input.value;
      input.value = "";
      void this.send(text);
    };
    form.addEventListener("submit", (ev) => {
      ev.preventDefault();
      submit();
    });
    input.addEventListener("keydown", (ev) => {
      if (ev.key === "Enter" && !ev.shiftKey) {
        ev.preventDefault();
        submit();
      }
    });
    input.addEventListener("input", () => this.typing(input.value.length > 0));
    return form;
  }

  private ratingView(): HTMLElement {
    const t = this.t;
    const newChat = el("button", { class: "secondary", type: "button", onclick: () => this.forgetChat() }, t.newChat);
    if (this.memory.get("rated")) {
      return el("div", { class: "view" }, el("p", { role: "status" }, t.thanksRating), newChat);
    }
    const form = el("form", { class: "view" });
    const stars = el("div", { class: "stars", role: "radiogroup", "aria-label": t.rate });
    for (let n = 1; n <= 5; n++) {
      stars.append(
        el("button", {
          type: "button",
          role: "radio",
          "aria-checked": String(n === this.rating),
          "aria-label": t.stars(n),
          "data-score": String(n),
          onclick: () => {
            this.rating = n;
            for (const b of Array.from(stars.children)) b.setAttribute("aria-checked", String(Number((b as HTMLElement).dataset.score) <= n));
          },
        }, "★"),
      );
    }
    form.append(el("p", {}, t.rate), stars, el("label", {}, t.comment, el("textarea", { name: "comment", rows: "2", maxlength: "1000" })));
    form.append(el("div", { class: "row" }, newChat, el("button", { class: "primary", type: "submit" }, t.sendRating)));
    form.addEventListener("submit", (ev) => {
      ev.preventDefault();
      void this.rate(form);
    });
    return form;
  }

  private renderBubble(): void {
    clear(this.bubble);
    const invitation = this.invitation;
    this.bubble.hidden = !invitation;
    if (!invitation) return;
    this.bubble.setAttribute("aria-label", this.t.invitation);
    this.bubble.append(
      el("p", {}, invitation.text),
      el(
        "div",
        { class: "row" },
        el("button", { class: "secondary", type: "button", "data-action": "decline", onclick: () => void this.answer(false) }, this.t.decline),
        el("button", { class: "primary", type: "button", "data-action": "accept", onclick: () => void this.answer(true) }, this.t.accept),
      ),
    );
    this.announce(invitation.text);
  }
}

function boot(): void {
  const script = findScript();
  const siteKey = script?.dataset.siteKey;
  if (!script || !siteKey || (window as unknown as { __charla?: unknown }).__charla) return;
  const hub = new URL(script.src, location.href).origin;
  const start = () => {
    (window as unknown as { __charla?: unknown }).__charla = new Widget(hub, siteKey);
  };
  if (document.body) start();
  else document.addEventListener("DOMContentLoaded", start);
}

boot();
