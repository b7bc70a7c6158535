// A lead's requested appointment (a test drive, a service slot, an order, a visit): the
// lead form's fields and the summary's line. `at` is the dealer's local date and time,
// "YYYY-MM-DDTHH:MM" (PROTOCOL: docs/protocol.md, "Appointments"); whether the dealer is
// open then is the hub's to say, and its refusal is shown with its reason.

import type { TextKey, UiLang } from "./i18n";
import type { Lead, LeadDraft } from "./model";
import { Field, useLang, useT } from "./ui";
import { locale } from "./words";

export const APPOINTMENT_KINDS = ["test_drive", "service", "order", "visit"] as const;

export interface Appointment {
  kind: string;
  at: string;
  notes?: string;
}

function asAppointment(value: unknown): Appointment | null {
  if (!value || typeof value !== "object") return null;
  const { kind, at, notes } = value as Record<string, unknown>;
  if (typeof kind !== "string" || typeof at !== "string") return null;
  return { kind, at, ...(typeof notes === "string" ? { notes } : {}) };
}

function kindKey(kind: string): TextKey | null {
  return (APPOINTMENT_KINDS as readonly string[]).includes(kind) ? (`appointment_${kind}` as TextKey) : null;
}

/** The form's fields for a saved lead's appointment (empty when it has none). */
export function appointmentDraft(saved: Lead | null | undefined): LeadDraft {
  const found = asAppointment(saved?.appointment);
  const [date, time] = found ? found.at.split("T") : ["", ""];
  return {
    appointment_kind: found?.kind ?? "",
    appointment_date: date ?? "",
    appointment_time: time ?? "",
    appointment_notes: found?.notes ?? "",
  };
}

/** The appointment to send; null for none; "incomplete" when a kind lacks its day or time. */
export function appointmentPayload(d: LeadDraft): Appointment | null | "incomplete" {
  const s = (key: string) => String(d[key] ?? "").trim();
  if (!s("appointment_kind")) return null;
  if (!s("appointment_date") || !s("appointment_time")) return "incomplete";
  const notes = s("appointment_notes");
  return {
    kind: s("appointment_kind"),
    at: `${s("appointment_date")}T${s("appointment_time").slice(0, 5)}`,
    ...(notes ? { notes } : {}),
  };
}

/** The hub's refusal of an appointment ("lead.appointment.at: ... is on a Sunday ..."),
 * said as such in the console's language with the hub's reason; other errors as they came. */
export function appointmentError(t: (key: TextKey) => string, message: string): string {
  return message.startsWith("lead.appointment") ? `${t("appointment_refused")}: ${message}` : message;
}

/** The lead form's fieldset: kind, day, time (the dealer's), notes. */
export function AppointmentFields(props: { d: LeadDraft; set: (changes: LeadDraft) => void }) {
  const t = useT();
  const { d, set } = props;
  const chosen = String(d.appointment_kind ?? "");
  return (
    <fieldset class="span" data-testid="appointment-fields">
      <legend>{t("appointment")}</legend>
      <label>
        {t("appointment_kind")}
        <select name="appointment_kind" value={chosen} onChange={(e) => set({ appointment_kind: (e.target as HTMLSelectElement).value })}>
          <option value="">{t("appointment_none")}</option>
          {APPOINTMENT_KINDS.map((kind) => (
            <option key={kind} value={kind}>
              {t(`appointment_${kind}` as TextKey)}
            </option>
          ))}
        </select>
      </label>
      {chosen ? (
        <>
          <Field label={t("appointment_date")} name="appointment_date" type="date" value={String(d.appointment_date ?? "")} onValue={(v) => set({ appointment_date: v })} />
          <Field label={t("appointment_time")} name="appointment_time" type="time" value={String(d.appointment_time ?? "")} onValue={(v) => set({ appointment_time: v })} />
          <Field label={t("appointment_notes")} name="appointment_notes" dir="auto" value={String(d.appointment_notes ?? "")} onValue={(v) => set({ appointment_notes: v })} />
        </>
      ) : null}
    </fieldset>
  );
}

/** "sáb, 28 nov 2026, 10:00 · la roja": the dealer's local time as the lead has it (read
 * as a wall-clock time, never shifted to the agent's zone), and the notes. */
function appointmentText(lang: UiLang, found: Appointment): string {
  const [date, time] = found.at.split("T");
  const [y, m, day] = (date ?? "").split("-").map(Number);
  const [hh, mm] = (time ?? "").split(":").map(Number);
  const wall = new Date(Date.UTC(y, (m ?? 1) - 1, day, hh, mm));
  const said = Number.isNaN(wall.getTime())
    ? found.at
    : wall.toLocaleString(locale(lang), { timeZone: "UTC", weekday: "short", day: "numeric", month: "short", year: "numeric", hour: "numeric", minute: "2-digit" });
  return [said, found.notes].filter(Boolean).join(" · ");
}

/** The summary's line: the kind as a word, then when. */
export function AppointmentLine(props: { value: unknown }) {
  const t = useT();
  const lang = useLang();
  const found = asAppointment(props.value);
  if (!found) return null;
  const key = kindKey(found.kind);
  return (
    <>
      <dt>{t("appointment")}</dt>
      <dd dir="auto" data-field="appointment">
        {`${key ? t(key) : found.kind} · ${appointmentText(lang, found)}`}
      </dd>
    </>
  );
}
