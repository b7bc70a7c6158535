// The Reports screen (every plan): a month's service levels against the agreement, the
// month drawn as bars (first response by day, chats by hour, CSAT, the invitation funnel),
// and each table as the API's own CSV. Months and days are the tenant's, in its time zone.

import { useEffect, useState } from "preact/hooks";
import { api, ApiError } from "./api";
import type { Floor } from "./floor";
import { clock } from "./model";
import { ErrorLine, useLang, useT } from "./ui";
import { number } from "./words";

interface SlaReport {
  month: string;
  status: "open" | "closed";
  eligible: number;
  hits: number;
  misses: number;
  abandoned: number;
  pending: number;
  attainment_pct: string | null;
  abandon_pct: string | null;
  first_response_s: { avg: number | null; p50: number | null; p90: number | null };
  csat: { count: number; avg: string | null };
  credit_pct: string;
  incentive_pct: string;
  discrepancy?: { figures: { attainment_pct: string | null; credit_pct: string } };
  terms: { answer_s?: number; target_pct?: string };
}

interface ChatRow {
  queued_at: string | null;
  first_response_s: number | null;
}
interface CsatRow {
  key: string;
  label: string;
  chats: number;
  rated: number;
  response_rate_pct: string | null;
  avg: string | null;
  distribution: Record<string, number>;
}
interface RuleRow {
  rule_id: string;
  name: string;
  shown: number;
  accepted: number;
  chats: number;
  leads: number;
  delivered: number;
}
interface StaffingRow {
  hour: string;
  chats: number;
}

interface Month {
  sla: SlaReport | null;
  slaMissing: string | null;
  chats: ChatRow[];
  csat: CsatRow[];
  rules: RuleRow[];
  staffing: StaffingRow[];
}

type Table = "chats" | "csat" | "invitation-rules" | "staffing";

/** "2026-11" for the instant in the zone. */
export function monthIn(zone: string, at: Date): string {
  const parts = new Intl.DateTimeFormat("en-US", { timeZone: zone, year: "numeric", month: "2-digit" }).formatToParts(at);
  const part = (type: string) => parts.find((p) => p.type === type)?.value ?? "";
  return `${part("year")}-${part("month")}`;
}

/** The month's first and last days, as the reports' `from` and `to`. */
export function monthRange(month: string): [string, string] {
  const [year, mon] = month.split("-").map(Number);
  const last = new Date(Date.UTC(year, mon, 0)).getUTCDate();
  return [`${month}-01`, `${month}-${String(last).padStart(2, "0")}`];
}

function query(month: string): string {
  const [from, to] = monthRange(month);
  return `from=${from}&to=${to}`;
}

async function loadMonth(token: string, month: string): Promise<Month> {
  const q = query(month);
  const sla = api<SlaReport>("GET", `/api/reports/sla?month=${month}`, token).then(
    (body) => [body, null] as const,
    (err: ApiError) => {
      if (err.code === "not_found") return [null, err.message] as const;
      throw err;
    },
  );
  const [[report, missing], chats, csat, rules, staffing] = await Promise.all([
    sla,
    api<{ chats: ChatRow[] }>("GET", `/api/reports/chats?${q}`, token),
    api<{ csat: CsatRow[] }>("GET", `/api/reports/csat?${q}&group_by=agent`, token),
    api<{ rules: RuleRow[] }>("GET", `/api/reports/invitation-rules?${q}`, token),
    api<{ staffing: StaffingRow[] }>("GET", `/api/reports/staffing?${q}`, token),
  ]);
  return { sla: report, slaMissing: missing, chats: chats.chats, csat: csat.csat, rules: rules.rules, staffing: staffing.staffing };
}

/** Fetch the table as the API writes it, and hand it to the browser as a file. */
async function download(token: string, table: Table, month: string): Promise<void> {
  const response = await fetch(`/api/reports/${table}?${query(month)}&format=csv`, { headers: { Authorization: `Bearer ${token}` } });
  if (!response.ok) throw new Error(`${response.status} ${response.statusText}`);
  const named = /filename="([^"]+)"/.exec(response.headers.get("Content-Disposition") ?? "");
  const url = URL.createObjectURL(await response.blob());
  const link = document.createElement("a");
  link.href = url;
  link.download = named ? named[1] : `${table}-${month}.csv`;
  document.body.appendChild(link);
  link.click();
  link.remove();
  setTimeout(() => URL.revokeObjectURL(url), 10000);
}

/** Average first response (SLA clock) per local day the chats entered the queue. */
export function responseByDay(chats: ChatRow[]): [string, number][] {
  const days = new Map<string, number[]>();
  for (const c of chats) {
    if (c.queued_at === null || c.first_response_s === null) continue;
    const day = c.queued_at.slice(0, 10);
    days.set(day, [...(days.get(day) ?? []), c.first_response_s]);
  }
  return [...days.entries()].sort().map(([day, values]) => [day, values.reduce((a, b) => a + b, 0) / values.length]);
}

/** Chats started per hour of the (local) day, from the staffing table. */
export function chatsByHour(rows: StaffingRow[]): [string, number][] {
  const hours = Array.from({ length: 24 }, () => 0);
  for (const row of rows) hours[Number(row.hour.slice(11, 13))] += row.chats;
  return hours.map((n, h) => [String(h).padStart(2, "0"), n]);
}

function Columns(props: { name: string; data: [string, number][]; label: (v: number) => string; line?: number }) {
  const top = Math.max(1, props.line ?? 0, ...props.data.map(([, v]) => v));
  const width = Math.max(props.data.length, 1) * 12;
  return (
    <svg class="columns" viewBox={`0 0 ${width} 100`} preserveAspectRatio="none" role="img" data-chart={props.name}>
      {props.data.map(([key, value], i) => (
        <rect key={key} x={i * 12 + 1} width={10} y={100 - (value / top) * 100} height={(value / top) * 100} data-key={key} data-value={value}>
          <title>{`${key}: ${props.label(value)}`}</title>
        </rect>
      ))}
      {props.line ? <line class="target" x1={0} x2={width} y1={100 - (props.line / top) * 100} y2={100 - (props.line / top) * 100} /> : null}
    </svg>
  );
}

function Bars(props: { name: string; data: [string, string, number][] }) {
  const top = Math.max(1, ...props.data.map(([, , v]) => v));
  return (
    <div class="bars" data-chart={props.name}>
      {props.data.map(([key, label, value]) => (
        <div class="bar" key={key} data-key={key} data-value={value}>
          <span class="label">{label}</span>
          <span class="track">
            <span class="fill" style={{ width: `${(value / top) * 100}%` }} />
          </span>
          <span class="value">{value}</span>
        </div>
      ))}
    </div>
  );
}

function SlaCard(props: { sla: SlaReport }) {
  const t = useT();
  const lang = useLang();
  const { sla } = props;
  const target = sla.terms.target_pct;
  const met = sla.attainment_pct !== null && target !== undefined && Number(sla.attainment_pct) >= Number(target);
  const figure = (key: string, label: string, value: string) => (
    <div class="tile" data-figure={key}>
      <span class="label">{label}</span>
      <strong class="value">{value}</strong>
    </div>
  );
  const pct = (value: string | null) => (value === null ? "—" : `${value}%`);
  return (
    <section class="panel sla-card" data-testid="sla-card" data-status={sla.status}>
      <h3>
        {t("sla_title")} · <span data-field="sla-status">{t(sla.status === "closed" ? "sla_closed" : "sla_open")}</span>
      </h3>
      <div class="tiles">
        <div class={`tile ${sla.attainment_pct === null ? "" : met ? "met" : "missed"}`} data-figure="attainment">
          <span class="label">{t("sla_attainment")}</span>
          <strong class="value">{pct(sla.attainment_pct)}</strong>
          <span class="muted" data-field="target">
            {t("sla_target")} {pct(target ?? null)}
          </span>
        </div>
        {figure("hits", t("sla_hits"), `${number(lang, sla.hits)} / ${number(lang, sla.eligible)}`)}
        {figure("misses", t("sla_misses"), number(lang, sla.misses))}
        {figure("abandoned", t("sla_abandoned"), `${number(lang, sla.abandoned)} (${pct(sla.abandon_pct)})`)}
        {figure("first_response", t("sla_first_response"), sla.first_response_s.avg === null ? "—" : clock(sla.first_response_s.avg))}
        {figure("csat", t("sla_csat"), sla.csat.avg === null ? "—" : `${sla.csat.avg} (${number(lang, sla.csat.count)})`)}
        {figure("credit", t("sla_credit"), `${sla.credit_pct}%`)}
        {figure("incentive", t("sla_incentive"), `${sla.incentive_pct}%`)}
      </div>
      {sla.discrepancy ? (
        <p class="notice" role="status" data-testid="sla-discrepancy">
          {t("sla_discrepancy")} {pct(sla.discrepancy.figures.attainment_pct)}, {t("sla_credit").toLowerCase()} {sla.discrepancy.figures.credit_pct}%
        </p>
      ) : null}
    </section>
  );
}

export function ReportsView(props: { floor: Floor }) {
  const t = useT();
  const lang = useLang();
  const token = props.floor.token;
  const [zone, setZone] = useState<string | null>(null);
  const [month, setMonth] = useState<string | null>(null);
  const [data, setData] = useState<Month | null>(null);
  const [error, setError] = useState<string | null>(null);
  useEffect(() => {
    api<{ timezone: string }>("GET", "/api/tenant", token)
      .then((tenant) => {
        setZone(tenant.timezone);
        setMonth((picked) => picked ?? monthIn(tenant.timezone, new Date()));
      })
      .catch((err: ApiError) => setError(err.message));
  }, [token]);
  useEffect(() => {
    if (month === null) return;
    setData(null);
    loadMonth(token, month)
      .then((loaded) => {
        setData(loaded);
        setError(null);
      })
      .catch((err: ApiError) => setError(err.message));
  }, [token, month]);
  const save = (table: Table) => {
    if (month) download(token, table, month).catch((err: Error) => setError(err.message));
  };
  const csv = (table: Table) => (
    <button type="button" class="csv" data-download={table} onClick={() => save(table)}>
      {t("download_csv")}
    </button>
  );
  const distribution = ["1", "2", "3", "4", "5"].map(
    (score) => [score, `${score} ★`, (data?.csat ?? []).reduce((n, row) => n + (row.distribution[score] ?? 0), 0)] as [string, string, number],
  );
  const steps = ["shown", "accepted", "chats", "leads", "delivered"] as const;
  const funnel = steps.map(
    (step) => [step, t(`funnel_${step}`), (data?.rules ?? []).reduce((n, rule) => n + rule[step], 0)] as [string, string, number],
  );
  return (
    <section class="records reports" data-testid="reports">
      <header class="records-header">
        <h2>{t("view_reports")}</h2>
        <label>
          {t("report_month")}
          <input
            type="month"
            name="month"
            value={month ?? ""}
            max={zone ? monthIn(zone, new Date()) : undefined}
            onChange={(e) => {
              const value = (e.target as HTMLInputElement).value;
              if (/^\d{4}-\d{2}$/.test(value)) setMonth(value);
            }}
          />
        </label>
        {zone ? <span class="muted">{zone}</span> : null}
      </header>
      <ErrorLine message={error} />
      {data === null ? null : (
        <div class="report-body" data-month={month ?? ""}>
          {data.sla ? (
            <SlaCard sla={data.sla} />
          ) : (
            <p class="notice" data-testid="no-agreement">
              {t("sla_none")}
            </p>
          )}
          <div class="charts">
            <section class="panel">
              <h3>{t("chart_first_response")}</h3>
              <Columns name="first-response" data={responseByDay(data.chats)} label={clock} line={data.sla?.terms.answer_s} />
              <footer>
                <span class="muted">{`${number(lang, data.chats.length)} ${t("chats_count")}`}</span> {csv("chats")}
              </footer>
            </section>
            <section class="panel">
              <h3>{t("chart_by_hour")}</h3>
              <Columns name="by-hour" data={chatsByHour(data.staffing)} label={(v) => number(lang, v)} />
              <footer>{csv("staffing")}</footer>
            </section>
            <section class="panel">
              <h3>{t("chart_csat")}</h3>
              <Bars name="csat" data={distribution} />
              <table class="list" data-table="csat">
                <thead>
                  <tr>
                    <th>{t("agent")}</th>
                    <th>{t("csat_avg")}</th>
                    <th>{t("csat_rated")}</th>
                    <th>{t("csat_rate")}</th>
                  </tr>
                </thead>
                <tbody>
                  {data.csat.map((row) => (
                    <tr key={row.key} data-key={row.key}>
                      <td dir="auto">{row.label}</td>
                      <td>{row.avg ?? "—"}</td>
                      <td>{`${row.rated} / ${row.chats}`}</td>
                      <td>{row.response_rate_pct === null ? "—" : `${row.response_rate_pct}%`}</td>
                    </tr>
                  ))}
                </tbody>
              </table>
              <footer>{csv("csat")}</footer>
            </section>
            <section class="panel">
              <h3>{t("chart_funnel")}</h3>
              <Bars name="funnel" data={funnel} />
              <table class="list" data-table="rules">
                <thead>
                  <tr>
                    <th>{t("funnel_rule")}</th>
                    {steps.map((step) => (
                      <th key={step}>{t(`funnel_${step}`)}</th>
                    ))}
                  </tr>
                </thead>
                <tbody>
                  {data.rules.map((rule) => (
                    <tr key={rule.rule_id} data-key={rule.rule_id}>
                      <td dir="auto">{rule.name}</td>
                      {steps.map((step) => (
                        <td key={step}>{number(lang, rule[step])}</td>
                      ))}
                    </tr>
                  ))}
                </tbody>
              </table>
              <footer>{csv("invitation-rules")}</footer>
            </section>
          </div>
        </div>
      )}
    </section>
  );
}
