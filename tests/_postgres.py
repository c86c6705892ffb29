"""A throwaway PostgreSQL server for the store tests.

``GUARDRAIL_TEST_POSTGRES`` (a URL) uses a server you run; otherwise one is started from
the machine's PostgreSQL binaries (Debian's ``postgresql`` package; ``.ci/run`` installs
it) in a temporary folder, on loopback, as an unprivileged user, and stopped at the end.
Each test gets its own schema, so tests never see each other's resources.
"""

from __future__ import annotations

import glob
import os
import shutil
import socket
import subprocess
import tempfile
import uuid
from pathlib import Path
from urllib.parse import quote

ENV = "GUARDRAIL_TEST_POSTGRES"


def _binaries() -> Path | None:
    found = shutil.which("pg_ctl")
    if found:
        return Path(found).resolve().parent
    versions = sorted(glob.glob("/usr/lib/postgresql/*/bin/pg_ctl"), key=lambda p: int(p.split("/")[4]))
    return Path(versions[-1]).parent if versions else None


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


class Server:
    """A server started here (``start``) or given by ``GUARDRAIL_TEST_POSTGRES``."""

    def __init__(self) -> None:
        self.url: str | None = os.environ.get(ENV) or None
        self.skip_reason: str | None = None
        self._dir: Path | None = None
        self._as: list[str] = []
        self._bin: Path | None = None

    def start(self) -> None:
        if self.url:
            return
        self._bin = _binaries()
        if self._bin is None:
            self.skip_reason = "no PostgreSQL binaries (apt-get install postgresql, or set GUARDRAIL_TEST_POSTGRES)"
            return
        self._dir = Path(tempfile.mkdtemp(prefix="guardrail-pg-"))
        if os.geteuid() == 0:  # the server refuses to run as root
            user = "postgres" if _user_exists("postgres") else "nobody"
            shutil.chown(self._dir, user)
            os.chmod(self._dir, 0o700)
            self._as = ["runuser", "-u", user, "--"]
        data, self._port = self._dir / "data", _free_port()
        try:
            self._run("initdb", "-D", str(data), "-A", "trust", "-U", "guardrail", "--no-sync", "-E", "UTF8")
            self.resume()
        except (OSError, subprocess.CalledProcessError) as exc:
            log = (self._dir / "log").read_text(errors="replace")[-2000:] if (self._dir / "log").exists() else ""
            self.skip_reason = f"PostgreSQL did not start: {exc} {getattr(exc, 'stderr', '') or ''} {log}".strip()
            return
        self.url = f"postgresql://guardrail@127.0.0.1:{self._port}/postgres"

    def resume(self) -> None:
        """Start the server (again, after :meth:`halt`) on the same port and data."""
        assert self._dir is not None
        self._run("pg_ctl", "-D", str(self._dir / "data"), "-w", "-t", "60", "-l", str(self._dir / "log"), "-o",
                  f"-p {self._port} -k {self._dir} -c listen_addresses=127.0.0.1 -c fsync=off "
                  "-c full_page_writes=off -c max_connections=300", "start")

    def halt(self) -> None:
        """Stop the server as a crash would (for the tests of an unreachable database)."""
        assert self._dir is not None
        self._run("pg_ctl", "-D", str(self._dir / "data"), "-m", "immediate", "-w", "stop")

    def _run(self, tool: str, *args: str) -> None:
        assert self._bin is not None
        subprocess.run([*self._as, str(self._bin / tool), *args], check=True, capture_output=True, text=True,
                       timeout=120, cwd="/")

    def stop(self) -> None:
        if self._dir is None:
            return
        if self.url:
            try:
                self.halt()
            except (OSError, subprocess.CalledProcessError):  # pragma: no cover - already stopped
                pass
        shutil.rmtree(self._dir, ignore_errors=True)

    def new_schema(self) -> str:
        """A fresh, empty schema; the URL that makes it the store's."""
        import psycopg

        assert self.url
        schema = "t_" + uuid.uuid4().hex[:12]
        with psycopg.connect(self.url, autocommit=True) as conn:
            conn.execute(f"CREATE SCHEMA {schema}")
        sep = "&" if "?" in self.url else "?"
        return f"{self.url}{sep}options={quote(f'-csearch_path={schema}')}"

    def drop_schema(self, url: str) -> None:
        import psycopg

        assert self.url
        schema = url.rsplit("search_path%3D", 1)[-1]
        with psycopg.connect(self.url, autocommit=True) as conn:
            conn.execute(f"DROP SCHEMA IF EXISTS {schema} CASCADE")


def _user_exists(name: str) -> bool:
    import pwd

    try:
        pwd.getpwnam(name)
        return True
    except KeyError:
        return False
