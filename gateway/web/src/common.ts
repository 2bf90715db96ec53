// What every page shares: the tab's token, JSON calls, SSE over fetch, DOM building.

export const TOKEN_KEY = "atelier.token";

export function getToken(): string | null {
  try {
    return sessionStorage.getItem(TOKEN_KEY);
  } catch {
    return null; // storage disabled: behave as signed out
  }
}

export function setToken(token: string): void {
  sessionStorage.setItem(TOKEN_KEY, token);
}

export function clearToken(): void {
  sessionStorage.removeItem(TOKEN_KEY);
}

/** The page's server-side configuration (a JSON data block; never executed). */
export function pageConfig<T>(): T {
  const node = document.getElementById("atelier-config");
  return JSON.parse(node?.textContent || "{}") as T;
}

export class ApiError extends Error {
  constructor(
    readonly status: number,
    message: string,
    readonly body: unknown,
  ) {
    super(message);
  }
}

type Json = Record<string, unknown>;

export interface CallOptions {
  method?: string;
  json?: unknown;
  body?: BodyInit;
  accept?: string;
  signal?: AbortSignal;
}

function headers(options: CallOptions): Headers {
  const out = new Headers();
  const token = getToken();
  if (token) out.set("Authorization", `Bearer ${token}`);
  if (options.json !== undefined) out.set("Content-Type", "application/json");
  if (options.accept) out.set("Accept", options.accept);
  return out;
}

function errorText(status: number, body: unknown): string {
  const error = (body as Json | null)?.error;
  if (typeof error === "string") return error;
  return `HTTP ${status}`;
}

/** A fetch with the tab's bearer token; non-2xx answers throw ApiError (with the body). */
export async function call(path: string, options: CallOptions = {}): Promise<Response> {
  const response = await fetch(path, {
    method: options.method ?? (options.json !== undefined || options.body ? "POST" : "GET"),
    headers: headers(options),
    body: options.json !== undefined ? JSON.stringify(options.json) : options.body,
    signal: options.signal,
  });
  if (!response.ok) {
    let body: unknown = null;
    try {
      body = await response.json();
    } catch {
      body = null;
    }
    throw new ApiError(response.status, errorText(response.status, body), body);
  }
  return response;
}

export async function api<T = Json>(path: string, options: CallOptions = {}): Promise<T> {
  const response = await call(path, options);
  return (await response.json()) as T;
}

export interface SseEvent {
  event: string;
  id: string | null;
  data: string;
}

/** Server-Sent Events read from a fetch body (EventSource cannot send Authorization). */
export async function* readSse(response: Response): AsyncGenerator<SseEvent> {
  if (!response.body) return;
  const reader = response.body.pipeThrough(new TextDecoderStream()).getReader();
  let buffer = "";
  let event = "message";
  let id: string | null = null;
  let data: string[] = [];
  try {
    for (;;) {
      const { value, done } = await reader.read();
      if (done) return;
      buffer += value;
      let newline: number;
      while ((newline = buffer.search(/\r\n|\r|\n/)) >= 0) {
        const line = buffer.slice(0, newline);
        buffer = buffer.slice(newline + (buffer.startsWith("\r\n", newline) ? 2 : 1));
        if (line === "") {
          if (data.length) yield { event, id, data: data.join("\n") };
          event = "message";
          id = null;
          data = [];
        } else if (!line.startsWith(":")) {
          const colon = line.indexOf(":");
          const field = colon < 0 ? line : line.slice(0, colon);
          const raw = colon < 0 ? "" : line.slice(colon + 1).replace(/^ /, "");
          if (field === "event") event = raw;
          else if (field === "data") data.push(raw);
          else if (field === "id") id = raw;
        }
      }
    }
  } finally {
    reader.releaseLock();
  }
}

type Child = Node | string | number | null | undefined | false;
type Attrs = Record<string, string | number | boolean | null | undefined | EventListener>;

/** An element with attributes, listeners (``on*``) and children; text is never parsed as HTML. */
export function h(tag: string, attrs: Attrs = {}, ...children: Child[]): HTMLElement {
  const el = document.createElement(tag);
  for (const [key, value] of Object.entries(attrs)) {
    if (value === null || value === undefined || value === false) continue;
    if (typeof value === "function") el.addEventListener(key.slice(2).toLowerCase(), value);
    else if (key === "text") el.textContent = String(value);
    else if (key === "value" && "value" in el) (el as HTMLInputElement).value = String(value);
    else el.setAttribute(key, value === true ? "" : String(value));
  }
  append(el, ...children);
  return el;
}

export function append(el: Element, ...children: Child[]): void {
  for (const child of children) {
    if (child === null || child === undefined || child === false) continue;
    el.append(typeof child === "number" ? String(child) : child);
  }
}

export function byId<T extends HTMLElement = HTMLElement>(id: string): T {
  const el = document.getElementById(id);
  if (!el) throw new Error(`missing #${id}`);
  return el as T;
}

/** Replace ``el``'s children. */
export function fill(el: Element, ...children: Child[]): void {
  el.replaceChildren();
  append(el, ...children);
}

export function signInUrl(): string {
  return `/signin?next=${encodeURIComponent(location.pathname + location.search)}`;
}

/** A clear notice in ``main``: not signed in, token refused, or another user's record. */
export function notice(title: string, detail: string, withSignIn: boolean): HTMLElement {
  return h(
    "section",
    { class: "notice", role: "alert" },
    h("h2", { text: title }),
    h("p", { text: detail }),
    withSignIn ? h("p", {}, h("a", { href: signInUrl(), class: "button" }, "Sign in with a token")) : null,
  );
}

/** The notice for an API error, or null when it is not about who the caller is. */
export function authNotice(error: unknown, what: string): HTMLElement | null {
  if (!(error instanceof ApiError)) return null;
  if (error.status === 401) {
    return notice(
      getToken() ? "Your token was refused" : "You are not signed in",
      getToken()
        ? `The server refused the token kept for this tab (${error.message}). Sign in again with a fresh one.`
        : `Opening this ${what} needs a bearer token. Mint one with \`atelier token --user <you> --link\`.`,
      true,
    );
  }
  if (error.status === 403) {
    return notice(
      "Not yours",
      `This ${what} belongs to another user; the token kept for this tab cannot open it.`,
      true,
    );
  }
  if (error.status === 404) return notice("Not found", `There is no such ${what}.`, false);
  return null;
}

/** The header's "who is signed in" line. */
export async function showUser(slot: HTMLElement): Promise<string | null> {
  if (!getToken()) {
    fill(slot, h("a", { href: signInUrl() }, "Sign in"));
    return null;
  }
  try {
    const me = await api<{ user: string }>("/api/me");
    fill(
      slot,
      h("span", { text: `Signed in as ${me.user}` }),
      " ",
      h("button", { type: "button", class: "link", onclick: () => (clearToken(), location.reload()) }, "Sign out"),
    );
    return me.user;
  } catch (error) {
    fill(slot, h("a", { href: signInUrl() }, "Token refused: sign in again"));
    return null;
  }
}

export function wsUrl(): string {
  return `${location.protocol === "https:" ? "wss" : "ws"}://${location.host}/ws`;
}

export function formatTime(iso: unknown): string {
  if (typeof iso !== "string") return "";
  const at = new Date(iso);
  return Number.isNaN(at.getTime()) ? iso : at.toLocaleString();
}

export function errorMessage(error: unknown): string {
  return error instanceof Error ? error.message : String(error);
}

/** Show a passing status line in a live region. */
export function status(slot: HTMLElement, text: string, kind: "info" | "error" = "info"): void {
  slot.textContent = text;
  slot.dataset.kind = kind;
}
