// Tickets (PROTOCOL 1.1, "Tickets that get worked"): what chats left for later (the
// offline form, after hours, a bot's chat nobody could take, an agent's follow-up), worked
// here. Overdue callbacks first, then by due time (the hub's order); filters by status;
// take, note, resolve, no contact, reopen; the visitor's conversation and lead beside the
// ticket. A ticket filed while the screen is open (`ticket_created`) appears at once. The
// supervisor's screen shows the counts per status (TicketCountTiles).

import { useEffect, useState } from "preact/hooks";
import { api, type ApiError } from "./api";
import { Transcript } from "./chats";
import type { Floor, FloorState } from "./floor";
import type { Chat, Lead, Ticket, TicketCounts } from "./model";
import { LeadSummary } from "./records";
import { Contact, ErrorLine, useLang, useNow, useT } from "./ui";
import type { TextKey, UiLang } from "./i18n";
import { locale, plain, when, word } from "./words";

type Filter = "todo" | "open" | "in_progress" | "resolved" | "no_contact" | "all";
const FILTERS: Filter[] = ["todo", "open", "in_progress", "resolved", "no_contact", "all"];
const STATUSES = ["open", "in_progress", "resolved", "no_contact"] as const;
const PENDING = new Set(["open", "in_progress"]);
const COUNTS_EVERY_MS = 30_000;

interface TicketList {
  tickets: Ticket[];
  counts: TicketCounts;
}

function listPath(filter: Filter): string {
  return filter === "todo" || filter === "all" ? "/api/tickets" : `/api/tickets?status=${filter}`;
}

/** What a filter shows of what the hub sent ("todo": open and in progress); filtered here
 * too, so that the list of the filter before never shows under the new one's name. */
export function shownTickets(filter: Filter, tickets: Ticket[]): Ticket[] {
  if (filter === "all") return tickets;
  return tickets.filter((t) => (filter === "todo" ? PENDING.has(t.status) : t.status === filter));
}

function filterCount(filter: Filter, counts: TicketCounts | null): number | null {
  if (!counts) return null;
  if (filter === "todo") return counts.open + counts.in_progress;
  if (filter === "all") return STATUSES.reduce((n, s) => n + counts[s], 0);
  return counts[filter];
}

function filterLabel(filter: Filter): TextKey {
  if (filter === "todo") return "tickets_todo";
  if (filter === "all") return "tickets_all";
  return `ticket_status_${filter}`;
}

/** "in 3 hours", "2 days ago", "tomorrow": the nearest sensible unit. */
function relative(lang: UiLang, ms: number): string {
  const format = new Intl.RelativeTimeFormat(locale(lang), { numeric: "auto" });
  const minutes = Math.round(ms / 60_000);
  if (Math.abs(minutes) < 60) return format.format(minutes, "minute");
  const hours = Math.round(ms / 3_600_000);
  if (Math.abs(hours) < 48) return format.format(hours, "hour");
  return format.format(Math.round(ms / 86_400_000), "day");
}

/** The callback in words: "Llamar dentro de 11 horas", "Overdue, due 2 hours ago"; for a
 * ticket already worked, the time it was due. */
export function dueWords(lang: UiLang, t: (key: TextKey) => string, ticket: Ticket, now: number): string {
  const due = ticket.callback_due_at;
  if (!due) return t("ticket_no_due");
  if (!PENDING.has(ticket.status)) return when(lang, due);
  const ms = Date.parse(due) - now;
  const overdue = ticket.overdue ?? ms < 0;
  // the hub's clock decides what is overdue; the words never contradict it
  return overdue ? `${t("ticket_overdue")} ${relative(lang, Math.min(ms, 0))}` : `${t("ticket_due")} ${relative(lang, Math.max(ms, 0))}`;
}

function contactOf(ticket: Ticket): string {
  return [ticket.phone, ticket.email].filter(Boolean).join(" · ");
}

export function TicketsView(props: { floor: Floor; state: FloorState }) {
  const t = useT();
  const lang = useLang();
  const now = useNow(30_000);
  const { floor } = props;
  const [filter, setFilter] = useState<Filter>("todo");
  const [list, setList] = useState<TicketList | null>(null);
  const [error, setError] = useState<string | null>(null);
  const [selected, setSelected] = useState<string | null>(null);
  const [again, setAgain] = useState(0);
  const reload = () => setAgain((n) => n + 1);
  const filed = props.state.tickets;
  useEffect(() => {
    let current = true;
    api<TicketList>("GET", listPath(filter), floor.token)
      .then((body) => {
        if (!current) return;
        setList(body);
        setError(null);
      })
      .catch((err: ApiError) => current && setError(err.message));
    return () => {
      current = false;
    };
  }, [filter, again, filed]);
  const arrived = new Set(filed.map((x) => x.id));
  const names = (id: string | null | undefined) => (id ? (props.state.team[id]?.name ?? (id === floor.me.id ? floor.me.name : id)) : t("ticket_unassigned"));
  const tickets = list ? shownTickets(filter, list.tickets) : null;
  return (
    <section class="records tickets" data-testid="tickets">
      <header class="records-header">
        <h2>{t("view_tickets")}</h2>
        <div class="filters" role="group" aria-label={t("status")}>
          {FILTERS.map((f) => {
            const count = filterCount(f, list?.counts ?? null);
            return (
              <button key={f} type="button" aria-pressed={filter === f} data-filter={f} onClick={() => setFilter(f)}>
                {t(filterLabel(f))}
                {count === null ? null : <span class="count">{count}</span>}
              </button>
            );
          })}
        </div>
        <button type="button" onClick={reload} data-action="refresh">
          {t("refresh")}
        </button>
      </header>
      <ErrorLine message={error} />
      <div class="tickets-view">
        <div class="tickets-list">
          {tickets && tickets.length === 0 ? <p class="muted">{t("tickets_empty")}</p> : null}
          <table class="list">
            <thead>
              <tr>
                <th>{t("ticket_due_label")}</th>
                <th>{t("reason")}</th>
                <th>{t("status")}</th>
                <th>{t("contact")}</th>
                <th>{t("ticket_assignee")}</th>
                <th>{t("text")}</th>
              </tr>
            </thead>
            <tbody>
              {(tickets ?? []).map((ticket) => {
                const overdue = PENDING.has(ticket.status) && ticket.overdue === true;
                const classes = [selected === ticket.id ? "selected" : "", overdue ? "overdue" : "", arrived.has(ticket.id) ? "new" : ""];
                return (
                  <tr
                    key={ticket.id}
                    class={classes.filter(Boolean).join(" ")}
                    data-ticket-id={ticket.id}
                    data-chat-id={ticket.chat_id ?? undefined}
                    data-status={ticket.status}
                    tabIndex={0}
                    aria-selected={selected === ticket.id}
                    onClick={() => setSelected(ticket.id)}
                    onKeyDown={(e) => e.key === "Enter" && setSelected(ticket.id)}
                  >
                    <td data-field="due">
                      {dueWords(lang, t, ticket, now)}
                      {ticket.callback_due_at && PENDING.has(ticket.status) ? <small class="muted contact">{when(lang, ticket.callback_due_at)}</small> : null}
                    </td>
                    <td data-field="reason">{word(lang, "reason", ticket.reason)}</td>
                    <td data-field="status">
                      {word(lang, "ticket_status", ticket.status)}
                      {arrived.has(ticket.id) ? <span class="badge">{t("ticket_new")}</span> : null}
                    </td>
                    <td>
                      <span dir="auto">{ticket.name ?? "—"}</span>
                      <small class="muted contact">
                        <Contact phone={ticket.phone} email={ticket.email} />
                      </small>
                    </td>
                    <td data-field="assignee" dir="auto">
                      {names(ticket.assignee_id)}
                    </td>
                    <td dir="auto" class="text">
                      <div class="clamp">{ticket.text}</div>
                    </td>
                  </tr>
                );
              })}
            </tbody>
          </table>
        </div>
        {selected ? (
          <TicketDetail key={selected} floor={floor} ticketId={selected} names={names} onChanged={reload} />
        ) : (
          <p class="muted ticket-pick">{t("ticket_pick")}</p>
        )}
      </div>
    </section>
  );
}

function TicketDetail(props: { floor: Floor; ticketId: string; names: (id: string | null | undefined) => string; onChanged: () => void }) {
  const t = useT();
  const lang = useLang();
  const now = useNow(30_000);
  const { floor, ticketId } = props;
  const [ticket, setTicket] = useState<Ticket | null>(null);
  const [lead, setLead] = useState<Lead | null>(null);
  const [chat, setChat] = useState<Chat | null>(null);
  const [note, setNote] = useState("");
  const [busy, setBusy] = useState(false);
  const [error, setError] = useState<string | null>(null);
  const path = `/api/tickets/${encodeURIComponent(ticketId)}`;
  useEffect(() => {
    let current = true;
    api<{ ticket: Ticket; lead?: Lead }>("GET", path, floor.token)
      .then((body) => {
        if (!current) return;
        setTicket(body.ticket);
        setLead(body.lead ?? null);
        const chatId = body.ticket.chat_id;
        if (chatId) {
          api<Chat>("GET", `/api/chats/${encodeURIComponent(chatId)}`, floor.token)
            .then((found) => current && setChat(found))
            .catch((err: ApiError) => current && setError(err.message));
        }
      })
      .catch((err: ApiError) => current && setError(err.message));
    return () => {
      current = false;
    };
  }, [ticketId]);

  /** One PATCH; a note typed in the box goes with a change of status. */
  const change = async (body: Record<string, unknown>) => {
    const text = note.trim();
    setBusy(true);
    try {
      const updated = await api<Ticket>("PATCH", path, floor.token, text ? { ...body, note: text } : body);
      setTicket(updated);
      setNote("");
      setError(null);
      props.onChanged();
    } catch (err) {
      setError((err as ApiError).message);
    } finally {
      setBusy(false);
    }
  };

  if (!ticket) {
    return (
      <section class="panel ticket-detail" data-testid="ticket" data-ticket-id={ticketId}>
        <ErrorLine message={error} />
      </section>
    );
  }
  const pending = PENDING.has(ticket.status);
  const mine = ticket.assignee_id === floor.me.id;
  const notes = ticket.notes ?? [];
  return (
    <section class="panel ticket-detail" data-testid="ticket" data-ticket-id={ticket.id} data-status={ticket.status}>
      <h2 dir="auto">
        {`${ticket.name ?? t("anonymous")} · ${plain(lang, ticket.language).toUpperCase()} · `}
        <span data-field="status">{word(lang, "ticket_status", ticket.status)}</span>
      </h2>
      <dl class="lead-summary">
        <dt>{t("reason")}</dt>
        <dd data-field="reason">{word(lang, "reason", ticket.reason)}</dd>
        <dt>{t("ticket_due_label")}</dt>
        <dd data-field="due">{dueWords(lang, t, ticket, now)}</dd>
        <dt>{t("date")}</dt>
        <dd>{when(lang, ticket.created_at)}</dd>
        <dt>{t("ticket_assignee")}</dt>
        <dd data-field="assignee" dir="auto">
          {props.names(ticket.assignee_id)}
        </dd>
        {contactOf(ticket) ? (
          <>
            <dt>{t("contact")}</dt>
            <dd>
              <Contact phone={ticket.phone} email={ticket.email} />
            </dd>
          </>
        ) : null}
        <dt>{t("text")}</dt>
        <dd dir="auto" class="text">
          {ticket.text}
        </dd>
      </dl>
      <h3>{t("notes")}</h3>
      {notes.length === 0 ? <p class="muted">{t("ticket_no_notes")}</p> : null}
      <ol class="ticket-notes">
        {notes.map((n) => (
          <li key={n.id} data-note-id={n.id}>
            <small class="muted">
              <span dir="auto">{n.author_name ?? "—"}</span> · {when(lang, n.created_at)}
            </small>
            <p dir="auto" class="text">
              {n.text}
            </p>
          </li>
        ))}
      </ol>
      <form
        class="ticket-work"
        onSubmit={(e) => {
          e.preventDefault();
          if (note.trim()) void change({});
        }}
      >
        <label>
          {t("ticket_note")}
          <textarea name="ticket_note" rows={2} dir="auto" maxLength={2000} value={note} onInput={(e) => setNote((e.target as HTMLTextAreaElement).value)} />
        </label>
        <div class="buttons">
          <button type="submit" data-action="note" disabled={busy || !note.trim()}>
            {t("ticket_add_note")}
          </button>
          {pending && !(mine && ticket.status === "in_progress") ? (
            <button type="button" data-action="take" disabled={busy} onClick={() => void change({ status: "in_progress", assignee_id: floor.me.id })}>
              {t("ticket_take")}
            </button>
          ) : null}
          {pending ? (
            <button type="button" data-action="no_contact" disabled={busy} onClick={() => void change({ status: "no_contact" })}>
              {t("ticket_mark_no_contact")}
            </button>
          ) : null}
          {pending ? (
            <button type="button" class="primary" data-action="resolve" disabled={busy} onClick={() => void change({ status: "resolved" })}>
              {t("ticket_resolve")}
            </button>
          ) : (
            <button type="button" data-action="reopen" disabled={busy} onClick={() => void change({ status: "open" })}>
              {t("ticket_reopen")}
            </button>
          )}
        </div>
      </form>
      <ErrorLine message={error} />
      {lead ? (
        <>
          <h3>{t("lead")}</h3>
          <LeadSummary lead={lead} />
        </>
      ) : null}
      <h3>{t("ticket_conversation")}</h3>
      {ticket.chat_id ? chat ? <Transcript messages={chat.messages} /> : null : <p class="muted">{t("ticket_no_chat")}</p>}
    </section>
  );
}

/** The tenant's tickets per status, for the supervisor's screen. Any status filter answers
 * with the tenant's counts: ask for the few in progress rather than every ticket. */
export function TicketCountTiles(props: { floor: Floor; state: FloorState }) {
  const t = useT();
  const { floor } = props;
  const [counts, setCounts] = useState<TicketCounts | null>(null);
  const [error, setError] = useState<string | null>(null);
  const [tick, setTick] = useState(0);
  useEffect(() => {
    const timer = setInterval(() => setTick((n) => n + 1), COUNTS_EVERY_MS);
    return () => clearInterval(timer);
  }, []);
  useEffect(() => {
    let current = true;
    api<TicketList>("GET", "/api/tickets?status=in_progress", floor.token)
      .then((body) => current && setCounts(body.counts))
      .catch((err: ApiError) => current && setError(err.message));
    return () => {
      current = false;
    };
  }, [floor, tick, props.state.tickets]);
  const tile = (key: string, label: string, value: number | undefined) => (
    <div class={`tile ${key === "overdue" && value ? "missed" : ""}`} data-tile={`tickets_${key}`}>
      <span class="label">{label}</span>
      <strong class="value">{value ?? "—"}</strong>
    </div>
  );
  return (
    <section class="panel ticket-counts" data-testid="ticket-counts">
      <h2>{t("tickets_by_status")}</h2>
      <ErrorLine message={error} />
      <div class="tiles">
        {STATUSES.map((s) => tile(s, t(`ticket_status_${s}`), counts?.[s]))}
        {tile("overdue", t("tickets_overdue"), counts?.overdue)}
      </div>
    </section>
  );
}
