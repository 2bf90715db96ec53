// /sessions/:id — the Bridge session's spec rendered live, styled by its themeCSS, with
// who is here (browsers' awareness states and agents' REST presence).
import { ApiError, api, authNotice, byId, errorMessage, fill, getToken, h, notice, pageConfig, showUser, status } from "./common";
import { coalesce, openDoc, type LiveDoc } from "./live";
import { renderSpec, type Spec } from "./render";

interface Config {
  sessionId: string;
}

interface State {
  spec: Spec;
  themeCSS: string;
  meta: Record<string, unknown>;
}

const COLORS = ["#6d28d9", "#0f766e", "#b45309", "#be123c", "#1d4ed8", "#4d7c0f"];

function show(state: State): void {
  byId("theme-css").textContent = state.themeCSS;
  const name = typeof state.meta.name === "string" && state.meta.name ? state.meta.name : "Untitled";
  byId("session-name").textContent = name;
  document.title = `${name} — atelier preview`;
  const revision = state.meta.revision;
  byId("session-revision").textContent = typeof revision === "number" ? `revision ${revision}` : "";
  const stage = byId("preview");
  fill(stage, renderSpec(state.spec));
}

function fromDoc(live: LiveDoc): State {
  return {
    spec: live.doc.getMap("spec").toJSON() as Spec,
    themeCSS: live.doc.getText("themeCSS").toString(),
    meta: live.doc.getMap("meta").toJSON() as Record<string, unknown>,
  };
}

function presence(live: LiveDoc): void {
  const list = byId("presence");
  const me = live.provider.awareness?.clientID;
  const states = [...(live.provider.awareness?.getStates() ?? new Map()).entries()];
  const people = states
    .filter(([, state]) => state && Object.keys(state).length)
    .map(([client, state]) => {
      const s = state as Record<string, unknown>;
      const user = (s.user ?? {}) as Record<string, unknown>;
      const name = String(s.name ?? user.name ?? s.agentId ?? `client ${client}`);
      const detail = typeof s.status === "string" ? s.status : "";
      return { client, name, detail, color: String(s.color ?? user.color ?? "#475569"), cursor: s.cursor };
    });
  fill(
    list,
    ...people.map((p) =>
      h(
        "li",
        { "data-client": p.client, style: `--who: ${p.color}` },
        h("span", { class: "dot", "aria-hidden": "true" }),
        p.client === me ? `${p.name} (you)` : p.name,
        p.detail ? h("span", { class: "muted", text: ` · ${p.detail}` }) : null,
      ),
    ),
  );
  byId("presence-count").textContent = `${people.length} here`;
  for (const old of document.querySelectorAll(".c-cursor")) old.classList.remove("c-cursor");
  for (const p of people) {
    const key = (p.cursor as Record<string, unknown> | undefined)?.elementKey;
    if (typeof key !== "string" || p.client === me) continue;
    for (const el of document.querySelectorAll<HTMLElement>("#preview [data-key]")) {
      if (el.dataset.key === key) {
        el.classList.add("c-cursor");
        el.style.setProperty("--who", p.color);
        el.title = `${p.name} is here`;
      }
    }
  }
}

const WS_TOKEN_KEY = "atelier.wsToken";

/** The document token: a Bridge token from a ``#wsToken=`` link (kept for the tab), else
 * the tab's JWT, else any string (an open Bridge accepts every token). */
function bridgeToken(): string {
  const fromLink = new URLSearchParams(location.hash.slice(1)).get("wsToken");
  if (fromLink) {
    sessionStorage.setItem(WS_TOKEN_KEY, fromLink);
    history.replaceState(null, "", location.pathname + location.search);
  }
  return sessionStorage.getItem(WS_TOKEN_KEY) ?? getToken() ?? "anonymous";
}

async function main(): Promise<void> {
  const { sessionId } = pageConfig<Config>();
  const line = byId("live-status");
  const user = await showUser(byId("user"));
  try {
    const state = await api<State>(`/api/sessions/${encodeURIComponent(sessionId)}/state`);
    show(state);
  } catch (error) {
    const main = byId("main");
    fill(main, authNotice(error, "session") ?? notice("Could not load the session", errorMessage(error), false));
    if (error instanceof ApiError) return;
    throw error;
  }
  let synced = false;
  const live = openDoc(sessionId, bridgeToken(), {
    onSynced: () => {
      synced = true;
      status(line, "Live: following every edit.");
      rerender();
    },
    onDenied: (reason) =>
      status(
        line,
        `The server refused the live document: ${reason}. With ATELIER_WS_SECRET set, open this page with ` +
          "#wsToken=<token from `atelier token --document <id>`>.",
        "error",
      ),
    onStatus: (s) => {
      if (s !== "connected") status(line, s === "connecting" ? "Connecting…" : "Disconnected: reconnecting…");
    },
  });
  const rerender = coalesce(() => {
    if (!synced) return;
    show(fromDoc(live));
    presence(live);
  });
  live.doc.on("update", rerender);
  const color = COLORS[Math.floor(Math.random() * COLORS.length)];
  live.provider.setAwarenessField("user", { name: user ?? "Guest", color });
  live.provider.setAwarenessField("status", "viewing");
  live.provider.awareness?.on("change", () => presence(live));
  byId("preview").addEventListener("click", (event) => {
    const target = (event.target as Element).closest<HTMLElement>("[data-key]");
    if (target?.dataset.key) live.provider.setAwarenessField("cursor", { elementKey: target.dataset.key });
  });
}

void main();
