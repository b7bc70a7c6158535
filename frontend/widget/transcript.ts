// The chat's transcript by e-mail (PROTOCOL 1.2 "Transcript by e-mail"): offered once the
// chat has ended, with the address the visitor gave before the chat already filled in, a
// button, and a confirmation. The hub sends it once per chat, in the chat's language.
//
// The address is kept in this page's memory only (never in the browser's storage): a
// shared computer keeps no e-mail. What is stored is that this chat's transcript was asked.
import { el } from "./dom";
import type { Texts } from "./i18n";
import type { Memory } from "./store";

interface Ack {
  ok: boolean;
  error?: { code: string; message: string };
}

/** What the widget lends this module: its connection to the hub and its words. */
export interface TranscriptHost {
  call(event: string, data: unknown): Promise<Ack>;
  texts(): Texts;
}

export class TranscriptOffer {
  private email = "";
  private sentTo = new Map<string, string>();

  constructor(
    private readonly host: TranscriptHost,
    private readonly memory: Memory,
  ) {}

  /** The address the visitor gave (the pre-chat form): the field starts with it. */
  remember(email: string | undefined): void {
    if (email) this.email = email;
  }

  /** The offer for a chat that has ended, or its confirmation once asked. */
  view(chatId: string): HTMLElement {
    const t = this.host.texts();
    const status = el("p", { class: "transcript-status", role: "status", "aria-live": "polite" });
    if (this.memory.get(`transcript:${chatId}`)) {
      const to = this.sentTo.get(chatId);
      status.textContent = to ? t.transcriptSent.replace("{email}", to) : t.transcriptDone;
      return el("div", { class: "view transcript", "data-transcript": "sent" }, status);
    }
    const input = el("input", { name: "transcript_email", type: "email", autocomplete: "email", maxlength: "254" });
    input.value = this.email;
    const button = el("button", { class: "secondary", type: "submit", "data-action": "transcript" }, t.transcriptSend);
    const form = el(
      "form",
      { class: "transcript", novalidate: true, "data-transcript": "offer" },
      el("label", {}, t.transcriptOffer, input),
      button,
      status,
    );
    form.addEventListener("submit", (ev) => {
      ev.preventDefault();
      void this.ask(chatId, form, input, button, status);
    });
    return form;
  }

  private async ask(chatId: string, form: HTMLElement, input: HTMLInputElement, button: HTMLButtonElement, status: HTMLElement): Promise<void> {
    const t = this.host.texts();
    const email = input.value.trim();
    const refuse = (text: string) => {
      input.setAttribute("aria-invalid", "true");
      status.textContent = text;
      input.focus();
    };
    if (!email || /[\r\n]/.test(email)) return refuse(t.transcriptInvalid);
    button.disabled = true;
    const ack = await this.host.call("email_transcript", { chat_id: chatId, email });
    button.disabled = false;
    const code = ack.ok ? "" : ack.error?.code;
    if (code === "invalid_payload") return refuse(t.transcriptInvalid);
    if (code && code !== "conflict") {
      status.textContent = t.error;
      return;
    }
    this.memory.set(`transcript:${chatId}`, "1");
    if (!code) this.sentTo.set(chatId, email);
    this.email = email;
    form.replaceWith(this.view(chatId));
  }
}
