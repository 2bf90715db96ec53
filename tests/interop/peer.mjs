// The real browser-protocol peer for atelier's interop tests.
// One node process hosts many @hocuspocus/provider instances (keyed by a peer id) and
// speaks JSON lines: commands on stdin ({id, cmd, ...}), replies ({id, ok|error}) and
// events ({event, peer, ...}) on stdout. Diagnostics go to stderr only.
import { HocuspocusProvider, HocuspocusProviderWebsocket } from "@hocuspocus/provider";
import readline from "node:readline";
import WebSocket from "ws";
import * as Y from "yjs";

const peers = new Map(); // peer id -> { provider, doc, socket, socketKey }
const sockets = new Map(); // shared socket key -> HocuspocusProviderWebsocket

const emit = (message) => process.stdout.write(JSON.stringify(message) + "\n");

function socketFor(url, key) {
  if (key && sockets.has(key)) return sockets.get(key);
  const socket = new HocuspocusProviderWebsocket({
    url,
    WebSocketPolyfill: WebSocket,
    // Reconnect quickly in tests; the defaults back off for up to 30 s.
    delay: 100,
    minDelay: 100,
    maxDelay: 1000,
    factor: 1.5,
    onMaxAttemptsFailed: ({ error }) => process.stderr.write(`connect failed: ${error}\n`),
  });
  if (key) sockets.set(key, socket);
  return socket;
}

function peerOf(msg) {
  const entry = peers.get(msg.peer);
  if (!entry) throw new Error(`unknown peer ${msg.peer}`);
  return entry;
}

const commands = {
  connect(msg) {
    const doc = new Y.Doc();
    const socket = socketFor(msg.url, msg.socket);
    const peer = msg.peer;
    const provider = new HocuspocusProvider({
      websocketProvider: socket,
      name: msg.name,
      document: doc,
      token: msg.token ?? "token",
      sessionAwareness: Boolean(msg.sessionAwareness),
      onAuthenticated: ({ scope }) => emit({ event: "authenticated", peer, scope }),
      onAuthenticationFailed: ({ reason }) => emit({ event: "authenticationFailed", peer, reason }),
      onSynced: ({ state }) => emit({ event: "synced", peer, state }),
      onStateless: ({ payload }) => emit({ event: "stateless", peer, payload }),
      onClose: ({ event }) => emit({ event: "close", peer, code: event?.code ?? null }),
      onDisconnect: () => emit({ event: "disconnect", peer }),
      onStatus: ({ status }) => emit({ event: "status", peer, status }),
    });
    // With a websocket of our own making the provider must be attached explicitly.
    provider.attach();
    peers.set(peer, { provider, doc, socket, socketKey: msg.socket ?? null });
    return {};
  },
  insertText(msg) {
    const { doc } = peerOf(msg);
    const text = doc.getText(msg.field ?? "t");
    text.insert(msg.index ?? text.length, msg.text);
    return {};
  },
  setMap(msg) {
    const { doc } = peerOf(msg);
    doc.getMap(msg.map).set(msg.key, msg.value);
    return {};
  },
  setElementProp(msg) {
    // Edit a Bridge element's props the way a browser editor would: in the nested Y.Map.
    const { doc } = peerOf(msg);
    const element = doc.getMap("spec").get("elements").get(msg.key);
    element.get("props").set(msg.prop, msg.value);
    return {};
  },
  text(msg) {
    return { text: peerOf(msg).doc.getText(msg.field ?? "t").toString() };
  },
  docJson(msg) {
    const { doc } = peerOf(msg);
    const out = {};
    for (const name of msg.maps ?? []) out[name] = doc.getMap(name).toJSON();
    for (const name of msg.texts ?? []) out[name] = doc.getText(name).toString();
    return { json: out };
  },
  state(msg) {
    const { provider } = peerOf(msg);
    return {
      synced: provider.isSynced,
      unsynced: provider.unsyncedChanges,
      hasUnsynced: provider.hasUnsyncedChanges,
      authenticated: provider.isAuthenticated,
      scope: provider.authorizedScope ?? null,
      clientId: provider.document.clientID,
    };
  },
  setAwareness(msg) {
    peerOf(msg).provider.awareness.setLocalState(msg.state);
    return {};
  },
  awarenessStates(msg) {
    const states = peerOf(msg).provider.awareness.getStates();
    return { states: Object.fromEntries(states.entries()) };
  },
  sendStateless(msg) {
    peerOf(msg).provider.sendStateless(msg.payload);
    return {};
  },
  disconnectSocket(msg) {
    peerOf(msg).socket.disconnect();
    return {};
  },
  connectSocket(msg) {
    peerOf(msg).socket.connect();
    return {};
  },
  destroy(msg) {
    const entry = peerOf(msg);
    entry.provider.destroy();
    peers.delete(msg.peer);
    const stillUsed = [...peers.values()].some((other) => other.socket === entry.socket);
    if (!stillUsed) {
      entry.socket.destroy();
      if (entry.socketKey) sockets.delete(entry.socketKey);
    }
    return {};
  },
};

const input = readline.createInterface({ input: process.stdin });
input.on("line", (line) => {
  let msg;
  try {
    msg = JSON.parse(line);
  } catch (error) {
    process.stderr.write(`bad command line: ${line}\n`);
    return;
  }
  try {
    const handler = commands[msg.cmd];
    if (!handler) throw new Error(`unknown command ${msg.cmd}`);
    emit({ id: msg.id, ok: handler(msg) });
  } catch (error) {
    emit({ id: msg.id, error: String(error?.stack ?? error) });
  }
});
input.on("close", () => {
  for (const { provider } of peers.values()) provider.destroy();
  for (const socket of sockets.values()) socket.destroy();
  process.exit(0);
});
