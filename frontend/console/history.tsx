// History (PROTOCOL 1.2, "Chat history"): past chats found by the visitor's name, phone or
// e-mail, agent, dates, language and lead; a chat opens with its transcript, the visitor's
// page trail, its lead with the deliveries, and the visitor's rating. Agents see their own
// chats, supervisors and admins the tenant's (the hub decides).

import { useEffect, useState } from "preact/hooks";
import { api, type ApiError } from "./api";
import { Transcript } from "./chats";
import type { Floor, FloorState } from "./floor";
import type { Chat, Lead } from "./model";
import { DeliveryList, LeadSummary } from "./records";
import { Email, ErrorLine, Field, Phone, useLang, useT } from "./ui";
import { when, word } from "./words";

interface HistoryRow {
  id: string;
  status: string;
  language: string;
  visitor: { id: string; name?: string; phone?: string; email?: string };
  agent_id?: string;
  created_at: string;
  closed_at?: string;
  csat?: number;
  lead_id?: string;
}

interface Past extends Chat {
  csat?: { score: number; comment?: string };
  lead_id?: string;
}

const FIELDS = ["name", "phone", "email", "from", "to", "agent_id", "language", "has_lead"] as const;
type Query = Record<(typeof FIELDS)[number], string>;

export function queryString(q: Query, cursor?: string): string {
  const params = new URLSearchParams();
  for (const key of FIELDS) if (q[key].trim()) params.set(key, q[key].trim());
  if (cursor) params.set("cursor", cursor);
  return params.toString();
}

export function HistoryView(props: { floor: Floor; state: FloorState; open?: string | null }) {
  const t = useT();
  const lang = useLang();
  const { floor, state } = props;
  const supervises = floor.me.role !== "agent";
  const [q, setQ] = useState<Query>({ name: "", phone: "", email: "", from: "", to: "", agent_id: "", language: "", has_lead: "" });
  const [rows, setRows] = useState<HistoryRow[] | null>(null);
  const [next, setNext] = useState<string | undefined>(undefined);
  const [error, setError] = useState<string | null>(null);
  const [open, setOpen] = useState<string | null>(props.open ?? null); // a file's page opens its chat here
  const search = async (cursor?: string) => {
    try {
      const body = await api<{ chats: HistoryRow[]; next_cursor?: string }>("GET", `/api/chats?${queryString(q, cursor)}`, floor.token);
      setRows(cursor && rows ? [...rows, ...body.chats] : body.chats);
      setNext(body.next_cursor);
      setError(null);
    } catch (err) {
      setError((err as ApiError).message);
    }
  };
  useEffect(() => void search(), [floor]);
  const set = (key: keyof Query) => (value: string) => setQ({ ...q, [key]: value });
  const team = Object.values(state.team);
  const agentName = (id?: string) => (id ? (state.team[id]?.name ?? "—") : "—");
  return (
    <section class="history" data-testid="history">
      <form
        class="grid-form search"
        onSubmit={(e) => {
          e.preventDefault();
          void search();
        }}
      >
        <Field label={t("name")} name="name" dir="auto" value={q.name} onValue={set("name")} />
        <Field label={t("phone")} name="phone" type="tel" value={q.phone} onValue={set("phone")} />
        <Field label={t("email")} name="email" type="email" value={q.email} onValue={set("email")} />
        <Field label={t("date_from")} name="from" type="date" value={q.from} onValue={set("from")} />
        <Field label={t("date_to")} name="to" type="date" value={q.to} onValue={set("to")} />
        {supervises ? (
          <label>
            {t("agent")}
            <select name="agent_id" value={q.agent_id} onChange={(e) => set("agent_id")((e.target as HTMLSelectElement).value)}>
              <option value="">{t("any")}</option>
              {team.map((m) => (
                <option key={m.id} value={m.id}>
                  {m.name}
                </option>
              ))}
            </select>
          </label>
        ) : null}
        <label>
          {t("language")}
          <select name="language" value={q.language} onChange={(e) => set("language")((e.target as HTMLSelectElement).value)}>
            <option value="">{t("any")}</option>
            {(state.tenant?.languages ?? ["es", "en"]).map((l) => (
              <option key={l} value={l}>
                {l.toUpperCase()}
              </option>
            ))}
          </select>
        </label>
        <label>
          {t("has_lead")}
          <select name="has_lead" value={q.has_lead} onChange={(e) => set("has_lead")((e.target as HTMLSelectElement).value)}>
            <option value="">{t("any")}</option>
            <option value="true">{t("yes")}</option>
            <option value="false">{t("no")}</option>
          </select>
        </label>
        <div class="span buttons">
          <button type="submit" class="primary">
            {t("history_search")}
          </button>
        </div>
      </form>
      <ErrorLine message={error} />
      {rows && rows.length === 0 ? <p class="muted">{t("no_chats_found")}</p> : null}
      <table class="records" data-testid="history-rows">
        <tbody>
          {(rows ?? []).map((r) => (
            <tr key={r.id} data-chat-id={r.id} class={open === r.id ? "open" : ""} onClick={() => setOpen(r.id)}>
              <td>{when(lang, r.created_at)}</td>
              <td dir="auto">{r.visitor.name ?? t("anonymous")}</td>
              <td class="nowrap">{r.visitor.phone ? <Phone value={r.visitor.phone} /> : ""}</td>
              <td class="nowrap">{r.visitor.email ? <Email value={r.visitor.email} /> : ""}</td>
              <td>{r.language.toUpperCase()}</td>
              <td dir="auto">{agentName(r.agent_id)}</td>
              <td>{word(lang, "chat_status", r.status)}</td>
              <td>{r.csat ? `${r.csat}/5` : ""}</td>
              <td>{r.lead_id ? t("lead") : ""}</td>
              <td>
                <button type="button" data-action="open" onClick={() => setOpen(r.id)}>
                  {t("read_chat")}
                </button>
              </td>
            </tr>
          ))}
        </tbody>
      </table>
      {next ? (
        <button type="button" onClick={() => void search(next)} data-action="more">
          {t("more")}
        </button>
      ) : null}
      {open ? <PastChat key={open} floor={floor} chatId={open} /> : null}
    </section>
  );
}

function PastChat(props: { floor: Floor; chatId: string }) {
  const t = useT();
  const lang = useLang();
  const [chat, setChat] = useState<Past | null>(null);
  const [lead, setLead] = useState<Lead | null>(null);
  const [error, setError] = useState<string | null>(null);
  useEffect(() => {
    api<Past>("GET", `/api/chats/${encodeURIComponent(props.chatId)}`, props.floor.token)
      .then((found) => {
        setChat(found);
        if (found.lead_id) {
          return api<Lead>("GET", `/api/leads/${encodeURIComponent(found.lead_id)}`, props.floor.token).then(setLead);
        }
        return undefined;
      })
      .catch((err: ApiError) => setError(err.message));
  }, [props.chatId]);
  return (
    <section class="panel past-chat" data-testid="past-chat" data-chat-id={props.chatId}>
      <ErrorLine message={error} />
      {chat ? (
        <>
          <h2 dir="auto">
            {chat.visitor.name ?? t("anonymous")} · {chat.language.toUpperCase()} · {word(lang, "chat_status", chat.status)}
          </h2>
          {chat.close_reason ? <p class="muted">{word(lang, "reason", chat.close_reason)}</p> : null}
          <Transcript messages={chat.messages} />
          <h3>{t("pages")}</h3>
          <ol class="pages" data-testid="page-trail">
            {chat.visitor.pages.map((p, i) => (
              <li key={`${p.viewed_at}-${i}`}>
                <span class="url" dir="auto" title={p.url}>
                  {p.title || p.url}
                </span>{" "}
                <span class="muted">{when(lang, p.viewed_at)}</span>
              </li>
            ))}
          </ol>
          {lead ? (
            <>
              <h3>{t("lead")}</h3>
              <LeadSummary lead={lead} />
              <h3>{t("deliveries")}</h3>
              <DeliveryList deliveries={lead.deliveries} />
            </>
          ) : null}
          {chat.csat ? (
            <>
              <h3>{t("csat")}</h3>
              <p data-testid="csat">
                {chat.csat.score}/5{chat.csat.comment ? <q dir="auto"> {chat.csat.comment}</q> : null}
              </p>
            </>
          ) : null}
        </>
      ) : null}
    </section>
  );
}
