"""The ``net`` workload of ``fastdicom bench``: C-ECHO latency and C-STORE
throughput over loopback for each available SCU -> SCP pair of fastdicom,
pynetdicom and dcmtk.

Every SCP runs as a program of its own (``fastdicom scp --no-fsync``, a small
pynetdicom storage SCP, dcmtk's ``storescp``) on a free port of 127.0.0.1 and
stores what it receives in a temporary directory (fastdicom without fsync, as
the others); a crashing SCP fails its pairs' checks, not the run. For each pair:

* ``echo``: one association, ``echoes`` C-ECHOs timed one after another,
  seconds per C-ECHO (dcmtk's ``echoscu --repeat N`` is timed as a whole:
  its process start and association are included);
* ``store:<kind>``: one association per pass storing all the files (the
  association included), seconds per file; checked first: every file arrives
  with the same data set bytes (the SCP's file read back by fastdicom).

A pair whose SCP does not start, or whose check fails, is reported and not
timed. dcmtk's storescp cannot listen on loopback only: when dcmtk takes part,
the whole net workload runs in a private network namespace (``unshare -rn``,
:func:`run_net_isolated`) where the system allows one, else in this process
with storescp listening on every interface while it runs (a note says which). TCP_NODELAY: fastdicom's asyncio
transport sets it; pynetdicom does not (Nagle's algorithm on); dcmtk follows
its ``TCP_NODELAY`` environment variable (compiled-in default otherwise).
"""
from __future__ import annotations

import json
import os
import shutil
import socket
import subprocess
import sys
import tempfile
import time
from typing import Any, Callable

from fastdicom.bench._peers import DCMTK_DIRS

__all__ = ["NET_TOOLS", "NODELAY", "net_available", "run_net", "run_net_isolated",
           "private_namespace_available"]

SCP_AE, SCU_AE = "BENCHSCP", "BENCHSCU"
_NETNS_ENV = "FASTDICOM_BENCH_NETNS"  # set inside the private network namespace
VERIFICATION = "1.2.840.10008.1.1"
NET_TOOLS = ("fastdicom", "pynetdicom", "dcmtk")
NODELAY = {"fastdicom": "TCP_NODELAY set (asyncio transport)",
           "pynetdicom": "TCP_NODELAY not set (Nagle's algorithm on)",
           "dcmtk": "TCP_NODELAY from its TCP_NODELAY environment variable "
                    f"({os.environ.get('TCP_NODELAY', 'not set: compiled-in default')})"}


def _dcmtk(program: str) -> str | None:
    for d in DCMTK_DIRS:
        path = os.path.join(d, program)
        if os.access(path, os.X_OK):
            return path
    return None


def net_available(tool: str) -> bool:
    if tool == "dcmtk":
        return all(_dcmtk(p) for p in ("storescp", "storescu", "echoscu"))
    if tool == "pynetdicom":
        import importlib.util

        return importlib.util.find_spec("pynetdicom") is not None
    return tool == "fastdicom"


def free_port() -> int:
    """A TCP port free on 127.0.0.1 now."""
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def wait_for_port(port: int, timeout: float = 20.0,
                  alive: Callable[[], bool] | None = None) -> None:
    """Return once something listens on 127.0.0.1:``port``; TimeoutError after
    ``timeout`` seconds. With ``alive`` (is the server's process running?),
    RuntimeError as soon as it is not, or at the timeout."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline and (alive is None or alive()):
        try:
            socket.create_connection(("127.0.0.1", port), timeout=1).close()
            return
        except OSError:
            time.sleep(0.05)
    if alive is None:
        raise TimeoutError(f"nothing listens on port {port}")
    raise RuntimeError("the SCP did not start" if not alive() else "the SCP did not listen")


# --------------------------------------------------------------------------- SCPs
def _pynetdicom_scp(port: int, directory: str) -> None:
    import logging

    from pynetdicom import AE, ALL_TRANSFER_SYNTAXES, AllStoragePresentationContexts, evt

    logging.getLogger("pynetdicom").setLevel(logging.CRITICAL)
    ae = AE(ae_title=SCP_AE)
    for cx in AllStoragePresentationContexts:
        ae.add_supported_context(cx.abstract_syntax, ALL_TRANSFER_SYNTAXES)
    ae.add_supported_context(VERIFICATION)

    def on_store(event):
        name = os.path.join(directory, f"{event.request.AffectedSOPInstanceUID}.dcm")
        with open(name, "wb") as f:
            f.write(event.encoded_dataset())
        return 0x0000

    ae.start_server(("127.0.0.1", port), block=True, evt_handlers=[(evt.EVT_C_STORE, on_store)])


class SCP:
    """A storage SCP of ``tool`` in another process (a context manager)."""

    def __init__(self, tool: str) -> None:
        self.tool = tool
        self.port = free_port()
        self.directory = tempfile.mkdtemp(prefix=f"fdbench-{tool}-scp-")
        self._proc: Any = None

    def _command(self) -> list[str]:
        if self.tool == "dcmtk":
            return [_dcmtk("storescp"), "-aet", SCP_AE, "-od", self.directory, str(self.port)]
        if self.tool == "fastdicom":  # its command line: the public API, as a user runs it
            return [sys.executable, "-m", "fastdicom", "scp", "--port", str(self.port), "--bind",
                    "127.0.0.1", "--dir", self.directory, "--aet", SCP_AE, "--no-fsync",
                    "--no-index", "-q"]
        return [sys.executable, "-c", "import sys; from fastdicom.bench.net import _pynetdicom_scp;"
                " _pynetdicom_scp(int(sys.argv[1]), sys.argv[2])", str(self.port), self.directory]

    def __enter__(self) -> "SCP":
        self._proc = subprocess.Popen(self._command(), stdout=subprocess.DEVNULL,
                                      stderr=subprocess.DEVNULL)
        try:
            wait_for_port(self.port, alive=lambda: self._proc.poll() is None)
        except BaseException:
            self.__exit__()
            raise
        return self

    def clear(self) -> None:
        for name in os.listdir(self.directory):
            os.unlink(os.path.join(self.directory, name))

    def received(self) -> list[str]:
        return sorted(os.path.join(self.directory, n) for n in os.listdir(self.directory)
                      if not n.startswith("."))

    def __exit__(self, *exc: Any) -> None:
        proc = self._proc
        if proc is not None:
            proc.terminate()
            try:
                proc.wait(10)
            except subprocess.TimeoutExpired:
                proc.kill()
                proc.wait()
        shutil.rmtree(self.directory, ignore_errors=True)


# --------------------------------------------------------------------------- SCUs
def _contexts(paths: list[str]) -> list[str]:
    import fastdicom

    classes = {str(fastdicom.dcmread(p, stop_before_pixels=True).SOPClassUID) for p in paths}
    return [VERIFICATION] + sorted(classes)


def _fastdicom_scu(port: int, paths: list[str]):
    from fastdicom.net.ae import AE

    def echo(n: int) -> float:
        with AE(SCU_AE).associate("127.0.0.1", port, ae_title=SCP_AE,
                                  contexts=[VERIFICATION]) as assoc:
            start = time.perf_counter()
            for _ in range(n):
                if assoc.echo() != 0:
                    raise RuntimeError("C-ECHO failed")
            return (time.perf_counter() - start) / n

    contexts = _contexts(paths)

    def store(files: list[str]) -> None:
        with AE(SCU_AE).associate("127.0.0.1", port, ae_title=SCP_AE,
                                  contexts=contexts) as assoc:
            assoc.store_many(files)

    return echo, store


def _pynetdicom_scu(port: int, paths: list[str]):
    import logging

    from pynetdicom import AE

    logging.getLogger("pynetdicom").setLevel(logging.CRITICAL)
    import pydicom

    contexts = _contexts(paths)

    def associate(cxs):
        ae = AE(ae_title=SCU_AE)
        for uid in cxs:
            ae.add_requested_context(uid)
        assoc = ae.associate("127.0.0.1", port, ae_title=SCP_AE)
        if not assoc.is_established:
            raise RuntimeError("pynetdicom: association not established")
        return assoc

    def echo(n: int) -> float:
        assoc = associate([VERIFICATION])
        try:
            start = time.perf_counter()
            for _ in range(n):
                if assoc.send_c_echo().Status != 0:
                    raise RuntimeError("C-ECHO failed")
            return (time.perf_counter() - start) / n
        finally:
            assoc.release()

    def store(files: list[str]) -> None:
        assoc = associate(contexts)
        try:
            for f in files:
                status = assoc.send_c_store(pydicom.dcmread(f))
                if status is None or status.Status != 0:
                    raise RuntimeError(f"C-STORE of {f} failed")
        finally:
            assoc.release()

    return echo, store


def _dcmtk_scu(port: int, paths: list[str]):
    def echo(n: int) -> float:
        start = time.perf_counter()
        subprocess.run([_dcmtk("echoscu"), "-aet", SCU_AE, "-aec", SCP_AE, "--repeat", str(n),
                        "127.0.0.1", str(port)], check=True, capture_output=True, timeout=300)
        return (time.perf_counter() - start) / n

    def store(files: list[str]) -> None:
        subprocess.run([_dcmtk("storescu"), "-aet", SCU_AE, "-aec", SCP_AE, "127.0.0.1",
                        str(port), *files], check=True, capture_output=True, timeout=600)

    return echo, store


SCUS = {"fastdicom": _fastdicom_scu, "pynetdicom": _pynetdicom_scu, "dcmtk": _dcmtk_scu}


def _same_datasets(sent: list[str], received: list[str]) -> str | None:
    """None when every sent file arrived with the same data set bytes."""
    import fastdicom

    def datasets(paths):
        out = {}
        for p in paths:
            ds = fastdicom.dcmread(p)
            out[str(ds.SOPInstanceUID)] = (len(ds), bytes(ds.PixelData))
        return out

    a, b = datasets(sent), datasets(received)
    if set(a) != set(b):
        return f"{len(b)} data sets received, {len(a)} sent (or other SOP Instance UIDs)"
    bad = [uid for uid in a if a[uid] != b[uid]]
    return f"{len(bad)} data sets arrived changed" if bad else None


def run_net(corpus: dict[str, list[str]], tools: list[str], *, repeats: int, echoes: int = 20,
            progress: Callable[[str], None] = lambda text: None):
    """(checks, results, notes) of the net workload; ``results`` as dicts
    shaped like :class:`fastdicom.bench.runner.Result` (tool = "SCU>SCP")."""
    import statistics

    from fastdicom.bench.runner import Check, Result

    tools = [t for t in NET_TOOLS if t in tools and net_available(t)]
    checks, results, notes = [], [], [f"net {t}: {NODELAY[t]}" for t in tools]
    if "dcmtk" in tools:
        notes.append("net dcmtk: storescp listened on every interface of a private network "
                     "namespace (unshare -rn): loopback only" if os.environ.get(_NETNS_ENV) else
                     "net dcmtk: storescp listened on every interface during the run (no "
                     "private network namespace: unshare -rn is not available here)")
    for scp_tool in tools:
        try:
            scp = SCP(scp_tool).__enter__()
        except Exception as exc:
            for scu_tool in tools:
                checks.append(Check("net", "scp", f"{scu_tool}>{scp_tool}", "error", 0,
                                    [{"file": None, "status": "error", "detail": str(exc)}]))
            continue
        try:
            for scu_tool in tools:
                pair = f"{scu_tool}>{scp_tool}"
                echo, store = SCUS[scu_tool](scp.port, [p for v in corpus.values() for p in v][:1])
                progress(f"net {pair}: echo")
                try:
                    echo(2)  # warm up and check
                    samples = [echo(echoes) for _ in range(repeats)]
                except Exception as exc:
                    checks.append(Check("net", "echo", pair, "error", 1, [
                        {"file": None, "status": "error", "detail": str(exc)[:300]}]))
                    continue
                checks.append(Check("net", "echo", pair, "ok", 1))
                results.append(_result("echo", pair, 1, samples, 0, Result, statistics))
                for kind, paths in corpus.items():
                    progress(f"net {pair}: store {kind} ({len(paths)} files)")
                    echo, store = SCUS[scu_tool](scp.port, paths)
                    check = Check("net", f"store:{kind}", pair, "ok", len(paths))
                    try:
                        scp.clear()
                        store(paths)
                        diff = _same_datasets(paths, scp.received())
                    except Exception as exc:
                        check.status, diff = "error", str(exc)[:300]
                    if diff:
                        check.status = check.status if check.status != "ok" else "mismatch"
                        check.problems = [{"file": None, "status": check.status, "detail": diff}]
                    checks.append(check)
                    if check.status != "ok":
                        continue
                    samples = []
                    for _ in range(repeats):
                        scp.clear()
                        start = time.perf_counter()
                        store(paths)
                        samples.append((time.perf_counter() - start) / len(paths))
                    nbytes = statistics.mean(os.path.getsize(p) for p in paths)
                    results.append(_result(f"store:{kind}", pair, len(paths), samples, nbytes,
                                           Result, statistics))
        finally:
            scp.__exit__()
    return checks, results, notes


def _result(kind, pair, files, samples, nbytes, Result, statistics):
    med = statistics.median(samples)
    return Result("net", kind, "warm", pair, files, 1, samples, med, min(samples), max(samples),
                  1.0 / med, nbytes / med / 1e6 if nbytes else 0.0, None)


# --------------------------------------------------------------------------- namespace
def _programs() -> tuple[str | None, str | None]:
    find = lambda name, dirs: next((os.path.join(d, name) for d in dirs  # noqa: E731
                                    if os.access(os.path.join(d, name), os.X_OK)), None)
    return (find("unshare", ("/usr/bin", "/bin")),
            find("ip", ("/usr/sbin", "/sbin", "/usr/bin", "/bin")))


def private_namespace_available() -> bool:
    """Can this user make a network namespace of its own (``unshare -rn``)?"""
    unshare, ip = _programs()
    if unshare is None or ip is None:
        return False
    try:
        return subprocess.run([unshare, "-rn", ip, "link", "set", "lo", "up"],
                              capture_output=True, timeout=30).returncode == 0
    except (OSError, subprocess.SubprocessError):
        return False


def run_net_isolated(corpus: dict[str, list[str]], tools: list[str], *, repeats: int,
                     echoes: int = 20, progress: Callable[[str], None] = lambda text: None):
    """:func:`run_net`, in a private network namespace (``unshare -rn``, its
    loopback brought up) when dcmtk takes part (its storescp cannot listen on
    loopback only) and the system allows one; in this process otherwise."""
    from fastdicom.bench.runner import Check, Result

    if "dcmtk" not in tools or not net_available("dcmtk") or os.environ.get(_NETNS_ENV) \
            or not private_namespace_available():
        return run_net(corpus, tools, repeats=repeats, echoes=echoes, progress=progress)
    unshare, ip = _programs()
    cmd = [unshare, "-rn", "sh", "-c", f'"{ip}" link set lo up && exec "$0" "$@"',
           sys.executable, "-m", "fastdicom.bench.net"]
    job = json.dumps({"corpus": corpus, "tools": tools, "repeats": repeats, "echoes": echoes})
    proc = subprocess.Popen(cmd, stdin=subprocess.PIPE, stdout=subprocess.PIPE,
                            stderr=subprocess.PIPE, text=True, env={**os.environ, _NETNS_ENV: "1"})
    proc.stdin.write(job)
    proc.stdin.close()
    errors = []
    for line in proc.stderr:
        if line.startswith("progress: "):
            progress(line[10:].rstrip("\n"))
        else:
            errors.append(line.rstrip("\n"))
    out = proc.stdout.read()
    if proc.wait() != 0:
        raise RuntimeError("the net workload failed in its network namespace: "
                           + " | ".join(errors[-3:]))
    data = json.loads(out)
    return ([Check(**c) for c in data["checks"]], [Result(**r) for r in data["results"]],
            data["notes"])


def _main() -> int:
    """``python -m fastdicom.bench.net`` (run inside the namespace): a job as JSON
    on stdin, the results as JSON on stdout, progress on stderr."""
    from dataclasses import asdict

    job = json.loads(sys.stdin.read())

    def progress(text: str) -> None:
        print("progress: " + text, file=sys.stderr, flush=True)

    checks, results, notes = run_net(job["corpus"], job["tools"], repeats=job["repeats"],
                                     echoes=job["echoes"], progress=progress)
    json.dump({"checks": [asdict(c) for c in checks], "results": [asdict(r) for r in results],
               "notes": notes}, sys.stdout)
    return 0


if __name__ == "__main__":
    sys.exit(_main())
