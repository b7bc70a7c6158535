// Invoices: the provider's view across tenants (the admin token or an operator's) and a
// tenant admin's own. A line's amounts are shown as the API gives them, never recomputed.

import { useEffect, useState } from "preact/hooks";
import { api, type ApiError } from "./api";
import type { TextKey } from "./i18n";
import { IncidentsView } from "./incidents";
import { ProviderAuditView } from "./operator";
import { ErrorLine, useLang, useT } from "./ui";

interface InvoiceLine {
  kind: string;
  description: string;
  description_en: string;
  quantity: number | null;
  unit_price: string | null;
  amount: string;
}

export interface Invoice {
  id: string;
  number: string;
  kind: string;
  tenant_id: string;
  tenant_name?: string;
  period: string;
  issued_on: string;
  due_on: string;
  status: "issued" | "paid" | "overdue" | "void";
  disputed: boolean;
  subtotal: string;
  taxable_base: string;
  tax: string;
  total: string;
  paid: string;
  balance_due: string;
  lines: InvoiceLine[];
}

const PROVIDER_KEY = "charla.provider_token";

export function loadProviderToken(): string | null {
  return sessionStorage.getItem(PROVIDER_KEY);
}

export function saveProviderToken(token: string | null): void {
  if (token) sessionStorage.setItem(PROVIDER_KEY, token);
  else sessionStorage.removeItem(PROVIDER_KEY);
}

function money(value: string): string {
  const negative = value.startsWith("-");
  const [whole, cents] = value.replace("-", "").split(".");
  const grouped = whole.replace(/\B(?=(\d{3})+(?!\d))/g, ",");
  return `${negative ? "-" : ""}$${grouped}.${cents}`;
}

/** Fetch a document with the token and hand it to the browser as a file. */
async function download(path: string, token: string, accept: string, name: string): Promise<void> {
  const response = await fetch(path, { headers: { Authorization: `Bearer ${token}`, Accept: accept } });
  if (!response.ok) throw new Error(`${response.status}`);
  const url = URL.createObjectURL(await response.blob());
  const link = document.createElement("a");
  link.href = url;
  link.download = name;
  link.click();
  setTimeout(() => URL.revokeObjectURL(url), 10_000);
}

export function BillingView(props: { token: string; provider: boolean }) {
  const t = useT();
  const [invoices, setInvoices] = useState<Invoice[] | null>(null);
  const [period, setPeriod] = useState("");
  const [open, setOpen] = useState<Invoice | null>(null);
  const [error, setError] = useState<string | null>(null);
  const base = props.provider ? "/api/admin/invoices" : "/api/invoices";

  useEffect(() => {
    const query = props.provider && period ? `?period=${period}` : "";
    api<{ invoices: Invoice[] }>("GET", `${base}${query}`, props.token)
      .then((body) => {
        setInvoices(body.invoices);
        setError(null);
      })
      .catch((err: ApiError) => setError(err.message));
  }, [props.token, period]);

  const show = async (invoice: Invoice) => {
    try {
      setOpen(await api<Invoice>("GET", `${base}/${invoice.id}`, props.token));
    } catch (err) {
      setError((err as ApiError).message);
    }
  };
  const fetchFile = (invoice: Invoice, kind: "pdf" | "html") => {
    const accept = kind === "pdf" ? "application/pdf" : "text/html";
    download(`${base}/${invoice.id}`, props.token, accept, `${invoice.number}.${kind}`).catch((err: Error) =>
      setError(err.message),
    );
  };

  if (open) return <InvoiceDetail invoice={open} onBack={() => setOpen(null)} onFile={(k) => fetchFile(open, k)} />;
  const periods = Array.from(new Set((invoices ?? []).map((i) => i.period))).sort().reverse();
  return (
    <section class="billing" data-testid="billing">
      <h2>{t("billing_title")}</h2>
      {props.provider ? (
        <label>
          {t("billing_period")}
          <select name="period" value={period} onChange={(e) => setPeriod((e.target as HTMLSelectElement).value)}>
            <option value="">{t("billing_all_periods")}</option>
            {periods.map((p) => (
              <option key={p} value={p}>
                {p}
              </option>
            ))}
          </select>
        </label>
      ) : null}
      <ErrorLine message={error} />
      {invoices && invoices.length === 0 ? <p>{t("billing_none")}</p> : null}
      {invoices && invoices.length > 0 ? (
        <table class="invoices">
          <thead>
            <tr>
              <th>{t("billing_number")}</th>
              {props.provider ? <th>{t("billing_tenant")}</th> : null}
              <th>{t("billing_period")}</th>
              <th>{t("billing_status")}</th>
              <th>{t("billing_due")}</th>
              <th class="n">{t("billing_total")}</th>
              <th />
            </tr>
          </thead>
          <tbody>
            {invoices.map((invoice) => (
              <tr key={invoice.id} data-invoice={invoice.number}>
                <td>{invoice.number}</td>
                {props.provider ? <td dir="auto">{invoice.tenant_name ?? invoice.tenant_id}</td> : null}
                <td>{invoice.period}</td>
                <td data-field="status">
                  <StatusWord invoice={invoice} />
                </td>
                <td>{invoice.due_on}</td>
                <td class="n" data-field="total">
                  {money(invoice.total)}
                </td>
                <td class="actions">
                  <button type="button" data-action="open-invoice" onClick={() => void show(invoice)}>
                    {t("billing_open")}
                  </button>
                  <button type="button" data-action="pdf" onClick={() => fetchFile(invoice, "pdf")}>
                    {t("billing_pdf")}
                  </button>
                  <button type="button" data-action="html" onClick={() => fetchFile(invoice, "html")}>
                    {t("billing_html")}
                  </button>
                </td>
              </tr>
            ))}
          </tbody>
        </table>
      ) : null}
    </section>
  );
}

function StatusWord(props: { invoice: Invoice }) {
  const t = useT();
  const key = `billing_status_${props.invoice.status}` as TextKey;
  return (
    <span class={`invoice-status ${props.invoice.status}`}>
      {t(key)}
      {props.invoice.disputed ? ` · ${t("billing_disputed")}` : ""}
    </span>
  );
}

function InvoiceDetail(props: { invoice: Invoice; onBack: () => void; onFile: (kind: "pdf" | "html") => void }) {
  const t = useT();
  const lang = useLang();
  const { invoice } = props;
  return (
    <section class="invoice" data-testid="invoice">
      <button type="button" onClick={props.onBack} data-action="back">
        {t("billing_back")}
      </button>
      <h2>
        {invoice.number} · {invoice.period}
      </h2>
      <p>
        <StatusWord invoice={invoice} /> · {t("billing_due")} {invoice.due_on}{" "}
        <button type="button" onClick={() => props.onFile("pdf")}>
          {t("billing_pdf")}
        </button>
        <button type="button" onClick={() => props.onFile("html")}>
          {t("billing_html")}
        </button>
      </p>
      <table class="invoice-lines">
        <thead>
          <tr>
            <th>{t("billing_description")}</th>
            <th class="n">{t("billing_quantity")}</th>
            <th class="n">{t("billing_unit_price")}</th>
            <th class="n">{t("billing_amount")}</th>
          </tr>
        </thead>
        <tbody>
          {invoice.lines.map((line, index) => (
            <tr key={index} data-kind={line.kind}>
              <td data-field="description">{lang === "es" ? line.description : line.description_en}</td>
              <td class="n">{line.quantity ?? ""}</td>
              <td class="n">{line.unit_price === null ? "" : money(line.unit_price)}</td>
              <td class="n" data-field="amount" data-amount={line.amount}>
                {money(line.amount)}
              </td>
            </tr>
          ))}
        </tbody>
        <tfoot>
          {(
            [
              ["billing_subtotal", invoice.subtotal],
              ["billing_taxable_base", invoice.taxable_base],
              ["billing_tax", invoice.tax],
              ["billing_total", invoice.total],
              ["billing_paid", invoice.paid],
              ["billing_balance_due", invoice.balance_due],
            ] as [TextKey, string][]
          ).map(([key, value]) => (
            <tr key={key} data-total={key}>
              <th colSpan={3}>{t(key)}</th>
              <td class="n">{money(value)}</td>
            </tr>
          ))}
        </tfoot>
      </table>
    </section>
  );
}

/** The provider's page: a token (CHARLA_ADMIN_TOKEN or an operator's), then the invoices. */
export function ProviderApp(props: { token: string; onEnd: () => void }) {
  const t = useT();
  const [view, setView] = useState<"billing" | "incidents" | "audit">("billing");
  const words = { billing: "view_billing", incidents: "view_incidents", audit: "view_provider_audit" } as const;
  return (
    <div class="app">
      <header class="topbar">
        <strong class="brand">{t("provider_title")}</strong>
        <nav class="views">
          {(["billing", "incidents", "audit"] as const).map((v) => (
            <button key={v} type="button" class={view === v ? "active" : ""} onClick={() => setView(v)} data-view={v}>
              {t(words[v])}
            </button>
          ))}
        </nav>
        <button type="button" onClick={props.onEnd} data-action="logout">
          {t("sign_out")}
        </button>
      </header>
      <main>
        {view === "billing" ? <BillingView token={props.token} provider /> : null}
        {view === "incidents" ? <IncidentsView token={props.token} /> : null}
        {view === "audit" ? <ProviderAuditView token={props.token} /> : null}
      </main>
    </div>
  );
}

export function ProviderLogin(props: { onToken: (token: string) => void }) {
  const t = useT();
  const [token, setToken] = useState("");
  const [error, setError] = useState<string | null>(null);
  const submit = async (e: Event) => {
    e.preventDefault();
    try {
      await api("GET", "/api/admin/invoices", token.trim());
      props.onToken(token.trim());
    } catch (err) {
      setError((err as ApiError).message);
    }
  };
  return (
    <form onSubmit={submit} data-testid="provider-login">
      <h2>{t("provider_sign_in")}</h2>
      <label>
        {t("provider_token")}
        <input name="token" type="password" autoComplete="off" required value={token} onInput={(e) => setToken((e.target as HTMLInputElement).value)} />
      </label>
      <ErrorLine message={error} />
      <button type="submit" class="primary">
        {t("sign_in")}
      </button>
    </form>
  );
}
