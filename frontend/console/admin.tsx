// Tenant admin pages: agents, canned responses, invitation rules, hours and holidays,
// the virtual assistant's name and picture, integrations, export/import. Each page talks to the tenant admin API of PROTOCOL.md.

import type { ComponentChildren } from "preact";
import { useEffect, useState } from "preact/hooks";
import { api, ApiError } from "./api";
import type { Floor } from "./floor";
import { DAYS, formatRanges, parseRanges, type Canned, type TeamMember, type TenantInfo } from "./model";
import { translate, type TextKey, type UiLang } from "./i18n";
import { Check, ErrorLine, Field, SubmitRow, useLang, useT } from "./ui";
import { number, percent, word } from "./words";

type Page = "agents" | "canned_responses" | "invitation_rules" | "hours" | "assistant" | "integrations" | "export_import";
const PAGES: Page[] = ["agents", "canned_responses", "invitation_rules", "hours", "assistant", "integrations", "export_import"];

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
        {page === "assistant" ? <AssistantPage floor={props.floor} /> : null}
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
  conditions: Conditions;
  only_when_agents_available: boolean;
}

/** Every condition the API accepts (PROTOCOL.md, "Invitations"); all that are given must hold. */
interface Conditions {
  url_pattern?: string;
  min_seconds_on_page?: number;
  min_pages_viewed?: number;
  referrer_contains?: string;
  returning_visitor?: boolean;
}

/** GET /api/invitation-rules/{id}/stats */
interface RuleStats {
  shown: number;
  accepted: number;
  declined: number;
  ignored: number;
  pending: number;
  chats: number;
  leads: number;
  conversion: { accepted_per_shown: number | null; chats_per_shown: number | null; leads_per_shown: number | null };
}

/** The rule form's fields, all as typed; `returning` is "any", "yes" or "no". */
interface RuleForm {
  name: string;
  url_pattern: string;
  min_seconds: string;
  min_pages: string;
  referrer: string;
  returning: "any" | "yes" | "no";
  es: string;
  en: string;
  only: boolean;
}

const EMPTY_RULE: RuleForm = {
  name: "",
  url_pattern: "",
  min_seconds: "",
  min_pages: "",
  referrer: "",
  returning: "any",
  es: "",
  en: "",
  only: true,
};

function formOf(rule: Rule): RuleForm {
  const c = rule.conditions ?? {};
  const count = (n: number | undefined) => (typeof n === "number" ? String(n) : "");
  return {
    name: rule.name,
    url_pattern: c.url_pattern ?? "",
    min_seconds: count(c.min_seconds_on_page),
    min_pages: count(c.min_pages_viewed),
    referrer: c.referrer_contains ?? "",
    returning: c.returning_visitor === true ? "yes" : c.returning_visitor === false ? "no" : "any",
    es: rule.text.es ?? "",
    en: rule.text.en ?? "",
    only: rule.only_when_agents_available,
  };
}

/** The form as the API's rule: blank fields are no condition. */
function ruleOf(form: RuleForm): Omit<Rule, "id" | "enabled"> {
  const conditions: Conditions = {};
  if (form.url_pattern.trim()) conditions.url_pattern = form.url_pattern.trim();
  if (form.min_seconds.trim()) conditions.min_seconds_on_page = Number(form.min_seconds);
  if (form.min_pages.trim()) conditions.min_pages_viewed = Number(form.min_pages);
  if (form.referrer.trim()) conditions.referrer_contains = form.referrer.trim();
  if (form.returning !== "any") conditions.returning_visitor = form.returning === "yes";
  return { name: form.name, text: givenTexts(form.es, form.en), conditions, only_when_agents_available: form.only };
}

/** Each condition as a sentence part: "Páginas (patrón): /inventory/*", never JSON. */
function conditionLines(lang: UiLang, t: (key: TextKey) => string, rule: Rule): string[] {
  const c = rule.conditions ?? {};
  const lines: string[] = [];
  if (c.url_pattern) lines.push(`${t("url_pattern")}: ${c.url_pattern}`);
  if (typeof c.min_seconds_on_page === "number") lines.push(`${t("min_seconds")}: ${number(lang, c.min_seconds_on_page)}`);
  if (typeof c.min_pages_viewed === "number") lines.push(`${t("min_pages")}: ${number(lang, c.min_pages_viewed)}`);
  if (c.referrer_contains) lines.push(`${t("referrer_contains")}: ${c.referrer_contains}`);
  if (c.returning_visitor !== undefined && c.returning_visitor !== null) {
    lines.push(t(c.returning_visitor ? "rule_returning_yes" : "rule_returning_no"));
  }
  if (lines.length === 0) lines.push(t("rule_everyone"));
  if (rule.only_when_agents_available) lines.push(t("only_available"));
  return lines;
}

/** A rule's funnel: shown, accepted (with its share of shown), declined, chats, leads. */
function Funnel(props: { stats: RuleStats | undefined }) {
  const t = useT();
  const lang = useLang();
  const s = props.stats;
  if (!s) return <span class="muted">…</span>;
  const step = (key: TextKey, field: string, value: number, ratio?: number | null) => (
    <li data-stat={field}>
      <span class="label">{t(key)}</span> <strong>{number(lang, value)}</strong>
      {ratio !== undefined ? <small class="muted"> {percent(lang, ratio)}</small> : null}
    </li>
  );
  return (
    <ul class="funnel" data-testid="rule-stats">
      {step("funnel_shown", "shown", s.shown)}
      {step("funnel_accepted", "accepted", s.accepted, s.conversion.accepted_per_shown)}
      {step("funnel_declined", "declined", s.declined)}
      {step("funnel_chats", "chats", s.chats, s.conversion.chats_per_shown)}
      {step("funnel_leads", "leads", s.leads, s.conversion.leads_per_shown)}
    </ul>
  );
}

/** The invitation as the widget shows it, in one language (its own words on the buttons). */
function BubblePreview(props: { lang: UiLang; text: string }) {
  return (
    <figure class="invite-bubble" lang={props.lang} data-preview={props.lang}>
      <figcaption class="muted">{props.lang.toUpperCase()}</figcaption>
      <p dir="auto">{props.text}</p>
      <div class="row">
        <span class="fake-button">{translate(props.lang, "invite_decline")}</span>
        <span class="fake-button primary">{translate(props.lang, "invite_accept")}</span>
      </div>
    </figure>
  );
}

function RulesPage(props: { floor: Floor }) {
  const t = useT();
  const lang = useLang();
  const [rules, error, reload] = useList<Rule>(props.floor, "/api/invitation-rules", "rules");
  const [stats, setStats] = useState<Record<string, RuleStats>>({});
  const [form, setForm] = useState<RuleForm>(EMPTY_RULE);
  const [editing, setEditing] = useState<string | null>(null);
  const [problem, setProblem] = useState<string | null>(null);
  useEffect(() => {
    for (const r of rules ?? []) {
      api<RuleStats>("GET", `/api/invitation-rules/${r.id}/stats`, props.floor.token)
        .then((s) => setStats((old) => ({ ...old, [r.id]: s })))
        .catch(() => undefined);
    }
  }, [rules]);
  const run = async (action: () => Promise<unknown>): Promise<boolean> => {
    try {
      await action();
      setProblem(null);
      reload();
      return true;
    } catch (err) {
      setProblem((err as Error).message);
      return false;
    }
  };
  const submit = async (e: Event) => {
    e.preventDefault();
    const rule = ruleOf(form);
    const done = await run(() =>
      editing
        ? api("PATCH", `/api/invitation-rules/${editing}`, props.floor.token, rule)
        : api("POST", "/api/invitation-rules", props.floor.token, { ...rule, enabled: true }),
    );
    if (done) {
      setEditing(null);
      setForm(EMPTY_RULE);
    }
  };
  const edit = (rule: Rule) => {
    setEditing(rule.id);
    setForm(formOf(rule));
    setProblem(null);
  };
  const cancel = () => {
    setEditing(null);
    setForm(EMPTY_RULE);
  };
  const input = (key: "name" | "es" | "en" | "url_pattern" | "min_seconds" | "min_pages" | "referrer", label: string, extra: Partial<{ type: string; placeholder: string; class: string }> = {}) => (
    <Field label={label} name={key} dir={key === "es" || key === "en" || key === "name" ? "auto" : undefined} value={form[key]} onValue={(value) => setForm({ ...form, [key]: value })} {...extra} />
  );
  return (
    <div class="rules">
      <ErrorLine message={error ?? problem} />
      {rules && rules.length === 0 ? <p class="muted">{t("rules_empty")}</p> : null}
      {rules && rules.length > 0 ? (
        <table class="list" data-testid="rules">
          <thead>
            <tr>
              <th>{t("enabled")}</th>
              <th>{t("rule_name")}</th>
              <th>{t("rule_texts")}</th>
              <th>{t("rule_conditions")}</th>
              <th>{t("rule_results")}</th>
              <th />
            </tr>
          </thead>
          <tbody>
            {rules.map((r) => (
              <tr key={r.id} data-rule-id={r.id} class={r.enabled === false ? "inactive" : editing === r.id ? "editing" : ""}>
                <td>
                  <label class="switch">
                    <input
                      type="checkbox"
                      role="switch"
                      name="enabled"
                      aria-label={`${t("enabled")}: ${r.name}`}
                      checked={r.enabled !== false}
                      onChange={(e) =>
                        void run(() =>
                          api("PATCH", `/api/invitation-rules/${r.id}`, props.floor.token, { enabled: (e.target as HTMLInputElement).checked }),
                        )
                      }
                    />
                    <span>{r.enabled === false ? t("rule_disabled") : t("enabled")}</span>
                  </label>
                </td>
                <td dir="auto">{r.name}</td>
                <td class="rule-texts">
                  {(["es", "en"] as const)
                    .filter((l) => r.text[l])
                    .map((l) => (
                      <p key={l} dir="auto">
                        <small class="muted">{l.toUpperCase()}</small> {r.text[l]}
                      </p>
                    ))}
                </td>
                <td>
                  <ul class="conditions">
                    {conditionLines(lang, t, r).map((line) => (
                      <li key={line}>{line}</li>
                    ))}
                  </ul>
                </td>
                <td>
                  <Funnel stats={stats[r.id]} />
                </td>
                <td class="rule-actions">
                  <button type="button" data-action="edit" onClick={() => edit(r)}>
                    {t("edit")}
                  </button>
                  <button type="button" class="danger" data-action="delete" onClick={() => void run(() => api("DELETE", `/api/invitation-rules/${r.id}`, props.floor.token))}>
                    {t("delete")}
                  </button>
                </td>
              </tr>
            ))}
          </tbody>
        </table>
      ) : null}
      {error ? null : (
        <form class="grid-form rule-form" onSubmit={submit} data-testid="rule-form" data-editing={editing ?? undefined}>
          <h3 class="span">{editing ? t("rule_edit") : t("rule_new")}</h3>
          {input("name", t("rule_name"))}
          {input("url_pattern", t("url_pattern"), { placeholder: "/inventory/*" })}
          {input("min_seconds", t("min_seconds"), { type: "number" })}
          {input("min_pages", t("min_pages"), { type: "number" })}
          {input("referrer", t("referrer_contains"), { placeholder: t("rule_referrer_placeholder") })}
          <label>
            {t("returning")}
            <select name="returning" value={form.returning} onChange={(e) => setForm({ ...form, returning: (e.target as HTMLSelectElement).value as RuleForm["returning"] })}>
              <option value="any">{t("any")}</option>
              <option value="yes">{t("rule_returning_yes")}</option>
              <option value="no">{t("rule_returning_no")}</option>
            </select>
          </label>
          {input("es", `${t("text")} (ES)`, { class: "span" })}
          {input("en", `${t("text")} (EN)`, { class: "span" })}
          {form.es.trim() || form.en.trim() ? (
            <div class="span invite-preview" data-testid="rule-preview">
              <h4>{t("rule_preview")}</h4>
              {form.es.trim() ? <BubblePreview lang="es" text={form.es} /> : null}
              {form.en.trim() ? <BubblePreview lang="en" text={form.en} /> : null}
            </div>
          ) : null}
          <Check label={t("only_available")} span checked={form.only} onChecked={(only) => setForm({ ...form, only })} />
          <div class="span buttons">
            {editing ? (
              <button type="button" data-action="cancel" onClick={cancel}>
                {t("cancel")}
              </button>
            ) : null}
            <button type="submit" class="primary">
              {editing ? t("save") : t("create")}
            </button>
          </div>
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

/** The tenant's chat script (GET /api/bot-script), as far as this page reads it; the rest
 * goes back to the hub as it came. */
interface BotScript {
  languages: string[];
  settings: { bot_name?: string | null; bot_avatar_url?: string | null; [key: string]: unknown };
  messages: Record<string, Record<string, string>>;
  [key: string]: unknown;
}

/** The name the bot signs with and its picture: two settings of the script in effect. */
function AssistantPage(props: { floor: Floor }) {
  const t = useT();
  const lang = useLang();
  const [dealer, setDealer] = useState<string | null>(null);
  const [greeting, setGreeting] = useState<Record<string, string>>({});
  const [name, setName] = useState("");
  const [avatar, setAvatar] = useState("");
  const [message, setMessage] = useState<string | null>(null);
  const [problem, setProblem] = useState<string | null>(null);
  const show = (script: BotScript) => {
    setName(script.settings.bot_name ?? "");
    setAvatar(script.settings.bot_avatar_url ?? "");
    const texts = script.messages.greeting ?? {};
    setGreeting({ ...texts, first: texts[script.languages[0]] ?? "" });
  };
  useEffect(() => {
    Promise.all([api<TenantInfo>("GET", "/api/tenant", props.floor.token), api<BotScript>("GET", "/api/bot-script", props.floor.token)])
      .then(([tenant, script]) => {
        setDealer(tenant.name);
        show(script);
      })
      .catch((err: ApiError) => setProblem(err.status === 404 || err.status === 405 ? t("feature_missing") : err.message));
  }, []);
  if (dealer === null) return <ErrorLine message={problem} />;
  const save = async (e: Event) => {
    e.preventDefault();
    try {
      // The script in effect now, whole: only these two settings change.
      const script = await api<BotScript>("GET", "/api/bot-script", props.floor.token);
      script.settings = { ...script.settings, bot_name: name.trim() || null, bot_avatar_url: avatar.trim() || null };
      await api("PATCH", "/api/tenant", props.floor.token, { bot_script: script });
      setProblem(null);
      setMessage(t("saved"));
    } catch (err) {
      setMessage(null);
      setProblem((err as Error).message);
    }
  };
  const signed = name.trim() || dealer;
  const picture = avatar.trim().startsWith("https://") ? avatar.trim() : null;
  // the script's greeting, in the console's language if the script speaks it
  const hello = (greeting[lang] ?? greeting.first ?? "").replace(/\{dealer\}/g, dealer).replace(/\{\w+\}/g, "");
  return (
    <form class="grid-form assistant" onSubmit={save} data-testid="assistant">
      <Field label={t("bot_name")} name="bot_name" dir="auto" value={name} placeholder={dealer} onValue={setName} />
      <Field label={t("bot_avatar_url")} class="span" name="bot_avatar_url" value={avatar} placeholder="https://" onValue={setAvatar} />
      <p class="muted span">{t("bot_help")}</p>
      <div class="span preview" data-testid="assistant-preview">
        <h3>{t("bot_preview")}</h3>
        <div class="msg bot">
          <span class="author">
            {picture ? <img class="avatar" src={picture} alt="" width={24} height={24} /> : null}
            <span dir="auto">{signed}</span>
            <small class="role">{t("virtual_assistant")}</small>
          </span>
          <p class="text" dir="auto">
            {hello}
          </p>
        </div>
      </div>
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
