// The supervisor's floor: live tiles (the `stats` event), the team, and any active chat,
// readable while it goes on (the transcript is kept current with `sync`).

import { useEffect, useState } from "preact/hooks";
import { api, ApiError } from "./api";
import { Transcript } from "./chats";
import type { Floor, FloorState } from "./floor";
import { clock, mergeMessages, type Chat, type Stats } from "./model";
import { LeadSummary } from "./records";
import { OnSiteCountTiles } from "./onsitecounts";
import { Supervision } from "./supervision";
import { TicketCountTiles } from "./tickets";
import { ErrorLine, useLang, useNow, useT } from "./ui";
import { word } from "./words";

const READ_EVERY_MS = 2000;

/** Chats about to miss the agreement's answer target, and misses, as they happen. */
function SlaAlerts(props: { state: FloorState }) {
  const t = useT();
  const open = props.state.slaWarnings.filter((w) => {
    const chat = props.state.chats[w.chat_id];
    return !chat || chat.chat.status !== "closed";
  });
  if (!open.length) return null;
  return (
    <ul class="sla-alerts" role="alert" data-testid="sla-alerts">
      {open.map((w) => (
        <li key={w.chat_id} data-chat-id={w.chat_id} data-kind={w.kind}>
          <span class={w.kind}>{t(w.kind === "breached" ? "sla_breached" : "sla_at_risk")}</span>
          <span>{w.language.toUpperCase()}</span>
          <span>{`${Math.round(w.waited_s)} s / ${w.answer_s} s`}</span>
        </li>
      ))}
    </ul>
  );
}

export function SupervisorView(props: { floor: Floor; state: FloorState }) {
  const t = useT();
  const lang = useLang();
  const now = useNow();
  const { floor } = props;
  const [refused, setRefused] = useState<string | null>(null);
  const [first, setFirst] = useState<Stats | null>(null);
  const [reading, setReading] = useState<string | null>(null);
  useEffect(() => {
    api<Stats>("GET", "/api/supervisor/stats", floor.token)
      .then(setFirst)
      .catch((err: ApiError) => setRefused(err.code === "plan_required" ? t("plan_required_supervisor") : err.message));
  }, [floor]);
  if (refused) {
    return (
      <section class="supervisor" data-testid="supervisor">
        <SlaAlerts state={props.state} />
        <p class="notice" role="status" data-testid="plan-required">
          {refused}
        </p>
        <TicketCountTiles floor={floor} state={props.state} />
        <Supervision floor={floor} state={props.state} />
      </section>
    );
  }
  const stats = props.state.stats ?? first;
  if (!stats)
    return (
      <section class="supervisor" data-testid="supervisor">
        <SlaAlerts state={props.state} />
        <TicketCountTiles floor={floor} state={props.state} />
        <Supervision floor={floor} state={props.state} />
      </section>
    );
  const names = Object.fromEntries(stats.agents.map((a) => [a.agent_id, a.name]));
  const oldest = stats.queue.oldest_since ? (now - Date.parse(stats.queue.oldest_since)) / 1000 : 0;
  const tile = (key: string, label: string, value: string) => (
    <div class="tile" data-tile={key}>
      <span class="label">{label}</span>
      <strong class="value">{value}</strong>
    </div>
  );
  return (
    <section class="supervisor" data-testid="supervisor">
      <SlaAlerts state={props.state} />
      <div class="tiles">
        {tile("agents_online", t("agents_online"), String(stats.agents_online))}
        {tile("load", t("load"), `${stats.load.active_chats}/${stats.load.capacity}`)}
        {tile("queue_length", t("queue_length"), String(stats.queue.length))}
        {tile("longest_wait", t("longest_wait"), clock(oldest))}
        {tile("chats_today", t("chats_today"), String(stats.chats_today))}
        {tile("missed_today", t("missed_today"), String(stats.missed_today))}
        {tile("first_response", t("first_response"), stats.avg_first_response_s === null ? "—" : clock(stats.avg_first_response_s))}
        {tile(
          "csat_today",
          t("csat_today"),
          stats.csat_today.average === null ? "—" : `${stats.csat_today.average.toFixed(1)} (${stats.csat_today.count})`,
        )}
      </div>
      <OnSiteCountTiles floor={floor} state={props.state} />
      <div class="floor">
        <section class="panel">
          <h2>{t("team")}</h2>
          <table>
            <tbody>
              {stats.agents.map((a) => (
                <tr key={a.agent_id}>
                  <td>
                    <span class={`dot ${a.status}`} aria-hidden="true" /> <span dir="auto">{a.name}</span>
                  </td>
                  <td>{word(lang, "agent_status", a.status)}</td>
                  <td>
                    {a.load}/{a.max_chats}
                  </td>
                </tr>
              ))}
            </tbody>
          </table>
        </section>
        <section class="panel">
          <h2>{t("active_chats")}</h2>
          <ul class="active-chats">
            {stats.active_chats.map((c) => (
              <li key={c.chat_id}>
                <span class="lang">{c.language.toUpperCase()}</span>
                <span dir="auto">{names[c.agent_id] ?? ""}</span>
                <button type="button" data-chat-id={c.chat_id} onClick={() => setReading(c.chat_id)}>
                  {t("read_chat")}
                </button>
              </li>
            ))}
          </ul>
        </section>
        {reading ? <ReadChat key={reading} floor={floor} chatId={reading} /> : null}
      </div>
      <TicketCountTiles floor={floor} state={props.state} />
      <Supervision floor={floor} state={props.state} />
    </section>
  );
}

function ReadChat(props: { floor: Floor; chatId: string }) {
  const t = useT();
  const lang = useLang();
  const [chat, setChat] = useState<Chat | null>(null);
  const [error, setError] = useState<string | null>(null);
  useEffect(() => {
    let current: Chat | null = null;
    let stopped = false;
    const load = async () => {
      try {
        current = await api<Chat>("GET", `/api/chats/${encodeURIComponent(props.chatId)}`, props.floor.token);
        setChat(current);
      } catch (err) {
        setError((err as Error).message);
      }
    };
    const follow = async () => {
      if (stopped || !current) return;
      const last = current.messages[current.messages.length - 1];
      const ack = await props.floor.call("sync", { chat_id: props.chatId, ...(last ? { after_id: last.id } : {}) });
      if (ack.ok && current) {
        const messages = ack.messages as Chat["messages"];
        const status = (ack.chat as { status: string }).status;
        current = { ...current, status, messages: mergeMessages(current.messages, messages) };
        setChat(current);
      }
    };
    void load();
    const timer = setInterval(() => void follow(), READ_EVERY_MS);
    return () => {
      stopped = true;
      clearInterval(timer);
    };
  }, [props.chatId]);
  return (
    <section class="panel reading" data-testid="reading" data-chat-id={props.chatId}>
      <h2 dir="auto">
        {chat ? `${chat.visitor.name ?? t("anonymous")} · ${chat.language.toUpperCase()} · ${word(lang, "chat_status", chat.status)}` : ""}
      </h2>
      {chat?.close_reason ? <p class="muted">{word(lang, "reason", chat.close_reason)}</p> : null}
      <ErrorLine message={error} />
      {chat ? <Transcript messages={chat.messages} /> : null}
      {chat?.lead ? <LeadSummary lead={chat.lead} /> : null}
    </section>
  );
}
