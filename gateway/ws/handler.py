"""The /ws (Hocuspocus) and /ws/{session_id} (y-websocket) endpoints.

Reading is a loop of pure decodes; a frame whose header cannot be read closes only its
own connection; a bad document-level message is refused for that document only.
"""

from __future__ import annotations

import asyncio
import logging

from aiohttp import WSCloseCode, WSMsgType, web

from actors.core.ids import valid_session_id
from actors.errors import SessionNotFound, SessionUnavailable, TooManyStreams
from actors.protocol.lib0 import DecodeError, Decoder
from actors.protocol.messages import (
    PONG,
    AuthType,
    MessageType,
    ProtocolError,
    YMessageType,
    authenticated,
    decode_frame,
    route_name,
)

from ..auth import VERIFIER, AuthError
from ..limits.errors import LimitExceeded, limit_response
from ..limits.limiter import LIMITER, WsAdmission
from ..metrics import Metrics
from ..settings import Settings
from ..state import CHANNELS, METRICS, SETTINGS, SOCKETS, WS_AUTH
from .auth import READ_ONLY, READ_WRITE, AuthDenied
from .connection import CLOSE_RESTART, Binding, BindingState, Connection

__all__ = ["hocuspocus_endpoint", "y_websocket_endpoint"]

log = logging.getLogger(__name__)

_CLIENT_TYPES = {
    MessageType.SYNC,
    MessageType.AWARENESS,
    MessageType.QUERY_AWARENESS,
    MessageType.STATELESS,
}


async def _prepare(request: web.Request, settings: Settings) -> web.WebSocketResponse:
    # permessage-deflate is declined, as Hocuspocus declines it: Yjs updates are small and
    # already compact binary, and compressing them would cost CPU per frame per socket
    # (a broadcast is framed once and its bytes written to every socket; see `frames`).
    ws = web.WebSocketResponse(max_msg_size=settings.ws_max_frame_bytes, autoping=True, compress=False)
    await ws.prepare(request)
    request.app[SOCKETS].add(ws)
    return ws


class _Session:
    """Per-socket reader state shared by both protocols."""

    def __init__(self, request: web.Request, ws: web.WebSocketResponse, plain: bool) -> None:
        self.app = request.app
        self.settings: Settings = request.app[SETTINGS]
        self.metrics: Metrics = request.app[METRICS]
        self.ws = ws
        self.conn = Connection(
            ws,
            queue_limit=self.settings.ws_outbound_queue_frames,
            queue_bytes=self.settings.ws_outbound_queue_bytes,
            plain=plain,
            close_timeout=self.settings.limits.ws_close_timeout,
            transport=request.transport,
            protocol=request.protocol,
            on_slow=self.metrics.ws_slow_closes.inc,
            on_sent=self.metrics.sockets.sent,
            on_queued=self.metrics.sockets.queued,
            on_abort=self.metrics.ws_aborts.inc,
        )
        self.tasks: set[asyncio.Task[None]] = set()

    def refuse(self, reason: str) -> None:
        self.metrics.ws_refusals.labels(reason).inc()

    # -- auth -------------------------------------------------------------------------

    def open_binding(self, address: str) -> Binding | None:
        if len(self.conn.bindings) >= self.settings.ws_max_documents:
            self.refuse("too-many-documents")
            Binding(self.conn, address, route_name(address)).deny("too-many-documents")
            return None
        binding = Binding(self.conn, address, route_name(address))
        self.conn.bindings[address] = binding
        return binding

    def authorize(self, binding: Binding, token: str) -> None:
        """Decide the document's one auth (a repeated one never gets here)."""
        binding.move(BindingState.AUTHORIZING)
        task = asyncio.get_running_loop().create_task(self._authorize(binding, token))
        self.tasks.add(task)
        task.add_done_callback(self.tasks.discard)

    async def _authorize(self, binding: Binding, token: str) -> None:
        try:
            if not valid_session_id(binding.session_id):
                raise AuthDenied("session-not-found")
            scope = await self._scope(binding.session_id, token)
            channel = await self.app[CHANNELS].channel(binding.session_id)
            if channel.owner is not None:
                # A design session's document: its owner's JWT only, and read-only (the
                # engine writes it).
                if await self._user(token) != channel.owner:
                    raise AuthDenied("permission-denied")
                scope = READ_ONLY
            elif scope is None:
                raise AuthDenied("invalid-token")
            binding.writable = scope == READ_WRITE
            if channel.closed:
                # Its stream ended while we waited (its host died): attaching would leave the
                # document without a sync answer, and never closed.
                raise SessionUnavailable("the session's channel closed while attaching")
            channel.attach(binding)
        except AuthDenied as exc:
            self.refuse(exc.reason)
            binding.deny(exc.reason)
            return
        except SessionNotFound:
            self.refuse("session-not-found")
            binding.deny("session-not-found")
            return
        except TooManyStreams as exc:  # this document only; the socket stays up
            log.warning("attach refused session=%s: %s", binding.session_id, exc)
            self.refuse("too-many-streams")
            binding.deny("too-many-streams")
            return
        except (TimeoutError, SessionUnavailable, ConnectionError) as exc:
            # Not a refusal: the session is between hosts or the store is away. A provider
            # never authenticates a denied document again, so close the socket as a host
            # restart does; the client reconnects (with its backoff) and syncs afresh.
            log.warning("attach failed session=%s, closing its socket to retry: %s", binding.session_id, exc)
            self.refuse("unavailable")
            binding.close()
            self.conn.close_soon(CLOSE_RESTART, "session unavailable, reconnect")
            return
        if binding.state is BindingState.CLOSED or self.conn.closing:
            # The socket or document went away while we were attaching.
            if binding.channel is not None:
                binding.channel.detach(binding)
            return
        binding.move(BindingState.AUTHORIZED)
        if not self.conn.plain:
            self.conn.send(authenticated(binding.address, scope))
        queued, binding.queued = binding.queued, []
        for kind, payload in queued:
            self.dispatch(binding, kind, payload)

    async def _scope(self, session_id: str, token: str) -> str | None:
        """The Bridge policy's scope for the token; None when it refuses a JWT bearer
        (who may still own a design session: the session decides)."""
        try:
            return self.app[WS_AUTH].authorize(session_id, token)
        except AuthDenied:
            if await self._user(token) is None:
                raise
            return None

    async def _user(self, token: str) -> str | None:
        if token.count(".") != 2:
            return None  # not a JWT
        try:
            return (await self.app[VERIFIER].verify_async(token)).user_id
        except AuthError:
            return None

    # -- frames -----------------------------------------------------------------------

    def queue(self, binding: Binding, kind: int, payload: bytes) -> None:
        if len(binding.queued) >= self.settings.ws_max_pending_frames:
            self.refuse("too-many-frames-before-auth")
            binding.queued.clear()
            binding.deny("too-many-frames-before-auth")
            return
        binding.queued.append((kind, payload))

    def dispatch(self, binding: Binding, kind: int, payload: bytes) -> None:
        channel = binding.channel
        if channel is None or binding.state is not BindingState.AUTHORIZED:
            return
        if kind == MessageType.CLOSE:
            # The provider detached this document: forget it, keep the socket.
            self.conn.bindings.pop(binding.address, None)
            binding.close()
            channel.detach(binding)
            return
        if kind not in _CLIENT_TYPES:
            self.refuse("message-type-not-allowed")
            log.info("refused client message type=%s doc=%s", kind, binding.session_id)
            return
        channel.submit(binding, kind, payload)

    def hocuspocus_frame(self, data: bytes) -> None:
        frame = decode_frame(data)
        self.metrics.sockets.frames_in[frame.type.name] += 1
        if frame.type == MessageType.PING:
            self.conn.send(PONG)
            return
        if frame.type == MessageType.PONG:
            return
        binding = self.conn.bindings.get(frame.address)
        if frame.type == MessageType.AUTH:
            decoder = Decoder(frame.payload)
            try:
                subtype = decoder.read_var_uint()
                token = decoder.read_var_string() if subtype == AuthType.TOKEN else None
            except DecodeError as exc:
                raise ProtocolError(f"bad auth message: {exc}") from exc
            if token is None:
                raise ProtocolError("clients may only send auth tokens")
            if binding is None:
                binding = self.open_binding(frame.address)
            if binding is None:
                return
            if binding.state is BindingState.PENDING:
                self.authorize(binding, token)
            else:
                # As Hocuspocus does: a document's auth is decided once per connection, a
                # repeated token (while it is decided, or after) is ignored.
                log.debug("repeated auth ignored doc=%s state=%s", binding.session_id, binding.state.value)
            return
        if binding is None:
            binding = self.open_binding(frame.address)
            if binding is None:
                return
        if binding.awaiting_auth:
            self.queue(binding, frame.type, frame.payload)
        else:
            self.dispatch(binding, frame.type, frame.payload)

    def plain_frame(self, binding: Binding, data: bytes) -> None:
        decoder = Decoder(data)
        try:
            kind = decoder.read_var_uint()
        except DecodeError as exc:
            raise ProtocolError(str(exc)) from exc
        if kind not in (YMessageType.SYNC, YMessageType.AWARENESS, YMessageType.QUERY_AWARENESS):
            raise ProtocolError(f"unknown y-websocket message type {kind}")
        self.metrics.sockets.frames_in[YMessageType(kind).name] += 1
        payload = decoder.read_rest()
        if binding.awaiting_auth:
            self.queue(binding, kind, payload)
        else:
            self.dispatch(binding, kind, payload)

    # -- lifecycle --------------------------------------------------------------------

    async def run(self, binding: Binding | None = None) -> None:
        self.conn.start()
        self.metrics.ws_connections.inc()
        idle = self.settings.ws_idle_timeout
        try:
            while True:
                try:
                    msg = await self.ws.receive(timeout=idle)
                except TimeoutError:
                    await self.conn.close(4408, "idle timeout")
                    break
                if msg.type == WSMsgType.BINARY:
                    try:
                        if binding is not None:
                            self.plain_frame(binding, msg.data)
                        else:
                            self.hocuspocus_frame(msg.data)
                    except ProtocolError as exc:
                        self.refuse("protocol-error")
                        log.info("closing connection on protocol error: %s", exc)
                        await self.conn.close(WSCloseCode.PROTOCOL_ERROR, str(exc)[:120])
                        break
                elif msg.type == WSMsgType.TEXT:
                    self.refuse("text-frame")
                    await self.conn.close(WSCloseCode.UNSUPPORTED_DATA, "binary frames only")
                    break
                elif msg.type in (WSMsgType.CLOSE, WSMsgType.CLOSING, WSMsgType.CLOSED, WSMsgType.ERROR):
                    break
        finally:
            self.app[SOCKETS].discard(self.ws)
            await self.cleanup()

    async def cleanup(self) -> None:
        self.metrics.ws_connections.dec()
        self.conn.closing = True
        for task in list(self.tasks):
            task.cancel()
        await asyncio.gather(*self.tasks, return_exceptions=True)
        for binding in list(self.conn.bindings.values()):
            binding.close()
            if binding.channel is not None:
                binding.channel.detach(binding)
        self.conn.bindings.clear()
        await self.conn.stop()


async def _admit(request: web.Request) -> WsAdmission | web.Response:
    """The connection rates and concurrent-socket limits, before the upgrade: 429 JSON
    with ``Retry-After`` (browsers see a failed handshake and back off)."""
    try:
        return await request.config_dict[LIMITER].admit_ws(request)
    except LimitExceeded as exc:
        request.app[METRICS].ws_refusals.labels("rate-limited").inc()
        return limit_response(exc)


async def hocuspocus_endpoint(request: web.Request) -> web.StreamResponse:
    admission = await _admit(request)
    if isinstance(admission, web.Response):
        return admission
    try:
        ws = await _prepare(request, request.app[SETTINGS])
        session = _Session(request, ws, plain=False)
        await session.run()
    finally:
        admission.release()
    return ws


async def y_websocket_endpoint(request: web.Request) -> web.StreamResponse:
    admission = await _admit(request)
    if isinstance(admission, web.Response):
        return admission
    try:
        ws = await _prepare(request, request.app[SETTINGS])
        session = _Session(request, ws, plain=True)
        session_id = request.match_info["session_id"]
        binding = Binding(session.conn, "", session_id)
        session.conn.bindings[""] = binding
        session.authorize(binding, request.query.get("token", ""))
        await session.run(binding)
    finally:
        admission.release()
    return ws
