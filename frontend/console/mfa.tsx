// Two-factor authentication at sign-in: the code step, and the enrolment a role that
// requires a factor goes through (QR code, confirm a code, recovery codes shown once).

import { useEffect, useState } from "preact/hooks";
import { api, ApiError, type Me, type Session } from "./api";
import { ErrorLine, useT } from "./ui";

interface Enrolment {
  secret: string;
  otpauth_uri: string;
  qr_svg: string;
}

interface Confirmed {
  token: string;
  agent: Me;
  recovery_codes: string[];
}

export function OtpField(props: { value: string; onValue: (v: string) => void }) {
  const t = useT();
  return (
    <label>
      {t("otp")}
      <input
        name="otp"
        inputMode="numeric"
        autoComplete="one-time-code"
        required
        maxLength={32}
        value={props.value}
        onInput={(e) => props.onValue((e.target as HTMLInputElement).value)}
      />
    </label>
  );
}

/** What confirming an enrolment gives: a token and the recovery codes (shown once). */
interface Codes {
  token: string;
  recovery_codes: string[];
}

/** The enrolment an agent goes through when their role requires a factor they lack. */
export function Enrol(props: { token: string; onDone: (s: Session) => void }) {
  return <EnrolFactor<Confirmed> token={props.token} path="/api/mfa" onDone={(c) => props.onDone({ token: c.token, agent: c.agent })} />;
}

/** The enrolment at `path` (/api/mfa for agents, /api/operator/mfa for the provider's
 * operators): QR code, confirm a code, then the recovery codes until "continue". */
export function EnrolFactor<C extends Codes>(props: { token: string; path: string; onDone: (confirmed: C) => void }) {
  const t = useT();
  const [enrolment, setEnrolment] = useState<Enrolment | null>(null);
  const [otp, setOtp] = useState("");
  const [error, setError] = useState<string | null>(null);
  const [done, setDone] = useState<C | null>(null);
  useEffect(() => {
    api<Enrolment>("POST", `${props.path}/enroll`, props.token)
      .then(setEnrolment)
      .catch((err: ApiError) => setError(err.message));
  }, [props.token, props.path]);

  const confirm = async (e: Event) => {
    e.preventDefault();
    try {
      setDone(await api<C>("POST", `${props.path}/confirm`, props.token, { otp: otp.trim() }));
      setError(null);
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
        <button type="button" class="primary" onClick={() => props.onDone(done)}>
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
          {/* the hub draws the QR code (segno): no third party sees the secret */}
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
