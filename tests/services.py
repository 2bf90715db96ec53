"""Real Postgres and Redis for the test run: the machine's own, or throwaway ones.

The suite prefers the services already running on 127.0.0.1 (each run gets its own fresh
database). Where none answers, it starts a throwaway server on a free loopback port and
removes it afterwards: Redis through pytest-redis' executor; Postgres by hand, because
initdb refuses to run as root and pytest-postgresql cannot switch users.
"""

from __future__ import annotations

import glob
import logging
import os
import pwd
import shutil
import socket
import subprocess
import tempfile
import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import psycopg
import redis

__all__ = ["RestartablePostgres", "free_port", "postgres_dsn", "redis_url", "restartable_postgres"]

PG_HOST = os.environ.get("ATELIER_TEST_PG_HOST", "127.0.0.1")
PG_PORT = int(os.environ.get("ATELIER_TEST_PG_PORT", "5432"))
REDIS_PORT = int(os.environ.get("ATELIER_TEST_REDIS_PORT", "6379"))

log = logging.getLogger(__name__)


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def _answers(port: int) -> bool:
    try:
        with socket.create_connection(("127.0.0.1", port), timeout=1):
            return True
    except OSError:
        return False


def _pg_bin(name: str) -> str:
    found = shutil.which(name)
    if found:
        return found
    candidates = sorted(glob.glob(f"/usr/lib/postgresql/*/bin/{name}"))
    if not candidates:
        raise RuntimeError(f"{name} not found: install PostgreSQL server binaries")
    return candidates[-1]


@contextmanager
def _throwaway_postgres(base: Path) -> Iterator[str]:
    port = free_port()
    # A directory of its own: the postgres user must be able to reach it.
    base = Path(tempfile.mkdtemp(prefix="atelier-pg-"))
    data = base / "pgdata"
    prefix: list[str] = []
    if os.geteuid() == 0:
        user = pwd.getpwnam("postgres")
        os.chown(base, user.pw_uid, user.pw_gid)
        prefix = ["runuser", "-u", "postgres", "--"]
    subprocess.run(
        [*prefix, _pg_bin("initdb"), "-D", str(data), "-A", "trust", "-U", "postgres"],
        check=True,
        capture_output=True,
        timeout=120,
    )
    options = f"-p {port} -k {base} -c listen_addresses=127.0.0.1 -c fsync=off"
    # The server inherits pg_ctl's output: send it to a log file, never to a pipe we wait on.
    subprocess.run(
        [
            *prefix,
            _pg_bin("pg_ctl"),
            "-D",
            str(data),
            "-o",
            options,
            "-l",
            str(base / "log"),
            "-w",
            "-t",
            "60",
            "start",
        ],
        check=True,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
        timeout=120,
    )
    try:
        yield f"postgresql://postgres@127.0.0.1:{port}/postgres"
    finally:
        subprocess.run(
            [*prefix, _pg_bin("pg_ctl"), "-D", str(data), "-m", "immediate", "-w", "stop"],
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
            timeout=60,
        )
        shutil.rmtree(base, ignore_errors=True)


class RestartablePostgres:
    """A throwaway Postgres of the test's own, which fault tests may stop, start and restart.

    Never the machine's shared server: other tests use that one.
    """

    def __init__(self) -> None:
        self.port = free_port()
        # A directory of its own: the postgres user must be able to reach it.
        self.base = Path(tempfile.mkdtemp(prefix="atelier-pg-faults-"))
        self.data = self.base / "pgdata"
        self._prefix: list[str] = []
        if os.geteuid() == 0:
            user = pwd.getpwnam("postgres")
            os.chown(self.base, user.pw_uid, user.pw_gid)
            self._prefix = ["runuser", "-u", "postgres", "--"]

    @property
    def dsn(self) -> str:
        return f"postgresql://postgres@127.0.0.1:{self.port}/postgres"

    def _pg_ctl(self, *args: str) -> None:
        subprocess.run(
            [*self._prefix, _pg_bin("pg_ctl"), "-D", str(self.data), *args],
            check=True,
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
            timeout=120,
        )

    def init(self) -> None:
        subprocess.run(
            [*self._prefix, _pg_bin("initdb"), "-D", str(self.data), "-A", "trust", "-U", "postgres"],
            check=True,
            capture_output=True,
            timeout=120,
        )

    def start(self) -> None:
        options = f"-p {self.port} -k {self.base} -c listen_addresses=127.0.0.1 -c fsync=off"
        # The server inherits pg_ctl's output: send it to a log file, never to a pipe we wait on.
        self._pg_ctl("-o", options, "-l", str(self.base / "log"), "-w", "-t", "60", "start")

    def stop(self, mode: str = "fast") -> None:
        """``fast``: clients are disconnected, the server shuts down cleanly; ``immediate``: a crash."""
        self._pg_ctl("-m", mode, "-w", "-t", "60", "stop")

    def terminate_backends(self, application_prefix: str) -> int:
        """Kill every connection whose application_name starts with the prefix; how many."""
        with psycopg.connect(self.dsn, autocommit=True) as conn:
            rows = conn.execute(
                "SELECT pg_terminate_backend(pid) FROM pg_stat_activity "
                "WHERE application_name LIKE %s AND pid <> pg_backend_pid()",
                (application_prefix + "%",),
            ).fetchall()
        return sum(1 for (killed,) in rows if killed)

    def remove(self) -> None:
        try:
            self.stop("immediate")
        except subprocess.CalledProcessError:
            log.debug("throwaway postgres was not running at removal port=%d", self.port)
        shutil.rmtree(self.base, ignore_errors=True)


@contextmanager
def restartable_postgres() -> Iterator[RestartablePostgres]:
    """A running throwaway Postgres on a free loopback port, removed afterwards."""
    server = RestartablePostgres()
    try:
        server.init()
        server.start()
        yield server
    finally:
        server.remove()


def _admin_sql(admin_dsn: str, sql: str) -> None:
    # Synchronous on purpose: fixtures may run inside the test event loop.
    with psycopg.connect(admin_dsn, autocommit=True) as conn:
        conn.execute(sql)  # type: ignore[arg-type]


@contextmanager
def postgres_dsn(base: Path) -> Iterator[str]:
    """A DSN to a fresh database, dropped afterwards."""
    with _admin_dsn(base) as admin:
        name = f"atelier_test_{uuid.uuid4().hex[:12]}"
        _admin_sql(admin, f'CREATE DATABASE "{name}"')
        try:
            yield admin.rsplit("/", 1)[0] + f"/{name}"
        finally:
            _admin_sql(admin, f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')


@contextmanager
def _admin_dsn(base: Path) -> Iterator[str]:
    if _answers(PG_PORT):
        yield f"postgresql://postgres@{PG_HOST}:{PG_PORT}/postgres"
        return
    with _throwaway_postgres(base) as dsn:
        yield dsn


@contextmanager
def redis_url(base: Path) -> Iterator[str]:
    if _answers(REDIS_PORT):
        client = redis.Redis(port=REDIS_PORT)
        client.ping()
        client.close()
        yield f"redis://127.0.0.1:{REDIS_PORT}/0"
        return
    from pytest_redis.executor import RedisExecutor

    port = free_port()
    base.mkdir(parents=True, exist_ok=True)
    executor = RedisExecutor(
        shutil.which("redis-server") or "/usr/bin/redis-server",
        databases=4,
        redis_timeout=30,
        loglevel="warning",
        host="127.0.0.1",
        port=port,
        datadir=base,
    )
    with executor:
        yield f"redis://127.0.0.1:{port}/0"
