// The audit log for a tenant admin (GET /api/audit): who did what, when, to what, in the
// tenant's time zone (the dates asked for are the tenant's days too), by kind of action, a
// page at a time. The provider's view (operator.tsx) shares the query, the pages, the filters,
// the table and the words. The hub never puts message text in an event; this page shows the
// event's action in words, never the fields' values beyond a role.

import type { ComponentChildren } from "preact";
import { useEffect, useState } from "preact/hooks";
import { api, type ApiError } from "./api";
import type { TextKey } from "./i18n";
import { ErrorLine, useLang, useT } from "./ui";

export interface AuditEvent {
  seq: number;
  at: string;
  actor: string;
  action: string;
  target: string | null;
  ip?: string;
  detail?: Record<string, unknown>;
}

interface TeamMember {
  id: string;
  name: string;
}

// Events the hub names, and changes the middleware records as "METHOD /route"
const NAMED: Record<string, TextKey> = {
  "login.succeeded": "audit_login_succeeded",
  "login.failed": "audit_login_failed",
  "mfa.enrolment_started": "audit_mfa_enrolment_started",
  "mfa.enabled": "audit_mfa_enabled",
  "mfa.disabled": "audit_mfa_disabled",
  "mfa.recovery_code_used": "audit_mfa_recovery_code_used",
  "mfa.roles_changed": "audit_mfa_roles_changed",
  "retention.changed": "audit_retention_changed",
  "retention.purged": "audit_retention_purged",
  "legal_hold.placed": "audit_legal_hold_placed",
  "legal_hold.released": "audit_legal_hold_released",
  "visitor.exported": "audit_visitor_exported",
  "visitor.erased": "audit_visitor_erased",
  "privacy_notice.changed": "audit_privacy_notice_changed",
  "ticket.updated": "audit_ticket_updated",
  "data_key.rotated": "audit_data_key_rotated",
  "contact_keys.rebuilt": "audit_contact_keys_rebuilt",
  "POST /api/agents": "audit_agent_added",
  "POST /api/admin/tenants/{tenant_id}/agents": "audit_agent_added",
  "PATCH /api/agents/{agent_id}": "audit_agent_changed",
  "DELETE /api/agents/{agent_id}": "audit_agent_removed",
  "PATCH /api/tenant": "audit_settings_changed",
  "POST /api/import": "audit_import",
};

// Route prefixes of a kind of configuration, for the other changes the middleware records
const AREAS: [string, TextKey][] = [
  ["/api/canned-responses", "audit_canned_changed"],
  ["/api/invitation-rules", "audit_rules_changed"],
  ["/api/integrations", "audit_integration_changed"],
  ["/api/webhooks", "audit_webhook_changed"],
  ["/api/deliveries", "audit_delivery_retried"],
  ["/api/leads", "audit_delivery_retried"],
  ["/api/tickets", "audit_ticket_updated"],
  ["/api/admin/tenants", "audit_provider_changed"],
];

const ROLES: Record<string, TextKey> = { agent: "agent", supervisor: "supervisor", admin: "admin" };

export function actionWords(t: (key: TextKey) => string, event: AuditEvent): string {
  const role = event.detail?.role;
  if (event.action === "PATCH /api/agents/{agent_id}" && typeof role === "string" && role in ROLES) {
    return `${t("audit_role_changed")}: ${t(ROLES[role])}`;
  }
  const named = NAMED[event.action];
  if (named) return t(named);
  const route = event.action.split(" ")[1] ?? "";
  const area = AREAS.find(([prefix]) => route.startsWith(prefix));
  return area ? t(area[1]) : t("audit_other_change");
}

function actorWords(t: (key: TextKey) => string, actor: string, names: Map<string, string>): string {
  const [kind, id] = actor.split(":", 2);
  if (kind === "agent" && id) return names.get(id) ?? t("audit_former_agent");
  if (kind === "operator" || kind === "provider") return t("audit_provider");
  if (kind === "system") return t("audit_system");
  return t("audit_anonymous");
}

// Kinds of action, as the `action` filters of GET /api/audit (a trailing * matches a prefix)
export const AUDIT_KINDS: [string, TextKey, string[]][] = [
  ["", "audit_kind_all", []],
  ["logins", "audit_kind_logins", ["login.*", "operator.login*"]],
  ["security", "audit_kind_security", ["mfa.*"]],
  ["changes", "audit_kind_changes", ["POST *", "PUT *", "PATCH *", "DELETE *", "privacy_notice.*", "retention.changed"]],
  ["data", "audit_kind_data", ["visitor.*", "retention.purged", "legal_hold.*", "data_key.*"]],
  ["operators", "audit_kind_operators", ["operator.created", "operator.deactivated", "incident.*"]],
];
export const AUDIT_PAGE = 50;

/** GET /api/audit's query: the dates (bare: the hub reads them as the tenant's days, `to`
 * included), the kind's actions, a page, and the cursor of the page before. */
export function auditQuery(filters: { from: string; to: string; kind: string; tenantId?: string }, cursor: string | null): string {
  const q = new URLSearchParams({ limit: String(AUDIT_PAGE) });
  if (filters.tenantId) q.set("tenant_id", filters.tenantId);
  if (filters.from) q.set("from", filters.from);
  if (filters.to) q.set("to", filters.to);
  for (const action of AUDIT_KINDS.find(([key]) => key === filters.kind)?.[2] ?? []) q.append("action", action);
  if (cursor) q.set("cursor", cursor);
  return `/api/audit?${q.toString()}`;
}

/** A day as YYYY-MM-DD in a time zone (undefined: the browser's). */
export function dayIn(zone: string | undefined, at: Date): string {
  return new Intl.DateTimeFormat("en-CA", { timeZone: zone, year: "numeric", month: "2-digit", day: "2-digit" }).format(at);
}

export function AuditView(props: { token: string }) {
  const t = useT();
  const [zone, setZone] = useState<string | undefined>(undefined);
  const [from, setFrom] = useState(() => dayIn(undefined, new Date(Date.now() - 7 * 86_400_000)));
  const [to, setTo] = useState(() => dayIn(undefined, new Date()));
  const [kind, setKind] = useState("");
  const [names, setNames] = useState<Map<string, string>>(new Map());
  const [account, setAccount] = useState<{ id: string; name: string } | null>(null);
  const [error, setError] = useState<string | null>(null);

  useEffect(() => {
    api<{ id: string; name: string; timezone: string }>("GET", "/api/tenant", props.token)
      .then((tenant) => {
        setAccount({ id: tenant.id, name: tenant.name });
        setZone(tenant.timezone);
        setTo(dayIn(tenant.timezone, new Date()));
      })
      .catch((err: ApiError) => setError(err.message));
    api<{ agents: TeamMember[] }>("GET", "/api/agents", props.token)
      .then((body) => setNames(new Map(body.agents.map((a) => [a.id, a.name]))))
      .catch((err: ApiError) => setError(err.message));
  }, [props.token]);

  const { events, cursor, load } = useAuditPages(props.token, { from, to, kind }, setError);
  useEffect(() => {
    if (zone === undefined && error === null) return; // the tenant's zone first
    void load(null);
  }, [props.token, zone, from, to, kind]);

  // a target is an agent's id, this account's (its name then), or another id shown as it is
  const targets = new Map(names);
  if (account) targets.set(account.id, account.name);
  return (
    <section class="audit" data-testid="audit">
      <h2>{t("audit_title")}</h2>
      <p class="hint">{t("audit_hint")}</p>
      <AuditRange kinds={AUDIT_KINDS.filter(([key]) => key !== "operators")} kind={kind} setKind={setKind} from={from} setFrom={setFrom} to={to} setTo={setTo} />
      <ErrorLine message={error} />
      <AuditEvents
        events={events && events.slice().sort((a, b) => b.seq - a.seq)}
        zone={zone}
        who={(actor) => actorWords(t, actor, names)}
        what={(e) => actionWords(t, e)}
        target={(id) => targets.get(id) ?? id}
        cursor={cursor}
        onOlder={() => void load(cursor)}
      />
    </section>
  );
}

/** The pages of GET /api/audit for these filters: `load(null)` asks the first again,
 * `load(cursor)` adds the next; a failure goes to `setError`. */
export function useAuditPages(
  token: string,
  filters: { from: string; to: string; kind: string; tenantId?: string },
  setError: (message: string | null) => void,
) {
  const [events, setEvents] = useState<AuditEvent[] | null>(null);
  const [cursor, setCursor] = useState<string | null>(null);
  const load = (after: string | null) =>
    api<{ events: AuditEvent[]; next_cursor?: string }>("GET", auditQuery(filters, after), token)
      .then((body) => {
        setEvents((shown) => (after && shown ? [...shown, ...body.events] : body.events));
        setCursor(body.next_cursor ?? null);
        setError(null);
      })
      .catch((err: ApiError) => setError(err.message));
  return { events, cursor, load };
}

/** The filters both audit views have: the kind of action and the dates; `children` first
 * (the provider's choice of whose log). */
export function AuditRange(props: {
  kinds: [string, TextKey, string[]][];
  kind: string;
  setKind: (kind: string) => void;
  from: string;
  setFrom: (day: string) => void;
  to: string;
  setTo: (day: string) => void;
  children?: ComponentChildren;
}) {
  const t = useT();
  return (
    <div class="audit-range">
      {props.children}
      <label>
        {t("audit_kind")}
        <select name="kind" value={props.kind} onChange={(e) => props.setKind((e.target as HTMLSelectElement).value)}>
          {props.kinds.map(([key, words]) => (
            <option key={key} value={key}>
              {t(words)}
            </option>
          ))}
        </select>
      </label>
      <label>
        {t("audit_from")}
        <input type="date" name="from" value={props.from} onChange={(e) => props.setFrom((e.target as HTMLInputElement).value)} />
      </label>
      <label>
        {t("audit_to")}
        <input type="date" name="to" value={props.to} onChange={(e) => props.setTo((e.target as HTMLInputElement).value)} />
      </label>
    </div>
  );
}

/** The events in the order given, in `zone`'s time, the actor, action and target in words
 * (text, never HTML), and the button for the page before. */
export function AuditEvents(props: {
  events: AuditEvent[] | null;
  zone: string | undefined;
  who: (actor: string) => string;
  what: (event: AuditEvent) => string;
  target: (id: string) => string;
  cursor: string | null;
  onOlder: () => void;
}) {
  const t = useT();
  const lang = useLang();
  const when = new Intl.DateTimeFormat(lang === "es" ? "es-PR" : "en-US", { timeZone: props.zone, dateStyle: "medium", timeStyle: "medium" });
  const { events } = props;
  return (
    <>
      {events && events.length === 0 ? <p>{t("audit_none")}</p> : null}
      {events && events.length > 0 ? (
        <table class="list audit-events" data-testid="audit-events">
          <thead>
            <tr>
              <th>{t("audit_when")}</th>
              <th>{t("audit_actor")}</th>
              <th>{t("audit_action")}</th>
              <th>{t("audit_target")}</th>
            </tr>
          </thead>
          <tbody>
            {events.map((e) => (
              <tr key={e.seq} data-action={e.action}>
                <td>
                  <time dateTime={e.at}>{when.format(new Date(e.at))}</time>
                </td>
                <td dir="auto">{props.who(e.actor)}</td>
                <td>{props.what(e)}</td>
                <td dir="auto">{e.target ? props.target(e.target) : ""}</td>
              </tr>
            ))}
          </tbody>
        </table>
      ) : null}
      {props.cursor ? (
        <button type="button" onClick={props.onOlder} data-action="older">
          {t("audit_older")}
        </button>
      ) : null}
    </>
  );
}
