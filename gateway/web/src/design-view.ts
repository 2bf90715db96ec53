// The design workspace's sections, drawn from plain data (no I/O here).
import { formatTime, h } from "./common";

export type Json = Record<string, unknown>;

export const LIFECYCLE = [
  "idle",
  "requirements_drafting",
  "requirements_review",
  "bom_drafting",
  "bom_review",
  "materialization",
  "cad_generation",
  "cad_review",
  "assembly_composition",
  "assembly_review",
  "complete",
];

export const ACTION_LABELS: Record<string, string> = {
  start_requirements: "Start requirements",
  start_bom: "Start BOM",
  start_cad_generation: "Generate CAD",
  start_assembly_composition: "Compose assembly",
  resume: "Resume",
  retry: "Retry",
  confirm_requirements: "Confirm requirements",
  confirm_bom: "Confirm BOM",
  confirm_cad: "Confirm CAD",
  confirm_assembly: "Confirm assembly",
  cancel: "Cancel run",
};

export function label(stage: string): string {
  return stage
    .replace(/_/g, " ")
    .replace(/\b(bom|cad)\b/g, (w) => w.toUpperCase())
    .replace(/^\w/, (c) => c.toUpperCase());
}

function str(value: unknown): string {
  return typeof value === "string" || typeof value === "number" ? String(value) : "";
}

export function timeline(stage: string, status: string, running: boolean): HTMLElement {
  const current = LIFECYCLE.indexOf(stage);
  return h(
    "ol",
    { class: "timeline", "aria-label": "Stages" },
    ...LIFECYCLE.map((name, i) => {
      const state = i < current ? "done" : i === current ? "current" : "todo";
      return h(
        "li",
        { "data-state": state, "data-stage": name, "aria-current": i === current ? "step" : null },
        h("span", { class: "step-name", text: label(name) }),
        i === current ? h("span", { class: "badge", "data-status": status, text: running ? `${status} · running` : status }) : null,
      );
    }),
  );
}

export function requirementsTable(requirements: unknown): HTMLElement {
  const rows = Array.isArray(requirements) ? (requirements as Json[]) : [];
  if (!rows.length) return h("p", { class: "muted", text: "No requirements yet." });
  const columns: Array<[string, string]> = [
    ["tempId", "Id"],
    ["name", "Name"],
    ["description", "Description"],
    ["requirementType", "Type"],
    ["priority", "Priority"],
    ["verificationMethod", "Verification"],
  ];
  return h(
    "table",
    { class: "data", id: "requirements-table" },
    h("caption", { class: "sr-only", text: "Requirements" }),
    h("thead", {}, h("tr", {}, ...columns.map(([, title]) => h("th", { scope: "col", text: title })))),
    h("tbody", {}, ...rows.map((row) => h("tr", { "data-temp-id": str(row.tempId) }, ...columns.map(([key]) => h("td", { text: str(row[key]) }))))),
  );
}

export function bomNodes(bom: unknown): Json[] {
  const out: Json[] = [];
  const walk = (node: unknown, depth: number): void => {
    if (!node || typeof node !== "object" || depth > 64) return;
    const n = node as Json;
    out.push(n);
    for (const child of Array.isArray(n.children) ? n.children : []) walk(child, depth + 1);
  };
  walk((bom as Json | null)?.rootAssembly, 0);
  return out;
}

export function bomTree(bom: unknown): HTMLElement {
  const root = (bom as Json | null)?.rootAssembly;
  if (!root) return h("p", { class: "muted", text: "No bill of materials yet." });
  const node = (n: Json, depth: number): HTMLElement => {
    const cad = (n.cadGeneration ?? {}) as Json;
    const children = Array.isArray(n.children) ? (n.children as Json[]) : [];
    return h(
      "li",
      { "data-temp-id": str(n.tempId) },
      h("span", { class: "bom-name", text: str(n.name) }),
      h("span", { class: "muted", text: ` ×${str(n.quantity) || "1"} · ${str(n.partType)}${n.material ? ` · ${str(n.material)}` : ""}${n.isNew === false ? " · reused" : ""}` }),
      cad.status ? h("span", { class: "badge", "data-status": str(cad.status), text: `CAD ${str(cad.status)}` }) : null,
      children.length && depth < 64 ? h("ul", {}, ...children.map((c) => node(c, depth + 1))) : null,
    );
  };
  return h("ul", { class: "bom-tree", id: "bom-tree" }, node(root as Json, 0));
}

export interface ClarificationHandlers {
  answer: (questionId: string, answer: string) => void;
}

export function clarifications(entries: unknown, pending: unknown, canAnswer: boolean, on: ClarificationHandlers): HTMLElement {
  const list = Array.isArray(entries) ? (entries as Json[]) : [];
  if (!list.length) return h("p", { class: "muted", text: "No questions from the AI." });
  return h(
    "ul",
    { class: "clarifications" },
    ...list.map((entry) => {
      const id = str(entry.id);
      const open = id === pending && canAnswer;
      const input = h("input", { type: "text", id: `answer-${id}`, name: "answer", required: true, autocomplete: "off" }) as HTMLInputElement;
      const options = Array.isArray(entry.options) ? entry.options.map(str).filter(Boolean) : [];
      return h(
        "li",
        { "data-question-id": id },
        h("p", { class: "question", text: str(entry.question) }),
        entry.answer !== undefined ? h("p", { class: "answer", text: `Answered: ${str(entry.answer)}` }) : null,
        open
          ? h(
              "form",
              {
                class: "answer-form",
                onsubmit: (event: Event) => {
                  event.preventDefault();
                  if (input.value.trim()) on.answer(id, input.value.trim());
                },
              },
              options.length
                ? h("div", { class: "options" }, ...options.map((o) => h("button", { type: "button", class: "secondary", onclick: () => on.answer(id, o) }, o)))
                : null,
              h("label", { for: `answer-${id}`, text: "Your answer" }),
              input,
              h("button", { type: "submit" }, "Send answer"),
            )
          : null,
      );
    }),
  );
}

export function activity(events: Json[]): HTMLElement {
  const line = (e: Json): string => {
    switch (e.type) {
      case "stage_change":
        return `Stage → ${label(str(e.stage))}`;
      case "tool_call":
        return `Tool call: ${str(e.toolName)}`;
      case "tool_result":
        return `Tool result: ${str(e.toolName)}`;
      case "clarification_needed":
        return `Question: ${str(e.question)}`;
      case "stage_complete":
        return `${label(str(e.stage))} complete${e.summary ? `: ${str(e.summary)}` : ""}`;
      case "error":
        return `Error: ${str(e.message)}`;
      case "paused":
        return `Paused: ${str(e.reason)}`;
      case "user_message":
        return `You: ${str(e.text)}`;
      case "artifact_update":
        return `Artifacts updated: ${Object.keys((e.artifacts ?? {}) as Json).join(", ")}`;
      default:
        return str(e.type);
    }
  };
  if (!events.length) return h("p", { class: "muted", text: "Nothing has happened yet." });
  return h("ol", { class: "activity", tabindex: 0, "aria-label": "Events" }, ...events.map((e) => h("li", { "data-type": str(e.type), text: line(e) })));
}

export function materializationResult(result: unknown): HTMLElement | null {
  if (!result || typeof result !== "object") return null;
  const r = result as Json;
  const items = Array.isArray(r.createdItems) ? (r.createdItems as Json[]) : [];
  return h(
    "div",
    { class: "result", id: "materialization-result" },
    h("h3", { text: "Materialized" }),
    h("p", {}, r.ecoNumber ? `ECO ${str(r.ecoNumber)} · ` : "No ECO needed · ", `${items.length} items created, ${str(r.bomRelationshipsCreated) || 0} BOM lines`),
    h(
      "table",
      { class: "data" },
      h("caption", { class: "sr-only", text: "Created items" }),
      h("thead", {}, h("tr", {}, ...["Item", "Type", "Name"].map((t) => h("th", { scope: "col", text: t })))),
      h("tbody", {}, ...items.map((i) => h("tr", {}, h("td", { text: str(i.itemNumber) }), h("td", { text: str(i.itemType) }), h("td", { text: str(i.name) })))),
    ),
  );
}

export function materializationPreview(preview: Json): HTMLElement {
  const items = Array.isArray(preview.items) ? (preview.items as Json[]) : [];
  return h(
    "div",
    { class: "preview-counts", id: "materialization-preview" },
    h(
      "p",
      {},
      `${str(preview.newPartsCount)} new parts, ${str(preview.reusedPartsCount)} reused, ${str(preview.newRequirementsCount)} requirements, ${str(preview.bomRelationshipsCount)} BOM lines${preview.requiresEco ? ", needs an ECO" : ""}.`,
    ),
    h(
      "ul",
      {},
      ...items.map((i) => h("li", { text: `${str(i.name)} (${str(i.itemType)}${i.isNew ? ", new" : `, reuses ${str(i.existingItemNumber)}`})` })),
    ),
  );
}

export interface CadFile {
  title: string;
  base: string; // "parts/<tempId>" or "assembly"
  kinds: string[];
  status: string;
  reason: string;
}

export function cadFiles(artifacts: Json): CadFile[] {
  const out: CadFile[] = [];
  for (const node of bomNodes(artifacts.bom)) {
    const cad = node.cadGeneration as Json | undefined;
    if (!cad) continue;
    const files = (cad.files ?? {}) as Json;
    out.push({ title: str(node.name), base: `parts/${str(node.tempId)}`, kinds: Object.keys(files).sort(), status: str(cad.status), reason: str(cad.reason) });
  }
  const assembly = ((artifacts.cadGenerationState ?? {}) as Json).assembly as Json | undefined;
  if (assembly?.files) {
    out.push({ title: "Assembly", base: "assembly", kinds: Object.keys(assembly.files as Json).sort(), status: str(assembly.status), reason: "" });
  }
  return out;
}

export function messages(entries: unknown): HTMLElement | null {
  const list = Array.isArray(entries) ? (entries as Json[]) : [];
  if (!list.length) return null;
  return h("ul", { class: "messages" }, ...list.map((m) => h("li", {}, h("span", { class: "muted", text: `${formatTime(m.createdAt)} ` }), str(m.text))));
}
