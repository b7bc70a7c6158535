// Charla's visitor widget: one <script src="https://HUB/widget.js" data-site-key="..." async>.
// It finds the hub from its own src, lives in an open shadow root, and speaks the /visitor
// protocol (docs/protocol.md) over Socket.IO, WebSocket first.
import { io, type Socket } from "socket.io-client";
import { type Attachment, Attachments } from "./attach";
import { clear, el } from "./dom";
import { browserLang, type Lang, refusal, texts, type Texts } from "./i18n";
import { Memory } from "./store";
import { CSS } from "./style";
import { TranscriptOffer } from "./transcript";

interface Message {
  id: string;
  chat_id: string;
  author: "visitor" | "agent" | "bot" | "system";
  author_name?: string;
  text: string;
  client_msg_id?: string;
  attachment?: Attachment;
}
/** What a new chat would get now: a person, the dealer's bot, or the leave-a-message form. */
type Availability = "agents" | "bot" | "offline";
interface Config {
  name: string;
  languages: string[];
  primary_language?: string;
  prechat_fields: string[];
  open: boolean;
  availability?: Record<string, Availability>;
  closed_reason?: string | null;
  next_opening?: string | null;
  timezone?: string;
  bot?: { name: string; avatar_url: string | null } | null;
  /** The tenant's privacy notice by language; a language missing: the widget's own words. */
  privacy_notice?: Record<string, string>;
}
interface Ack {
  ok: boolean;
  error?: { code: string; message: string };
  [key: string]: unknown;
}
type View = "prechat" | "offline" | "chat" | "ended" | "thanks";

// An agent who comes online is noticed when the panel is opened after this long
const CONFIG_TTL_MS = 30000;

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
  private configAt = 0;
  private view: View = "prechat";
  private rendered: View | null = null; // the view on screen, to keep what was typed in it
  private thanksAtOpening = false; // the ticket was filed while closed: we call back then
  private chatId: string | null;
  private messages: Message[] = [];
  private readonly early = new Map<string, { status?: string; agent?: string }>();
  private agentName = "";
  private invitation: { id: string; text: string; agent?: string } | null = null;
  // an agent's invitation, accepted: the chat the visitor starts goes to that agent
  private invitedBy: { id: string; text: string; agent: string } | null = null;
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
  private readonly files: Attachments;
  private readonly transcript: TranscriptOffer;

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
    this.files = new Attachments(hub, this.panel, {
      chat: () => (this.view === "chat" ? this.chatId : null),
      log: () => this.log,
      texts: () => this.t,
      locale: () => (this.lang === "es" ? "es-PR" : "en-US"), // as i18n.ts writes dates
      added: (m) => this.add(m as Message),
      closed: () => this.ended(),
    });
    this.transcript = new TranscriptOffer({ call: (event, data) => this.call(event, data), texts: () => this.t }, this.memory);
    (document.body || document.documentElement).append(host);

    this.socket = io(`${hub}/visitor`, {
      transports: ["websocket", "polling"],
      auth: (cb) => cb({ site_key: siteKey, ...(this.memory.get("visitor_id") ? { visitor_id: this.memory.get("visitor_id") } : {}) }),
    });
    this.listen();
    this.render();
    void this.loadConfig();
    if (this.memory.get("open") === "1") this.setOpen(true, false);
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
    s.on("session", (data: { visitor_id: string; upload_token?: string }) => {
      this.memory.set("visitor_id", data.visitor_id);
      this.files.token = data.upload_token || ""; // memory only: a bearer token
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
        this.announce(`${data.message.author_name || ""}: ${data.message.text || data.message.attachment?.name || ""}`);
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
    s.on("typing", (data: { chat_id: string; author?: string; typing: boolean }) => {
      if (data.chat_id === this.chatId) this.showTyping(data.typing, data.author === "bot");
    });
    s.on("chat_closed", (data: { chat_id: string }) => {
      if (data.chat_id === this.chatId) this.ended();
    });
    s.on("invitation", (data: { invitation_id: string; text: string; agent?: { name: string } }) => {
      if (this.chatId && this.view === "chat") return;
      this.invitation = { id: data.invitation_id, text: data.text, agent: data.agent?.name };
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

  /** The tenant's config: on load, and again when the panel opens with a stale copy. */
  private async loadConfig(): Promise<void> {
    this.configAt = Date.now();
    try {
      const r = await fetch(`${this.hub}/api/widget/config?site_key=${encodeURIComponent(this.siteKey)}`);
      if (r.ok) this.config = (await r.json()) as Config;
    } catch {
      /* keep what we had: the chat itself still works */
    }
    if (!this.chatId && (this.view === "prechat" || this.view === "offline")) this.view = this.formView();
    this.render();
  }

  /** What a new chat in the widget's language would get now (older hubs: `open` only). */
  private availability(): Availability {
    const all = this.config.availability;
    const primary = this.config.primary_language;
    const found = all && (all[this.lang] || (primary ? all[primary] : undefined));
    return found || (this.config.open ? "agents" : "offline");
  }

  private formView(): View {
    return this.availability() === "offline" ? "offline" : "prechat";
  }

  /** When the dealer opens again, in the visitor's words and the dealer's time zone; ""
   * while open or when unknown. */
  private opening(): string {
    const at = this.config.next_opening;
    if (!at || !this.config.closed_reason) return "";
    try {
      return this.t.when(new Date(at), this.config.timezone);
    } catch {
      return ""; // a zone this browser does not know
    }
  }

  /** Whether a person took part in the chat: only then is there something to rate. */
  private humanJoined(): boolean {
    return Boolean(this.agentName) || this.memory.get("human") === "1" || this.messages.some((m) => m.author === "agent");
  }

  private markHuman(): void {
    this.memory.set("human", "1");
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
    if (status === "active") this.markHuman();
    if (status === "closed") this.ended();
    else if (status === "offline") this.forgetChat();
  }

  // -- actions ----------------------------------------------------------------------------

  private async startChat(form: HTMLFormElement, offline: boolean): Promise<void> {
    const t = this.t;
    const data = new FormData(form);
    const value = (field: string) => String(data.get(field) || "").trim();
    const text = value("text");
    // A message left for later needs someone to call back, and a way to reach them.
    if (offline && !value("name")) return this.formError(form, t.nameRequired, ["name"]);
    if (offline && !value("phone") && !value("email")) return this.formError(form, t.contactRequired, ["phone", "email"]);
    if (!text) return this.formError(form, t.messageRequired, ["text"]);
    const payload: Record<string, string> = { text, language: this.lang, client_msg_id: this.msgId() };
    for (const f of ["name", "phone", "email"]) {
      if (value(f)) payload[f] = value(f);
    }
    if (this.invitedBy && !offline) payload.invitation_id = this.invitedBy.id;
    this.transcript.remember(payload.email);
    const ack = await this.call("start_chat", payload);
    if (ack.ok) this.invitedBy = null;
    if (!ack.ok) return this.formError(form, refusal(ack.error, t));
    const chat = ack.chat as { id: string; status: string; reason?: string };
    if (chat.status === "offline") {
      this.thanksAtOpening = chat.reason === "after_hours" || chat.reason === "holiday";
      this.view = "thanks";
      this.render();
      return;
    }
    this.openChat(chat.id);
    if (chat.status === "active") this.markHuman();
    await this.sync();
  }

  private openChat(chatId: string): void {
    this.chatId = chatId;
    this.memory.set("chat_id", chatId);
    this.memory.set("rated", null);
    this.memory.set("agent", null);
    this.memory.set("human", null);
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
    this.markHuman();
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
    this.panel.querySelector(".notice")?.remove();
    this.scroll();
    this.typing(false);
    const ack = await this.call("message", { chat_id: chatId, text, client_msg_id: id });
    pending.remove();
    if (ack.ok) this.add(ack.message as Message);
    else {
      this.setStatus(ack.error?.code === "closed" ? this.t.ended : ack.error?.code === "rate_limited" ? this.t.slowDown : this.t.error);
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
    if (ack.ok && invitation.agent) {
      // the visitor writes first: start_chat names the invitation (PROTOCOL 1.2)
      this.invitedBy = { id: invitation.id, text: invitation.text, agent: invitation.agent };
      this.view = "prechat";
      this.render();
      this.setOpen(true);
      return;
    }
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
    if (!ack.ok) return this.formError(form, refusal(ack.error, this.t));
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
    if (message.author === "visitor") this.panel.querySelector(".notice")?.remove();
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
    this.memory.set("human", null);
    this.messages = [];
    this.agentName = "";
    this.view = this.formView();
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
    if (open && Date.now() - this.configAt > CONFIG_TTL_MS) void this.loadConfig();
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

  private showTyping(on: boolean, bot = false): void {
    if (this.typingEl) this.typingEl.textContent = on ? (bot ? this.t.botTyping : this.t.typing) : "";
  }

  private scroll(): void {
    if (this.log) this.log.scrollTop = this.log.scrollHeight;
  }

  /** An error under the form's fields, in words; `fields` are marked and the first focused. */
  private formError(form: HTMLFormElement, message: string, fields: string[] = []): void {
    let error = form.querySelector(".error");
    if (!error) {
      error = el("p", { class: "error", role: "alert", id: "charla-form-error" });
      const submit = form.querySelector("button[type=submit]");
      form.insertBefore(error, submit && submit.parentNode === form ? submit : null);
    }
    error.textContent = message;
    for (const input of Array.from(form.querySelectorAll<HTMLInputElement | HTMLTextAreaElement>("input, textarea"))) {
      const wrong = fields.includes(input.name);
      if (wrong) input.setAttribute("aria-invalid", "true");
      else input.removeAttribute("aria-invalid");
      if (wrong) input.setAttribute("aria-describedby", "charla-form-error");
      else input.removeAttribute("aria-describedby");
    }
    form.querySelector<HTMLElement>("[aria-invalid=true]")?.focus();
  }

  // -- rendering --------------------------------------------------------------------------

  private switchLang(): void {
    this.lang = this.lang === "es" ? "en" : "es";
    this.t = texts(this.lang);
    this.memory.set("lang", this.lang);
    this.rootEl.setAttribute("lang", this.lang);
    if (this.agentName && this.view === "chat") this.statusText = this.t.chattingWith(this.agentName);
    if (!this.chatId && (this.view === "prechat" || this.view === "offline")) this.view = this.formView();
    this.render();
    this.setOpen(!this.panel.hidden, false);
  }

  private bubbleFor(m: Message): HTMLElement {
    const who = m.author === "visitor" ? this.t.you : m.author_name || "";
    const label = m.author === "bot" ? this.botLabel(m) : who ? el("small", {}, who) : null;
    return el("div", { class: `msg ${m.author}`, "data-id": m.id, "data-author": m.author }, label, m.text, m.attachment && this.files.view(m.attachment));
  }

  /** The bot speaks as the dealer: its name (the dealer's by default), "virtual assistant",
   * and its picture when the script has one. */
  private botLabel(m: Message): HTMLElement {
    const name = m.author_name || this.config.bot?.name || this.config.name || this.t.title;
    const label = el("small", { class: "who" });
    const avatar = this.config.bot?.avatar_url;
    if (avatar && avatar.startsWith("https://")) {
      const img = el("img", { class: "avatar", alt: name, width: "24", height: "24", referrerpolicy: "no-referrer" });
      img.src = avatar; // a property: the address is never markup
      label.append(img);
    }
    label.append(el("span", { class: "name" }, name), el("span", { class: "role" }, this.t.virtualAssistant));
    return label;
  }

  private render(): void {
    const t = this.t;
    // A view change must not drop the keyboard user's focus on the page's <body>.
    const hadFocus = this.panel.contains(this.shadow.activeElement);
    const kept = this.typed();
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
    if (this.view === "prechat" && this.invitedBy) {
      this.panel.append(el("p", { class: "invited" }, el("strong", {}, this.invitedBy.agent), " ", this.invitedBy.text));
    }
    if (this.view === "prechat" || this.view === "offline") this.panel.append(this.prechatForm(this.view === "offline"));
    else if (this.view === "thanks") this.panel.append(this.thanksView());
    else {
      this.log = el("div", { class: "log", role: "log", "aria-live": "polite", "aria-label": t.title });
      for (const m of this.messages) this.log.append(this.bubbleFor(m));
      this.typingEl = el("p", { class: "typing", "aria-live": "polite" });
      this.panel.append(this.log, this.typingEl);
      // an invitation's chat starts with the dealer's words: the notice until the visitor's
      if (this.view === "chat" && !this.messages.some((m) => m.author === "visitor")) this.panel.append(this.privacyNotice());
      this.panel.append(this.view === "chat" ? this.composer() : this.humanJoined() ? this.ratingView() : this.endedView());
      if (this.view === "ended" && this.chatId) this.panel.append(this.transcript.view(this.chatId));
      this.scroll();
    }
    this.renderBubble();
    if (!this.retype(kept) && hadFocus) this.focusFirst();
  }

  /** What the visitor has typed in the panel, by field, and the field they are in, while
   * the panel shows the same form (the one before the chat, or the chat's composer). */
  private typed(): { values: Map<string, string>; focused: string } {
    const values = new Map<string, string>();
    const family = (view: View | null) => (view === "offline" ? "prechat" : view);
    const same = family(this.rendered) === family(this.view);
    this.rendered = this.view;
    if (!same) return { values, focused: "" };
    for (const input of Array.from(this.panel.querySelectorAll<HTMLInputElement | HTMLTextAreaElement>("input[name], textarea[name]"))) {
      if (input.value) values.set(input.name, input.value);
    }
    const active = this.shadow.activeElement as HTMLInputElement | null;
    return { values, focused: active && this.panel.contains(active) && active.name ? active.name : "" };
  }

  /** A new rendering keeps what was typed (a refreshed config, a language switch); true
   * when it put the focus back in the field the visitor was in. */
  private retype(kept: { values: Map<string, string>; focused: string }): boolean {
    for (const [name, value] of kept.values) {
      const input = this.panel.querySelector<HTMLInputElement | HTMLTextAreaElement>(`[name="${name}"]`);
      if (input && !input.value) input.value = value;
    }
    const focus = kept.focused && this.panel.querySelector<HTMLElement>(`[name="${kept.focused}"]`);
    if (focus) focus.focus();
    return Boolean(focus);
  }

  /** Before the chat, saying honestly who will answer; or, when nobody can now, the
   * leave-a-message form (name, a phone or an e-mail, and the message: a ticket). */
  private prechatForm(offline: boolean): HTMLFormElement {
    const t = this.t;
    const form = el("form", { class: "view", novalidate: true });
    form.addEventListener("submit", (ev) => {
      ev.preventDefault();
      void this.startChat(form, offline);
    });
    const opening = this.opening();
    if (offline) {
      form.append(el("h3", {}, t.offlineTitle), el("p", { class: "intro" }, opening ? `${t.offlineIntro} ${t.opensAt(opening)}` : t.offlineIntro));
    } else if (this.availability() === "bot") {
      form.append(el("p", { class: "intro" }, opening ? t.botIntroClosed(opening) : t.botIntroNow));
    } else {
      form.append(el("p", { class: "intro" }, t.prechatIntro));
    }
    const kinds: Record<string, [string, string]> = { name: ["text", "name"], phone: ["tel", "tel"], email: ["email", "email"] };
    for (const f of offline ? this.offlineFields() : this.config.prechat_fields) {
      const kind = kinds[f];
      if (!kind) continue;
      const required = offline && f === "name";
      form.append(el("label", {}, t[f as "name" | "phone" | "email"], el("input", { name: f, type: kind[0], autocomplete: kind[1], maxlength: "200", "aria-required": required ? "true" : false })));
    }
    form.append(el("label", {}, t.message, el("textarea", { name: "text", required: true, rows: "3", maxlength: "4000" })));
    form.append(el("button", { class: "primary", type: "submit" }, offline ? t.offlineSend : t.start));
    form.append(this.privacyNotice());
    return form;
  }

  /** The short privacy notice shown before the visitor's first message: the tenant's
   * text in the visitor's language, or the widget's own. Text only, never HTML. */
  private privacyNotice(): HTMLElement {
    const own = this.config.privacy_notice?.[this.lang];
    return el("p", { class: "notice", "data-privacy": true }, own || this.t.privacyNotice);
  }

  /** The name, and the tenant's contact fields (both when it asks for neither). */
  private offlineFields(): string[] {
    const contact = ["phone", "email"].filter((f) => this.config.prechat_fields.includes(f));
    return ["name", ...(contact.length ? contact : ["phone", "email"])];
  }

  private thanksView(): HTMLElement {
    const opening = this.thanksAtOpening ? this.opening() : "";
    return el(
      "div",
      { class: "view" },
      el("p", { role: "status" }, opening ? this.t.offlineThanksOpening(opening) : this.t.offlineThanks),
      el("button", { class: "secondary", type: "button", onclick: () => this.forgetChat() }, this.t.newChat),
    );
  }

  /** The end of a chat no person took part in (the bot's, or a ticket): nothing to rate. */
  private endedView(): HTMLElement {
    return el(
      "div",
      { class: "view" },
      el("p", { role: "status" }, this.t.ended),
      el("button", { class: "secondary", type: "button", "data-action": "new", onclick: () => this.forgetChat() }, this.t.newChat),
    );
  }

  private composer(): HTMLFormElement {
    const t = this.t;
    const input = el("textarea", { name: "text", rows: "1", maxlength: "4000", "aria-label": t.compose, placeholder: t.compose });
    input.value = this.draft;
    this.draft = "";
    const form = el("form", { class: "compose" }, input, ...this.files.button(), el("button", { class: "primary", type: "submit" }, t.send));
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
      ...(invitation.agent ? [el("p", { class: "from" }, el("strong", {}, invitation.agent))] : []),
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
