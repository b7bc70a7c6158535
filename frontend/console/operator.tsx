// The provider's operators in the console: their sign-in (e-mail, password and the code of
// their authenticator, or the enrolment an operator without a factor goes through), and
// their view of the audit log (GET /api/audit): the provider's own events, or any tenant's,
// by dates (the tenant's days; the provider's in UTC), by kind of action, a page at a time.
// Never message text: the hub keeps none in an event, and this page shows actions in words.

import { useEffect, useState } from "preact/hooks";
import { api, ApiError } from "./api";
import { actionWords, AUDIT_KINDS, auditQuery, type AuditEvent } from "./audit";
import type { TextKey } from "./i18n";
import { OtpField } from "./mfa";
import { ErrorLine, useLang, useT } from "./ui";

interface Enrolment {
  secret: string;
  otpauth_uri: string;
  qr_svg: string;
}

/** Sign-in of an operator: the token their login (or enrolment) gives goes to `onToken`. */
export function OperatorSignIn(props: { onToken: (token: string) => void }) {
  const t = useT();
  const [email, setEmail] = useState("");
  const [password, setPassword] = useState("");
  const [otp, setOtp] = useState<string | null>(null);
  const [enrolToken, setEnrolToken] = useState<string | null>(null);
  const [error, setError] = useState<string | null>(null);
  const [busy, setBusy] = useState(false);
  const submit = async (e: Event) => {
    e.preventDefault();
    setBusy(true);
    try {
      const body = await api<{ token: string; mfa_enrollment_required?: boolean }>(
        "POST",
        "/api/operator/login",
        null,
        otp === null ? { email, password } : { email, password, otp: otp.trim() },
      );
      if (body.mfa_enrollment_required) setEnrolToken(body.token);
      else props.onToken(body.token);
    } catch (err) {
      const failed = err as ApiError;
      if (failed.code === "mfa_required") {
        setOtp("");
        setError(null);
      } else {
        setError(failed.message);
      }
    } finally {
      setBusy(false);
    }
  };
  if (enrolToken) return <OperatorEnrol token={enrolToken} onToken={props.onToken} />;
  return (
    <form onSubmit={submit} data-testid="operator-login">
      <h2>{t("operator_sign_in")}</h2>
      <label>
        {t("email")}
        <input name="email" type="email" autoComplete="username" required value={email} onInput={(e) => setEmail((e.target as HTMLInputElement).value)} />
      </label>
      <label>
        {t("password")}
        <input
          name="password"
          type="password"
          autoComplete="current-password"
          required
          value={password}
          onInput={(e) => setPassword((e.target as HTMLInputElement).value)}
        />
      </label>
      {otp !== null ? (
        <>
          <p class="notice" data-testid="mfa-prompt">
            {t("mfa_prompt")}
          </p>
          <OtpField value={otp} onValue={setOtp} />
        </>
      ) : null}
      <ErrorLine message={error} />
      <button type="submit" class="primary" disabled={busy}>
        {t("sign_in")}
      </button>
    </form>
  );
}

/** An operator always needs a factor: the enrolment their first sign-in leads to. */
function OperatorEnrol(props: { token: string; onToken: (token: string) => void }) {
  const t = useT();
  const [enrolment, setEnrolment] = useState<Enrolment | null>(null);
  const [otp, setOtp] = useState("");
  const [error, setError] = useState<string | null>(null);
  const [done, setDone] = useState<{ token: string; recovery_codes: string[] } | null>(null);
  useEffect(() => {
    api<Enrolment>("POST", "/api/operator/mfa/enroll", props.token)
      .then(setEnrolment)
      .catch((err: ApiError) => setError(err.message));
  }, [props.token]);
  const confirm = async (e: Event) => {
    e.preventDefault();
    try {
      setDone(await api("POST", "/api/operator/mfa/confirm", props.token, { otp: otp.trim() }));
    } catch (err) {
      setError((err as ApiError).message);
    }
  };
  if (done) {
    return (
      <section class="mfa" data-testid="recovery-codes">
        <h2>{t("recovery_title")}</h2>
        <p>{t("recovery_intro")}</p>
        <ul class="codes">
          {done.recovery_codes.map((code) => (
            <li key={code}>
              <code>{code}</code>
            </li>
          ))}
        </ul>
        <button type="button" class="primary" onClick={() => props.onToken(done.token)}>
          {t("continue")}
        </button>
      </section>
    );
  }
  return (
    <form class="mfa" onSubmit={confirm} data-testid="mfa-enrol">
      <h2>{t("mfa_enrol_title")}</h2>
      <p>{t("mfa_enrol_intro")}</p>
      {enrolment ? (
        <>
          <div class="qr" data-testid="mfa-qr" dangerouslySetInnerHTML={{ __html: enrolment.qr_svg }} />
          <p>
            {t("mfa_secret")}: <code data-testid="mfa-secret">{enrolment.secret}</code>
          </p>
        </>
      ) : null}
      <OtpField value={otp} onValue={setOtp} />
      <ErrorLine message={error} />
      <button type="submit" class="primary" disabled={!enrolment}>
        {t("mfa_confirm")}
      </button>
    </form>
  );
}

interface Tenant {
  id: string;
  name: string;
  timezone: string;
}

interface Named {
  id: string;
  name: string;
}

// What only the provider's chain holds, in words (the rest as the tenant's page says it)
const PROVIDER_NAMED: Record<string, TextKey> = {
  "operator.login": "audit_operator_login",
  "operator.login_failed": "audit_operator_login_failed",
  "operator.created": "audit_operator_created",
  "operator.deactivated": "audit_operator_deactivated",
  "incident.opened": "audit_incident_opened",
  "POST /api/admin/tenants": "audit_tenant_created",
  "POST /api/admin/operators": "audit_operator_created",
};

/** A day as YYYY-MM-DD in a time zone. */
function dayIn(zone: string, at: Date): string {
  return new Intl.DateTimeFormat("en-CA", { timeZone: zone, year: "numeric", month: "2-digit", day: "2-digit" }).format(at);
}

export function ProviderAuditView(props: { token: string }) {
  const t = useT();
  const lang = useLang();
  const [tenants, setTenants] = useState<Tenant[]>([]);
  const [operators, setOperators] = useState<Map<string, string>>(new Map());
  const [agents, setAgents] = useState<Map<string, string>>(new Map());
  const [tenantId, setTenantId] = useState("");
  const [kind, setKind] = useState("");
  const [from, setFrom] = useState(() => dayIn("UTC", new Date(Date.now() - 7 * 86_400_000)));
  const [to, setTo] = useState(() => dayIn("UTC", new Date()));
  const [events, setEvents] = useState<AuditEvent[] | null>(null);
  const [cursor, setCursor] = useState<string | null>(null);
  const [error, setError] = useState<string | null>(null);
  const tenant = tenants.find((x) => x.id === tenantId);
  const zone = tenant?.timezone ?? "UTC";

  useEffect(() => {
    api<{ tenants: Tenant[] }>("GET", "/api/admin/tenants", props.token)
      .then((body) => setTenants(body.tenants))
      .catch((err: ApiError) => setError(err.message));
    api<{ operators: Named[] }>("GET", "/api/admin/operators", props.token)
      .then((body) => setOperators(new Map(body.operators.map((o) => [o.id, o.name]))))
      .catch((err: ApiError) => setError(err.message));
  }, [props.token]);

  useEffect(() => {
    setAgents(new Map());
    if (!tenantId) return;
    api<{ agents: Named[] }>("GET", `/api/admin/tenants/${tenantId}/agents`, props.token)
      .then((body) => setAgents(new Map(body.agents.map((a) => [a.id, a.name]))))
      .catch((err: ApiError) => setError(err.message));
  }, [props.token, tenantId]);

  const load = (after: string | null) =>
    api<{ events: AuditEvent[]; next_cursor?: string }>("GET", auditQuery({ from, to, kind, tenantId }, after), props.token)
      .then((body) => {
        setEvents((shown) => (after && shown ? [...shown, ...body.events] : body.events));
        setCursor(body.next_cursor ?? null);
        setError(null);
      })
      .catch((err: ApiError) => setError(err.message));
  useEffect(() => {
    void load(null);
  }, [props.token, tenantId, kind, from, to]);

  const when = new Intl.DateTimeFormat(lang === "es" ? "es-PR" : "en-US", { timeZone: zone, dateStyle: "medium", timeStyle: "medium" });
  const who = (actor: string) => {
    const [prefix, id] = actor.split(":", 2);
    if (prefix === "operator" && id) return operators.get(id) ?? t("audit_former_operator");
    if (prefix === "provider") return t("audit_admin_token");
    if (prefix === "agent" && id) return agents.get(id) ?? t("audit_former_agent");
    if (prefix === "system") return t("audit_system");
    return t("audit_anonymous");
  };
  const names = new Map<string, string>([...operators, ...agents, ...tenants.map((x): [string, string] => [x.id, x.name])]);
  const what = (event: AuditEvent) => {
    const named = PROVIDER_NAMED[event.action];
    return named ? t(named) : actionWords(t, event);
  };
  return (
    <section class="audit" data-testid="provider-audit">
      <h2>{t("audit_title")}</h2>
      <p class="hint">{t("audit_provider_hint")}</p>
      <div class="audit-range">
        <label>
          {t("audit_scope")}
          <select name="tenant_id" value={tenantId} onChange={(e) => setTenantId((e.target as HTMLSelectElement).value)}>
            <option value="">{t("audit_scope_provider")}</option>
            {tenants.map((x) => (
              <option key={x.id} value={x.id}>
                {x.name}
              </option>
            ))}
          </select>
        </label>
        <label>
          {t("audit_kind")}
          <select name="kind" value={kind} onChange={(e) => setKind((e.target as HTMLSelectElement).value)}>
            {AUDIT_KINDS.map(([key, words]) => (
              <option key={key} value={key}>
                {t(words)}
              </option>
            ))}
          </select>
        </label>
        <label>
          {t("audit_from")}
          <input type="date" name="from" value={from} onChange={(e) => setFrom((e.target as HTMLInputElement).value)} />
        </label>
        <label>
          {t("audit_to")}
          <input type="date" name="to" value={to} onChange={(e) => setTo((e.target as HTMLInputElement).value)} />
        </label>
      </div>
      <p class="hint" data-testid="audit-zone">
        {t("audit_zone")}: {zone}
      </p>
      <ErrorLine message={error} />
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
                <td dir="auto">{who(e.actor)}</td>
                <td>{what(e)}</td>
                <td dir="auto">{e.target ? names.get(e.target) ?? e.target : ""}</td>
              </tr>
            ))}
          </tbody>
        </table>
      ) : null}
      {cursor ? (
        <button type="button" onClick={() => void load(cursor)} data-action="older">
          {t("audit_older")}
        </button>
      ) : null}
    </section>
  );
}
