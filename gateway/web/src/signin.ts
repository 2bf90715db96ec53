// /signin: a token pasted once (or carried in the link's #token= fragment, which never
// reaches a server log) is checked against /api/me and kept for this tab only.
import { ApiError, api, byId, clearToken, errorMessage, getToken, setToken, status } from "./common";

function nextPath(): string {
  const next = new URLSearchParams(location.search).get("next") ?? "";
  // Only a path of this site: never "//host" or "https://…" (an open redirect).
  return /^\/(?![/\\])/.test(next) ? next : "/projects";
}

async function signIn(token: string, line: HTMLElement): Promise<void> {
  const previous = getToken();
  setToken(token);
  try {
    const me = await api<{ user: string }>("/api/me");
    status(line, `Signed in as ${me.user}. Opening ${nextPath()} …`);
    location.replace(nextPath());
  } catch (error) {
    if (previous) setToken(previous);
    else clearToken();
    const why = error instanceof ApiError ? error.message : errorMessage(error);
    status(line, `That token was refused: ${why}`, "error");
  }
}

function main(): void {
  const form = byId<HTMLFormElement>("signin-form");
  const input = byId<HTMLTextAreaElement>("token");
  const line = byId("signin-status");
  const fragment = new URLSearchParams(location.hash.slice(1)).get("token");
  if (fragment) {
    // Drop the token from the address bar and history before anything else.
    history.replaceState(null, "", location.pathname + location.search);
    void signIn(fragment.trim(), line);
  } else if (getToken()) {
    status(line, "This tab already has a token; paste another to switch user.");
  }
  form.addEventListener("submit", (event) => {
    event.preventDefault();
    const token = input.value.trim();
    if (!token) {
      status(line, "Paste a token first.", "error");
      return;
    }
    void signIn(token, line);
  });
}

main();
