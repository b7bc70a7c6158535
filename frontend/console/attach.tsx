// Files in the console's chats (PROTOCOL 1.2 "Attachments"): the composer's paperclip, a
// file dropped on the conversation or a screenshot pasted in the composer, sent with the
// agent's token; and a message's file as a thumbnail (images) or its name and size, with
// a button that saves it.
//
// An <img> cannot send the Authorization header, and the token never goes in a URL: files
// are fetched as blobs and shown through object URLs, revoked when the message leaves the
// screen.

import { createContext, type ComponentChildren } from "preact";
import { useContext, useEffect, useRef, useState } from "preact/hooks";
import { api, ApiError, loadSession } from "./api";
import type { Floor } from "./floor";
import type { TextKey } from "./i18n";
import type { Attachment, Message } from "./model";
import { useLang, useT } from "./ui";
import { locale } from "./words";

const ACCEPT = "image/jpeg,image/png,image/webp,image/heic,application/pdf";
// The hub's default limit: a connection dropped while sending a bigger file reads as "too large".
const DEFAULT_MAX = 10 * 1024 * 1024;
// Types a browser tab shows as an image and nothing more; anything else is saved instead.
const VIEWABLE = ["image/jpeg", "image/png", "image/webp"];
const THUMB = 200; // px, the longer side of a thumbnail on screen

/** "1.2 MB", "340 KB": a size as `locale` writes numbers. */
export function sizeText(bytes: number, locale: string): string {
  const kb = bytes / 1024;
  const [value, unit] = kb < 1024 ? [Math.max(1, Math.round(kb)), "KB"] : [kb / 1024, "MB"];
  return `${new Intl.NumberFormat(locale, { maximumFractionDigits: 1 }).format(value)} ${unit}`;
}

/** Why the hub refused a file, as the words that say what to do. */
export function refusalKey(status: number, size: number): TextKey {
  if (status === 413 || (status === 0 && size > DEFAULT_MAX)) return "attach_too_large";
  if (status === 415) return "attach_bad_type";
  if (status === 409) return "attach_closed";
  if (status === 403 || status === 404) return "attach_not_found"; // another agent's, or gone
  if (status === 429) return "attach_wait";
  return "attach_failed";
}

async function fetchFile(id: string, thumbnail: boolean): Promise<Blob | null> {
  const token = loadSession()?.token;
  try {
    const r = await fetch(`/api/attachments/${encodeURIComponent(id)}${thumbnail ? "/thumbnail" : ""}`, {
      headers: token ? { Authorization: `Bearer ${token}` } : {},
    });
    return r.ok ? await r.blob() : null;
  } catch {
    return null;
  }
}

/** The whole file: saved under its name, or (an image a tab shows) opened in a new tab. */
async function openFile(a: Attachment, save: boolean): Promise<boolean> {
  const blob = await fetchFile(a.id, false);
  if (!blob) return false;
  const url = URL.createObjectURL(blob);
  const link = document.createElement("a");
  link.href = url;
  if (save || !VIEWABLE.includes(blob.type)) link.download = a.name;
  else link.target = "_blank";
  link.click();
  setTimeout(() => URL.revokeObjectURL(url), 60_000);
  return true;
}

/** A message's file: the thumbnail (click: the whole image), its name, size and "Download". */
export function AttachmentView(props: { a: Attachment }) {
  const { a } = props;
  const t = useT();
  const lang = useLang();
  const image = a.content_type.startsWith("image/");
  const [thumb, setThumb] = useState<string | null>(null);
  const [missing, setMissing] = useState(false);
  const [error, setError] = useState<string | null>(null);
  useEffect(() => {
    if (!image) return;
    let gone = false;
    let made: string | null = null;
    void fetchFile(a.id, true).then((blob) => {
      if (gone) return;
      if (!blob) return setMissing(true);
      made = URL.createObjectURL(blob);
      setThumb(made);
    });
    return () => {
      gone = true;
      if (made) URL.revokeObjectURL(made);
    };
  }, [a.id]);
  const open = async (save: boolean) => setError((await openFile(a, save)) ? null : t("attach_failed"));
  const k = a.width && a.height ? Math.min(1, THUMB / Math.max(a.width, a.height)) : 0;
  return (
    <div class="attachment" data-attachment={a.id}>
      {image ? (
        <button type="button" class="thumb" aria-label={`${t("attach_open")}: ${a.name}`} onClick={() => void open(false)}>
          {thumb ? (
            <img src={thumb} alt={a.name} {...(k ? { width: Math.round(a.width! * k), height: Math.round(a.height! * k) } : {})} />
          ) : (
            <span class="muted">{missing ? t("attach_no_preview") : "…"}</span>
          )}
        </button>
      ) : null}
      <span class="file">
        <span class="name" dir="auto">
          {a.name}
        </span>
        <span class="muted">{sizeText(a.size, locale(lang))}</span>
        <button type="button" class="link" data-action="download" onClick={() => void open(true)}>
          {t("attach_download")}
        </button>
      </span>
      {error ? (
        <span class="error" role="alert">
          {error}
        </span>
      ) : null}
    </div>
  );
}

const SendFiles = createContext<(files: File[]) => void>(() => undefined);

/** The composer, taking files: pasted in it, or dropped anywhere on the conversation. */
export function AttachZone(props: { floor: Floor; chatId: string; children: ComponentChildren }) {
  const { floor, chatId } = props;
  const t = useT();
  const zone = useRef<HTMLDivElement>(null);
  const [sending, setSending] = useState<string | null>(null);
  const [error, setError] = useState<string | null>(null);
  const [dropping, setDropping] = useState(false);

  const send = async (files: File[]) => {
    for (const file of files) {
      const name = file.name || "image.png";
      setError(null);
      setSending(name);
      const form = new FormData();
      form.append("file", file, name);
      try {
        const body = await api<{ message: Message }>("POST", `/api/chats/${encodeURIComponent(chatId)}/attachments`, floor.token, form);
        floor.received(body.message);
      } catch (err) {
        setError(t(refusalKey(err instanceof ApiError ? err.status : 0, file.size)));
      }
      setSending(null);
    }
  };

  const latest = useRef(send);
  latest.current = send; // a drop sends with this rendering's words

  useEffect(() => {
    const area = zone.current?.closest(".conversation") ?? zone.current;
    if (!area) return;
    const carriesFiles = (e: DragEvent) => e.dataTransfer?.types.includes("Files") === true;
    const over = (e: DragEvent) => {
      if (!carriesFiles(e)) return;
      e.preventDefault();
      setDropping(true);
    };
    const leave = (e: DragEvent) => {
      if (!area.contains(e.relatedTarget as Node | null)) setDropping(false);
    };
    const drop = (e: DragEvent) => {
      setDropping(false);
      const files = Array.from(e.dataTransfer?.files ?? []);
      if (!files.length) return;
      e.preventDefault();
      void latest.current(files);
    };
    const el = area as HTMLElement;
    el.addEventListener("dragover", over);
    el.addEventListener("dragleave", leave);
    el.addEventListener("drop", drop);
    return () => {
      el.removeEventListener("dragover", over);
      el.removeEventListener("dragleave", leave);
      el.removeEventListener("drop", drop);
    };
  }, [chatId]);

  const onPaste = (e: ClipboardEvent) => {
    const files = Array.from(e.clipboardData?.files ?? []);
    if (!files.length) return; // text pastes as text
    e.preventDefault();
    void send(files);
  };

  return (
    <div class={`composer ${dropping ? "dropping" : ""}`} ref={zone} onPaste={onPaste}>
      {sending ? (
        <p class="muted attach-status" role="status">
          {t("attach_sending")} {sending}
        </p>
      ) : null}
      {error ? (
        <p class="error attach-error" role="alert">
          {error}
        </p>
      ) : null}
      <SendFiles.Provider value={(files) => void send(files)}>{props.children}</SendFiles.Provider>
    </div>
  );
}

/** The paperclip: a labelled button that opens the file picker (the input itself is hidden). */
export function AttachButton() {
  const t = useT();
  const send = useContext(SendFiles);
  const input = useRef<HTMLInputElement>(null);
  return (
    <>
      <input
        ref={input}
        type="file"
        accept={ACCEPT}
        multiple
        hidden
        data-attach-input
        onChange={(e) => {
          const picker = e.target as HTMLInputElement;
          const files = Array.from(picker.files ?? []);
          picker.value = "";
          send(files);
        }}
      />
      <button type="button" class="clip" aria-label={t("attach")} title={t("attach")} data-action="attach" onClick={() => input.current?.click()}>
        <svg viewBox="0 0 24 24" aria-hidden="true">
          <path d="M16.5 6.5v10.2a4.5 4.5 0 0 1-9 0V5.8a3 3 0 0 1 6 0v10.4a1.5 1.5 0 0 1-3 0V7h-1.5v9.2a3 3 0 0 0 6 0V5.8a4.5 4.5 0 0 0-9 0v10.9a6 6 0 0 0 12 0V6.5z" />
        </svg>
      </button>
    </>
  );
}
