// Supervision (PROTOCOL 1.2): the live queue with a hand assignment, each agent's chats and
// load, and a chat joined to whisper to its agent or to speak to the visitor. Every plan's
// supervisors and admins get it; the premium tiles are in ./supervisor.

import { useEffect, useState } from "preact/hooks";
import { api } from "./api";
import { Transcript } from "./chats";
import type { Floor, FloorState } from "./floor";
import { clock, mergeMessages, newClientId, type Chat, type Message, type QueueEntry, type TeamMember } from "./model";
import { ErrorLine, useLang, useNow, useT } from "./ui";
import { word } from "./words";

interface Row {
  id: string;
  status: string;
  language: string;
  agent_id?: string;
  visitor: { id: string; name?: string };
  created_at: string;
}

type Mode = "whisper" | "visible";

const REFRESH_MS = 5000;

/** Agents who may be handed a chat in `language`: connected, speaking it, with room. */
export function assignable(team: TeamMember[], language: string): TeamMember[] {
  return team.filter(
    (m) => m.active && (m.status === "online" || m.status === "away") && m.languages.includes(language) && m.load < m.max_chats,
  );
}

export function Supervision(props: { floor: Floor; state: FloorState }) {
  const t = useT();
  const { floor, state } = props;
  const [active, setActive] = useState<Row[]>([]);
  const [joined, setJoined] = useState<{ chatId: string; mode: Mode } | null>(null);
  const loads = Object.values(state.team)
    .map((m) => `${m.id}:${m.load}`)
    .join(",");
  useEffect(() => {
    let stopped = false;
    const load = () =>
      api<{ chats: Row[] }>("GET", "/api/chats?status=active", floor.token)
        .then((body) => {
          if (!stopped) setActive(body.chats);
        })
        .catch(() => undefined);
    void load();
    const timer = setInterval(() => void load(), REFRESH_MS);
    return () => {
      stopped = true;
      clearInterval(timer);
    };
  }, [floor, loads, state.queue.length]);
  return (
    <div class="supervision" data-testid="supervision">
      <LiveQueue floor={floor} state={state} />
      <section class="panel" data-testid="agents-chats">
        <h2>{t("agents_and_chats")}</h2>
        <AgentsChats team={Object.values(state.team)} active={active} onJoin={(chatId, mode) => setJoined({ chatId, mode })} />
      </section>
      {joined ? <JoinedChat key={`${joined.chatId}:${joined.mode}`} floor={floor} chatId={joined.chatId} mode={joined.mode} onLeave={() => setJoined(null)} /> : null}
    </div>
  );
}

function LiveQueue(props: { floor: Floor; state: FloorState }) {
  const t = useT();
  const now = useNow();
  const { queue, queueReceivedAt, queueVisitors, team } = props.state;
  const elapsed = (now - queueReceivedAt) / 1000;
  return (
    <section class="panel" data-testid="supervision-queue">
      <h2>
        {t("supervision_queue")} <span class="count">{queue.length}</span>
      </h2>
      {queue.length === 0 ? <p class="muted">{t("queue_empty")}</p> : null}
      <table>
        <tbody>
          {queue.map((entry, i) => (
            <QueueRow
              key={entry.chat_id}
              floor={props.floor}
              entry={entry}
              position={entry.position ?? i + 1}
              name={queueVisitors[entry.chat_id]?.name ?? t("anonymous")}
              waited={entry.waiting_s + elapsed}
              candidates={assignable(Object.values(team), entry.language)}
            />
          ))}
        </tbody>
      </table>
    </section>
  );
}

function QueueRow(props: { floor: Floor; entry: QueueEntry; position: number; name: string; waited: number; candidates: TeamMember[] }) {
  const t = useT();
  const lang = useLang();
  const [choice, setChoice] = useState("");
  const [error, setError] = useState<string | null>(null);
  const { entry, candidates } = props;
  const assign = async () => {
    const target = choice || candidates[0]?.id;
    if (!target) return;
    const ack = await props.floor.call("assign", { chat_id: entry.chat_id, agent_id: target });
    setError(ack.ok ? null : (ack.error?.message ?? t("error")));
  };
  return (
    <tr data-chat-id={entry.chat_id}>
      <td title={t("position")}>#{props.position}</td>
      <td>
        <span class="lang">{entry.language.toUpperCase()}</span>
      </td>
      <td dir="auto">{props.name}</td>
      <td class="wait" title={t("waiting")}>
        {clock(props.waited)}
      </td>
      <td>
        {candidates.length === 0 ? (
          <span class="muted" data-testid="nobody">
            {t("no_one_to_assign")}
          </span>
        ) : (
          <>
            <select name="assign_to" aria-label={t("assign_to")} value={choice} onChange={(e) => setChoice((e.target as HTMLSelectElement).value)}>
              {candidates.map((m) => (
                <option key={m.id} value={m.id}>
                  {m.name} · {word(lang, "agent_status", m.status)} · {m.load}/{m.max_chats}
                </option>
              ))}
            </select>{" "}
            <button type="button" data-action="assign" onClick={() => void assign()}>
              {t("assign")}
            </button>
          </>
        )}
        <ErrorLine message={error} />
      </td>
    </tr>
  );
}

function AgentsChats(props: { team: TeamMember[]; active: Row[]; onJoin: (chatId: string, mode: Mode) => void }) {
  const t = useT();
  const lang = useLang();
  const members = props.team.filter((m) => m.active);
  return (
    <table>
      <tbody>
        {members.map((m) => {
          const chats = props.active.filter((c) => c.agent_id === m.id);
          return (
            <tr key={m.id} data-agent-id={m.id}>
              <td>
                <span class={`dot ${m.status}`} aria-hidden="true" /> <span dir="auto">{m.name}</span>
              </td>
              <td>{word(lang, "agent_status", m.status)}</td>
              <td>
                {m.load}/{m.max_chats}
              </td>
              <td>
                {chats.length === 0 ? <span class="muted">{t("no_active_chats")}</span> : null}
                <ul class="agent-chats">
                  {chats.map((c) => (
                    <li key={c.id} data-chat-id={c.id}>
                      <span class="lang">{c.language.toUpperCase()}</span> <span dir="auto">{c.visitor.name ?? t("anonymous")}</span>{" "}
                      <button type="button" data-action="join-whisper" onClick={() => props.onJoin(c.id, "whisper")}>
                        {t("join_whisper")}
                      </button>{" "}
                      <button type="button" data-action="join-visible" onClick={() => props.onJoin(c.id, "visible")}>
                        {t("join_visible")}
                      </button>
                    </li>
                  ))}
                </ul>
              </td>
            </tr>
          );
        })}
      </tbody>
    </table>
  );
}

function JoinedChat(props: { floor: Floor; chatId: string; mode: Mode; onLeave: () => void }) {
  const t = useT();
  const lang = useLang();
  const { floor, chatId, mode } = props;
  const [chat, setChat] = useState<Chat | null>(null);
  const [text, setText] = useState("");
  const [error, setError] = useState<string | null>(null);
  useEffect(() => {
    const add = (messages: Message[]) => setChat((c) => (c ? { ...c, messages: mergeMessages(c.messages, messages) } : c));
    const offMessage = floor.on("message", (d: { chat_id: string; message: Message }) => {
      if (d.chat_id === chatId) add([d.message]);
    });
    const offClosed = floor.on("chat_closed", (d: { chat_id: string; reason: string }) => {
      if (d.chat_id === chatId) setChat((c) => (c ? { ...c, status: "closed", close_reason: d.reason } : c));
    });
    void floor.call("join", { chat_id: chatId, mode }).then((ack) => {
      if (ack.ok) setChat(ack.chat as Chat);
      else setError(ack.error?.message ?? t("error"));
    });
    return () => {
      offMessage();
      offClosed();
    };
  }, [floor, chatId, mode]);
  const send = async (e: Event) => {
    e.preventDefault();
    const body = text.trim();
    if (!body) return;
    const ack = await floor.call("message", { chat_id: chatId, text: body, client_msg_id: newClientId(), whisper: mode === "whisper" });
    if (ack.ok) {
      setText("");
      setError(null);
      setChat((c) => (c ? { ...c, messages: mergeMessages(c.messages, [ack.message as Message]) } : c));
    } else setError(ack.error?.message ?? t("error"));
  };
  const leave = async () => {
    await floor.call("leave", { chat_id: chatId });
    props.onLeave();
  };
  return (
    <section class={`panel joined ${mode}`} data-testid="joined" data-chat-id={chatId} data-mode={mode}>
      <h2 dir="auto">
        {chat ? `${chat.visitor.name ?? t("anonymous")} · ${chat.language.toUpperCase()} · ${word(lang, "chat_status", chat.status)}` : ""}
      </h2>
      <p class="notice" role="status">
        {mode === "whisper" ? t("whisper_mode_hint") : t("visible_mode_hint")}
      </p>
      {chat ? <Transcript messages={chat.messages} /> : null}
      <form class="composer" onSubmit={(e) => void send(e)}>
        <textarea name="supervisor_text" rows={2} dir="auto" aria-label={t("write_here")} value={text} onInput={(e) => setText((e.target as HTMLTextAreaElement).value)} />
        <div class="composer-bar">
          <button type="button" onClick={() => void leave()} data-action="leave">
            {t("leave_chat")}
          </button>
          <button type="submit" class="primary" disabled={chat?.status === "closed"}>
            {t("send")}
          </button>
        </div>
      </form>
      <ErrorLine message={error} />
    </section>
  );
}
