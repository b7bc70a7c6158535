// The protocol's shapes as the console uses them, and pure helpers over them.

export interface Message {
  id: string;
  chat_id: string;
  author: "visitor" | "agent" | "bot" | "system";
  author_name?: string;
  text: string;
  created_at: string;
  client_msg_id?: string;
  pending?: boolean;
  failed?: string;
  /** The hub could not take it now: sent again after a reconnect. */
  retry?: boolean;
  /** A supervisor's coaching, or the agent's answer to it: never shown to the visitor. */
  whisper?: boolean;
  /** A file sent in the chat (its text is ""): shown by ./attach. */
  attachment?: Attachment;
}

/** A message's file, as the hub stored it (PROTOCOL 1.2 "Attachments"). */
export interface Attachment {
  id: string;
  name: string;
  content_type: string;
  size: number;
  width?: number;
  height?: number;
}

export interface PageView {
  url: string;
  title?: string | null;
  referrer?: string | null;
  viewed_at: string;
}

export interface Visitor {
  id: string;
  name?: string;
  email?: string;
  phone?: string;
  pages: PageView[];
  returning?: boolean;
}

export interface Chat {
  id: string;
  tenant_id: string;
  status: string;
  language: string;
  visitor: Visitor;
  agent_id?: string;
  created_at: string;
  assigned_at?: string;
  messages: Message[];
  close_reason?: string;
  /** The lead saved on this chat before it reached this agent (an agent's or the bot's). */
  lead?: Lead;
}

/** A vehicle the visitor wants, or the one they trade in (PROTOCOL.md's Lead). */
export interface Car {
  year?: number | string;
  make?: string;
  model?: string;
  vin?: string;
  stock?: string;
  condition?: string;
  mileage?: number | string;
  [key: string]: unknown;
}

export interface Delivery {
  id: string;
  destination: string;
  status: string;
  attempts: number;
  event?: string;
  external_id?: string;
  last_error?: string;
  delivered_at?: string;
}

/** A lead as the hub sends it; codes (interest, timeframe...) are shown through ./words. */
export interface Lead {
  id?: string;
  chat_id?: string;
  first_name?: string;
  last_name?: string;
  email?: string;
  phone?: string;
  language?: string;
  interest?: string;
  vehicle?: Car;
  trade_in?: Car;
  timeframe?: string;
  notes?: string;
  qualified?: boolean;
  source?: string;
  created_at?: string;
  deliveries?: Delivery[];
  [key: string]: unknown;
}

export interface Ticket {
  id: string;
  chat_id?: string | null;
  visitor_id?: string | null;
  language: string;
  reason: string;
  status: string;
  text: string;
  created_at: string;
  name?: string;
  email?: string;
  phone?: string;
  assignee_id?: string | null;
  /** After hours: the next opening, when the visitor was promised a call back. */
  callback_due_at?: string | null;
  updated_at?: string;
  notes?: TicketNote[];
  /** A callback past due on a ticket still open or in progress (in /api/tickets). */
  overdue?: boolean;
}

export interface TicketNote {
  id: string;
  text: string;
  created_at: string;
  agent_id?: string;
  author_name?: string;
}

/** `GET /api/tickets`: the tickets in the order to work them, and the tenant's counts. */
export interface TicketCounts {
  open: number;
  in_progress: number;
  resolved: number;
  no_contact: number;
  overdue: number;
}

export interface QueueEntry {
  chat_id: string;
  language: string;
  waiting_s: number;
  position?: number;
}

export interface TeamMember {
  id: string;
  name: string;
  role: string;
  languages: string[];
  max_chats: number;
  active: boolean;
  status: string;
  load: number;
  email?: string;
}

export interface Canned {
  id: string;
  shortcut: string;
  text: Record<string, string>;
}

export interface TenantInfo {
  id: string;
  name: string;
  plan: "basic" | "proactive" | "premium";
  languages: string[];
  timezone: string;
  hours: Record<string, string[][]> | null;
  holidays: string | null;
  settings: Record<string, unknown>;
}

export interface Stats {
  generated_at: string;
  agents: { agent_id: string; name: string; status: string; load: number; max_chats: number }[];
  agents_online: number;
  load: { active_chats: number; capacity: number };
  queue: { length: number; longest_wait_s: number; oldest_since: string | null };
  chats_today: number;
  missed_today: number;
  avg_first_response_s: number | null;
  csat_today: { average: number | null; count: number };
  active_chats: { chat_id: string; agent_id: string; language: string; assigned_at: string }[];
}

/** "1:05", "12:00", "1:02:03": a wait or a time on a page, as a clock. */
export function clock(seconds: number): string {
  const s = Math.max(0, Math.floor(seconds));
  const h = Math.floor(s / 3600);
  const m = Math.floor((s % 3600) / 60);
  const rest = String(s % 60).padStart(2, "0");
  return h > 0 ? `${h}:${String(m).padStart(2, "0")}:${rest}` : `${m}:${rest}`;
}

/** Each page with the time spent on it: until the next page, or until now for the last. */
export function pageTimes(pages: PageView[], nowMs: number): { page: PageView; seconds: number }[] {
  return pages.map((page, i) => {
    const start = Date.parse(page.viewed_at);
    const end = i + 1 < pages.length ? Date.parse(pages[i + 1].viewed_at) : nowMs;
    return { page, seconds: Math.max(0, (end - start) / 1000) };
  });
}

/** Canned responses whose shortcut or text (in the chat's language) matches the query. */
export function cannedMatches(all: Canned[], query: string, language: string): Canned[] {
  const q = query.toLowerCase().replace(/^\//, "");
  return all
    .filter((c) => {
      const text = cannedText(c, language).toLowerCase();
      return c.shortcut.toLowerCase().includes(q) || (q.length > 1 && text.includes(q));
    })
    .slice(0, 8);
}

/** The text in the chat's language, else the first one the response has. */
export function cannedText(canned: Canned, language: string): string {
  return canned.text[language] ?? Object.values(canned.text)[0] ?? "";
}

/** Merge messages by id (a message can arrive by event and by ack), in the hub's order. */
export function mergeMessages(current: Message[], incoming: Message[]): Message[] {
  const byId = new Map<string, Message>();
  const pending: Message[] = [];
  for (const m of current) {
    if (m.pending || m.failed) pending.push(m);
    else byId.set(m.id, m);
  }
  for (const m of incoming) byId.set(m.id, m);
  const stored = [...byId.values()].sort((a, b) => (a.id < b.id ? -1 : a.id > b.id ? 1 : 0));
  const storedClientIds = new Set(stored.map((m) => m.client_msg_id).filter(Boolean));
  return [...stored, ...pending.filter((m) => !storedClientIds.has(m.client_msg_id))];
}

export function newClientId(): string {
  const bytes = new Uint8Array(12);
  crypto.getRandomValues(bytes);
  return Array.from(bytes, (b) => b.toString(16).padStart(2, "0")).join("");
}

const EMAIL = /^[^\s@]+@[^\s@]+\.[^\s@]+$/;

/** A quick check before the hub's own (which normalizes and has the last word). */
export function plausibleEmail(value: string): boolean {
  return EMAIL.test(value.trim());
}

export function plausiblePhone(value: string): boolean {
  const digits = value.replace(/\D/g, "");
  return /^[+\d\s().-]+$/.test(value.trim()) && digits.length >= 7 && digits.length <= 15;
}

/** "09:00-18:00, 19:00-21:00" <-> [["09:00","18:00"],["19:00","21:00"]] */
export function parseRanges(text: string): string[][] {
  return text
    .split(",")
    .map((part) => part.trim())
    .filter(Boolean)
    .map((part) => part.split("-").map((t) => t.trim()));
}

export function formatRanges(ranges: string[][] | undefined): string {
  return (ranges ?? []).map((r) => r.join("-")).join(", ");
}

export const DAYS = ["mon", "tue", "wed", "thu", "fri", "sat", "sun"] as const;

export interface LeadDraft {
  [key: string]: string | boolean;
}

export function splitName(name: string | undefined): [string, string] {
  const parts = (name ?? "").trim().split(/\s+/).filter(Boolean);
  if (parts.length === 0) return ["", ""];
  return [parts[0], parts.slice(1).join(" ")];
}

/** The lead form's flat fields as PROTOCOL.md's Lead, leaving out what is empty. */
export function leadPayload(d: LeadDraft, language: string): Record<string, unknown> {
  const s = (key: string) => String(d[key] ?? "").trim();
  const pick = (keys: string[], prefix: string) => {
    const out: Record<string, unknown> = {};
    for (const key of keys) {
      const value = s(`${prefix}${key}`);
      if (!value) continue;
      out[key] = key === "year" || key === "mileage" ? Number(value) : value;
    }
    return Object.keys(out).length ? out : undefined;
  };
  const lead: Record<string, unknown> = {
    language,
    interest: s("interest") || "buy",
    qualified: d.qualified !== false,
  };
  for (const key of ["first_name", "last_name", "email", "phone", "timeframe", "notes"]) {
    if (s(key)) lead[key] = s(key);
  }
  const vehicle = pick(["year", "make", "model", "vin", "stock", "condition"], "vehicle_");
  if (vehicle) lead.vehicle = vehicle;
  const tradeIn = pick(["year", "make", "model", "mileage"], "trade_");
  if (tradeIn) lead.trade_in = tradeIn;
  return lead;
}
