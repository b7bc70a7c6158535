// The agent console at /console/: login, then the chats, supervisor and admin views.

import { render } from "preact";
import { useEffect, useMemo, useState } from "preact/hooks";
import { AdminView } from "./admin";
import { AuditView } from "./audit";
import { BillingView, loadProviderToken, ProviderApp, ProviderLogin, saveProviderToken } from "./billing";
import { api, ApiError, loadSession, saveSession, whenUnauthorized, type Me, type Session } from "./api";
import { ChatsView } from "./chats";
import { fileHash, FilePage, fileRoute } from "./file";
import { Floor } from "./floor";
import { HistoryView } from "./history";
import { guessLang, type TextKey, type UiLang } from "./i18n";
import { Enrol } from "./mfa";
import { useSignIn } from "./signin";
import { OnSiteView } from "./onsite";
import { OperatorSignIn } from "./operator";
import { LeadsView } from "./records";
import { ReportsView } from "./reports";
import { SupervisorView } from "./supervisor";
import { TicketsView } from "./tickets";
import { Dialog, ErrorLine, LangContext, useFloor, useT } from "./ui";

type View = "chats" | "onsite" | "history" | "leads" | "tickets" | "reports" | "supervisor" | "admin" | "billing" | "audit" | "file";

function App() {
  const [lang, setLang] = useState<UiLang>(() => guessLang(localStorage.getItem("charla.ui_lang"), navigator.language));
  const [session, setSession] = useState<Session | null>(loadSession);
  const [expired, setExpired] = useState(false);
  // the provider's billing page (/console/#/provider): a token instead of an agent's login
  const [providerToken, setProviderToken] = useState<string | null>(loadProviderToken);
  const [asProvider, setAsProvider] = useState(() => location.hash === "#/provider" || loadProviderToken() !== null);

  const changeLang = (value: UiLang) => {
    localStorage.setItem("charla.ui_lang", value);
    setLang(value);
  };
  useEffect(() => {
    document.documentElement.lang = lang;
  }, [lang]);

  const end = (wasExpired: boolean) => {
    saveSession(null);
    setSession(null);
    setExpired(wasExpired);
  };
  useEffect(() => whenUnauthorized(() => end(true)), []);

  return (
    <LangContext.Provider value={lang}>
      {asProvider ? (
        providerToken ? (
          <ProviderApp
            token={providerToken}
            onEnd={() => {
              saveProviderToken(null);
              setProviderToken(null);
              setAsProvider(false);
              location.hash = "";
            }}
          />
        ) : (
          <main class="login">
            <div class="sign-in-stack">
              <OperatorSignIn
                onToken={(token) => {
                  saveProviderToken(token);
                  setProviderToken(token);
                }}
              />
              <ProviderLogin
                onToken={(token) => {
                  saveProviderToken(token);
                  setProviderToken(token);
                }}
              />
            </div>
          </main>
        )
      ) : session ? (
        <Workspace key={session.token} session={session} lang={lang} setLang={changeLang} onEnd={end} />
      ) : (
        <Login
          expired={expired}
          lang={lang}
          setLang={changeLang}
          onLogin={(s) => {
            saveSession(s);
            setExpired(false);
            setSession(s);
          }}
        />
      )}
    </LangContext.Provider>
  );
}

function LangSwitch(props: { lang: UiLang; setLang: (l: UiLang) => void }) {
  return (
    <div class="lang-switch" role="group" aria-label="Idioma / Language">
      {(["es", "en"] as const).map((l) => (
        <button key={l} type="button" aria-pressed={props.lang === l} onClick={() => props.setLang(l)}>
          {l.toUpperCase()}
        </button>
      ))}
    </div>
  );
}

function Login(props: { expired: boolean; lang: UiLang; setLang: (l: UiLang) => void; onLogin: (s: Session) => void }) {
  const t = useT();
  const { submit, enrolToken, fields } = useSignIn<{ token: string; agent: Me; mfa_enrollment_required?: boolean }>("/api/login", (body) =>
    props.onLogin({ token: body.token, agent: body.agent }),
  );
  if (enrolToken) {
    return (
      <main class="login">
        <Enrol token={enrolToken} onDone={props.onLogin} />
      </main>
    );
  }
  return (
    <main class="login">
      <form onSubmit={submit} data-testid="login">
        <header>
          <h1>Charla</h1>
          <LangSwitch lang={props.lang} setLang={props.setLang} />
        </header>
        <h2>{t("login_title")}</h2>
        {props.expired ? (
          <p class="notice" role="status" data-testid="expired">
            {t("session_expired")}
          </p>
        ) : null}
        {fields}
      </form>
    </main>
  );
}

function Workspace(props: {
  session: Session;
  lang: UiLang;
  setLang: (l: UiLang) => void;
  onEnd: (expired: boolean) => void;
}) {
  const t = useT();
  const { session } = props;
  const floor = useMemo(() => new Floor(session.token, session.agent, () => props.onEnd(true)), [session.token]);
  const state = useFloor(floor);
  const role = session.agent.role;
  const [help, setHelp] = useState(false);
  // a CRM's link to a file (#/attachments/<id>): kept through the sign-in, shown once signed in
  const [file, setFile] = useState(() => fileRoute(location.hash));
  const [pastChat, setPastChat] = useState<string | null>(null);
  const [view, setView] = useState<View>(() => {
    if (file) return "file";
    const asked = location.hash.replace("#/", "") as View;
    if (asked === "leads" || asked === "tickets" || asked === "history" || asked === "onsite") return asked;
    if (asked === "reports" && role !== "agent") return asked;
    if (asked === "billing" && role === "admin") return asked;
    if (asked === "audit" && role === "admin") return asked;
    return asked === "admin" && role === "admin" ? "admin" : asked === "supervisor" && role !== "agent" ? "supervisor" : "chats";
  });

  useEffect(() => {
    // Right after the login click the page may still start audio; else the first click does.
    floor.unlockSound();
    // The token may have expired while the tab slept: ask before connecting.
    api("GET", "/api/me", session.token)
      .then(() => floor.start())
      .catch((err: ApiError) => {
        if (err.status !== 401) void floor.start();
      });
    const unlock = () => floor.unlockSound();
    window.addEventListener("pointerdown", unlock, { once: true });
    return () => {
      window.removeEventListener("pointerdown", unlock);
      floor.stop();
    };
  }, [floor]);

  useEffect(() => {
    location.hash = view === "file" && file ? fileHash(file) : `#/${view}`;
  }, [view, file]);

  useEffect(() => {
    // another file's link opened in this tab
    const onHash = () => {
      const asked = fileRoute(location.hash);
      if (!asked) return;
      setFile(asked);
      setView("file");
    };
    window.addEventListener("hashchange", onHash);
    return () => window.removeEventListener("hashchange", onHash);
  }, []);

  useEffect(() => {
    const onKey = (e: KeyboardEvent) => {
      // e.code, not e.key: Alt+1 types "¡" on a Mac keyboard.
      if (e.altKey && /^Digit[1-9]$/.test(e.code)) {
        e.preventDefault();
        setView("chats");
        floor.selectAt(Number(e.code.slice(5)) - 1);
      } else if (e.altKey && e.code === "KeyN") {
        e.preventDefault();
        setView("chats");
        floor.nextWaiting();
      } else if (e.altKey && e.code === "KeyH") {
        e.preventDefault();
        setHelp((shown) => !shown);
      } else if (e.ctrlKey && (e.key === "ArrowDown" || e.key === "ArrowUp")) {
        e.preventDefault();
        floor.step(e.key === "ArrowDown" ? 1 : -1);
      }
    };
    window.addEventListener("keydown", onKey);
    const onVisible = () => {
      if (document.visibilityState === "visible" && state.activeId) floor.select(state.activeId);
    };
    document.addEventListener("visibilitychange", onVisible);
    return () => {
      window.removeEventListener("keydown", onKey);
      document.removeEventListener("visibilitychange", onVisible);
    };
  }, [floor, state.activeId]);

  const logout = async () => {
    await floor.setStatus("offline");
    floor.stop();
    props.onEnd(false);
  };
  const unread = floor.unreadTotal();
  return (
    <div class="app">
      <header class="topbar">
        <strong class="brand">Charla</strong>
        <nav class="views">
          <button type="button" class={view === "chats" ? "active" : ""} onClick={() => setView("chats")} data-view="chats">
            {t("view_chats")}
            {unread > 0 ? <span class="unread">{unread}</span> : null}
          </button>
          <button type="button" class={view === "onsite" ? "active" : ""} onClick={() => setView("onsite")} data-view="onsite">
            {t("view_onsite")}
          </button>
          <button type="button" class={view === "history" ? "active" : ""} onClick={() => setView("history")} data-view="history">
            {t("view_history")}
          </button>
          <button type="button" class={view === "leads" ? "active" : ""} onClick={() => setView("leads")} data-view="leads">
            {t("view_leads")}
          </button>
          <button type="button" class={view === "tickets" ? "active" : ""} onClick={() => setView("tickets")} data-view="tickets">
            {t("view_tickets")}
          </button>
          {role !== "agent" ? (
            <button type="button" class={view === "reports" ? "active" : ""} onClick={() => setView("reports")} data-view="reports">
              {t("view_reports")}
            </button>
          ) : null}
          {role !== "agent" ? (
            <button type="button" class={view === "supervisor" ? "active" : ""} onClick={() => setView("supervisor")} data-view="supervisor">
              {t("view_supervisor")}
            </button>
          ) : null}
          {role === "admin" ? (
            <button type="button" class={view === "admin" ? "active" : ""} onClick={() => setView("admin")} data-view="admin">
              {t("view_admin")}
            </button>
          ) : null}
          {role === "admin" ? (
            <button type="button" class={view === "billing" ? "active" : ""} onClick={() => setView("billing")} data-view="billing">
              {t("view_billing")}
            </button>
          ) : null}
          {role === "admin" ? (
            <button type="button" class={view === "audit" ? "active" : ""} onClick={() => setView("audit")} data-view="audit">
              {t("view_audit")}
            </button>
          ) : null}
        </nav>
        {state.connected ? null : <span class="warn">{t("reconnecting")}</span>}
        <label class="status">
          {t("status")}
          <select
            name="status"
            class={state.status}
            disabled={!state.connected}
            value={state.status}
            onChange={(e) => void floor.setStatus((e.target as HTMLSelectElement).value)}
          >
            <option value="online">{t("online")}</option>
            <option value="away">{t("away")}</option>
            <option value="offline">{t("offline")}</option>
          </select>
        </label>
        <span class="me" dir="auto">
          {session.agent.name}
        </span>
        <LangSwitch lang={props.lang} setLang={props.setLang} />
        <button type="button" onClick={() => setHelp(true)} aria-label={t("shortcuts")} title={`${t("shortcuts")} (Alt+H)`} data-action="shortcuts">
          ?
        </button>
        <button type="button" onClick={() => void logout()} data-action="logout">
          {t("sign_out")}
        </button>
      </header>
      <main>
        {view === "chats" ? <ChatsView floor={floor} state={state} /> : null}
        {view === "onsite" ? <OnSiteView floor={floor} state={state} /> : null}
        {view === "history" ? <HistoryView floor={floor} state={state} open={pastChat} /> : null}
        {view === "leads" ? <LeadsView floor={floor} state={state} /> : null}
        {view === "tickets" ? <TicketsView floor={floor} state={state} /> : null}
        {view === "reports" ? <ReportsView floor={floor} /> : null}
        {view === "supervisor" ? <SupervisorView floor={floor} state={state} /> : null}
        {view === "admin" ? <AdminView floor={floor} /> : null}
        {view === "billing" ? <BillingView token={session.token} provider={false} /> : null}
        {view === "audit" ? <AuditView token={session.token} /> : null}
        {view === "file" && file ? (
          <FilePage
            key={file.id}
            token={session.token}
            route={file}
            onExpired={() => props.onEnd(true)}
            onChat={(chatId) => {
              setPastChat(chatId);
              setView("history");
            }}
          />
        ) : null}
      </main>
      {help ? <ShortcutsHelp onClose={() => setHelp(false)} /> : null}
    </div>
  );
}

const SHORTCUTS: [string, TextKey][] = [
  ["Alt+N", "shortcut_next"],
  ["Alt+1…9", "shortcut_tab"],
  ["Ctrl+↑ / Ctrl+↓", "shortcut_step"],
  ["/", "shortcut_canned"],
  ["Alt+W", "shortcut_close"],
  ["Ctrl+V", "shortcut_paste"],
  ["Alt+H", "shortcut_help"],
];

/** The console's keyboard shortcuts: the "?" button in the top bar, or Alt+H. */
function ShortcutsHelp(props: { onClose: () => void }) {
  const t = useT();
  return (
    <Dialog title={t("shortcuts")} onClose={props.onClose} testId="shortcuts">
      <dl class="shortcuts">
        {SHORTCUTS.map(([keys, what]) => (
          <div key={keys}>
            <dt>
              <kbd>{keys}</kbd>
            </dt>
            <dd>{t(what)}</dd>
          </div>
        ))}
      </dl>
    </Dialog>
  );
}

const root = document.getElementById("app");
if (root) render(<App />, root);
