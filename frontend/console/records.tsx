// What chats leave behind: leads (with their deliveries to the dealer's CRM), in words. A
// lead's summary is also the chat's lead panel, the supervisor's and a ticket's. Tickets
// are worked in ./tickets.

import { useEffect, useState } from "preact/hooks";
import { api, type ApiError } from "./api";
import { AppointmentLine } from "./appointment";
import type { Floor, FloorState } from "./floor";
import type { Delivery, Lead } from "./model";
import { Contact, Email, ErrorLine, Phone, useLang, useT } from "./ui";
import { carText, plain, when, word, yesNo } from "./words";

function present(value: unknown): boolean {
  return value !== undefined && value !== null && value !== "";
}

function fullName(lead: Lead): string {
  return [lead.first_name, lead.last_name].filter(present).join(" ");
}

/** A saved lead as words: what they want, which vehicle, the trade-in, when. */
export function LeadSummary(props: { lead: Lead }) {
  const t = useT();
  const lang = useLang();
  const { lead } = props;
  const name = fullName(lead);
  return (
    <dl class="lead-summary" data-testid="lead-summary">
      {name ? (
        <>
          <dt>{t("name")}</dt>
          <dd dir="auto">{name}</dd>
        </>
      ) : null}
      {present(lead.phone) ? (
        <>
          <dt>{t("phone")}</dt>
          <dd>
            <Phone value={lead.phone} />
          </dd>
        </>
      ) : null}
      {present(lead.email) ? (
        <>
          <dt>{t("email")}</dt>
          <dd>
            <Email value={lead.email} />
          </dd>
        </>
      ) : null}
      <dt>{t("interest")}</dt>
      <dd data-field="interest">{word(lang, "interest", lead.interest)}</dd>
      {present(lead.vehicle) ? (
        <>
          <dt>{t("vehicle")}</dt>
          <dd dir="auto" data-field="vehicle">
            {carText(lang, lead.vehicle)}
          </dd>
        </>
      ) : null}
      {present(lead.trade_in) ? (
        <>
          <dt>{t("trade_in")}</dt>
          <dd dir="auto" data-field="trade_in">
            {carText(lang, lead.trade_in)}
          </dd>
        </>
      ) : null}
      {present(lead.timeframe) ? (
        <>
          <dt>{t("timeframe")}</dt>
          <dd dir="auto" data-field="timeframe">
            {word(lang, "timeframe", lead.timeframe)}
          </dd>
        </>
      ) : null}
      <AppointmentLine value={lead.appointment} />
      <dt>{t("qualified")}</dt>
      <dd data-field="qualified">{yesNo(lang, lead.qualified !== false)}</dd>
      {present(lead.source) ? (
        <>
          <dt>{t("source")}</dt>
          <dd data-field="source">{word(lang, "source", lead.source)}</dd>
        </>
      ) : null}
      {present(lead.notes) ? (
        <>
          <dt>{t("notes")}</dt>
          <dd dir="auto">{plain(lang, lead.notes)}</dd>
        </>
      ) : null}
    </dl>
  );
}

export function DeliveryList(props: { deliveries: Delivery[] | undefined }) {
  const t = useT();
  const lang = useLang();
  const deliveries = props.deliveries ?? [];
  if (deliveries.length === 0) return <span class="muted">{t("no_deliveries")}</span>;
  return (
    <ul class="deliveries">
      {deliveries.map((d) => (
        <li key={d.id} class={`delivery ${d.status}`} title={d.last_error ?? undefined}>
          {word(lang, "destination", d.destination)}: {word(lang, "delivery_status", d.status)}
          {d.attempts > 1 ? <span class="muted"> ({`${d.attempts} ${t("attempts")}`})</span> : null}
        </li>
      ))}
    </ul>
  );
}

/** Load a list from the hub; `again` reloads it. */
function useRecords<T>(floor: Floor, path: string, key: string, again: unknown): [T[] | null, string | null, () => void] {
  const [items, setItems] = useState<T[] | null>(null);
  const [error, setError] = useState<string | null>(null);
  const load = () => {
    api<Record<string, T[]>>("GET", path, floor.token)
      .then((body) => {
        setItems(body[key] ?? []);
        setError(null);
      })
      .catch((err: ApiError) => setError(err.message));
  };
  useEffect(load, [path, again]);
  return [items, error, load];
}

function ListHeader(props: { title: string; count: number | null; onRefresh: () => void }) {
  const t = useT();
  return (
    <header class="records-header">
      <h2>
        {props.title} {props.count === null ? null : <span class="count">{props.count}</span>}
      </h2>
      <button type="button" onClick={props.onRefresh} data-action="refresh">
        {t("refresh")}
      </button>
    </header>
  );
}

export function LeadsView(props: { floor: Floor; state: FloorState }) {
  const t = useT();
  const lang = useLang();
  // a lead saved on the floor (lead_saved) reloads the list
  const [leads, error, reload] = useRecords<Lead>(props.floor, "/api/leads", "leads", props.state.leads);
  return (
    <section class="records" data-testid="leads">
      <ListHeader title={t("view_leads")} count={leads?.length ?? null} onRefresh={reload} />
      <ErrorLine message={error} />
      {leads && leads.length === 0 ? <p class="muted">{t("leads_empty")}</p> : null}
      <table class="list">
        <thead>
          <tr>
            <th>{t("date")}</th>
            <th>{t("name")}</th>
            <th>{t("interest")}</th>
            <th>{t("vehicle")}</th>
            <th>{t("trade_in")}</th>
            <th>{t("timeframe")}</th>
            <th>{t("qualified")}</th>
            <th>{t("source")}</th>
            <th>{t("deliveries")}</th>
          </tr>
        </thead>
        <tbody>
          {(leads ?? []).map((lead) => (
            <tr key={lead.id} data-lead-id={lead.id} data-chat-id={lead.chat_id}>
              <td>{when(lang, lead.created_at)}</td>
              <td>
                <span dir="auto">{fullName(lead) || "—"}</span>
                <small class="muted contact">
                  <Contact phone={present(lead.phone) ? lead.phone : null} email={present(lead.email) ? lead.email : null} />
                </small>
              </td>
              <td data-field="interest">{word(lang, "interest", lead.interest)}</td>
              <td dir="auto" data-field="vehicle">
                {carText(lang, lead.vehicle)}
              </td>
              <td dir="auto" data-field="trade_in">
                {carText(lang, lead.trade_in)}
              </td>
              <td dir="auto" data-field="timeframe">
                {word(lang, "timeframe", lead.timeframe)}
              </td>
              <td data-field="qualified">{yesNo(lang, lead.qualified !== false)}</td>
              <td data-field="source">{word(lang, "source", lead.source)}</td>
              <td data-field="deliveries">
                <DeliveryList deliveries={lead.deliveries} />
              </td>
            </tr>
          ))}
        </tbody>
      </table>
    </section>
  );
}
