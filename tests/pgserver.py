"""A PostgreSQL server for the tests: the one named by FASTDICOM_TEST_PG
(``postgresql://user@127.0.0.1:port/db``, started by .ci/run), else a
private cluster started here on 127.0.0.1 (initdb + pg_ctl; as the
``postgres`` user when we are root) and stopped at the end."""
from __future__ import annotations

import glob
import os
import shutil
import subprocess
import tempfile
import uuid

import pytest
from netpeers import free_port, wait_for_port


def _bin(tool: str) -> str:
    found = shutil.which(tool) or next(iter(sorted(glob.glob(
        f"/usr/lib/postgresql/*/bin/{tool}"), reverse=True)), None)
    if not found:
        pytest.fail(f"PostgreSQL's {tool} is required (apt-get install -y postgresql)")
    return found


class PrivateCluster:
    def __init__(self) -> None:
        self.dir = tempfile.mkdtemp(prefix="fastdicom-pg-")
        self.port = free_port()
        self.user = "fastdicom"
        as_user: list[str] = []
        if os.geteuid() == 0:
            shutil.chown(self.dir, "postgres")
            as_user = ["runuser", "-u", "postgres", "--"]
        data = os.path.join(self.dir, "data")
        subprocess.run(as_user + [_bin("initdb"), "-D", data, "-A", "trust", "-U", self.user,
                                  "-E", "UTF8", "--no-locale"],
                       check=True, capture_output=True, timeout=120)
        subprocess.run(as_user + [_bin("pg_ctl"), "-D", data, "-l",
                                  os.path.join(self.dir, "log"), "-w", "-o",
                                  f"-p {self.port} -k {self.dir} -c listen_addresses=127.0.0.1 "
                                  "-c fsync=off", "start"],
                       check=True, capture_output=True, timeout=120)
        self.as_user, self.data = as_user, data
        wait_for_port(self.port)
        self.url = f"postgresql://{self.user}@127.0.0.1:{self.port}/postgres"

    def stop(self) -> None:
        subprocess.run(self.as_user + [_bin("pg_ctl"), "-D", self.data, "-m", "fast", "stop"],
                       capture_output=True, timeout=120)
        shutil.rmtree(self.dir, ignore_errors=True)


@pytest.fixture(scope="session")
def postgres_url():
    """The URL of a server where databases may be created."""
    url = os.environ.get("FASTDICOM_TEST_PG")
    if url:
        yield url
        return
    cluster = PrivateCluster()
    try:
        yield cluster.url
    finally:
        cluster.stop()


def new_database(server_url: str) -> str:
    """A new, empty database on the server; its URL."""
    import psycopg

    name = "fd_" + uuid.uuid4().hex[:12]
    with psycopg.connect(server_url, autocommit=True) as con:
        con.execute(f"CREATE DATABASE {name}")
    base = server_url.rsplit("/", 1)[0]
    return f"{base}/{name}"
