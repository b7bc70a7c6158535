// The provider's operators in the console: their sign-in (e-mail, password and the code of
// their authenticator, or the enrolment an operator without a factor goes through), and
// their view of the audit log (GET /api/audit): the provider's own events, or any tenant's,
// by dates (the tenant's days; the provider's in UTC), by kind of action, a page at a time.
// Never message text: the hub keeps none in an event, and this page shows actions in words.

import { useEffect, useState } from "preact/hooks";
import { api, ApiError } from "./api";
import { actionWords, AuditEvents, AUDIT_KINDS, AuditRange, dayIn, useAuditPages, type AuditEvent } from "./audit";
import type { TextKey } from "./i18n";
import { EnrolFactor } from "./mfa";
import { type SignedIn, useSignIn } from "./signin";
import { TenantOptions } from "./incidents";
import { ErrorLine, useT } from "./ui";

/** Sign-in of an operator: the token their login (or enrolment) gives goes to `onToken`. */
export function OperatorSignIn(props: { onToken: (token: string) => void }) {
  const t = useT();
  const { submit, enrolToken, fields } = useSignIn<SignedIn>("/api/operator/login", (body) => props.onToken(body.token));
  // an operator always needs a factor: the enrolment their first sign-in leads to
  if (enrolToken) return <EnrolFactor token={enrolToken} path="/api/operator/mfa" onDone={(c) => props.onToken(c.token)} />;
  return (
    <form onSubmit={submit} data-testid="operator-login">
      <h2>{t("operator_sign_in")}</h2>
      {fields}
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

export function ProviderAuditView(props: { token: string }) {
  const t = useT();
  const [tenants, setTenants] = useState<Tenant[]>([]);
  const [operators, setOperators] = useState<Map<string, string>>(new Map());
  const [agents, setAgents] = useState<Map<string, string>>(new Map());
  const [tenantId, setTenantId] = useState("");
  const [kind, setKind] = useState("");
  const [from, setFrom] = useState(() => dayIn("UTC", new Date(Date.now() - 7 * 86_400_000)));
  const [to, setTo] = useState(() => dayIn("UTC", new Date()));
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

  const { events, cursor, load } = useAuditPages(props.token, { from, to, kind, tenantId }, setError);
  useEffect(() => {
    void load(null);
  }, [props.token, tenantId, kind, from, to]);

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
      <AuditRange kinds={AUDIT_KINDS} kind={kind} setKind={setKind} from={from} setFrom={setFrom} to={to} setTo={setTo}>
        <label>
          {t("audit_scope")}
          <select name="tenant_id" value={tenantId} onChange={(e) => setTenantId((e.target as HTMLSelectElement).value)}>
            <option value="">{t("audit_scope_provider")}</option>
            <TenantOptions tenants={tenants} />
          </select>
        </label>
      </AuditRange>
      <p class="hint" data-testid="audit-zone">
        {t("audit_zone")}: {zone}
      </p>
      <ErrorLine message={error} />
      <AuditEvents events={events} zone={zone} who={who} what={what} target={(id) => names.get(id) ?? id} cursor={cursor} onOlder={() => void load(cursor)} />
    </section>
  );
}
