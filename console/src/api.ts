/**
 * The console's one way to the API: same origin, the analyst's bearer token
 * (kept in sessionStorage, so it dies with the tab) in the Authorization
 * header, never in a URL. Problems (RFC 9457) become ApiError with the
 * server's detail.
 */

const TOKEN_KEY = 'chainsight.token';

export function getToken(): string | null {
  return sessionStorage.getItem(TOKEN_KEY);
}

export function setToken(token: string | null): void {
  if (token === null) sessionStorage.removeItem(TOKEN_KEY);
  else sessionStorage.setItem(TOKEN_KEY, token);
  // A new token gets a chance: the views load again and the server judges it.
  authRequired = false;
  authListeners.forEach((l) => l());
}

const authListeners = new Set<() => void>();
/** Called when the token changes or the server refuses it. */
export function onAuthChange(listener: () => void): () => void {
  authListeners.add(listener);
  return () => authListeners.delete(listener);
}

export class ApiError extends Error {
  constructor(readonly status: number, readonly type: string, detail: string) {
    super(detail);
  }
}

/** The server wants a (valid) token: the app shows the sign-in form. */
export class AuthRequired extends ApiError {}

let authRequired = false;
export function needsSignIn(): boolean {
  return authRequired;
}

export async function request<T>(path: string, init: { method?: 'GET' | 'POST'; body?: unknown; signal?: AbortSignal } = {}): Promise<T> {
  const headers: Record<string, string> = { accept: 'application/json' };
  const token = getToken();
  if (token) headers.authorization = `Bearer ${token}`;
  if (init.body !== undefined) headers['content-type'] = 'application/json';
  const res = await fetch(path, {
    method: init.method ?? 'GET',
    headers,
    credentials: 'omit',
    cache: 'no-store',
    ...(init.body !== undefined ? { body: JSON.stringify(init.body) } : {}),
    ...(init.signal ? { signal: init.signal } : {}),
  });
  const text = await res.text();
  let body: unknown = undefined;
  try {
    body = text ? JSON.parse(text) : undefined;
  } catch {
    body = undefined;
  }
  if (!res.ok) {
    const p = (body ?? {}) as { type?: string; detail?: string };
    const detail = p.detail ?? `${res.status} ${res.statusText}`;
    if (res.status === 401) {
      authRequired = true;
      authListeners.forEach((l) => l());
      throw new AuthRequired(401, p.type ?? '', detail);
    }
    throw new ApiError(res.status, p.type ?? '', detail);
  }
  if (authRequired) {
    authRequired = false;
    authListeners.forEach((l) => l());
  }
  return body as T;
}

/** A query string from the set fields only. */
export function query(params: Record<string, string | number | undefined | null>): string {
  const q = new URLSearchParams();
  for (const [k, v] of Object.entries(params)) if (v !== undefined && v !== null && v !== '') q.set(k, String(v));
  const s = q.toString();
  return s ? `?${s}` : '';
}

export const enc = encodeURIComponent;
