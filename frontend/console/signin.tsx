// A sign-in form's working, shared by the agents' (POST /api/login) and the provider's
// operators' (POST /api/operator/login): e-mail and password, the code step when the hub
// asks for the authenticator's code (mfa_required), and the enrolment token when the hub
// says a factor must be enrolled first.

import type { ComponentChildren } from "preact";
import { useState } from "preact/hooks";
import { api, ApiError } from "./api";
import { OtpField } from "./mfa";
import { ErrorLine, useT } from "./ui";

export interface SignedIn {
  token: string;
  mfa_enrollment_required?: boolean;
}

/** The sign-in at `path`: `fields` are the form's inputs, error line and button (the caller
 * puts them in its form with `submit`); `enrolToken` is set when a factor must be enrolled. */
export function useSignIn<B extends SignedIn>(
  path: string,
  onSignedIn: (body: B) => void,
): { submit: (e: Event) => Promise<void>; enrolToken: string | null; fields: ComponentChildren } {
  const t = useT();
  const [email, setEmail] = useState("");
  const [password, setPassword] = useState("");
  const [error, setError] = useState<string | null>(null);
  const [busy, setBusy] = useState(false);
  // two-factor: the code step (null: not asked), or the enrolment a role requires
  const [otp, setOtp] = useState<string | null>(null);
  const [enrolToken, setEnrolToken] = useState<string | null>(null);
  const submit = async (e: Event) => {
    e.preventDefault();
    setBusy(true);
    try {
      const body = await api<B>("POST", path, null, otp === null ? { email, password } : { email, password, otp: otp.trim() });
      if (body.mfa_enrollment_required) setEnrolToken(body.token);
      else onSignedIn(body);
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
  const fields = (
    <>
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
    </>
  );
  return { submit, enrolToken, fields };
}
