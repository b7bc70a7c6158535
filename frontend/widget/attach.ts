// Files in the widget's chat (PROTOCOL 1.2 "Attachments"): the composer's paperclip, a file
// dropped on the panel or a screenshot pasted in it, sent with fetch + FormData; and a
// message's attachment as a thumbnail (images) or a chip with its name and size.
//
// The upload token is a bearer token: it goes in the Authorization header only, never in a
// URL. An <img> cannot send that header, so thumbnails are fetched as blobs and shown
// through object URLs, revoked once no element on screen shows them.
import { el } from "./dom";
import type { Texts } from "./i18n";

export interface Attachment {
  id: string;
  name: string;
  content_type: string;
  size: number;
  width?: number;
  height?: number;
}

/** Why the hub refused a file (its HTTP status; 0: no answer), as the words that say
 * what to do. */
export function refusalText(status: number, t: Texts): string {
  if (status === 413) return t.attachTooLarge;
  if (status === 415) return t.attachType;
  if (status === 409) return t.attachClosed;
  if (status === 404) return t.attachNotFound;
  if (status === 429) return t.attachWait;
  return t.attachFailed;
}

/** What the widget lends this module: its chat, its transcript and its words. */
export interface AttachHost {
  /** The chat the visitor can write in now, else null. */
  chat(): string | null;
  log(): HTMLElement | null;
  texts(): Texts;
  /** The locale the widget writes dates in: es-PR or en-US. */
  locale(): string;
  /** The hub stored it: shown like any message. */
  added(message: { id: string; attachment?: Attachment }): void;
  /** The hub says the chat is closed. */
  closed(): void;
}

const ACCEPT = "image/jpeg,image/png,image/webp,image/heic,application/pdf";
// The hub's default limit: a refused connection for a bigger file reads as "too large".
const DEFAULT_MAX = 10 * 1024 * 1024;
// Types a browser tab shows as an image and nothing more; anything else is saved instead.
const VIEWABLE = ["image/jpeg", "image/png", "image/webp"];
const THUMB = 200; // px, the longer side of a thumbnail on screen
const CLIP =
  '<svg viewBox="0 0 24 24" aria-hidden="true"><path d="M16.5 6.5v10.2a4.5 4.5 0 0 1-9 0V5.8a3 3 0 0 1 6 0v10.4a1.5 1.5 0 0 1-3 0V7h-1.5v9.2a3 3 0 0 0 6 0V5.8a4.5 4.5 0 0 0-9 0v10.9a6 6 0 0 0 12 0V6.5z"/></svg>';

/** "1.2 MB", "340 KB": a size as `locale` writes numbers. */
export function sizeText(bytes: number, locale: string): string {
  const kb = bytes / 1024;
  const [value, unit] = kb < 1024 ? [Math.max(1, Math.round(kb)), "KB"] : [kb / 1024, "MB"];
  return `${new Intl.NumberFormat(locale, { maximumFractionDigits: 1 }).format(value)} ${unit}`;
}

export class Attachments {
  /** Set from each `session` event; "" until the first. */
  token = "";
  private readonly thumbs = new Map<string, { url: Promise<string | null>; shown: Set<HTMLImageElement> }>();

  constructor(
    private readonly hub: string,
    private readonly panel: HTMLElement,
    private readonly host: AttachHost,
  ) {
    // a re-rendering replaces the transcript: what no element shows any more is let go
    new MutationObserver(() => this.sweep()).observe(panel, { childList: true, subtree: true });
    panel.addEventListener("paste", (ev) => {
      const files = Array.from((ev as ClipboardEvent).clipboardData?.files || []);
      if (!files.length || !host.chat()) return;
      ev.preventDefault();
      void this.sendAll(files);
    });
    panel.addEventListener("dragover", (ev) => {
      if (!host.chat() || !(ev as DragEvent).dataTransfer?.types.includes("Files")) return;
      ev.preventDefault();
      panel.classList.add("dropping");
    });
    panel.addEventListener("dragleave", (ev) => {
      if (!panel.contains((ev as DragEvent).relatedTarget as Node | null)) panel.classList.remove("dropping");
    });
    panel.addEventListener("drop", (ev) => {
      panel.classList.remove("dropping");
      const files = Array.from((ev as DragEvent).dataTransfer?.files || []);
      if (!files.length || !host.chat()) return;
      ev.preventDefault();
      void this.sendAll(files);
    });
  }

  /** The composer's paperclip: a labelled button that opens the (hidden) file input, which
   * comes after it so that the composer's first field is still its text. */
  button(): HTMLElement[] {
    const t = this.host.texts();
    const input = el("input", { type: "file", accept: ACCEPT, multiple: true, hidden: true, "data-attach-input": true });
    input.addEventListener("change", () => {
      const files = Array.from(input.files || []);
      input.value = "";
      void this.sendAll(files);
    });
    const clip = el("button", { type: "button", class: "clip", "aria-label": t.attach, title: t.attach, "data-action": "attach", onclick: () => input.click() });
    clip.innerHTML = CLIP; // a constant icon, never data
    return [clip, input];
  }

  private async sendAll(files: File[]): Promise<void> {
    for (const file of files) await this.send(file);
  }

  private async send(file: File): Promise<void> {
    const chatId = this.host.chat();
    const t = this.host.texts();
    if (!chatId) return;
    this.refusal("");
    const name = file.name || "image.png";
    const pending = el("div", { class: "msg visitor pending", "data-author": "visitor" }, el("small", {}, t.you), t.attachSending.replace("{name}", name));
    this.host.log()?.append(pending);
    const body = new FormData();
    body.append("file", file, name);
    let response: Response | null = null;
    try {
      response = await fetch(`${this.hub}/api/chats/${encodeURIComponent(chatId)}/attachments`, {
        method: "POST",
        headers: { Authorization: `Bearer ${this.token}` },
        body,
      });
    } catch {
      response = null; // the hub may stop reading a file over its limit and drop the connection
    }
    pending.remove();
    if (response && response.status === 201) {
      const data = (await response.json()) as { message: { id: string; attachment?: Attachment } };
      return this.host.added(data.message);
    }
    const status = response ? response.status : file.size > DEFAULT_MAX ? 413 : 0;
    if (status === 409) this.host.closed(); // first: the ended chat's view then says why
    this.refusal(refusalText(status, t));
  }

  /** The reason a file was refused, and what to do, above the composer or under the
   * transcript of an ended chat ("": none). */
  private refusal(text: string): void {
    let line = this.panel.querySelector(".attach-error");
    if (!text) return line?.remove();
    if (!line) {
      line = el("p", { class: "error attach-error", role: "alert" });
      const form = this.panel.querySelector(".compose");
      if (form) form.before(line);
      else this.host.log()?.after(line);
    }
    line.textContent = text;
  }

  /** A message's file: the thumbnail that opens the image, or a chip that saves the file. */
  view(a: Attachment): HTMLElement {
    const t = this.host.texts();
    const size = sizeText(a.size, this.host.locale());
    const open = el("button", { type: "button", class: "file", "data-attachment": a.id, title: `${a.name} · ${size}`, onclick: () => void this.open(a) });
    if (a.content_type.startsWith("image/")) {
      const img = el("img", { alt: a.name, class: "thumb" });
      if (a.width && a.height) {
        const k = Math.min(1, THUMB / Math.max(a.width, a.height)); // room kept while it loads
        img.width = Math.round(a.width * k);
        img.height = Math.round(a.height * k);
      }
      this.thumb(a.id, img);
      open.setAttribute("aria-label", t.attachOpen.replace("{name}", a.name));
      open.append(img);
    } else {
      open.append(el("span", { class: "chip" }, el("span", { class: "name" }, a.name), el("span", { class: "size" }, size)));
    }
    return open;
  }

  private fetchFile(id: string, thumbnail: boolean): Promise<Blob | null> {
    const path = `${this.hub}/api/attachments/${encodeURIComponent(id)}${thumbnail ? "/thumbnail" : ""}`;
    return fetch(path, { headers: { Authorization: `Bearer ${this.token}` } })
      .then((r) => (r.ok ? r.blob() : null))
      .catch(() => null);
  }

  private thumb(id: string, img: HTMLImageElement): void {
    let entry = this.thumbs.get(id);
    if (!entry) {
      entry = { url: this.fetchFile(id, true).then((b) => (b ? URL.createObjectURL(b) : null)), shown: new Set() };
      this.thumbs.set(id, entry);
    }
    entry.shown.add(img);
    void entry.url.then((url) => {
      if (url) {
        img.src = url; // a property: the address is never markup
        return;
      }
      img.classList.add("missing");
      if (this.thumbs.get(id) === entry) this.thumbs.delete(id); // the next rendering asks again
    });
  }

  private sweep(): void {
    for (const [id, entry] of this.thumbs) {
      for (const img of entry.shown) if (!img.isConnected) entry.shown.delete(img);
      if (entry.shown.size) continue;
      this.thumbs.delete(id);
      void entry.url.then((url) => url && URL.revokeObjectURL(url));
    }
  }

  /** The whole file: an image the browser shows opens in a new tab, anything else is saved. */
  private async open(a: Attachment): Promise<void> {
    const blob = await this.fetchFile(a.id, false);
    if (!blob) return this.refusal(this.host.texts().attachFailed);
    const url = URL.createObjectURL(blob);
    const link = el("a", { href: url });
    if (VIEWABLE.includes(blob.type)) link.target = "_blank";
    else link.download = a.name;
    link.click();
    setTimeout(() => URL.revokeObjectURL(url), 60000);
  }
}
