// "On site now": the visitors browsing the dealer's site, live (watch_visitors and its
// `visitors` diffs, PROTOCOL 1.2), sortable and filterable, each with Invite.

import { useEffect, useState } from "preact/hooks";
import type { Ack, Floor, FloorState } from "./floor";
import { cannedText, type Canned } from "./model";
import { ErrorLine, useT } from "./ui";

export interface VisitorNow {
  visitor_id: string;
  name?: string;
  url: string;
  title?: string;
  referrer?: string;
  pages_viewed: number;
  arrived_at: string;
  returning: boolean;
  language?: string;
  chat?: { id: string; status: string };
  invitation?: { id: string; state: "shown" | "accepted" | "declined"; by: "rule" | "agent" };
  lead: boolean;
}

export interface VisitorsDiff {
  changed: VisitorNow[];
  left: string[];
  total: number;
}

export type SortBy = "pages" | "time";
export interface OnSiteFilter {
  url: string;
  language: string;
  returning: "" | "yes" | "no";
}

/** The list after a diff: rows changed or new replace theirs, the ones that left go. */
export function applyDiff(rows: Map<string, VisitorNow>, diff: VisitorsDiff): Map<string, VisitorNow> {
  const next = new Map(rows);
  for (const row of diff.changed) next.set(row.visitor_id, row);
  for (const id of diff.left) next.delete(id);
  return next;
}

/** The rows to show: filtered, then sorted (most pages or longest on the site first). */
export function shown(rows: Iterable<VisitorNow>, filter: OnSiteFilter, sort: SortBy): VisitorNow[] {
  const url = filter.url.trim().toLowerCase();
  const kept = Array.from(rows).filter(
    (r) =>
      (!url || r.url.toLowerCase().includes(url)) &&
      (!filter.language || r.language === filter.language) &&
      (!filter.returning || r.returning === (filter.returning === "yes")),
  );
  const arrived = (r: VisitorNow) => Date.parse(r.arrived_at);
  return kept.sort((a, b) =>
    sort === "pages" ? b.pages_viewed - a.pages_viewed || arrived(a) - arrived(b) : arrived(a) - arrived(b) || b.pages_viewed - a.pages_viewed,
  );
}

/** Time on the site as m:ss (or h:mm:ss). */
export function onSiteFor(arrivedAt: string, now: number): string {
  const s = Math.max(0, Math.floor((now - Date.parse(arrivedAt)) / 1000));
  const two = (n: number) => String(n).padStart(2, "0");
  const h = Math.floor(s / 3600);
  const m = Math.floor((s % 3600) / 60);
  return h > 0 ? `${h}:${two(m)}:${two(s % 60)}` : `${m}:${two(s % 60)}`;
}

type StateKey = "onsite_chatting" | "onsite_accepted" | "onsite_declined" | "onsite_invited" | "onsite_browsing";

export function rowState(row: VisitorNow): StateKey {
  if (row.chat && row.chat.status !== "closed" && row.chat.status !== "offline") return "onsite_chatting";
  if (row.invitation?.state === "accepted") return "onsite_accepted";
  if (row.invitation?.state === "declined") return "onsite_declined";
  if (row.invitation?.state === "shown") return "onsite_invited";
  return "onsite_browsing";
}

export function OnSiteView(props: { floor: Floor; state: FloorState }) {
  const t = useT();
  const { floor, state } = props;
  const [rows, setRows] = useState<Map<string, VisitorNow>>(new Map());
  const [total, setTotal] = useState(0);
  const [refusal, setRefusal] = useState<Ack["error"] | null>(null);
  const [sort, setSort] = useState<SortBy>("pages");
  const [filter, setFilter] = useState<OnSiteFilter>({ url: "", language: "", returning: "" });
  const [inviting, setInviting] = useState<string | null>(null);
  const [now, setNow] = useState(Date.now());

  useEffect(() => {
    const tick = setInterval(() => setNow(Date.now()), 1000);
    if (state.canned.length === 0) void floor.loadCanned();
    return () => clearInterval(tick);
  }, [floor]);

  useEffect(() => {
    if (!state.connected) return;
    let open = true;
    const off = floor.listen<VisitorsDiff>("visitors", (diff) => {
      setRows((current) => applyDiff(current, diff));
      setTotal(diff.total);
    });
    void floor.call("watch_visitors", { watching: true }).then((ack) => {
      if (!open) return;
      if (!ack.ok) return setRefusal(ack.error ?? null);
      setRefusal(null);
      setRows(new Map((ack.visitors as VisitorNow[]).map((r) => [r.visitor_id, r])));
      setTotal(ack.total as number);
    });
    return () => {
      open = false;
      off();
      void floor.call("watch_visitors", { watching: false });
    };
  }, [floor, state.connected]);

  if (refusal?.code === "plan_required") {
    return (
      <section class="onsite" data-testid="onsite">
        <p class="notice">{t("onsite_plan")}</p>
      </section>
    );
  }
  const list = shown(rows.values(), filter, sort);
  const languages = Array.from(new Set(Array.from(rows.values(), (r) => r.language).filter((l): l is string => Boolean(l)))).sort();
  const set = (changes: Partial<OnSiteFilter>) => setFilter({ ...filter, ...changes });
  return (
    <section class="onsite" data-testid="onsite">
      <header class="onsite-head">
        <h2>{t("view_onsite")}</h2>
        <span class="onsite-total" data-testid="onsite-total">
          {t("onsite_total")}: {total}
          {total > rows.size ? ` (${rows.size} ${t("onsite_shown")})` : ""}
        </span>
      </header>
      <ErrorLine message={refusal ? refusal.message : null} />
      <div class="onsite-filters">
        <label>
          {t("onsite_filter_url")}
          <input name="onsite-url" value={filter.url} onInput={(e) => set({ url: (e.target as HTMLInputElement).value })} />
        </label>
        <label>
          {t("onsite_language")}
          <select name="onsite-language" value={filter.language} onChange={(e) => set({ language: (e.target as HTMLSelectElement).value })}>
            <option value="">{t("onsite_any")}</option>
            {languages.map((l) => (
              <option key={l} value={l}>
                {l.toUpperCase()}
              </option>
            ))}
          </select>
        </label>
        <label>
          {t("onsite_returning")}
          <select name="onsite-returning" value={filter.returning} onChange={(e) => set({ returning: (e.target as HTMLSelectElement).value as OnSiteFilter["returning"] })}>
            <option value="">{t("onsite_any")}</option>
            <option value="yes">{t("onsite_returning_yes")}</option>
            <option value="no">{t("onsite_returning_no")}</option>
          </select>
        </label>
      </div>
      {list.length === 0 ? (
        <p class="empty">{t("onsite_empty")}</p>
      ) : (
        <table class="list onsite-list">
          <thead>
            <tr>
              <th>{t("onsite_page")}</th>
              <th>
                <button type="button" data-sort="pages" aria-pressed={sort === "pages"} onClick={() => setSort("pages")}>
                  {t("onsite_sort_pages")}
                </button>
              </th>
              <th>
                <button type="button" data-sort="time" aria-pressed={sort === "time"} onClick={() => setSort("time")}>
                  {t("onsite_sort_time")}
                </button>
              </th>
              <th>{t("onsite_referrer")}</th>
              <th>{t("onsite_language")}</th>
              <th>{t("onsite_state")}</th>
              <th />
            </tr>
          </thead>
          <tbody>
            {list.map((row) => (
              <VisitorRow
                key={row.visitor_id}
                row={row}
                now={now}
                floor={floor}
                canned={state.canned}
                open={inviting === row.visitor_id}
                onOpen={(open) => setInviting(open ? row.visitor_id : null)}
              />
            ))}
          </tbody>
        </table>
      )}
    </section>
  );
}

function VisitorRow(props: {
  row: VisitorNow;
  now: number;
  floor: Floor;
  canned: Canned[];
  open: boolean;
  onOpen: (open: boolean) => void;
}) {
  const t = useT();
  const { row } = props;
  const status = rowState(row);
  return (
    <>
      <tr data-visitor={row.visitor_id} data-state={status.replace("onsite_", "")}>
        <td class="page" title={row.url}>
          {row.name ? <strong dir="auto">{row.name} </strong> : null}
          <span dir="auto">{row.title || row.url}</span>
        </td>
        <td class="pages">{row.pages_viewed}</td>
        <td class="time">{onSiteFor(row.arrived_at, props.now)}</td>
        <td class="referrer">{row.referrer ? hostOf(row.referrer) : ""}</td>
        <td>
          {(row.language || "").toUpperCase()}
          {row.returning ? ` · ${t("onsite_returning_yes")}` : ""}
        </td>
        <td class="state">
          {t(status)}
          {row.lead ? ` · ${t("onsite_lead")}` : ""}
        </td>
        <td>
          <button type="button" data-action="invite" disabled={status === "onsite_chatting"} onClick={() => props.onOpen(!props.open)}>
            {t("onsite_invite")}
          </button>
        </td>
      </tr>
      {props.open ? (
        <tr class="invite-row">
          <td colSpan={7}>
            <InviteForm row={row} floor={props.floor} canned={props.canned} onDone={() => props.onOpen(false)} />
          </td>
        </tr>
      ) : null}
    </>
  );
}

function InviteForm(props: { row: VisitorNow; floor: Floor; canned: Canned[]; onDone: () => void }) {
  const t = useT();
  const [text, setText] = useState("");
  const [error, setError] = useState<string | null>(null);
  const [busy, setBusy] = useState(false);
  const language = props.row.language || "es";
  const send = async (e: Event) => {
    e.preventDefault();
    setBusy(true);
    const ack = await props.floor.call("invite", { visitor_id: props.row.visitor_id, ...(text.trim() ? { text: text.trim() } : {}) });
    setBusy(false);
    if (!ack.ok) return setError(ack.error?.message ?? t("onsite_invite"));
    props.onDone();
  };
  return (
    <form class="invite" data-testid="invite-form" onSubmit={(e) => void send(e)}>
      {props.canned.length > 0 ? (
        <label>
          {t("onsite_canned")}
          <select
            name="canned"
            value=""
            onChange={(e) => {
              const chosen = props.canned.find((c) => c.id === (e.target as HTMLSelectElement).value);
              if (chosen) setText(cannedText(chosen, language));
            }}
          >
            <option value="">—</option>
            {props.canned.map((c) => (
              <option key={c.id} value={c.id}>
                {c.shortcut}
              </option>
            ))}
          </select>
        </label>
      ) : null}
      <label>
        {t("onsite_invite_text")}
        <textarea name="invite-text" rows={2} maxLength={500} value={text} onInput={(e) => setText((e.target as HTMLTextAreaElement).value)} />
      </label>
      <ErrorLine message={error} />
      <div class="row">
        <button type="button" onClick={props.onDone}>
          {t("onsite_cancel")}
        </button>
        <button type="submit" class="primary" data-action="send-invite" disabled={busy}>
          {t("onsite_send")}
        </button>
      </div>
    </form>
  );
}

function hostOf(url: string): string {
  try {
    return new URL(url).host;
  } catch {
    return url;
  }
}
