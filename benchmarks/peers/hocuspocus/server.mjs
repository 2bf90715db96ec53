// The Hocuspocus server as a benchmark peer: stock configuration, no extensions (so no
// persistence: documents live in memory and are unloaded when their last client leaves).
// Usage: node server.mjs --port N   (binds 127.0.0.1 only)
import { Server } from "@hocuspocus/server";

const index = process.argv.indexOf("--port");
const port = index > 0 ? Number(process.argv[index + 1]) : NaN;
if (!Number.isInteger(port) || port <= 0) {
  console.error("usage: node server.mjs --port N");
  process.exit(2);
}

const server = new Server({ port, address: "127.0.0.1", quiet: true });
await server.listen();
console.log(`hocuspocus ${process.versions.node} listening on 127.0.0.1:${port}`);
