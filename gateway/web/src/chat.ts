// /projects, /projects/:projectId, /projects/:projectId/sessions/:sessionId — the workspace:
// projects and their sessions, a chat over a session's history whose runs stream their
// answer in, files uploaded and followed until READY, and the quota left.
import { ApiError, api, authNotice, byId, call, errorMessage, fill, formatTime, getToken, h, notice, pageConfig, readSse, showUser, status } from "./common";

type Json = Record<string, unknown>;

interface Config {
  projectId: string | null;
  sessionId: string | null;
  sessionTypes: string[];
}

const config = pageConfig<Config>();
const FILE_POLL_MS = 500;

function s(value: unknown): string {
  return typeof value === "string" || typeof value === "number" ? String(value) : "";
}

async function showQuota(): Promise<void> {
  try {
    const q = await api<Json>("/api/v1/quota");
    fill(byId("quota"), `${s(q.remaining)} of ${s(q.limit)} runs left this ${s(q.period)} (resets ${formatTime(q.resetsAt)})`);
  } catch (error) {
    fill(byId("quota"), `Quota unknown: ${errorMessage(error)}`);
  }
}

async function projects(): Promise<void> {
  const list = byId("projects");
  const body = await api<{ projects: Json[] }>("/api/v1/projects?limit=200");
  fill(
    list,
    ...(body.projects.length
      ? body.projects.map((p) =>
          h("li", { "aria-current": p.id === config.projectId ? "page" : null }, h("a", { href: `/projects/${s(p.id)}` }, s(p.name)), h("span", { class: "muted", text: ` · ${s(p.fiscalYear)}` })),
        )
      : [h("li", { class: "muted", text: "No projects yet." })]),
  );
  const form = byId<HTMLFormElement>("project-form");
  form.onsubmit = async (event) => {
    event.preventDefault();
    const data = new FormData(form);
    try {
      const made = await api<{ project: Json }>("/api/v1/projects", { json: { name: data.get("name"), fiscalYear: data.get("fiscalYear") } });
      location.assign(`/projects/${s(made.project.id)}`);
    } catch (error) {
      status(byId("page-status"), `Could not create the project: ${errorMessage(error)}`, "error");
    }
  };
}

async function project(projectId: string): Promise<void> {
  byId("project-panel").hidden = false;
  const body = await api<{ project: Json }>(`/api/v1/projects/${projectId}`);
  byId("project-name").textContent = s(body.project.name);
  const sessions = await api<{ sessions: Json[] }>(`/api/v1/projects/${projectId}/sessions?limit=200`);
  fill(
    byId("sessions"),
    ...(sessions.sessions.length
      ? sessions.sessions.map((x) =>
          h(
            "li",
            { "aria-current": x.id === config.sessionId ? "page" : null },
            h("a", { href: `/projects/${projectId}/sessions/${s(x.id)}` }, s(x.title) || "Untitled"),
            h("span", { class: "muted", text: ` · ${s(x.type)}` }),
          ),
        )
      : [h("li", { class: "muted", text: "No sessions yet." })]),
  );
  const form = byId<HTMLFormElement>("session-form");
  fill(byId("session-type"), ...config.sessionTypes.map((t) => h("option", { value: t, text: t })));
  form.onsubmit = async (event) => {
    event.preventDefault();
    const data = new FormData(form);
    try {
      const made = await api<{ session: Json }>(`/api/v1/projects/${projectId}/sessions`, { json: { type: data.get("type"), title: data.get("title") || undefined } });
      location.assign(`/projects/${projectId}/sessions/${s(made.session.id)}`);
    } catch (error) {
      status(byId("page-status"), `Could not create the session: ${errorMessage(error)}`, "error");
    }
  };
  await files(projectId);
  const upload = byId<HTMLFormElement>("upload-form");
  upload.onsubmit = async (event) => {
    event.preventDefault();
    const input = byId<HTMLInputElement>("upload-file");
    const file = input.files?.[0];
    if (!file) return;
    const data = new FormData();
    data.append("file", file, file.name);
    status(byId("page-status"), `Uploading ${file.name}…`);
    try {
      await call(`/api/v1/projects/${projectId}/files`, { body: data });
      input.value = "";
      status(byId("page-status"), `Uploaded ${file.name}: indexing.`);
      await files(projectId);
    } catch (error) {
      status(byId("page-status"), `Upload failed: ${errorMessage(error)}`, "error");
    }
  };
}

let filePoll: ReturnType<typeof setTimeout> | null = null;
const selected = new Set<string>();

/** The project's files with their indexing state, polled until none is still indexing. */
async function files(projectId: string): Promise<void> {
  if (filePoll) clearTimeout(filePoll);
  const body = await api<{ files: Json[] }>(`/api/v1/projects/${projectId}/files?limit=200`);
  const chat = Boolean(config.sessionId);
  fill(
    byId("files"),
    ...(body.files.length
      ? body.files.map((f) => {
          const id = s(f.id);
          const ready = f.status === "READY";
          const box = chat
            ? (h("input", {
                type: "checkbox",
                id: `file-${id}`,
                disabled: !ready,
                checked: ready && selected.has(id),
                onchange: (e: Event) => ((e.target as HTMLInputElement).checked ? selected.add(id) : selected.delete(id)),
              }) as HTMLInputElement)
            : null;
          return h(
            "li",
            { "data-file-id": id, "data-status": s(f.status) },
            box,
            h("label", chat ? { for: `file-${id}` } : {}, s(f.name)),
            " ",
            h("span", { class: "badge", "data-status": s(f.status), text: s(f.status) }),
            f.reason ? h("span", { class: "muted", text: ` ${s(f.reason)}` }) : null,
          );
        })
      : [h("li", { class: "muted", text: "No files yet." })]),
  );
  if (body.files.some((f) => f.status === "UPLOADED" || f.status === "INDEXING")) {
    filePoll = setTimeout(() => void files(projectId), FILE_POLL_MS);
  }
}

function bubble(role: string, content: string, extra: Json = {}): HTMLElement {
  return h("li", { class: "message", "data-role": role, ...(extra as Record<string, string>) }, h("span", { class: "role", text: role === "USER" ? "You" : "Assistant" }), h("div", { class: "content", text: content }));
}

async function history(sessionId: string): Promise<void> {
  const body = await api<{ messages: Json[] }>(`/api/v1/sessions/${sessionId}/history?limit=200`);
  const list = byId("history");
  fill(list, ...body.messages.map((m) => bubble(s(m.role), s(m.content), { "data-message-id": s(m.id) })));
  if (!body.messages.length) list.append(h("li", { class: "muted", id: "history-empty", text: "No messages yet: ask something." }));
  list.scrollTop = list.scrollHeight;
}

async function chat(projectId: string, sessionId: string): Promise<void> {
  byId("chat-panel").hidden = false;
  const session = await api<{ session: Json }>(`/api/v1/projects/${projectId}/sessions/${sessionId}`);
  byId("chat-title").textContent = `${s(session.session.title) || "Untitled"} (${s(session.session.type)})`;
  await history(sessionId);
  const form = byId<HTMLFormElement>("chat-form");
  const input = byId<HTMLTextAreaElement>("chat-input");
  const send = byId<HTMLButtonElement>("chat-send");
  form.onsubmit = async (event) => {
    event.preventDefault();
    const text = input.value.trim();
    if (!text) return;
    send.disabled = true;
    const list = byId("history");
    document.getElementById("history-empty")?.remove();
    list.append(bubble("USER", text));
    const answer = bubble("ASSISTANT", "");
    answer.setAttribute("aria-busy", "true");
    answer.id = "streaming-answer";
    list.append(answer);
    const content = answer.querySelector(".content") as HTMLElement;
    status(byId("page-status"), "Running…");
    try {
      const response = await call(`/api/v1/sessions/${sessionId}/runs`, {
        json: { type: s(session.session.type), input: text, selected_file_ids: [...selected] },
        accept: "text/event-stream",
      });
      input.value = "";
      for await (const message of readSse(response)) {
        if (message.event === "done") break;
        const event = JSON.parse(message.data) as Json;
        if (event.type === "output") content.textContent += s(event.text);
        if (event.type === "result") {
          const python = (event.python ?? {}) as Json;
          if (python.status !== "succeeded") {
            const err = (python.error ?? {}) as Json;
            status(byId("page-status"), `The run failed: ${s(err.message) || "unknown error"}`, "error");
          } else {
            content.textContent = s(python.output) || content.textContent;
            status(byId("page-status"), "Answered.");
          }
        }
        list.scrollTop = list.scrollHeight;
      }
      await history(sessionId);
    } catch (error) {
      answer.remove();
      const quota = error instanceof ApiError && error.status === 429;
      status(byId("page-status"), quota ? `No runs left: ${error.message}` : `The run was refused: ${errorMessage(error)}`, "error");
    } finally {
      answer.removeAttribute("aria-busy");
      send.disabled = false;
      await showQuota();
    }
  };
}

async function main(): Promise<void> {
  await showUser(byId("user"));
  if (!getToken()) {
    fill(byId("main"), notice("You are not signed in", "Your projects need a bearer token: mint one with `atelier token --user <you> --link` and open the link, or paste it on the sign-in page.", true));
    return;
  }
  try {
    await Promise.all([showQuota(), projects()]);
    if (config.projectId) await project(config.projectId);
    if (config.projectId && config.sessionId) await chat(config.projectId, config.sessionId);
  } catch (error) {
    fill(byId("main"), authNotice(error, config.sessionId ? "session" : "project") ?? notice("Something went wrong", errorMessage(error), false));
  }
}

void main();
