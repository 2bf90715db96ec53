// A Bridge spec rendered as real HTML components. Pure DOM from plain JSON: props are data,
// never markup (text goes in textContent, URLs are checked), an element type we do not know
// is a labelled box with its children inside, and a cycle or a missing key never throws.

export interface UIElement {
  type?: unknown;
  props?: Record<string, unknown>;
  children?: unknown;
}

export interface Spec {
  root?: unknown;
  elements?: Record<string, UIElement>;
}

const MAX_DEPTH = 64;
const SAFE_CLASS = /^[A-Za-z0-9_:/.[\]%-]{1,64}$/;
const INPUT_TYPES = new Set(["text", "email", "password", "number", "search", "tel", "url", "date", "time"]);
const VARIANTS = new Set(["default", "primary", "secondary", "destructive", "outline", "ghost", "link", "muted"]);

type Render = (key: string, el: UIElement, props: Record<string, unknown>, kids: () => Node[]) => HTMLElement;

function text(props: Record<string, unknown>, ...names: string[]): string {
  for (const name of ["children", ...names]) {
    const value = props[name];
    if (typeof value === "string") return value;
    if (typeof value === "number" || typeof value === "boolean") return String(value);
  }
  return "";
}

function str(value: unknown): string | null {
  return typeof value === "string" || typeof value === "number" ? String(value) : null;
}

function safeUrl(value: unknown, images = false): string | null {
  if (typeof value !== "string") return null;
  const url = value.trim();
  if (/^(https?:|mailto:)/i.test(url) || /^[/#?.]/.test(url)) return url;
  if (images && /^data:image\/(png|jpe?g|gif|webp);/i.test(url)) return url;
  return null;
}

function make(tag: string, key: string, type: string, props: Record<string, unknown>): HTMLElement {
  const el = document.createElement(tag);
  el.dataset.key = key;
  el.dataset.type = type;
  const classes = [`c-${type.toLowerCase().replace(/[^a-z0-9]/g, "")}`];
  if (typeof props.className === "string") {
    classes.push(...props.className.split(/\s+/).filter((c) => SAFE_CLASS.test(c)));
  }
  el.className = classes.join(" ");
  const variant = str(props.variant);
  if (variant && VARIANTS.has(variant)) el.dataset.variant = variant;
  return el;
}

function withText(el: HTMLElement, value: string): HTMLElement {
  if (value) el.append(value);
  return el;
}

let fieldCounter = 0;

function field(key: string, type: string, props: Record<string, unknown>, control: HTMLElement): HTMLElement {
  const wrapper = make("div", key, type, props);
  wrapper.classList.add("c-field");
  control.id = `field-${key.replace(/[^A-Za-z0-9_-]/g, "_")}-${++fieldCounter}`;
  const label = str(props.label);
  if (label) {
    const node = document.createElement("label");
    node.htmlFor = control.id;
    node.textContent = label;
    wrapper.append(node);
  } else {
    // A control must have a name a screen reader can say.
    control.setAttribute("aria-label", str(props.placeholder) || str(props.name) || key);
  }
  wrapper.append(control);
  return wrapper;
}

function inputControl(props: Record<string, unknown>, tag: "input" | "textarea"): HTMLInputElement | HTMLTextAreaElement {
  const control = document.createElement(tag);
  if (control instanceof HTMLInputElement) {
    const type = str(props.type) ?? "text";
    control.type = INPUT_TYPES.has(type) ? type : "text";
  }
  const placeholder = str(props.placeholder);
  if (placeholder) control.placeholder = placeholder;
  const name = str(props.name);
  if (name) control.name = name;
  const value = str(props.value ?? props.defaultValue);
  if (value !== null) control.value = value;
  control.required = props.required === true;
  control.disabled = props.disabled === true;
  return control;
}

function options(value: unknown): Array<{ label: string; value: string }> {
  if (!Array.isArray(value)) return [];
  return value.flatMap((item) => {
    if (typeof item === "string" || typeof item === "number") return [{ label: String(item), value: String(item) }];
    if (item && typeof item === "object") {
      const o = item as Record<string, unknown>;
      const v = str(o.value) ?? str(o.label);
      if (v !== null) return [{ label: str(o.label) ?? v, value: v }];
    }
    return [];
  });
}

const container = (tag: string): Render => (key, el, props, kids) => {
  const node = make(tag, key, String(el.type), props);
  node.append(...kids());
  return node;
};

const COMPONENTS: Record<string, Render> = {
  Card: (key, el, props, kids) => {
    const node = make("section", key, "Card", props);
    const title = str(props.title);
    if (title) node.append(withText(document.createElement("h3"), title));
    const description = str(props.description);
    if (description) node.append(withText(make("p", key, "CardDescription", {}), description));
    node.append(...kids());
    return node;
  },
  Heading: (key, el, props, kids) => {
    const level = Math.min(6, Math.max(1, Math.round(Number(props.level ?? 2)) || 2));
    const node = withText(make(`h${level}`, key, "Heading", props), text(props, "text", "title"));
    node.append(...kids());
    return node;
  },
  Text: (key, el, props, kids) => {
    const node = withText(make("p", key, "Text", props), text(props, "text", "content"));
    node.append(...kids());
    return node;
  },
  Form: (key, el, props, kids) => {
    const node = make("form", key, "Form", props);
    node.addEventListener("submit", (event) => event.preventDefault());
    const title = str(props.title);
    if (title) node.append(withText(document.createElement("h3"), title));
    node.append(...kids());
    return node;
  },
  Input: (key, el, props) => field(key, "Input", props, inputControl(props, "input")),
  Textarea: (key, el, props) => field(key, "Textarea", props, inputControl(props, "textarea")),
  Select: (key, el, props) => {
    const select = document.createElement("select");
    for (const option of options(props.options)) {
      const node = document.createElement("option");
      node.value = option.value;
      node.textContent = option.label;
      select.append(node);
    }
    return field(key, "Select", props, select);
  },
  Checkbox: (key, el, props) => {
    const node = make("label", key, String(el.type), props);
    const box = document.createElement("input");
    box.type = "checkbox";
    box.checked = props.checked === true || props.defaultChecked === true;
    if (el.type === "Switch") box.setAttribute("role", "switch");
    node.append(box, " ", text(props, "label") || String(el.type));
    return node;
  },
  Button: (key, el, props, kids) => {
    const node = make("button", key, "Button", props) as HTMLButtonElement;
    node.type = "button";
    node.disabled = props.disabled === true;
    const label = text(props, "label", "text");
    withText(node, label);
    node.append(...kids());
    if (!node.textContent?.trim()) node.setAttribute("aria-label", key);
    return node;
  },
  Label: (key, el, props) => withText(make("label", key, "Label", props), text(props, "text", "label")),
  Link: (key, el, props) => {
    const node = make("a", key, "Link", props) as HTMLAnchorElement;
    const href = safeUrl(props.href);
    if (href) node.href = href;
    node.rel = "noopener noreferrer";
    withText(node, text(props, "text", "label") || href || key);
    return node;
  },
  Image: (key, el, props) => {
    const node = make("img", key, "Image", props) as HTMLImageElement;
    const src = safeUrl(props.src, true);
    if (src) node.src = src;
    node.alt = str(props.alt) ?? "";
    return node;
  },
  Badge: (key, el, props) => withText(make("span", key, "Badge", props), text(props, "text", "label")),
  Separator: (key, el, props) => make("hr", key, "Separator", props),
  Alert: (key, el, props, kids) => {
    const node = make("div", key, "Alert", props);
    node.setAttribute("role", "note");
    const title = str(props.title);
    if (title) node.append(withText(document.createElement("strong"), title));
    const body = text(props, "description", "text");
    if (body) node.append(withText(document.createElement("p"), body));
    node.append(...kids());
    return node;
  },
  Avatar: (key, el, props) => {
    const name = str(props.name) ?? str(props.fallback) ?? key;
    const node = make("span", key, "Avatar", props);
    node.setAttribute("role", "img");
    node.setAttribute("aria-label", name);
    node.textContent = name.split(/\s+/).map((w) => w[0] ?? "").join("").slice(0, 2).toUpperCase();
    return node;
  },
  List: (key, el, props, kids) => {
    const node = make(props.ordered === true ? "ol" : "ul", key, "List", props);
    for (const child of kids()) {
      if (child instanceof HTMLLIElement) {
        node.append(child);
      } else {
        const item = document.createElement("li"); // a list holds list items only
        item.append(child);
        node.append(item);
      }
    }
    return node;
  },
  ListItem: (key, el, props, kids) => {
    const node = withText(make("li", key, "ListItem", props), text(props, "text"));
    node.append(...kids());
    return node;
  },
  Table: (key, el, props) => {
    const node = make("table", key, "Table", props) as HTMLTableElement;
    const columns = Array.isArray(props.columns) ? props.columns.map((c) => str(c) ?? "") : [];
    if (columns.length) {
      const row = node.createTHead().insertRow();
      for (const column of columns) {
        const th = document.createElement("th");
        th.scope = "col";
        row.append(withText(th, column));
      }
    }
    const body = node.createTBody();
    for (const raw of Array.isArray(props.rows) ? props.rows : []) {
      const row = body.insertRow();
      const cells = Array.isArray(raw) ? raw : columns.map((c) => (raw as Record<string, unknown>)?.[c]);
      for (const cell of cells) row.insertCell().textContent = str(cell) ?? "";
    }
    return node;
  },
};
for (const name of ["Stack", "Row", "Column", "Flex", "Grid", "Container", "Box", "Div", "Group", "Section"]) {
  COMPONENTS[name] = container(name === "Section" ? "section" : "div");
}
COMPONENTS.Paragraph = COMPONENTS.Text;
COMPONENTS.Switch = COMPONENTS.Checkbox;
COMPONENTS.CardHeader = container("div");
COMPONENTS.CardContent = container("div");
COMPONENTS.CardFooter = container("div");

export const KNOWN_TYPES: readonly string[] = Object.keys(COMPONENTS);

function unknown(key: string, type: string, props: Record<string, unknown>, kids: () => Node[]): HTMLElement {
  const node = make("div", key, type || "Unknown", {});
  node.classList.add("c-unknown");
  const label = document.createElement("span");
  label.className = "c-unknown-label";
  label.textContent = type ? `${type} (${key})` : `element ${key} has no type`;
  node.append(label);
  const body = text(props, "text", "label");
  if (body) node.append(withText(document.createElement("p"), body));
  node.append(...kids());
  return node;
}

/** The spec as a DOM tree (a notice when it has no root). */
export function renderSpec(spec: Spec): HTMLElement {
  const elements = spec.elements && typeof spec.elements === "object" ? spec.elements : {};
  const visiting = new Set<string>();

  const renderKey = (key: string, depth: number): Node => {
    const el = Object.prototype.hasOwnProperty.call(elements, key) ? elements[key] : undefined;
    if (!el || typeof el !== "object") return missing(`missing element "${key}"`);
    if (visiting.has(key) || depth > MAX_DEPTH) return missing(`"${key}" would contain itself`);
    visiting.add(key);
    try {
      const props = el.props && typeof el.props === "object" ? el.props : {};
      const type = typeof el.type === "string" ? el.type : "";
      const childKeys = Array.isArray(el.children) ? el.children.filter((c): c is string => typeof c === "string") : [];
      const kids = (): Node[] => childKeys.map((child) => renderKey(child, depth + 1));
      const render = COMPONENTS[type];
      return render ? render(key, el, props, kids) : unknown(key, type, props, kids);
    } finally {
      visiting.delete(key);
    }
  };

  const root = typeof spec.root === "string" ? spec.root : "";
  const out = document.createElement("div");
  out.className = "preview-root";
  out.append(root ? renderKey(root, 0) : missing("The spec is empty: no root element yet."));
  return out;
}

function missing(message: string): HTMLElement {
  const node = document.createElement("p");
  node.className = "c-missing";
  node.textContent = message;
  return node;
}
