// /designs/collaborative/:id — the design engine's workspace for the session's owner.
//
// Live sources: the session's CRDT document (artifacts, stage, status and the AI's draft
// text, through the Hocuspocus provider with the owner's JWT) and the resumable SSE stream
// (events, whether a run is live). A second tab follows the same document and rejoins the
// stream when the document shows a run starting; another user's token is refused by both.
import {
  ApiError,
  api,
  authNotice,
  byId,
  call,
  errorMessage,
  fill,
  getToken,
  h,
  notice,
  pageConfig,
  readSse,
  showUser,
  status,
} from "./common";
import {
  ACTION_LABELS,
  activity,
  bomNodes,
  bomTree,
  cadFiles,
  clarifications,
  label,
  materializationPreview,
  materializationResult,
  messages,
  requirementsTable,
  timeline,
  type Json,
} from "./design-view";
import { coalesce, openDoc, type LiveDoc } from "./live";

interface Config {
  sessionId: string;
  // stage -> status -> [plain, running, pending clarification, both]: the legal actions,
  // computed by the server from its own transition table.
  actions: Record<string, Record<string, string[][]>>;
}

const config = pageConfig<Config>();
const base = `/api/design-engine/sessions/${encodeURIComponent(config.sessionId)}`;

const state = {
  session: {} as Json,
  artifacts: {} as Json, // from REST and SSE until the document is synced
  draftFallback: "",
  live: null as LiveDoc | null,
  synced: false,
  lastEventId: 0,
  events: [] as Json[],
  streams: 0,
  busy: false,
  lastFollow: 0,
};

const MAX_ACTIVITY = 60;

function docArtifacts(): Json {
  return (state.live?.doc.getMap("artifacts").toJSON() ?? {}) as Json;
}

function current(): { artifacts: Json; stage: string; status: string; draft: string } {
  if (state.synced) {
    const a = docArtifacts();
    return {
      artifacts: a,
      stage: String(a.stage ?? state.session.stage ?? "idle"),
      status: String(a.status ?? state.session.status ?? "active"),
      draft: typeof a.draft === "string" ? a.draft : "",
    };
  }
  return {
    artifacts: state.artifacts,
    stage: String(state.session.stage ?? "idle"),
    status: String(state.session.status ?? "active"),
    draft: state.draftFallback,
  };
}

function legal(stage: string, status: string, pending: boolean): string[] {
  const row = config.actions[stage]?.[status];
  return row ? row[(pending ? 2 : 0) + (state.streams > 0 ? 1 : 0)] : [];
}

const memo = new Map<string, string>();

/** Rebuild section ``id`` only when its data changed, so typing in a form is never lost. */
function section(id: string, key: unknown, build: () => Node | null): void {
  const text = JSON.stringify(key);
  if (memo.get(id) === text) return;
  memo.set(id, text);
  fill(byId(id), build());
}

const render = coalesce(() => {
  const { artifacts, stage, status: runStatus, draft } = current();
  const pending = typeof artifacts.pendingClarificationId === "string" && artifacts.pendingClarificationId !== "";
  const actions = legal(stage, runStatus, pending);
  const running = state.streams > 0;
  byId("design-title").textContent = String(state.session.title ?? "Design session");
  section("timeline", [stage, runStatus, running], () => timeline(stage, runStatus, running));
  section("actions", [actions, state.busy], () => actionBar(actions));
  const draftEl = byId("draft");
  if (draftEl.textContent !== draft) {
    draftEl.textContent = draft || "";
    draftEl.scrollTop = draftEl.scrollHeight;
  }
  byId("draft-state").textContent = running ? "The AI is writing…" : draft ? "" : "The AI has not written anything yet.";
  section("requirements", artifacts.requirements ?? [], () => requirementsTable(artifacts.requirements));
  section("bom", artifacts.bom ?? null, () => bomTree(artifacts.bom));
  section("clarifications", [artifacts.clarifications ?? [], artifacts.pendingClarificationId ?? null, actions.includes("answer_clarification")], () =>
    clarifications(artifacts.clarifications, artifacts.pendingClarificationId, actions.includes("answer_clarification"), {
      answer: (questionId, answer) => void act("answer_clarification", { questionId, answer }),
    }),
  );
  section("user-messages", artifacts.userMessages ?? [], () => messages(artifacts.userMessages));
  section("materialize-result", artifacts.materializationResult ?? null, () => materializationResult(artifacts.materializationResult));
  byId("materialize-section").hidden = !artifacts.bom;
  (byId("execute-materialize") as HTMLButtonElement).disabled = stage !== "materialization" || Boolean(artifacts.materializationResult) || state.busy;
  section("cad", cadFiles(artifacts), () => cadList(cadFiles(artifacts)));
  byId("cad-section").hidden = cadFiles(artifacts).length === 0;
  section("activity", state.events.slice(-MAX_ACTIVITY), () => activity(state.events.slice(-MAX_ACTIVITY)));
});

function actionBar(actions: string[]): HTMLElement {
  const buttons = actions
    .filter((a) => a in ACTION_LABELS)
    .map((a) =>
      h("button", { type: "button", "data-action": a, class: a === "cancel" ? "destructive" : a.startsWith("confirm") ? "primary" : "", disabled: state.busy, onclick: () => void act(a) }, ACTION_LABELS[a]),
    );
  const forms: HTMLElement[] = [];
  if (actions.includes("send_message")) {
    const box = h("textarea", { id: "message-text", rows: 2, name: "message" }) as HTMLTextAreaElement;
    forms.push(
      h(
        "form",
        { class: "inline-form", onsubmit: (e: Event) => (e.preventDefault(), box.value.trim() && void act("send_message", { message: box.value.trim() })) },
        h("label", { for: "message-text", text: "Message to the AI" }),
        box,
        h("button", { type: "submit", disabled: state.busy }, "Send message"),
      ),
    );
  }
  if (actions.includes("regenerate_part")) {
    const parts = bomNodes(current().artifacts.bom).filter((n) => n.cadGeneration);
    const select = h("select", { id: "regenerate-part", name: "tempId" }, ...parts.map((p) => h("option", { value: String(p.tempId), text: String(p.name) }))) as HTMLSelectElement;
    const feedback = h("input", { id: "regenerate-feedback", type: "text", name: "feedback", placeholder: "e.g. thickness 8" }) as HTMLInputElement;
    forms.push(
      h(
        "form",
        { class: "inline-form", onsubmit: (e: Event) => (e.preventDefault(), void act("regenerate_part", { tempId: select.value, feedback: feedback.value.trim() || undefined })) },
        h("label", { for: "regenerate-part", text: "Regenerate part" }),
        select,
        h("label", { for: "regenerate-feedback", text: "Feedback" }),
        feedback,
        h("button", { type: "submit", disabled: state.busy || !parts.length }, "Regenerate"),
      ),
    );
  }
  if (!buttons.length && !forms.length) return h("p", { class: "muted", text: "No action is open in this stage." });
  return h("div", {}, h("div", { class: "buttons" }, ...buttons), ...forms);
}

function cadList(files: ReturnType<typeof cadFiles>): HTMLElement {
  return h(
    "ul",
    { class: "cad-list" },
    ...files.map((f) =>
      h(
        "li",
        { "data-file": f.base },
        h("span", { class: "bom-name", text: f.title }),
        h("span", { class: "badge", "data-status": f.status, text: f.status || "pending" }),
        f.reason ? h("span", { class: "muted", text: ` ${f.reason}` }) : null,
        ...f.kinds.map((kind) =>
          h("button", { type: "button", class: "secondary", onclick: () => void download(`${f.base}.${kind}`), "aria-label": `Download ${f.title} ${kind.toUpperCase()}` }, kind.toUpperCase()),
        ),
        f.kinds.includes("glb") ? h("button", { type: "button", onclick: () => void view(f.base, f.title), "aria-label": `View 3D: ${f.title}` }, "View 3D") : null,
      ),
    ),
  );
}

async function download(name: string): Promise<void> {
  try {
    const response = await call(`${base}/files/${name}`);
    const url = URL.createObjectURL(await response.blob());
    const a = h("a", { href: url, download: name.split("/").pop() ?? name });
    document.body.append(a);
    a.click();
    a.remove();
    setTimeout(() => URL.revokeObjectURL(url), 10_000);
  } catch (error) {
    status(byId("action-status"), `Download failed: ${errorMessage(error)}`, "error");
  }
}

async function view(fileBase: string, title: string): Promise<void> {
  const stage = byId("viewer");
  try {
    const [{ showGlb }, response] = await Promise.all([import("./viewer"), call(`${base}/files/${fileBase}.glb`)]);
    byId("viewer-title").textContent = title;
    await showGlb(stage, await response.arrayBuffer(), title);
  } catch (error) {
    status(byId("action-status"), `3D view failed: ${errorMessage(error)}`, "error");
  }
}

function onEvent(id: string | null, data: string): void {
  const n = id === null ? NaN : Number(id);
  if (!Number.isNaN(n)) {
    if (n <= state.lastEventId) return; // already seen on another stream
    state.lastEventId = n;
  }
  let event: Json;
  try {
    event = JSON.parse(data) as Json;
  } catch {
    return;
  }
  if (event.type === "llm_text") {
    state.draftFallback += String(event.text ?? "");
  } else {
    if (event.type === "artifact_update") state.artifacts = { ...state.artifacts, ...((event.artifacts ?? {}) as Json) };
    if (event.type === "stage_change") {
      state.session.stage = event.stage;
      state.draftFallback = "";
    }
    if (event.type === "paused") state.session.status = "paused";
    if (event.type === "error") state.session.status = "failed";
    state.events.push(event);
    if (state.events.length > 4 * MAX_ACTIVITY) state.events.splice(0, state.events.length - MAX_ACTIVITY);
  }
  render();
}

/** Read one SSE response to its end; a run is live while any such stream is open. */
async function consume(response: Response): Promise<void> {
  state.streams += 1;
  render();
  try {
    for await (const message of readSse(response)) {
      if (message.event === "done") break;
      onEvent(message.id, message.data);
    }
  } finally {
    state.streams -= 1;
    render();
  }
}

/** Join the session's live run, if any (the replay first): a second tab's way in. */
async function follow(): Promise<void> {
  if (state.streams > 0 || Date.now() - state.lastFollow < 300) return;
  state.lastFollow = Date.now();
  try {
    const response = await fetch(`${base}/stream`, {
      headers: { Authorization: `Bearer ${getToken()}`, "Last-Event-ID": String(state.lastEventId), Accept: "text/event-stream" },
    });
    if (response.ok) await consume(response);
  } catch (error) {
    status(byId("live-status"), `Event stream interrupted: ${errorMessage(error)}`, "error");
  }
}

async function refresh(): Promise<void> {
  const body = await api<{ data: { session: Json } }>(base);
  state.session = body.data.session;
  state.artifacts = (state.session.artifacts ?? {}) as Json;
  render();
}

async function act(action: string, extra: Json = {}): Promise<void> {
  const line = byId("action-status");
  state.busy = true;
  render();
  status(line, `${ACTION_LABELS[action] ?? label(action)}…`);
  try {
    const response = await call(`${base}/stream`, { json: { action, ...extra }, accept: "text/event-stream, application/json" });
    state.busy = false;
    if ((response.headers.get("Content-Type") ?? "").startsWith("text/event-stream")) {
      status(line, `${ACTION_LABELS[action] ?? label(action)}: running.`);
      await consume(response);
      status(line, `${ACTION_LABELS[action] ?? label(action)}: finished.`);
    } else {
      const body = (await response.json()) as { data: Json };
      if (body.data.session) state.session = body.data.session as Json;
      status(line, `${ACTION_LABELS[action] ?? label(action)}: done.`);
    }
  } catch (error) {
    status(line, `${ACTION_LABELS[action] ?? label(action)} failed: ${errorMessage(error)}`, "error");
  } finally {
    state.busy = false;
    render();
  }
}

async function previewMaterialization(): Promise<void> {
  try {
    const body = await api<{ data: { preview: Json } }>(`${base}/materialize`);
    fill(byId("materialize-preview"), materializationPreview(body.data.preview));
  } catch (error) {
    status(byId("action-status"), `Preview failed: ${errorMessage(error)}`, "error");
  }
}

async function executeMaterialization(): Promise<void> {
  state.busy = true;
  render();
  try {
    const body = await api<{ data: { result: Json } }>(`${base}/materialize`, { method: "POST" });
    state.artifacts = { ...state.artifacts, materializationResult: body.data.result };
    fill(byId("materialize-result"), materializationResult(body.data.result));
    memo.set("materialize-result", JSON.stringify(body.data.result));
    status(byId("action-status"), `Materialized: ${String(body.data.result.ecoNumber ?? "no ECO")}.`);
  } catch (error) {
    status(byId("action-status"), `Materialization failed: ${errorMessage(error)}`, "error");
  } finally {
    state.busy = false;
    render();
  }
}

async function main(): Promise<void> {
  await showUser(byId("user"));
  const content = byId("workspace");
  if (!getToken()) {
    fill(byId("main"), notice("You are not signed in", "The design workspace is its owner's only: sign in with the owner's token (`atelier token --user <you> --link`).", true));
    return;
  }
  try {
    await refresh();
  } catch (error) {
    fill(byId("main"), authNotice(error, "design session") ?? notice("Could not load the session", errorMessage(error), false));
    if (error instanceof ApiError) return;
    throw error;
  }
  content.hidden = false;
  byId("preview-materialize").addEventListener("click", () => void previewMaterialization());
  byId("execute-materialize").addEventListener("click", () => void executeMaterialization());
  const line = byId("live-status");
  const live = openDoc(config.sessionId, getToken() ?? "", {
    onSynced: () => {
      state.synced = true;
      status(line, "Live: following the session's document.");
      render();
    },
    onDenied: (reason) => status(line, `The live document was refused (${reason}); showing the event stream only.`, "error"),
    onStatus: (s) => {
      if (s !== "connected") status(line, s === "connecting" ? "Connecting…" : "Disconnected: reconnecting…");
    },
  });
  state.live = live;
  const artifacts = live.doc.getMap("artifacts");
  let seen = "";
  artifacts.observeDeep(() => {
    render();
    // Another tab (or a restart) started a run: join its stream.
    const a = artifacts.toJSON() as Json;
    const now = `${String(a.stage)}/${String(a.status)}`;
    const draftMoving = state.streams === 0 && typeof a.draft === "string" && a.draft.length > 0 && a.status === "active";
    if (state.synced && (now !== seen || draftMoving)) void follow();
    seen = now;
  });
  render();
  await follow();
}

void main();
