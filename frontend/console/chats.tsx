// The agent's working view: the queue, my chats as tabs, the chat, the visitor.
// Chat text is always a text node (Preact escapes it): never HTML.

import { useEffect, useLayoutEffect, useRef, useState } from "preact/hooks";
import { api, loadDraft, saveDraft } from "./api";
import { AttachButton, AttachmentView, AttachZone } from "./attach";
import type { ChatState, Floor, FloorState } from "./floor";
import {
  cannedMatches,
  cannedText,
  clock,
  pageTimes,
  plausibleEmail,
  plausiblePhone,
  leadPayload,
  splitName,
  type Canned,
  type LeadDraft,
  type Message,
} from "./model";
import { AppointmentFields, appointmentDraft, appointmentError, appointmentPayload } from "./appointment";
import { LeadSummary } from "./records";
import { Check, Dialog, Email, ErrorLine, Field, Phone, SubmitRow, useLang, useNow, useT } from "./ui";
import { isCode, locale, TIMEFRAMES, word } from "./words";

export function ChatsView(props: { floor: Floor; state: FloorState }) {
  const { floor, state } = props;
  const t = useT();
  const active = state.activeId ? state.chats[state.activeId] : null;
  return (
    <div class="chats-view">
      <aside class="sidebar">
        <QueuePanel state={state} />
        <TeamPanel floor={floor} state={state} />
      </aside>
      <section class="work">
        <nav class="tabs" role="tablist" aria-label={t("my_chats")}>
          {state.order.map((id, i) => (
            <ChatTab key={id} index={i} entry={state.chats[id]} active={id === state.activeId} floor={floor} />
          ))}
        </nav>
        {active ? (
          <ChatPane key={active.chat.id} floor={floor} state={state} entry={active} />
        ) : (
          <p class="empty">{t("no_chats")}</p>
        )}
      </section>
    </div>
  );
}

function QueuePanel(props: { state: FloorState }) {
  const t = useT();
  const now = useNow();
  const { queue, queueReceivedAt, queueVisitors } = props.state;
  const elapsed = (now - queueReceivedAt) / 1000;
  return (
    <section class="panel queue" aria-label={t("queue")} data-testid="queue">
      <h2>
        {t("queue")} <span class="count">{queue.length}</span>
      </h2>
      {queue.length === 0 ? <p class="muted">{t("queue_empty")}</p> : null}
      <ul>
        {queue.map((entry) => {
          const visitor = queueVisitors[entry.chat_id];
          const page = visitor?.pages[visitor.pages.length - 1];
          return (
            <li key={entry.chat_id} data-chat-id={entry.chat_id}>
              <span class="lang">{entry.language.toUpperCase()}</span>
              <span class="who" dir="auto">
                {visitor?.name ?? t("anonymous")}
              </span>
              <span class="wait" title={t("waiting_for")}>
                {clock(entry.waiting_s + elapsed)}
              </span>
              {page ? (
                <span class="page" dir="auto" title={page.url}>
                  {page.title || page.url}
                </span>
              ) : null}
            </li>
          );
        })}
      </ul>
    </section>
  );
}

function TeamPanel(props: { floor: Floor; state: FloorState }) {
  const t = useT();
  const lang = useLang();
  const members = Object.values(props.state.team).filter((m) => m.active);
  return (
    <section class="panel team" aria-label={t("team")} data-testid="team">
      <h2>{t("team")}</h2>
      <ul>
        {members.map((m) => (
          <li key={m.id} data-agent-id={m.id}>
            <span class={`dot ${m.status}`} aria-hidden="true" />
            <span dir="auto">{m.name}</span>
            <span class="muted">
              {word(lang, "agent_status", m.status)} · {m.load}/{m.max_chats}
            </span>
          </li>
        ))}
      </ul>
    </section>
  );
}

function ChatTab(props: { index: number; entry: ChatState; active: boolean; floor: Floor }) {
  const t = useT();
  const { entry } = props;
  const label = entry.chat.visitor.name ?? t("anonymous");
  return (
    <button
      type="button"
      role="tab"
      aria-selected={props.active}
      class={`tab ${props.active ? "active" : ""} ${entry.ended ? "ended" : ""}`}
      data-chat-id={entry.chat.id}
      onClick={() => props.floor.select(entry.chat.id)}
      title={props.index < 9 ? `Alt+${props.index + 1}` : undefined}
    >
      <span class="lang">{entry.chat.language.toUpperCase()}</span>
      <span dir="auto">{label}</span>
      {entry.unread > 0 ? (
        <span class="unread" aria-label={t("new_message")}>
          {entry.unread}
        </span>
      ) : null}
    </button>
  );
}

type Panel = null | "transfer" | "close" | "lead" | "ticket";

function ChatPane(props: { floor: Floor; state: FloorState; entry: ChatState }) {
  const { floor, entry } = props;
  const t = useT();
  const lang = useLang();
  const [panel, setPanel] = useState<Panel>(null);
  const chat = entry.chat;
  const ended = entry.ended !== null;
  useEffect(() => {
    // Alt+W: close the chat in view, through the same confirmation as the button
    const onKey = (e: KeyboardEvent) => {
      if (e.altKey && e.code === "KeyW" && !ended) {
        e.preventDefault();
        setPanel("close");
      }
    };
    window.addEventListener("keydown", onKey);
    return () => window.removeEventListener("keydown", onKey);
  }, [ended]);
  return (
    <div class="chat-pane" data-testid="chat" data-chat-id={chat.id}>
      <div class="conversation">
        <header class="chat-header">
          <h2 dir="auto">{chat.visitor.name ?? t("anonymous")}</h2>
          <span class="lang">{chat.language.toUpperCase()}</span>
          <div class="actions">
            <button type="button" onClick={() => setPanel("lead")} disabled={ended} data-action="lead">
              {t("lead")}
            </button>
            <button type="button" onClick={() => setPanel("ticket")} data-action="ticket">
              {t("ticket")}
            </button>
            <button type="button" onClick={() => setPanel("transfer")} disabled={ended} data-action="transfer">
              {t("transfer")}
            </button>
            {ended ? (
              <button type="button" onClick={() => floor.remove(chat.id)} data-action="dismiss">
                {t("dismiss")}
              </button>
            ) : (
              <button type="button" class="danger" onClick={() => setPanel("close")} data-action="close" title="Alt+W">
                {t("close_chat")}
              </button>
            )}
          </div>
        </header>
        <Transcript messages={chat.messages} />
        {entry.typing ? <p class="typing">{t("typing")}</p> : null}
        {ended ? (
          <p class="ended" role="status">
            {t("chat_ended")} ({word(lang, "reason", entry.ended)})
          </p>
        ) : (
          <Composer floor={floor} entry={entry} canned={props.state.canned} />
        )}
      </div>
      <VisitorPanel entry={entry} />
      {panel === "transfer" ? <TransferDialog floor={floor} state={props.state} entry={entry} onClose={() => setPanel(null)} /> : null}
      {panel === "close" ? <CloseDialog floor={floor} entry={entry} onClose={() => setPanel(null)} /> : null}
      {panel === "lead" ? <LeadDialog floor={floor} entry={entry} onClose={() => setPanel(null)} /> : null}
      {panel === "ticket" ? <TicketDialog floor={floor} entry={entry} onClose={() => setPanel(null)} /> : null}
    </div>
  );
}

export function Transcript(props: { messages: Message[] }) {
  const t = useT();
  const lang = useLang();
  const list = useRef<HTMLOListElement>(null);
  useLayoutEffect(() => {
    const el = list.current;
    if (el) el.scrollTop = el.scrollHeight;
  }, [props.messages.length]);
  return (
    <ol class="transcript" ref={list} aria-live="polite">
      {props.messages.map((m) => (
        <li
          key={`${m.author}:${m.client_msg_id ?? m.id}`}
          class={`msg ${m.author} ${m.pending ? "pending" : ""} ${m.failed ? "failed" : ""} ${m.whisper ? "whisper" : ""}`}
          data-message-id={m.id}
        >
          {m.whisper ? <small class="role whisper-label">{t("whisper")}</small> : null}
          {m.author === "bot" ? (
            <span class="author">
              {m.author_name ? <span dir="auto">{m.author_name}</span> : null}
              <small class="role">{t("virtual_assistant")}</small>
            </span>
          ) : m.author_name && m.author !== "visitor" ? (
            <span class="author">{m.author_name}</span>
          ) : null}
          <p class="text" dir="auto">
            {m.text}
          </p>
          {m.attachment ? <AttachmentView a={m.attachment} /> : null}
          <time dateTime={m.created_at}>{new Date(m.created_at).toLocaleTimeString(locale(lang), { hour: "2-digit", minute: "2-digit" })}</time>
          {m.failed ? <span class="error">{m.failed}</span> : null}
        </li>
      ))}
    </ol>
  );
}

function Composer(props: { floor: Floor; entry: ChatState; canned: Canned[] }) {
  const { floor, entry } = props;
  const t = useT();
  const chatId = entry.chat.id;
  const [text, setText] = useState(() => loadDraft(floor.me.id, chatId));
  const [pick, setPick] = useState(0);
  const area = useRef<HTMLTextAreaElement>(null);
  const slash = /^\/(\S*)$/.exec(text);
  const matches = slash ? cannedMatches(props.canned, slash[1], entry.chat.language) : [];

  useEffect(() => {
    area.current?.focus();
  }, [chatId]);

  const update = (value: string) => {
    setText(value);
    setPick(0);
    saveDraft(floor.me.id, chatId, value);
    if (value) floor.typing(chatId);
  };

  const coached = entry.chat.messages.some((m) => m.whisper && m.author_name !== floor.me.name);
  const [whisper, setWhisper] = useState(false);
  const send = () => {
    const body = text.trim();
    if (!body) return;
    update("");
    void floor.send(chatId, body, coached && whisper);
  };

  const useCanned = (canned: Canned) => {
    update(cannedText(canned, entry.chat.language));
    area.current?.focus();
  };

  const onKeyDown = (e: KeyboardEvent) => {
    if (slash && matches.length > 0) {
      if (e.key === "ArrowDown" || e.key === "ArrowUp") {
        e.preventDefault();
        setPick((pick + (e.key === "ArrowDown" ? 1 : matches.length - 1)) % matches.length);
        return;
      }
      if (e.key === "Enter" || e.key === "Tab") {
        e.preventDefault();
        useCanned(matches[Math.min(pick, matches.length - 1)]);
        return;
      }
    }
    if (slash && e.key === "Escape") {
      update("");
      return;
    }
    if (e.key === "Enter" && !e.shiftKey && !e.isComposing) {
      e.preventDefault();
      send();
    }
  };

  return (
    <AttachZone floor={floor} chatId={chatId}>
      {slash ? (
        <ul class="canned" role="listbox" data-testid="canned">
          {matches.length === 0 ? <li class="muted">{t("no_canned")}</li> : null}
          {matches.map((c, i) => (
            <li
              key={c.id}
              role="option"
              aria-selected={i === pick}
              class={i === pick ? "picked" : ""}
              onMouseDown={(e) => {
                e.preventDefault();
                useCanned(c);
              }}
            >
              <strong>{c.shortcut}</strong> <span dir="auto">{cannedText(c, entry.chat.language)}</span>
            </li>
          ))}
        </ul>
      ) : null}
      <textarea
        ref={area}
        value={text}
        rows={3}
        dir="auto"
        aria-label={t("write_here")}
        placeholder={t("write_here")}
        onInput={(e) => update((e.target as HTMLTextAreaElement).value)}
        onKeyDown={onKeyDown}
      />
      <div class="composer-bar">
        <small class="muted">{t("composer_hint")}</small>
        {coached ? <Check label={t("whisper_back")} name="whisper" checked={whisper} onChecked={setWhisper} /> : null}
        <AttachButton />
        <button type="button" class="primary" onClick={send}>
          {t("send")}
        </button>
      </div>
    </AttachZone>
  );
}

function VisitorPanel(props: { entry: ChatState }) {
  const t = useT();
  const now = useNow();
  const { visitor } = props.entry.chat;
  const pages = pageTimes(visitor.pages, now);
  const referrer = visitor.pages.find((p) => p.referrer)?.referrer;
  return (
    <aside class="visitor" aria-label={t("visitor")} data-testid="visitor">
      <h3>{t("visitor")}</h3>
      <dl>
        <dt>{t("name")}</dt>
        <dd dir="auto">{visitor.name ?? "—"}</dd>
        <dt>{t("email")}</dt>
        <dd>
          <Email value={visitor.email} />
        </dd>
        <dt>{t("phone")}</dt>
        <dd>
          <Phone value={visitor.phone} />
        </dd>
        <dt>{t("language")}</dt>
        <dd>{props.entry.chat.language.toUpperCase()}</dd>
        <dt>{t("referrer")}</dt>
        <dd class="url">{referrer ?? "—"}</dd>
      </dl>
      <p class="badge">{visitor.returning ? t("returning") : t("first_visit")}</p>
      {props.entry.lead ? (
        <>
          <h4>{t("lead")}</h4>
          <LeadSummary lead={props.entry.lead} />
        </>
      ) : null}
      <h4>{t("pages")}</h4>
      <ol class="pages">
        {pages.map(({ page, seconds }, i) => (
          <li key={`${page.viewed_at}-${i}`} class={i === pages.length - 1 ? "current" : ""}>
            <span class="url" dir="auto" title={page.url}>
              {page.title || page.url}
            </span>
            <span class="muted">{clock(seconds)}</span>
          </li>
        ))}
      </ol>
    </aside>
  );
}

function TransferDialog(props: { floor: Floor; state: FloorState; entry: ChatState; onClose: () => void }) {
  const t = useT();
  const [error, setError] = useState<string | null>(null);
  const chatId = props.entry.chat.id;
  const others = Object.values(props.state.team).filter(
    (m) => m.id !== props.floor.me.id && m.active && m.status === "online",
  );
  const languages = props.state.tenant?.languages ?? [props.entry.chat.language];
  const go = async (target: { agent_id: string } | { language: string }) => {
    const ack = await props.floor.transfer(chatId, target);
    if (ack.ok) props.onClose();
    else setError(ack.error?.message ?? t("error"));
  };
  return (
    <Dialog title={t("transfer")} onClose={props.onClose} testId="transfer-dialog">
      <h3>{t("transfer_to_agent")}</h3>
      {others.length === 0 ? (
        <p class="muted" data-testid="transfer-nobody">
          {t("transfer_nobody")}
        </p>
      ) : null}
      <ul class="choices">
        {others.map((m) => (
          <li key={m.id}>
            <button type="button" data-agent-id={m.id} onClick={() => void go({ agent_id: m.id })}>
              {m.name} · {m.languages.join("/").toUpperCase()} · {m.load}/{m.max_chats}
            </button>
          </li>
        ))}
      </ul>
      <h3>{t("transfer_to_queue")}</h3>
      <ul class="choices">
        {languages.map((lang) => (
          <li key={lang}>
            <button type="button" data-language={lang} onClick={() => void go({ language: lang })}>
              {lang.toUpperCase()}
            </button>
          </li>
        ))}
      </ul>
      <ErrorLine message={error} />
    </Dialog>
  );
}

const DISPOSITIONS = ["sales_lead", "service", "support", "spam"] as const;

function CloseDialog(props: { floor: Floor; entry: ChatState; onClose: () => void }) {
  const t = useT();
  const [choice, setChoice] = useState<string>(props.entry.lead ? "sales_lead" : "service");
  const [error, setError] = useState<string | null>(null);
  const submit = async (e: Event) => {
    e.preventDefault();
    const ack = await props.floor.close(props.entry.chat.id, choice);
    if (ack.ok) props.onClose();
    else setError(ack.error?.message ?? t("error"));
  };
  return (
    <Dialog title={t("close_chat")} onClose={props.onClose} testId="close-dialog">
      <form onSubmit={submit}>
        <fieldset>
          <legend>{t("disposition")}</legend>
          {DISPOSITIONS.map((d) => (
            <label key={d} class="radio">
              <input type="radio" name="disposition" value={d} checked={choice === d} onChange={() => setChoice(d)} />
              {t(d)}
            </label>
          ))}
        </fieldset>
        <ErrorLine message={error} />
        <button type="submit" class="danger">
          {t("close_chat")}
        </button>
      </form>
    </Dialog>
  );
}

// the timeframe select's choice for a timeframe typed by hand (no code looks like it)
const TYPED = " typed";

function LeadDialog(props: { floor: Floor; entry: ChatState; onClose: () => void }) {
  const t = useT();
  const lang = useLang();
  const { visitor, language } = props.entry.chat;
  const saved = props.entry.lead;
  const [first, last] = splitName(visitor.name);
  const [d, setD] = useState<LeadDraft>(() => ({
    first_name: saved?.first_name ?? first,
    last_name: saved?.last_name ?? last,
    email: saved?.email ?? visitor.email ?? "",
    phone: saved?.phone ?? visitor.phone ?? "",
    interest: saved?.interest ?? "buy",
    vehicle_year: String(saved?.vehicle?.year ?? ""),
    vehicle_make: saved?.vehicle?.make ?? "",
    vehicle_model: saved?.vehicle?.model ?? "",
    vehicle_vin: saved?.vehicle?.vin ?? "",
    vehicle_stock: saved?.vehicle?.stock ?? "",
    vehicle_condition: saved?.vehicle?.condition ?? "",
    trade_year: String(saved?.trade_in?.year ?? ""),
    trade_make: saved?.trade_in?.make ?? "",
    trade_model: saved?.trade_in?.model ?? "",
    trade_mileage: String(saved?.trade_in?.mileage ?? ""),
    timeframe: saved?.timeframe ?? "",
    // a timeframe typed by hand (not one of the codes) is edited as typed
    timeframe_typed: !!saved?.timeframe && !isCode("timeframe", saved.timeframe),
    notes: saved?.notes ?? "",
    qualified: saved?.qualified ?? true,
    ...appointmentDraft(saved),
  }));
  const [error, setError] = useState<string | null>(null);
  const [done, setDone] = useState(false);
  const field = (key: string, label: string, type = "text") => (
    <Field
      label={label}
      name={key}
      type={type}
      dir="auto"
      value={String(d[key] ?? "")}
      onValue={(value) => {
        setError(null);
        setD({ ...d, [key]: value });
      }}
    />
  );
  const submit = async (e: Event) => {
    e.preventDefault();
    const s = (k: string) => String(d[k] ?? "").trim();
    if (!s("first_name") && !s("last_name")) return setError(t("need_name"));
    if (!s("phone") && !s("email")) return setError(t("need_contact"));
    if (s("phone") && !plausiblePhone(s("phone"))) return setError(t("bad_phone"));
    if (s("email") && !plausibleEmail(s("email"))) return setError(t("bad_email"));
    const appointment = appointmentPayload(d);
    if (appointment === "incomplete") return setError(t("appointment_incomplete"));
    setError(null);
    const payload = { ...leadPayload(d, language), ...(appointment ? { appointment } : {}) };
    const ack = await props.floor.saveLead(props.entry.chat.id, payload);
    if (ack.ok) {
      setDone(true);
      setTimeout(props.onClose, 600);
    } else setError(ack.error?.message ? appointmentError(t, ack.error.message) : t("error"));
  };
  return (
    <Dialog title={t("lead_form")} onClose={props.onClose} testId="lead-dialog">
      <form class="grid-form" onSubmit={submit} noValidate>
        {field("first_name", t("first_name"))}
        {field("last_name", t("last_name"))}
        {field("email", t("email"), "email")}
        {field("phone", t("phone"), "tel")}
        <label>
          {t("interest")}
          <select name="interest" value={String(d.interest)} onChange={(e) => setD({ ...d, interest: (e.target as HTMLSelectElement).value })}>
            {(["buy", "lease", "service", "parts", "finance", "other"] as const).map((i) => (
              <option key={i} value={i}>
                {t(i)}
              </option>
            ))}
          </select>
        </label>
        <label>
          {t("timeframe")}
          <select
            name="timeframe"
            value={d.timeframe_typed ? TYPED : String(d.timeframe)}
            onChange={(e) => {
              const value = (e.target as HTMLSelectElement).value;
              const typed = value === TYPED;
              setD({ ...d, timeframe_typed: typed, timeframe: typed ? (d.timeframe_typed ? d.timeframe : "") : value });
            }}
          >
            <option value="">—</option>
            {TIMEFRAMES.map((code) => (
              <option key={code} value={code}>
                {word(lang, "timeframe", code)}
              </option>
            ))}
            <option value={TYPED}>{t("timeframe_typed")}</option>
          </select>
        </label>
        {d.timeframe_typed ? (
          <Field
            label={t("timeframe_typed")}
            name="timeframe_text"
            dir="auto"
            value={String(d.timeframe)}
            onValue={(timeframe) => setD({ ...d, timeframe })}
          />
        ) : null}
        <fieldset class="span">
          <legend>{t("vehicle")}</legend>
          {field("vehicle_year", t("year"), "number")}
          {field("vehicle_make", t("make"))}
          {field("vehicle_model", t("model"))}
          {field("vehicle_vin", t("vin"))}
          {field("vehicle_stock", t("stock"))}
          <label>
            {t("condition")}
            <select
              name="vehicle_condition"
              value={String(d.vehicle_condition)}
              onChange={(e) => setD({ ...d, vehicle_condition: (e.target as HTMLSelectElement).value })}
            >
              <option value="">—</option>
              <option value="new">{t("new")}</option>
              <option value="used">{t("used")}</option>
            </select>
          </label>
        </fieldset>
        <fieldset class="span">
          <legend>{t("trade_in")}</legend>
          {field("trade_year", t("year"), "number")}
          {field("trade_make", t("make"))}
          {field("trade_model", t("model"))}
          {field("trade_mileage", t("mileage"), "number")}
        </fieldset>
        <AppointmentFields d={d} set={(changes) => (setError(null), setD({ ...d, ...changes }))} />
        <Field label={t("notes")} class="span" area name="notes" dir="auto" value={String(d.notes)} onValue={(notes) => setD({ ...d, notes })} />
        <Check label={t("qualified")} name="qualified" checked={d.qualified !== false} onChecked={(qualified) => setD({ ...d, qualified })} />
        <ErrorLine message={error} />
        <SubmitRow label={t("save")}>{done ? <span class="ok" role="status">{t("saved")}</span> : null}</SubmitRow>
      </form>
    </Dialog>
  );
}

function TicketDialog(props: { floor: Floor; entry: ChatState; onClose: () => void }) {
  const t = useT();
  const { visitor } = props.entry.chat;
  const [text, setText] = useState("");
  const [name, setName] = useState(visitor.name ?? "");
  const [email, setEmail] = useState(visitor.email ?? "");
  const [phone, setPhone] = useState(visitor.phone ?? "");
  const [error, setError] = useState<string | null>(null);
  const [done, setDone] = useState(false);
  const submit = async (e: Event) => {
    e.preventDefault();
    try {
      await api("POST", "/api/tickets", props.floor.token, {
        chat_id: props.entry.chat.id,
        text,
        ...(name.trim() ? { name } : {}),
        ...(email.trim() ? { email } : {}),
        ...(phone.trim() ? { phone } : {}),
      });
      setDone(true);
      setTimeout(props.onClose, 600);
    } catch (err) {
      setError((err as Error).message);
    }
  };
  return (
    <Dialog title={t("create_ticket")} onClose={props.onClose} testId="ticket-dialog">
      <form class="grid-form" onSubmit={submit}>
        <Field label={t("ticket_text")} class="span" area name="text" required dir="auto" value={text} onValue={setText} />
        <Field label={t("name")} name="name" value={name} onValue={setName} />
        <Field label={t("email")} name="email" value={email} onValue={setEmail} />
        <Field label={t("phone")} name="phone" value={phone} onValue={setPhone} />
        <ErrorLine message={error} />
        <SubmitRow label={t("create")}>{done ? <span class="ok" role="status">{t("ticket_created")}</span> : null}</SubmitRow>
      </form>
    </Dialog>
  );
}
