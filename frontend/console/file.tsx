// One attachment on a page of its own: the link a CRM, an ADF e-mail or a ticket notice
// shows for a file (`/console/#/attachments/<id>?chat=<chat id>`, PROTOCOL 1.2
// "Attachments"). The download needs the agent's token, which a link cannot carry: the
// console keeps the route through the sign-in, fetches the file as a blob and shows the
// image, or offers the file for download, with the chat it came from.

import { useEffect, useState } from "preact/hooks";
import { api, type ApiError } from "./api";
import type { Chat } from "./model";
import { useLang, useT } from "./ui";
import { when } from "./words";

export interface FileRoute {
  id: string;
  chat: string | null;
}

const ROUTE = /^#\/attachments\/([^/?#]+)(?:\?chat=([^&#]+))?$/;
// Types a browser shows as an image on the page; anything else is offered for download.
const SHOWN = ["image/jpeg", "image/png", "image/webp"];

/** The attachment a location's hash names, or null when it names something else. */
export function fileRoute(hash: string): FileRoute | null {
  const found = ROUTE.exec(hash);
  if (!found) return null;
  try {
    return { id: decodeURIComponent(found[1]), chat: found[2] ? decodeURIComponent(found[2]) : null };
  } catch {
    return null;
  }
}

export function fileHash(route: FileRoute): string {
  const chat = route.chat ? `?chat=${encodeURIComponent(route.chat)}` : "";
  return `#/attachments/${encodeURIComponent(route.id)}${chat}`;
}

/** The name the hub gave the file (its Content-Disposition), else the id. */
function fileName(disposition: string | null, fallback: string): string {
  const encoded = /filename\*=UTF-8''([^;]+)/i.exec(disposition ?? "");
  if (!encoded) return fallback;
  try {
    return decodeURIComponent(encoded[1]);
  } catch {
    return fallback;
  }
}

type Loaded = { state: "loading" } | { state: "gone" } | { state: "failed" } | { state: "shown"; url: string; type: string; name: string };

export function FilePage(props: { token: string; route: FileRoute; onChat: (chatId: string) => void; onExpired: () => void }) {
  const t = useT();
  const lang = useLang();
  const { id, chat } = props.route;
  const [file, setFile] = useState<Loaded>({ state: "loading" });
  const [past, setPast] = useState<Chat | null>(null);
  useEffect(() => {
    let gone = false;
    let made: string | null = null;
    setFile({ state: "loading" });
    void fetch(`/api/attachments/${encodeURIComponent(id)}`, { headers: { Authorization: `Bearer ${props.token}` } })
      .then(async (r) => {
        if (r.status === 401) return props.onExpired();
        if (r.status === 403 || r.status === 404) return gone || setFile({ state: "gone" });
        if (!r.ok) return gone || setFile({ state: "failed" });
        const blob = await r.blob();
        if (gone) return;
        made = URL.createObjectURL(blob);
        setFile({ state: "shown", url: made, type: blob.type, name: fileName(r.headers.get("Content-Disposition"), id) });
      })
      .catch(() => gone || setFile({ state: "failed" }));
    return () => {
      gone = true;
      if (made) URL.revokeObjectURL(made);
    };
  }, [id, props.token]);
  useEffect(() => {
    if (!chat) return;
    api<Chat>("GET", `/api/chats/${encodeURIComponent(chat)}`, props.token)
      .then(setPast)
      .catch((_err: ApiError) => setPast(null));
  }, [chat, props.token]);
  return (
    <section class="panel file-page" data-testid="file-page" data-attachment={id}>
      <h2>{t("file_title")}</h2>
      {file.state === "loading" ? <p class="muted">{t("file_loading")}</p> : null}
      {file.state === "gone" ? (
        <p class="error" role="alert" data-testid="file-gone">
          {t("file_gone")}
        </p>
      ) : null}
      {file.state === "failed" ? (
        <p class="error" role="alert">
          {t("file_failed")}
        </p>
      ) : null}
      {file.state === "shown" ? (
        <>
          <p class="file">
            <span class="name" dir="auto">
              {file.name}
            </span>{" "}
            <a href={file.url} download={file.name} data-action="download">
              {t("attach_download")}
            </a>
          </p>
          {chat ? (
            <p>
              {past ? (
                <span class="muted" dir="auto">
                  {past.visitor.name ?? t("anonymous")} · {when(lang, past.created_at)}{" "}
                </span>
              ) : null}
              <button type="button" class="link" data-action="open-chat" onClick={() => props.onChat(chat)}>
                {t("file_open_chat")}
              </button>
            </p>
          ) : null}
          {SHOWN.includes(file.type) ? <img class="file-image" src={file.url} alt={file.name} /> : null}
        </>
      ) : null}
    </section>
  );
}
