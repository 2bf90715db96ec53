// A session's Yjs document kept live through the unmodified @hocuspocus/provider on /ws.
import { HocuspocusProvider } from "@hocuspocus/provider";
import * as Y from "yjs";
import { wsUrl } from "./common";

export { Y };

export interface LiveHandlers {
  onSynced?: () => void;
  onDenied?: (reason: string) => void;
  onStatus?: (status: string) => void;
}

export interface LiveDoc {
  doc: Y.Doc;
  provider: HocuspocusProvider;
}

/** Open document ``name`` with ``token`` (a bearer JWT, or anything for an open Bridge). */
export function openDoc(name: string, token: string, handlers: LiveHandlers = {}): LiveDoc {
  const doc = new Y.Doc();
  const provider = new HocuspocusProvider({
    url: wsUrl(),
    name,
    document: doc,
    token,
    onSynced: () => handlers.onSynced?.(),
    onAuthenticationFailed: ({ reason }) => handlers.onDenied?.(reason),
    onStatus: ({ status }) => handlers.onStatus?.(String(status)),
  });
  return { doc, provider };
}

/** Run ``render`` once per burst of updates (a timer, not an animation frame: a tab in
 * the background still follows the document). */
export function coalesce(render: () => void, delayMs = 20): () => void {
  let queued = false;
  return () => {
    if (queued) return;
    queued = true;
    setTimeout(() => {
      queued = false;
      render();
    }, delayMs);
  };
}
