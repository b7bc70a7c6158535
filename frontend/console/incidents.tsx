// The provider's incident register (GET/POST/PATCH /api/admin/incidents): each incident
// with the notices it needs and the deadlines the hub computes (Law 111's notice to DACO,
// the FTC's for 500 or more consumers), shown as given, never recomputed here; a form to
// open one, and a button to record a notice as sent.

import { useEffect, useState } from "preact/hooks";
import { api, type ApiError } from "./api";
import type { TextKey } from "./i18n";
import { ErrorLine, useLang, useT } from "./ui";

interface Deadline {
  notice: "daco" | "ftc" | "visitors" | "tenant";
  due_at: string | null;
  sent: boolean;
  overdue: boolean;
  why: string;
}

export interface Incident {
  id: string;
  title: string;
  description: string;
  opened_at: string;
  discovered_at: string;
  opened_by: string;
  affected: { tenant_id: string; visitors: number }[];
  visitors: number;
  notices: { to: string; sent_at: string; note?: string }[];
  closed_at: string | null;
  deadlines: Deadline[];
}

interface TenantName {
  id: string;
  name: string;
}

const NOTICES: Record<Deadline["notice"], TextKey> = {
  daco: "incident_notice_daco",
  ftc: "incident_notice_ftc",
  visitors: "incident_notice_visitors",
  tenant: "incident_notice_tenant",
};

interface AffectedRow {
  tenant_id: string;
  visitors: string;
}

export function IncidentsView(props: { token: string }) {
  const t = useT();
  const lang = useLang();
  const [incidents, setIncidents] = useState<Incident[] | null>(null);
  const [tenants, setTenants] = useState<TenantName[]>([]);
  const [error, setError] = useState<string | null>(null);
  const [title, setTitle] = useState("");
  const [description, setDescription] = useState("");
  const [discovered, setDiscovered] = useState("");
  const [affected, setAffected] = useState<AffectedRow[]>([{ tenant_id: "", visitors: "0" }]);

  const load = () =>
    api<{ incidents: Incident[] }>("GET", "/api/admin/incidents", props.token)
      .then((body) => {
        setIncidents(body.incidents);
        setError(null);
      })
      .catch((err: ApiError) => setError(err.message));
  useEffect(() => {
    void load();
    api<{ tenants: TenantName[] }>("GET", "/api/admin/tenants", props.token)
      .then((body) => setTenants(body.tenants))
      .catch((err: ApiError) => setError(err.message));
  }, [props.token]);

  const names = new Map(tenants.map((x) => [x.id, x.name]));
  const when = new Intl.DateTimeFormat(lang === "es" ? "es-PR" : "en-US", { dateStyle: "medium", timeStyle: "short" });
  const run = async (call: () => Promise<unknown>) => {
    try {
      await call();
      await load();
      return true;
    } catch (err) {
      setError((err as ApiError).message);
      return false;
    }
  };
  const open = async (e: Event) => {
    e.preventDefault();
    const done = await run(() =>
      api("POST", "/api/admin/incidents", props.token, {
        title,
        description,
        // a datetime-local field is the operator's own time: send it with its zone
        discovered_at: new Date(discovered).toISOString(),
        affected: affected.filter((a) => a.tenant_id).map((a) => ({ tenant_id: a.tenant_id, visitors: Number(a.visitors) || 0 })),
      }),
    );
    if (done) {
      setTitle("");
      setDescription("");
      setDiscovered("");
      setAffected([{ tenant_id: "", visitors: "0" }]);
    }
  };
  const sent = (incident: Incident, to: Deadline["notice"]) =>
    void run(() => api("PATCH", `/api/admin/incidents/${incident.id}`, props.token, { notice: { to, sent_at: new Date().toISOString() } }));
  const setRow = (i: number, row: Partial<AffectedRow>) => setAffected(affected.map((a, j) => (j === i ? { ...a, ...row } : a)));

  return (
    <section class="incidents" data-testid="incidents">
      <h2>{t("incidents_title")}</h2>
      <p class="hint">{t("incidents_hint")}</p>
      <ErrorLine message={error} />
      {incidents && incidents.length === 0 ? <p>{t("incidents_none")}</p> : null}
      {(incidents ?? []).map((incident) => (
        <article key={incident.id} class="incident" data-incident-id={incident.id}>
          <h3 dir="auto">{incident.title}</h3>
          <p class="meta">
            {t("incident_discovered")}: {when.format(new Date(incident.discovered_at))} · {t("incident_visitors")}: {incident.visitors}
            {incident.closed_at ? ` · ${t("incident_closed")}` : ""}
          </p>
          {incident.affected.length > 0 ? (
            <p class="meta" dir="auto">
              {t("incident_affected")}: {incident.affected.map((a) => `${names.get(a.tenant_id) ?? a.tenant_id} (${a.visitors})`).join(", ")}
            </p>
          ) : null}
          {incident.deadlines.length === 0 ? <p>{t("incident_no_notices")}</p> : null}
          {incident.deadlines.length > 0 ? (
            <table class="list deadlines" data-testid="deadlines">
              <thead>
                <tr>
                  <th>{t("incident_notice")}</th>
                  <th>{t("incident_due")}</th>
                  <th>{t("incident_state")}</th>
                  <th />
                </tr>
              </thead>
              <tbody>
                {incident.deadlines.map((d) => (
                  <tr key={d.notice} data-notice={d.notice} class={d.overdue ? "overdue" : d.sent ? "sent" : ""} title={d.why}>
                    <td>{t(NOTICES[d.notice])}</td>
                    <td>{d.due_at ? <time dateTime={d.due_at}>{when.format(new Date(d.due_at))}</time> : t("incident_asap")}</td>
                    <td>{d.sent ? t("incident_sent") : d.overdue ? t("incident_overdue") : t("incident_pending")}</td>
                    <td>
                      {d.sent ? null : (
                        <button type="button" onClick={() => sent(incident, d.notice)}>
                          {t("incident_mark_sent")}
                        </button>
                      )}
                    </td>
                  </tr>
                ))}
              </tbody>
            </table>
          ) : null}
        </article>
      ))}

      <form class="grid-form incident-form" onSubmit={(e) => void open(e)} data-testid="incident-form">
        <h3 class="span">{t("incident_open")}</h3>
        <label class="span">
          {t("incident_title")}
          <input name="title" required maxLength={200} value={title} onInput={(e) => setTitle((e.target as HTMLInputElement).value)} />
        </label>
        <label class="span">
          {t("incident_description")}
          <textarea name="description" maxLength={5000} value={description} onInput={(e) => setDescription((e.target as HTMLTextAreaElement).value)} />
        </label>
        <label>
          {t("incident_discovered")}
          <input
            name="discovered_at"
            type="datetime-local"
            required
            value={discovered}
            onInput={(e) => setDiscovered((e.target as HTMLInputElement).value)}
          />
        </label>
        {affected.map((row, i) => (
          <div key={i} class="span affected-row">
            <label>
              {t("incident_tenant")}
              <select name="tenant_id" value={row.tenant_id} onChange={(e) => setRow(i, { tenant_id: (e.target as HTMLSelectElement).value })}>
                <option value="">—</option>
                <TenantOptions tenants={tenants} />
              </select>
            </label>
            <label>
              {t("incident_visitors")}
              <input name="visitors" type="number" min={0} value={row.visitors} onInput={(e) => setRow(i, { visitors: (e.target as HTMLInputElement).value })} />
            </label>
          </div>
        ))}
        <div class="span">
          <button type="button" onClick={() => setAffected([...affected, { tenant_id: "", visitors: "0" }])}>
            {t("incident_add_tenant")}
          </button>
          <button type="submit" class="primary">
            {t("incident_open")}
          </button>
        </div>
      </form>
    </section>
  );
}

/** The tenants as a select's options, by name, each valued by its id. */
export function TenantOptions(props: { tenants: TenantName[] }) {
  return (
    <>
      {props.tenants.map((x) => (
        <option key={x.id} value={x.id}>
          {x.name}
        </option>
      ))}
    </>
  );
}
