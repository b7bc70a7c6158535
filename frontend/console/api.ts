// HTTP calls to the hub, and what the console keeps in the browser's storage.
//
// The token lives in sessionStorage: it dies with the tab, which suits shared dealership PCs.
// Drafts live in this page's memory only, per agent and chat: they survive switching chats
// and a new login after an expired session in the same tab, not a reload, and nothing of a
// customer conversation is written to the browser's storage in plaintext.

export interface Me {
  id: string;
  name: string;
  tenant_id: string;
  role: "agent" | "supervisor" | "admin";
  languages: string[];
}

export interface Session {
  token: string;
  agent: Me;
}

export class ApiError extends Error {
  constructor(
    readonly status: number,
    readonly code: string,
    message: string,
  ) {
    super(message);
  }
}

const SESSION_KEY = "charla.session";

export function loadSession(): Session | null {
  try {
    const raw = sessionStorage.getItem(SESSION_KEY);
    return raw ? (JSON.parse(raw) as Session) : null;
  } catch {
    return null;
  }
}

export function saveSession(session: Session | null): void {
  if (session) sessionStorage.setItem(SESSION_KEY, JSON.stringify(session));
  else sessionStorage.removeItem(SESSION_KEY);
}

function draftKey(agentId: string, chatId: string): string {
  return `charla.draft.${agentId}.${chatId}`;
}

const drafts = new Map<string, string>();

export function loadDraft(agentId: string, chatId: string): string {
  return drafts.get(draftKey(agentId, chatId)) ?? "";
}

export function saveDraft(agentId: string, chatId: string, text: string): void {
  if (text) drafts.set(draftKey(agentId, chatId), text);
  else drafts.delete(draftKey(agentId, chatId));
}

/** Drafts that an earlier console kept in localStorage: removed when the console loads. */
function forgetStoredDrafts(): void {
  try {
    for (const key of Object.keys(localStorage)) {
      if (key.startsWith("charla.draft.")) localStorage.removeItem(key);
    }
  } catch {
    /* storage refused (a privacy mode): nothing was kept there either */
  }
}

forgetStoredDrafts();

let onUnauthorized: () => void = () => undefined;

export function whenUnauthorized(handler: () => void): void {
  onUnauthorized = handler;
}

export async function api<T>(
  method: string,
  path: string,
  token: string | null,
  body?: unknown,
): Promise<T> {
  const headers: Record<string, string> = {};
  if (token) headers.Authorization = `Bearer ${token}`;
  // a FormData body (a file) goes as multipart, with the boundary the browser sets
  const form = body instanceof FormData ? body : null;
  if (body !== undefined && !form) headers["Content-Type"] = "application/json";
  const response = await fetch(path, {
    method,
    headers,
    body: body === undefined ? undefined : (form ?? JSON.stringify(body)),
  });
  const text = await response.text();
  let data: unknown = null;
  try {
    data = text ? JSON.parse(text) : null;
  } catch {
    data = null;
  }
  if (!response.ok) {
    const error = (data as { error?: { code: string; message: string } } | null)?.error;
    if (response.status === 401 && token && path !== "/api/login") onUnauthorized();
    throw new ApiError(
      response.status,
      error?.code ?? "unavailable",
      error?.message ?? `${response.status} ${response.statusText}`,
    );
  }
  return data as T;
}
