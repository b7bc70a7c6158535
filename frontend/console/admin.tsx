// Tenant admin pages: agents, canned responses, invitation rules, hours and holidays,
// integrations, export/import. Each page talks to the tenant admin API of PROTOCOL.md.

import type { ComponentChildren } from "preact";
import { useEffect, useState } from "preact/hooks";
import { api, ApiError } from "./api";
import type { Floor } from "./floor";
import { DAYS, formatRanges, parseRanges, type Canned, type TeamMember, type TenantInfo } from "./model";
import type { TextKey, UiLang } from "./i18n";
import { Check, ErrorLine, Field, SubmitRow, useLang, useT } from "./ui";
import { plain, word } from "./words";

type Page = "agents" | "canned_responses" | "invitation_rules" | "hours" | "integrations" | "export_import";
const PAGES: Page[] = ["agents", "canned_responses", "invitation_rules", "hours", "integrations", "export_import"];

export function AdminView(props: { floor: Floor }) {
  const t = useT();
  const [page, setPage] = useState<Page>("agents");
  return (
    <section class="admin" data-testid="admin">
      <nav class="subnav">
        {PAGES.map((p) => (
          <button key={p} type="button" class={p === page ? "active" : ""} data-page={p} onClick={() => setPage(p)}>
            {t(p)}
          </button>
        ))}
      </nav>
      <div class="admin-page">
        {page === "agents" ? <AgentsPage floor={props.floor} /> : null}
        {page === "canned_responses" ? <CannedPage floor={props.floor} /> : null}
        {page === "invitation_rules" ? <RulesPage floor={props.floor} /> : null}
        {page === "hours" ? <HoursPage floor={props.floor} /> : null}
        {page === "integrations" ? <IntegrationsPage floor={props.floor} /> : null}
        {page === "export_import" ? <ExportPage floor={props.floor} /> : null}
      </div>
    </section>
  );
}

/** Load a list, and say plainly when this hub does not have the API (yet) or the plan. */
function useList<T>(floor: Floor, path: string, key: string): [T[] | null, string | null, () => void] {
  const t = useT();
  const [items, setItems] = useState<T[] | null>(null);
  const [error, setError] = useState<string | null>(null);
  const load = () => {
    api<Record<string, T[]>>("GET", path, floor.token)
      .then((body) => {
        // The list's key, or the first list in the body (an API from another branch).
        setItems(body[key] ?? (Object.values(body).find(Array.isArray) as T[] | undefined) ?? []);
        setError(null);
      })
      .catch((err: ApiError) => setError(err.status === 404 || err.status === 405 ? t("feature_missing") : err.message));
  };
  useEffect(load, [path]);
  return [items, error, load];
}

const ROLES = ["agent", "supervisor", "admin"] as const;

function RoleOptions() {
  const t = useT();
  return (
    <>
      {ROLES.map((role) => (
        <option key={role} value={role}>
          {t(role)}
        </option>
      ))}
    </>
  );
}

/** A list row's last cell: the button that deletes it. */
function DeleteCell(props: { onDelete: () => void }) {
  const t = useT();
  return (
    <td>
      <button type="button" class="danger" onClick={() => props.onDelete()}>
        {t("delete")}
      </button>
    </td>
  );
}

/** A text by language, of the Spanish and English ones that are not blank. */
function givenTexts(es: string, en: string): Record<string, string> {
  const text: Record<string, string> = {};
  if (es.trim()) text.es = es;
  if (en.trim()) text.en = en;
  return text;
}

function AgentsPage(props: { floor: Floor }) {
  const t = useT();
  const [agents, error, reload] = useList<TeamMember>(props.floor, "/api/agents", "agents");
  const [form, setForm] = useState({ name: "", email: "", password: "", languages: "es", max_chats: "3", role: "agent" });
  const [problem, setProblem] = useState<string | null>(null);
  const run = async (action: () => Promise<unknown>) => {
    try {
      await action();
      setProblem(null);
      reload();
    } catch (err) {
      setProblem((err as Error).message);
    }
  };
  const create = (e: Event) => {
    e.preventDefault();
    void run(() =>
      api("POST", "/api/agents", props.floor.token, {
        ...form,
        languages: form.languages.split(/[,\s]+/).filter(Boolean),
        max_chats: Number(form.max_chats),
      }),
    );
  };
  const input = (key: keyof typeof form, label: string, type = "text") => (
    <Field label={label} name={key} type={type} value={form[key]} onValue={(value) => setForm({ ...form, [key]: value })} />
  );
  return (
    <div>
      <ErrorLine message={error ?? problem} />
      <table class="list" data-testid="agents">
        <thead>
          <tr>
            <th>{t("name")}</th>
            <th>{t("email")}</th>
            <th>{t("languages")}</th>
            <th>{t("max_chats")}</th>
            <th>{t("role")}</th>
            <th />
          </tr>
        </thead>
        <tbody>
          {(agents ?? []).map((a) => (
            <tr key={a.id} class={a.active ? "" : "inactive"} data-agent-id={a.id}>
              <td dir="auto">{a.name}</td>
              <td>{a.email}</td>
              <td>
                <input
                  aria-label={t("languages")}
                  value={a.languages.join(", ")}
                  disabled={!a.active}
                  onChange={(e) =>
                    void run(() =>
                      api("PATCH", `/api/agents/${a.id}`, props.floor.token, {
                        languages: (e.target as HTMLInputElement).value.split(/[,\s]+/).filter(Boolean),
                      }),
                    )
                  }
                />
              </td>
              <td>
                <input
                  aria-label={t("max_chats")}
                  type="number"
                  min={1}
                  max={50}
                  value={a.max_chats}
                  disabled={!a.active}
                  onChange={(e) =>
                    void run(() =>
                      api("PATCH", `/api/agents/${a.id}`, props.floor.token, { max_chats: Number((e.target as HTMLInputElement).value) }),
                    )
                  }
                />
              </td>
              <td>
                <select
                  aria-label={t("role")}
                  value={a.role}
                  disabled={!a.active}
                  onChange={(e) =>
                    void run(() => api("PATCH", `/api/agents/${a.id}`, props.floor.token, { role: (e.target as HTMLSelectElement).value }))
                  }
                >
                  <RoleOptions />
                </select>
              </td>
              <td>
                {a.active ? (
                  a.id === props.floor.me.id ? null : (
                    <button type="button" class="danger" onClick={() => void run(() => api("DELETE", `/api/agents/${a.id}`, props.floor.token))}>
                      {t("deactivate")}
                    </button>
                  )
                ) : (
                  <span class="muted">{t("inactive")}</span>
                )}
              </td>
            </tr>
          ))}
        </tbody>
      </table>
      <form class="grid-form" onSubmit={create}>
        {input("name", t("name"))}
        {input("email", t("email"), "email")}
        {input("password", t("password"), "password")}
        {input("languages", t("languages"))}
        {input("max_chats", t("max_chats"), "number")}
        <label>
          {t("role")}
          <select name="role" value={form.role} onChange={(e) => setForm({ ...form, role: (e.target as HTMLSelectElement).value })}>
            <RoleOptions />
          </select>
        </label>
        <SubmitRow label={t("create")} />
      </form>
    </div>
  );
}

function CannedPage(props: { floor: Floor }) {
  const t = useT();
  const [items, error, reload] = useList<Canned>(props.floor, "/api/canned-responses", "canned_responses");
  const [shortcut, setShortcut] = useState("/");
  const [es, setEs] = useState("");
  const [en, setEn] = useState("");
  const [problem, setProblem] = useState<string | null>(null);
  const after = async (action: Promise<unknown>) => {
    try {
      await action;
      setProblem(null);
      reload();
      void props.floor.loadCanned();
    } catch (err) {
      setProblem((err as Error).message);
    }
  };
  const create = (e: Event) => {
    e.preventDefault();
    const text = givenTexts(es, en);
    void after(api("POST", "/api/canned-responses", props.floor.token, { shortcut, text })).then(() => {
      setShortcut("/");
      setEs("");
      setEn("");
    });
  };
  return (
    <div>
      <ErrorLine message={error ?? problem} />
      <table class="list" data-testid="canned-list">
        <tbody>
          {(items ?? []).map((c) => (
            <tr key={c.id}>
              <td>
                <code>{c.shortcut}</code>
              </td>
              <td dir="auto">{c.text.es ?? ""}</td>
              <td dir="auto">{c.text.en ?? ""}</td>
              <DeleteCell onDelete={() => void after(api("DELETE", `/api/canned-responses/${c.id}`, props.floor.token))} />
            </tr>
          ))}
        </tbody>
      </table>
      <form class="grid-form" onSubmit={create}>
        <Field label={t("shortcut")} name="shortcut" value={shortcut} onValue={setShortcut} />
        <Field label={<>{t("text")} (ES)</>} class="span" area name="text_es" value={es} onValue={setEs} />
        <Field label={<>{t("text")} (EN)</>} class="span" area name="text_en" value={en} onValue={setEn} />
        <SubmitRow label={t("create")} />
      </form>
    </div>
  );
}

interface Rule {
  id: string;
  name: string;
  enabled: boolean;
  text: Record<string, string>;
  conditions: Record<string, unknown>;
  only_when_agents_available: boolean;
}

// an invitation rule's conditions, by the words of the form that sets them
const CONDITION_LABELS: Record<string, TextKey> = {
  url_pattern: "url_pattern",
  min_seconds_on_page: "min_seconds",
  min_pages_viewed: "min_pages",
  referrer_contains: "referrer_contains",
  returning_visitor: "returning",
};

/** "Pages (pattern): /inventory/*; Seconds on page: 20", never JSON. */
function conditionsText(lang: UiLang, t: (key: TextKey) => string, rule: Rule): string {
  const parts = Object.entries(rule.conditions ?? {})
    .filter(([, value]) => value !== null && value !== undefined)
    .map(([key, value]) => {
      const label = Object.prototype.hasOwnProperty.call(CONDITION_LABELS, key) ? t(CONDITION_LABELS[key]) : key;
      return `${label}: ${plain(lang, value)}`;
    });
  if (rule.only_when_agents_available) parts.push(t("only_available"));
  return parts.join("; ");
}

function RulesPage(props: { floor: Floor }) {
  const t = useT();
  const lang = useLang();
  const [rules, error, reload] = useList<Rule>(props.floor, "/api/invitation-rules", "rules");
  const [form, setForm] = useState({ name: "", es: "", en: "", url_pattern: "", min_seconds: "", min_pages: "", only: true });
  const [problem, setProblem] = useState<string | null>(null);
  const submit = async (e: Event) => {
    e.preventDefault();
    const conditions: Record<string, unknown> = {};
    if (form.url_pattern.trim()) conditions.url_pattern = form.url_pattern.trim();
    if (form.min_seconds) conditions.min_seconds_on_page = Number(form.min_seconds);
    if (form.min_pages) conditions.min_pages_viewed = Number(form.min_pages);
    const text = givenTexts(form.es, form.en);
    try {
      await api("POST", "/api/invitation-rules", props.floor.token, {
        name: form.name,
        enabled: true,
        text,
        conditions,
        only_when_agents_available: form.only,
      });
      setProblem(null);
      reload();
    } catch (err) {
      setProblem((err as Error).message);
    }
  };
  const remove = async (id: string) => {
    try {
      await api("DELETE", `/api/invitation-rules/${id}`, props.floor.token);
      reload();
    } catch (err) {
      setProblem((err as Error).message);
    }
  };
  const input = (key: "name" | "es" | "en" | "url_pattern" | "min_seconds" | "min_pages", label: string, type = "text") => (
    <Field label={label} name={key} type={type} value={form[key]} onValue={(value) => setForm({ ...form, [key]: value })} />
  );
  return (
    <div>
      <ErrorLine message={error ?? problem} />
      <table class="list">
        <tbody>
          {(rules ?? []).map((r) => (
            <tr key={r.id}>
              <td dir="auto">{r.name}</td>
              <td dir="auto">{r.text.es ?? r.text.en ?? ""}</td>
              <td>{conditionsText(lang, t, r)}</td>
              <td>{r.enabled === false ? `${t("enabled")}: ${t("no")}` : t("enabled")}</td>
              <DeleteCell onDelete={() => void remove(r.id)} />
            </tr>
          ))}
        </tbody>
      </table>
      {error ? null : (
        <form class="grid-form" onSubmit={submit}>
          {input("name", t("rule_name"))}
          {input("url_pattern", t("url_pattern"))}
          {input("min_seconds", t("min_seconds"), "number")}
          {input("min_pages", t("min_pages"), "number")}
          {input("es", `${t("text")} (ES)`)}
          {input("en", `${t("text")} (EN)`)}
          <Check label={t("only_available")} checked={form.only} onChecked={(only) => setForm({ ...form, only })} />
          <SubmitRow label={t("create")} />
        </form>
      )}
    </div>
  );
}

function HoursPage(props: { floor: Floor }) {
  const t = useT();
  const lang = useLang();
  const [tenant, setTenant] = useState<TenantInfo | null>(null);
  const [always, setAlways] = useState(true);
  const [days, setDays] = useState<Record<string, string>>({});
  const [holidays, setHolidays] = useState("");
  const [timezone, setTimezone] = useState("");
  const [message, setMessage] = useState<string | null>(null);
  const [problem, setProblem] = useState<string | null>(null);
  useEffect(() => {
    api<TenantInfo>("GET", "/api/tenant", props.floor.token).then((body) => {
      setTenant(body);
      setAlways(body.hours === null);
      setDays(Object.fromEntries(DAYS.map((d) => [d, formatRanges(body.hours?.[d])])));
      setHolidays(body.holidays ?? "");
      setTimezone(body.timezone);
    });
  }, []);
  if (!tenant) return null;
  const save = async (e: Event) => {
    e.preventDefault();
    const hours = always ? null : Object.fromEntries(DAYS.map((d) => [d, parseRanges(days[d] ?? "")]));
    try {
      await api("PATCH", "/api/tenant", props.floor.token, { hours, holidays: holidays.trim() || null, timezone });
      setProblem(null);
      setMessage(t("saved"));
    } catch (err) {
      setMessage(null);
      setProblem((err as Error).message);
    }
  };
  return (
    <form class="grid-form hours" onSubmit={save} data-testid="hours">
      <Field label={t("timezone")} name="timezone" value={timezone} onValue={setTimezone} />
      <Field label={t("holidays")} name="holidays" value={holidays} placeholder="PR" onValue={setHolidays} />
      <Check label={t("always_open")} span checked={always} onChecked={setAlways} />
      {always
        ? null
        : DAYS.map((d) => (
            <Field
              key={d}
              label={word(lang, "day", d)}
              name={`hours_${d}`}
              value={days[d] ?? ""}
              placeholder="09:00-18:00"
              onValue={(value) => setDays({ ...days, [d]: value })}
            />
          ))}
      <p class="muted span">{t("hours_help")}</p>
      <ErrorLine message={problem} />
      <SubmitRow label={t("save")}>{message ? <span class="ok">{message}</span> : null}</SubmitRow>
    </form>
  );
}

function IntegrationsPage(props: { floor: Floor }) {
  const t = useT();
  const lang = useLang();
  const [sf, setSf] = useState({ login_url: "https://", client_id: "", client_secret: "" });
  const [adf, setAdf] = useState({ to: "", vendor_name: "" });
  const [hook, setHook] = useState({ url: "https://", secret: "", events: "lead.qualified" });
  const [message, setMessage] = useState<string | null>(null);
  const [problem, setProblem] = useState<string | null>(null);
  const put = async (method: string, path: string, body: unknown, destination: string) => {
    try {
      await api(method, path, props.floor.token, body);
      setProblem(null);
      setMessage(`${t("saved")}: ${word(lang, "destination", destination)}`);
    } catch (err) {
      setMessage(null);
      const e = err as ApiError;
      setProblem(e.status === 404 || e.status === 405 ? t("feature_missing") : e.message);
    }
  };
  const field = <S extends Record<string, string>>(state: S, set: (v: S) => void, key: keyof S & string, label: string, type = "text") => (
    <Field label={label} name={key} type={type} value={state[key]} onValue={(value) => set({ ...state, [key]: value })} />
  );
  return (
    <div>
      <ErrorLine message={problem} />
      {message ? <p class="ok">{message}</p> : null}
      <TitledForm title="Salesforce" submit={t("save")} onSubmit={() => void put("PUT", "/api/integrations/salesforce", sf, "salesforce")}>
        {field(sf, setSf, "login_url", "Login URL")}
        {field(sf, setSf, "client_id", "Client ID")}
        {field(sf, setSf, "client_secret", "Client secret", "password")}
      </TitledForm>
      <TitledForm title="ADF / XML" submit={t("save")} onSubmit={() => void put("PUT", "/api/integrations/adf", adf, "adf")}>
        {field(adf, setAdf, "to", t("email"), "email")}
        {field(adf, setAdf, "vendor_name", t("name"))}
      </TitledForm>
      <TitledForm
        title={t("webhooks")}
        submit={t("create")}
        onSubmit={() =>
          void put("POST", "/api/webhooks", {
            url: hook.url,
            secret: hook.secret,
            events: hook.events.split(/[,\s]+/).filter(Boolean),
          }, "webhook")
        }
      >
        {field(hook, setHook, "url", "URL")}
        {field(hook, setHook, "secret", t("secret"), "password")}
        {field(hook, setHook, "events", t("events"))}
      </TitledForm>
    </div>
  );
}

/** One of the integrations page's forms: a heading, its fields, a submit button. */
function TitledForm(props: { title: string; submit: string; onSubmit: () => void; children: ComponentChildren }) {
  return (
    <form
      class="grid-form"
      onSubmit={(e) => {
        e.preventDefault();
        props.onSubmit();
      }}
    >
      <h3 class="span">{props.title}</h3>
      {props.children}
      <SubmitRow label={props.submit} />
    </form>
  );
}

function ExportPage(props: { floor: Floor }) {
  const t = useT();
  const lang = useLang();
  const [result, setResult] = useState<string | null>(null);
  const [problem, setProblem] = useState<string | null>(null);
  const download = async () => {
    try {
      const doc = await api<unknown>("GET", "/api/export", props.floor.token);
      const url = URL.createObjectURL(new Blob([JSON.stringify(doc, null, 2)], { type: "application/json" }));
      const a = document.createElement("a");
      a.href = url;
      a.download = "charla-config.json";
      a.click();
      URL.revokeObjectURL(url);
    } catch (err) {
      setProblem((err as Error).message);
    }
  };
  const upload = async (e: Event) => {
    const file = (e.target as HTMLInputElement).files?.[0];
    if (!file) return;
    try {
      const doc = JSON.parse(await file.text());
      const outcome = await api<{ imported: Record<string, number>; skipped: { section: string; item: string; reason: string }[] }>(
        "POST",
        "/api/import",
        props.floor.token,
        doc,
      );
      setProblem(null);
      const skipped = outcome.skipped.map((s) => `${word(lang, "section", s.section)} ${s.item}: ${s.reason}`).join("; ");
      setResult(
        `${t("imported")}: ${Object.entries(outcome.imported)
          .map(([k, v]) => `${word(lang, "section", k)} ${v}`)
          .join(", ")}${skipped ? ` — ${t("skipped")}: ${skipped}` : ""}`,
      );
      void props.floor.loadCanned();
    } catch (err) {
      setResult(null);
      setProblem(err instanceof SyntaxError ? "JSON?" : (err as Error).message);
    }
  };
  return (
    <div class="export">
      <button type="button" class="primary" onClick={() => void download()}>
        {t("export")}
      </button>
      <label>
        {t("import")}
        <input type="file" accept="application/json,.json" onChange={(e) => void upload(e)} />
      </label>
      <ErrorLine message={problem} />
      {result ? <p class="ok">{result}</p> : null}
    </div>
  );
}
