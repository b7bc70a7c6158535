// The hub's codes as words in the console's language: a lead's interest and timeframe, a
// ticket's or a closed chat's reason, a delivery's destination and status... A code the
// console does not know yet shows as it came (a timeframe typed by hand reads as typed),
// never as "undefined"; vehicles and other objects read as text, never as JSON.

import { translate, type TextKey, type UiLang } from "./i18n";

const CODES = {
  interest: { buy: "buy", lease: "lease", service: "service", parts: "parts", finance: "finance", other: "other" },
  timeframe: {
    now: "timeframe_now",
    this_week: "timeframe_this_week",
    this_month: "timeframe_this_month",
    within_3_months: "timeframe_within_3_months",
    later: "timeframe_later",
    undecided: "timeframe_undecided",
  },
  condition: { new: "new", used: "used" },
  // why a ticket was filed, or why a chat ended (the ticket's reasons end a bot's chat too)
  reason: {
    after_hours: "reason_after_hours",
    holiday: "reason_holiday",
    no_agents: "reason_no_agents",
    agent: "reason_agent",
    agent_closed: "reason_agent_closed",
    visitor_ended: "reason_visitor_ended",
    abandoned: "reason_abandoned",
    transferred: "reason_transferred",
    requeued: "reason_requeued",
    agent_left: "reason_agent_left",
    closed: "reason_closed",
  },
  chat_status: {
    queued: "chat_status_queued",
    active: "chat_status_active",
    bot: "chat_status_bot",
    offline: "chat_status_offline",
    closed: "chat_status_closed",
  },
  ticket_status: {
    open: "ticket_status_open",
    in_progress: "ticket_status_in_progress",
    resolved: "ticket_status_resolved",
    no_contact: "ticket_status_no_contact",
  },
  destination: {
    salesforce: "destination_salesforce",
    adf: "destination_adf",
    webhook: "destination_webhook",
    notify: "destination_notify",
    email: "destination_email",
  },
  delivery_status: { pending: "delivery_pending", delivered: "delivery_delivered", failed: "delivery_failed" },
  source: { agent: "agent", bot: "virtual_assistant" },
  agent_status: { online: "online", away: "away", offline: "offline" },
  day: { mon: "day_mon", tue: "day_tue", wed: "day_wed", thu: "day_thu", fri: "day_fri", sat: "day_sat", sun: "day_sun" },
  // the sections of an imported configuration
  section: {
    canned_responses: "canned_responses",
    invitation_rules: "invitation_rules",
    integrations: "integrations",
    webhooks: "webhooks",
    agents: "agents",
  },
} satisfies Record<string, Record<string, TextKey>>;

export type CodeGroup = keyof typeof CODES;

/** The timeframes a lead form offers, in the order it offers them. */
export const TIMEFRAMES = Object.keys(CODES.timeframe);

const LOCALES: Record<UiLang, string> = { es: "es-PR", en: "en-US" };

export function locale(lang: UiLang): string {
  return LOCALES[lang];
}

/** Whether `code` is one of the group's codes (else it is free text, or new). */
export function isCode(group: CodeGroup, code: unknown): code is string {
  return typeof code === "string" && Object.prototype.hasOwnProperty.call(CODES[group], code);
}

function blank(value: unknown): boolean {
  return value === undefined || value === null || (typeof value === "string" && value.trim() === "");
}

export function yesNo(lang: UiLang, value: boolean): string {
  return translate(lang, value ? "yes" : "no");
}

/** A number as the console's language writes it: 90,000. */
export function number(lang: UiLang, value: number): string {
  return new Intl.NumberFormat(locale(lang)).format(value);
}

/** Any value as words: a code of `group` translated, a yes/no, a number, an object's
 * fields; "—" for nothing. */
export function word(lang: UiLang, group: CodeGroup, value: unknown): string {
  if (isCode(group, value)) {
    const table: Record<string, TextKey> = CODES[group];
    return translate(lang, table[value]);
  }
  return plain(lang, value);
}

/** A value that is no code as readable text: never "undefined", "[object Object]" or JSON. */
export function plain(lang: UiLang, value: unknown): string {
  if (blank(value)) return "—";
  if (typeof value === "boolean") return yesNo(lang, value);
  if (typeof value === "number") return number(lang, value);
  if (Array.isArray(value)) return value.map((v) => plain(lang, v)).join(", ");
  if (typeof value === "object") {
    return Object.entries(value as Record<string, unknown>)
      .filter(([, v]) => !blank(v))
      .map(([k, v]) => `${k}: ${plain(lang, v)}`)
      .join(", ");
  }
  return String(value);
}

const CAR_FIELDS = new Set(["year", "make", "model", "condition", "mileage", "vin", "stock"]);

/** A vehicle or a trade-in as a dealer would say it: "2015 Toyota Corolla, 90,000 mi",
 * "Toyota Corolla 2015, 90,000 millas". */
export function carText(lang: UiLang, car: unknown): string {
  if (blank(car)) return "—";
  if (typeof car !== "object" || Array.isArray(car)) return plain(lang, car);
  const c = car as Record<string, unknown>;
  const text = (v: unknown) => (blank(v) ? "" : String(v).trim());
  const name = [text(c.make), text(c.model)].filter(Boolean).join(" ");
  const year = text(c.year);
  const title = (lang === "en" ? [year, name] : [name, year]).filter(Boolean).join(" ");
  const parts = [title];
  if (!blank(c.condition)) parts.push(word(lang, "condition", c.condition).toLocaleLowerCase(locale(lang)));
  if (!blank(c.mileage)) {
    const miles = Number(c.mileage);
    parts.push(Number.isFinite(miles) ? `${number(lang, miles)} ${translate(lang, "miles")}` : text(c.mileage));
  }
  if (!blank(c.vin)) parts.push(`${translate(lang, "vin")} ${text(c.vin)}`);
  if (!blank(c.stock)) parts.push(`${translate(lang, "stock")} ${text(c.stock)}`);
  for (const [key, value] of Object.entries(c)) {
    if (!CAR_FIELDS.has(key) && !blank(value)) parts.push(`${key}: ${plain(lang, value)}`);
  }
  return parts.filter(Boolean).join(", ") || "—";
}

/** A time as the console's language writes it: "6/12/2026, 3:05 p. m.". */
export function when(lang: UiLang, iso: unknown): string {
  if (typeof iso !== "string" || Number.isNaN(Date.parse(iso))) return plain(lang, iso);
  return new Date(iso).toLocaleString(locale(lang), { dateStyle: "short", timeStyle: "short" });
}

/** A phone as a dealer in Puerto Rico writes it: "+17875550123" -> "(787) 555-0123" (the
 * North American plan, +1); another country's number, or text that is no E.164 number,
 * shows as it came. The hub stores E.164 (PROTOCOL.md, Lead). */
export function phoneText(value: unknown): string {
  if (typeof value !== "string" || value.trim() === "") return "—";
  const nanp = /^\+1(\d{3})(\d{3})(\d{4})$/.exec(value.trim());
  return nanp ? `(${nanp[1]}) ${nanp[2]}-${nanp[3]}` : value.trim();
}

/** A ratio (0..1) as a percentage in the console's language: "25 %" / "25%"; "—" for none. */
export function percent(lang: UiLang, ratio: number | null | undefined): string {
  if (ratio === null || ratio === undefined || !Number.isFinite(ratio)) return "—";
  return new Intl.NumberFormat(locale(lang), { style: "percent", maximumFractionDigits: 1 }).format(ratio);
}
