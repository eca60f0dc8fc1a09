"""Network benchmark (issue #7): fastdicom vs dcmtk vs pynetdicom on loopback.

    python -m benchmarks.net                    # full: 400 CT slices, 1,000 C-ECHOs
    python -m benchmarks.net --quick            # 20 slices, 100 C-ECHOs, one repeat
    python -m benchmarks.net --json out.json --repeats 5

1. C-STORE of the CT slices of the benchmark corpus (benchmarks/corpus.py)
   over ONE association; the time is from the association request to the end
   of the release, measured by the SCU (fastdicom and pynetdicom SCUs time
   themselves; dcmtk ``storescu`` logs with a timestamped log4cplus pattern
   and the time runs from its "Requesting Association" line to the process
   exit). Pairs: fastdicom -> fastdicom (SCP with fsync, its default, and with
   ``--no-fsync``), dcmtk ``storescu`` -> ``storescp +B`` (bit preserving; it
   does not fsync), pynetdicom -> pynetdicom (data set bytes as in the file
   both ways; and with its defaults: decode, ``save_as``), the cross pairs.
2. 1,000 C-ECHOs over one association: median and p99 round trip (dcmtk:
   ``echoscu --repeat``, latencies from its log timestamps, 1 us resolution).
3. 1, 4 and 16 associations at once into one fastdicom SCP (files/s, MB/s).

Every SCP is its own process (``python -m fastdicom scp``, ``storescp``, a
pynetdicom script in benchmarks/net_peers.py), started fresh for each run
into a fresh temporary directory, on a free port of 127.0.0.1; every SCU is
another process, so the two sides can use two cores. Each SCU first makes a
warm-up association (one file, or 10 C-ECHOs: imports, page cache, the SCP's
first-request work), then the timed one. dcmtk processes get
``TCP_NODELAY=1`` in their environment (DCMTK leaves Nagle's algorithm on
unless that variable is set; checked with ``echoscu -d`` and ``storescp -d``
at start); asyncio sets TCP_NODELAY on its sockets by itself. Maximum PDU:
each tool's default (fastdicom 262144, dcmtk 16384, pynetdicom 16382) unless
``--max-pdu``. After every run the received files are counted; on the first
repeat of each pair every file's data set (after the File Meta Information)
is compared byte for byte with the source's. CPU columns: seconds of CPU of
the SCU and SCP processes over the timed association (dcmtk ``storescu``:
its whole process). Times are medians over ``--repeats`` (pairs interleaved).
``os.sync()`` runs before each run (the previous runs' files reach the disk
outside the timings); a failed run is repeated once (noted in the JSON).

``--window N`` (default 16, what ``fastdicom store`` negotiates with a fastdicom
SCP; 1 is synchronous like storescu): fastdicom SCU C-STOREs outstanding at
once; dcmtk and pynetdicom do not negotiate asynchronous operations. ``--scp-dir /dev/shm`` stores on tmpfs: on ext4 the
file system work (create + page cache) is most of the SCP's time.
"""
from __future__ import annotations

import argparse
import json
import os
import platform
import re
import resource
import shutil
import signal
import socket
import statistics
import subprocess
import sys
import tempfile
import threading
import time
from pathlib import Path

from benchmarks.corpus import DEFAULT_DIR, dataset_offset, ensure_corpus
from benchmarks.net_peers import _latency_summary as latency_summary
from fastdicom.bench.net import free_port

STORESCU, STORESCP, ECHOSCU = "/usr/bin/storescu", "/usr/bin/storescp", "/usr/bin/echoscu"
DCMTK_ENV = {**os.environ, "TCP_NODELAY": "1"}
LOG_CFG = """log4cplus.rootLogger = INFO, console
log4cplus.appender.console = log4cplus::ConsoleAppender
log4cplus.appender.console.ImmediateFlush = true
log4cplus.appender.console.layout = log4cplus::PatternLayout
log4cplus.appender.console.layout.ConversionPattern = %D{%s} %D{%Q} %m%n
"""
TICK = os.sysconf("SC_CLK_TCK")


# -- processes --------------------------------------------------------------------------
def proc_cpu(pid: int) -> float:
    """User + system CPU seconds of a running process (all its threads)."""
    with open(f"/proc/{pid}/stat") as f:
        fields = f.read().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / TICK


class Work:
    """A scratch directory: logs, file lists, the SCPs' output directories."""

    def __init__(self, scp_root: str | None = None) -> None:
        self.root = Path(tempfile.mkdtemp(prefix="fastdicom-bench-net-"))
        self.scp_root = scp_root  #: where the SCPs' directories go (None: in root)
        self.log_cfg = self.root / "log.cfg"
        self.log_cfg.write_text(LOG_CFG)
        self.n = 0

    def path(self, name: str) -> Path:
        self.n += 1
        return self.root / f"{self.n:03d}-{name}"

    def cleanup(self) -> None:
        shutil.rmtree(self.root, ignore_errors=True)


class SCP:
    """An SCP process of ``kind`` (fastdicom, fastdicom-nofsync, dcmtk,
    pynetdicom) storing into a fresh directory, listening on a free port."""

    def __init__(self, kind: str, work: Work, max_pdu: int | None = None) -> None:
        self.kind = kind
        if work.scp_root:
            self.dir = Path(tempfile.mkdtemp(prefix=f"scp-{kind}-", dir=work.scp_root))
        else:
            self.dir = work.path(f"scp-{kind}")
            self.dir.mkdir()
        self.port = free_port()
        self.log = work.path(f"scp-{kind}.log")
        env = None
        if kind.startswith("fastdicom"):
            cmd = [sys.executable, "-m", "fastdicom", "scp", "--port", str(self.port),
                   "--bind", "127.0.0.1", "--dir", str(self.dir), "--no-index", "-q"]
            if kind.endswith("nofsync"):
                cmd.append("--no-fsync")
            if max_pdu:
                cmd += ["--max-pdu", str(max_pdu)]
        elif kind == "dcmtk":
            cmd = [STORESCP, "+B", "-od", str(self.dir), "-aet", "STORESCP"]
            cmd += ["-pdu", str(max_pdu)] if max_pdu else []
            cmd.append(str(self.port))
            env = DCMTK_ENV
        elif kind.startswith("pynetdicom"):
            cmd = [sys.executable, "-m", "benchmarks.net_peers", "pn-scp", "--port",
                   str(self.port), "--dir", str(self.dir)]
            cmd += ["--decode"] if kind.endswith("decode") else []
            cmd += ["--max-pdu", str(max_pdu)] if max_pdu else []
        else:
            raise ValueError(kind)
        with open(self.log, "wb") as log:
            self.proc = subprocess.Popen(cmd, stdout=log, stderr=subprocess.STDOUT, env=env,
                                         stdin=subprocess.DEVNULL)
        self._wait_listening()
        os.sync()  # earlier runs' files (written, then deleted) reach the disk now, not later

    def _wait_listening(self, timeout: float = 30.0) -> None:
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if self.proc.poll() is not None:
                raise RuntimeError(f"{self.kind} SCP exited: {self.log.read_text()[-2000:]}")
            try:
                with socket.create_connection(("127.0.0.1", self.port), timeout=0.5):
                    return
            except OSError:
                time.sleep(0.02)
        raise RuntimeError(f"{self.kind} SCP not listening on {self.port}")

    def cpu(self) -> float:
        return proc_cpu(self.proc.pid)

    def received(self) -> list[Path]:
        return sorted(p for p in self.dir.iterdir()
                      if not p.name.startswith(".") and not p.name.startswith("index.sqlite"))

    def stop(self) -> None:
        if self.proc.poll() is None:
            self.proc.send_signal(signal.SIGINT if self.kind.startswith("fastdicom")
                                  else signal.SIGTERM)
            try:
                self.proc.wait(5)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait()
        shutil.rmtree(self.dir, ignore_errors=True)

    def __enter__(self) -> "SCP":
        return self

    def __exit__(self, *exc) -> None:
        self.stop()


def run_python_scu(role: str, scp: SCP, work: Work, extra: list[str],
                   timeout: float = 300.0) -> dict:
    """A benchmarks.net_peers SCU: warm-up, READY, go, one JSON line."""
    cmd = [sys.executable, "-m", "benchmarks.net_peers", role, "--port", str(scp.port),
           "--aec", "STORESCP" if scp.kind == "dcmtk" else "ANY-SCP", *extra]
    log = work.path(f"{role}.log")
    with open(log, "wb") as err:
        proc = subprocess.Popen(cmd, stdin=subprocess.PIPE, stdout=subprocess.PIPE,
                                stderr=err, text=True)
        watchdog = threading.Timer(timeout, proc.kill)  # a stuck SCU fails the run
        watchdog.start()
        try:
            line = proc.stdout.readline()
            if line.strip() != "READY":
                proc.wait(30)
                raise RuntimeError(f"{role}: {line!r} {log.read_text()[-3000:]}")
            cpu0 = scp.cpu()
            proc.stdin.write("go\n")
            proc.stdin.flush()
            line = proc.stdout.readline()
            proc.wait(timeout)
        finally:
            watchdog.cancel()
            if proc.poll() is None:
                proc.kill()
                proc.wait()
    if not line.strip():
        raise RuntimeError(f"{role} failed or timed out after {timeout} s: "
                           f"{log.read_text()[-3000:]}")
    out = json.loads(line)
    out["scu_cpu_s"] = out.pop("cpu_s")
    out["scp_cpu_s"] = scp.cpu() - cpu0
    return out


_LOG_LINE = re.compile(r"(\d{9,}) (\d{3}\.\d{3}) (.*)")


def _log_times(text: str) -> list[tuple[float, str]]:
    """(epoch seconds, message) of each line of the log pattern of :data:`LOG_CFG`."""
    out = []
    for line in text.splitlines():
        m = _LOG_LINE.search(line)
        if m:
            out.append((int(m.group(1)) + float(m.group(2)) / 1e3, m.group(3)))
    return out


def _run_dcmtk(cmd: list[str], work: Work, name: str) -> tuple[float, list, float, int]:
    """Run a dcmtk SCU with the timestamped log; (exit time, log lines, CPU s, rc)."""
    err_path = work.path(f"{name}.log")
    before = resource.getrusage(resource.RUSAGE_CHILDREN)
    with open(err_path, "wb") as err:
        proc = subprocess.Popen(cmd[:1] + ["-lc", str(work.log_cfg)] + cmd[1:], env=DCMTK_ENV,
                                stdout=err, stderr=subprocess.STDOUT, stdin=subprocess.DEVNULL)
        rc = proc.wait(300)
        t_exit = time.time()
    after = resource.getrusage(resource.RUSAGE_CHILDREN)
    cpu = (after.ru_utime - before.ru_utime) + (after.ru_stime - before.ru_stime)
    return t_exit, _log_times(err_path.read_text(errors="replace")), cpu, rc


def run_storescu(scp: SCP, work: Work, paths: list[str]) -> dict:
    base = [STORESCU, "-aec", "STORESCP" if scp.kind == "dcmtk" else "ANY-SCP"]
    subprocess.run(base + ["-q", "127.0.0.1", str(scp.port), paths[0]], env=DCMTK_ENV,
                   check=True, stdout=subprocess.DEVNULL, stdin=subprocess.DEVNULL)  # warm-up
    cpu0 = scp.cpu()
    t_exit, lines, cpu, rc = _run_dcmtk(base + ["127.0.0.1", str(scp.port), *paths], work,
                                        "storescu")
    scp_cpu = scp.cpu() - cpu0
    start = next(t for t, msg in lines if msg.startswith("Requesting Association"))
    ok = sum(1 for _, msg in lines if msg.startswith("Received Store Response (Success"))
    return {"assoc_s": t_exit - start, "scu_cpu_s": cpu, "scp_cpu_s": scp_cpu, "stored": ok,
            "files": len(paths), "rc": rc}


def run_echoscu(scp: SCP, work: Work, count: int) -> dict:
    base = [ECHOSCU, "-aec", "STORESCP" if scp.kind == "dcmtk" else "ANY-SCP"]
    subprocess.run(base + ["--repeat", "10", "127.0.0.1", str(scp.port)], env=DCMTK_ENV,
                   check=True, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    cpu0 = scp.cpu()
    t_exit, lines, cpu, rc = _run_dcmtk(base + ["--repeat", str(count), "127.0.0.1",
                                                str(scp.port)], work, "echoscu")
    samples, sent = [], None
    for t, msg in lines:
        if msg.startswith("Sending Echo Request"):
            sent = t
        elif msg.startswith("Received Echo Response") and sent is not None:
            samples.append(t - sent)
            sent = None
    if rc or len(samples) != count:
        raise RuntimeError(f"echoscu: rc {rc}, {len(samples)} of {count} responses")
    start = next(t for t, msg in lines if msg.startswith("Requesting Association"))
    return {"assoc_s": t_exit - start, "scu_cpu_s": cpu, "scp_cpu_s": scp.cpu() - cpu0,
            **latency_summary(samples)}


def check_nagle(work: Work) -> dict:
    """Does this dcmtk disable Nagle with TCP_NODELAY=1? (its debug log says so)."""
    port = free_port()
    log = work.path("nagle-scp.log")
    with open(log, "wb") as f:
        proc = subprocess.Popen([STORESCP, "-d", str(port)], env=DCMTK_ENV, stdout=f,
                                stderr=subprocess.STDOUT)
    try:
        time.sleep(0.3)
        scu = subprocess.run([ECHOSCU, "-d", "127.0.0.1", str(port)], env=DCMTK_ENV,
                             capture_output=True, text=True, timeout=30)
        time.sleep(0.2)
    finally:
        proc.terminate()
        proc.wait(5)
    return {"storescu_side": "disabling Nagle" in scu.stdout + scu.stderr,
            "storescp_side": "disabling Nagle" in log.read_text(errors="replace")}


# -- verification -----------------------------------------------------------------------
class Sources:
    """SOP Instance UID -> source path and data set bytes, for the checks."""

    def __init__(self, paths: list[str]) -> None:
        self.by_uid = {_uid_of(p): p for p in paths}
        self.nbytes = sum(os.path.getsize(p) for p in paths)

    def identical(self, received: list[Path]) -> int:
        """How many received files have the data set of their source, byte for byte."""
        same = 0
        for path in received:
            src = self.by_uid.get(_uid_of(path))
            if src is None:
                continue
            a, b = Path(src).read_bytes(), path.read_bytes()
            same += a[dataset_offset(a):] == b[dataset_offset(b):]
        return same


def _uid_of(path) -> str:
    import fastdicom

    return str(fastdicom.dcmread(str(path), specific_tags=[0x00080018]).SOPInstanceUID)


# -- the three parts --------------------------------------------------------------------
#: (label, SCP kind, SCU kind) of part 1
STORE_PAIRS = [
    ("fastdicom -> fastdicom (SCP fsync)", "fastdicom", "fastdicom"),
    ("fastdicom -> fastdicom (SCP --no-fsync)", "fastdicom-nofsync", "fastdicom"),
    ("dcmtk storescu -> storescp +B", "dcmtk", "dcmtk"),
    ("pynetdicom -> pynetdicom", "pynetdicom", "pynetdicom"),
    ("pynetdicom -> pynetdicom (decode + save_as)", "pynetdicom-decode", "pynetdicom-decode"),
    ("fastdicom -> dcmtk storescp +B", "dcmtk", "fastdicom"),
    ("dcmtk storescu -> fastdicom (SCP fsync)", "fastdicom", "dcmtk"),
    ("dcmtk storescu -> fastdicom (SCP --no-fsync)", "fastdicom-nofsync", "dcmtk"),
]
ECHO_PAIRS = [
    ("fastdicom -> fastdicom", "fastdicom-nofsync", "fastdicom"),
    ("pynetdicom -> pynetdicom", "pynetdicom", "pynetdicom"),
    ("dcmtk echoscu -> storescp", "dcmtk", "dcmtk"),
    ("fastdicom -> dcmtk storescp", "dcmtk", "fastdicom"),
    ("dcmtk echoscu -> fastdicom", "fastdicom-nofsync", "dcmtk"),
]


def store_once(scp_kind: str, scu_kind: str, paths: list[str], files_list: Path,
               work: Work, args, check: Sources | None) -> dict:
    with SCP(scp_kind, work, args.max_pdu) as scp:
        pdu = ["--max-pdu", str(args.max_pdu)] if args.max_pdu else []
        if scu_kind == "dcmtk":
            out = run_storescu(scp, work, paths)
        else:
            role = "fd-store" if scu_kind == "fastdicom" else "pn-store"
            extra = ["--files", str(files_list), *pdu]
            if scu_kind.endswith("decode"):
                extra.append("--decode")
            if scu_kind == "fastdicom":
                extra += ["--window", str(args.window)]
            out = run_python_scu(role, scp, work, extra)
        received = scp.received()
        out["received"] = len(received)
        if check is not None:
            out["identical"] = check.identical(received)
    if out["received"] != len(paths) or out["stored"] != len(paths):
        raise RuntimeError(f"{scu_kind} -> {scp_kind}: {out}")
    if check is not None and out["identical"] != len(paths) and not scp_kind.endswith("decode"):
        raise RuntimeError(f"{scu_kind} -> {scp_kind}: data sets differ: {out}")
    return out


def part_store(paths, files_list, work, args, log) -> list[dict]:
    sources = Sources(paths)
    rows = {label: {"pair": label, "runs": []} for label, _, _ in STORE_PAIRS}
    for rep in range(args.repeats):
        for label, scp_kind, scu_kind in STORE_PAIRS:
            check = sources if rep == 0 else None
            try:
                out = store_once(scp_kind, scu_kind, paths, files_list, work, args, check)
            except RuntimeError as exc:  # once: a peer that dropped the association, say
                log(f"  {label}: run failed, repeated: {str(exc)[-300:]}")
                out = store_once(scp_kind, scu_kind, paths, files_list, work, args, check)
                out["retried"] = str(exc)[-2000:]
            rows[label]["runs"].append(out)
            log(f"  [{rep + 1}/{args.repeats}] {label}: {out['assoc_s']:.3f} s"
                + (f", {out['identical']} identical" if "identical" in out else ""))
    for row in rows.values():
        runs = row["runs"]
        row["assoc_s"] = statistics.median(r["assoc_s"] for r in runs)
        row["best_s"] = min(r["assoc_s"] for r in runs)
        row["scu_cpu_s"] = statistics.median(r["scu_cpu_s"] for r in runs)
        row["scp_cpu_s"] = statistics.median(r["scp_cpu_s"] for r in runs)
        row["files_per_s"] = len(paths) / row["assoc_s"]
        row["mb_per_s"] = sources.nbytes / row["assoc_s"] / 1e6
        row["files"] = len(paths)
    return list(rows.values())


def part_echo(work, args, log) -> list[dict]:
    rows = []
    for label, scp_kind, scu_kind in ECHO_PAIRS:
        with SCP(scp_kind, work) as scp:
            if scu_kind == "dcmtk":
                out = run_echoscu(scp, work, args.echoes)
            else:
                role = "fd-echo" if scu_kind == "fastdicom" else "pn-echo"
                out = run_python_scu(role, scp, work, ["--count", str(args.echoes)])
        rows.append({"pair": label, **out})
        log(f"  {label}: median {out['median_s'] * 1e6:.0f} us, p99 {out['p99_s'] * 1e6:.0f} us")
    return rows


def part_concurrent(paths, files_list, work, args, log) -> list[dict]:
    nbytes = sum(os.path.getsize(p) for p in paths)
    rows = []
    for kind in ("fastdicom", "fastdicom-nofsync"):
        for n in args.assocs:
            runs = []
            for _ in range(args.repeats):
                with SCP(kind, work, args.max_pdu) as scp:
                    out = run_python_scu("fd-multi", scp, work, [
                        "--files", str(files_list), "--assocs", str(n),
                        "--window", str(args.window)])
                    out["received"] = len(scp.received())
                if out["received"] != len(paths) or out["stored"] != len(paths):
                    raise RuntimeError(f"{n} associations into {kind}: {out}")
                runs.append(out)
            t = statistics.median(r["assoc_s"] for r in runs)
            row = {"scp": kind, "associations": n, "wall_s": t, "files_per_s": len(paths) / t,
                   "mb_per_s": nbytes / t / 1e6,
                   "scu_cpu_s": statistics.median(r["scu_cpu_s"] for r in runs),
                   "scp_cpu_s": statistics.median(r["scp_cpu_s"] for r in runs), "runs": runs}
            rows.append(row)
            log(f"  {n:2d} associations into {kind}: {row['files_per_s']:.0f} files/s")
    return rows


# -- report -----------------------------------------------------------------------------
def _table(header: list[str], rows: list[list[str]]) -> str:
    return "\n".join(["| " + " | ".join(r) + " |" for r in [header, ["---"] * len(header), *rows]])


def report(store, echo, conc, args) -> list[str]:
    out = []
    if store:
        by = {r["pair"]: r for r in store}
        fd_sync = by[STORE_PAIRS[0][0]]["assoc_s"]
        fd_nosync = by[STORE_PAIRS[1][0]]["assoc_s"]
        n = store[0]["files"]
        out.append(f"\nC-STORE of {n} CT slices over one association (median of {args.repeats}; "
                   f"ratio = this pair's time / fastdicom -> fastdicom's)")
        out.append(_table(
            ["pair", "time", "best", "files/s", "MB/s", "SCU CPU", "SCP CPU",
             "ratio vs fd (fsync)", "ratio vs fd (no fsync)"],
            [[r["pair"], f"{r['assoc_s']:.3f} s", f"{r['best_s']:.3f} s",
              f"{r['files_per_s']:.0f}", f"{r['mb_per_s']:.0f}", f"{r['scu_cpu_s']:.2f} s",
              f"{r['scp_cpu_s']:.2f} s", f"{r['assoc_s'] / fd_sync:.2f}x",
              f"{r['assoc_s'] / fd_nosync:.2f}x"] for r in store]))
        targets = [(STORE_PAIRS[2][0], 1.5), (STORE_PAIRS[3][0], 20.0),
                   (STORE_PAIRS[4][0], 20.0)]
        for name, target in targets:
            other = by[name]["assoc_s"]
            a, b = other / fd_sync, other / fd_nosync
            out.append(f"fastdicom -> fastdicom vs {name}: {a:.2f}x with fsync, {b:.2f}x "
                       f"without (target >= {target}x: {'met' if a >= target else 'NOT met'} "
                       f"with fsync, {'met' if b >= target else 'NOT met'} without)")
        out.append("dcmtk storescp and the pynetdicom SCPs do not fsync; the fastdicom SCP "
                   "fsyncs each file and its directory unless --no-fsync.")
        for r in store:
            same = r["runs"][0].get("identical")
            if same is not None and same != n:
                out.append(f"{r['pair']}: {same} of {n} data sets byte-identical to the source")
    if echo:
        fd = echo[0]["median_s"]
        out.append(f"\n{args.echoes} C-ECHOs over one association (round trip per C-ECHO; "
                   "ratio = median / fastdicom -> fastdicom's)")
        out.append(_table(["pair", "median", "p99", "mean", "association", "ratio"],
                          [[r["pair"], f"{r['median_s'] * 1e6:.0f} us",
                            f"{r['p99_s'] * 1e6:.0f} us", f"{r['mean_s'] * 1e6:.0f} us",
                            f"{r['assoc_s'] * 1e3:.0f} ms", f"{r['median_s'] / fd:.2f}x"]
                           for r in echo]))
    if conc:
        out.append(f"\nConcurrent associations into one fastdicom SCP process (one fastdicom "
                   f"SCU process, the associations in one event loop, files dealt "
                   f"round-robin; median of {args.repeats})")
        out.append(_table(["SCP", "associations", "wall", "files/s", "MB/s", "SCU CPU",
                           "SCP CPU"],
                          [[r["scp"], str(r["associations"]), f"{r['wall_s']:.3f} s",
                            f"{r['files_per_s']:.0f}", f"{r['mb_per_s']:.0f}",
                            f"{r['scu_cpu_s']:.2f} s", f"{r['scp_cpu_s']:.2f} s"]
                           for r in conc]))
    return out


def _fs_type(path: str) -> str:
    """The file system type of ``path`` (from /proc/mounts: the longest mount prefix)."""
    best, kind = "", "?"
    real = os.path.realpath(path)
    try:
        with open("/proc/mounts") as f:
            for line in f:
                _dev, mnt, fstype = line.split()[:3]
                if (real == mnt or real.startswith(mnt.rstrip("/") + "/")) and len(mnt) > len(best):
                    best, kind = mnt, fstype
    except OSError:
        pass
    return kind


def main(argv=None) -> int:
    p = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    p.add_argument("--quick", action="store_true",
                   help="20 slices, 100 C-ECHOs, one repeat (well under a minute)")
    p.add_argument("--corpus", help="corpus directory (default benchmarks/corpus; "
                   "--quick takes its first slices)")
    p.add_argument("--ct", type=int, help="CT slices (default 400, quick 20)")
    p.add_argument("--echoes", type=int, help="C-ECHOs (default 1000, quick 100)")
    p.add_argument("--repeats", type=int, help="runs per pair (default 3, quick 1)")
    p.add_argument("--assocs", type=int, nargs="+", default=[1, 4, 16],
                   help="concurrent associations of part 3 (default 1 4 16)")
    p.add_argument("--window", type=int, default=16,
                   help="fastdicom SCU: C-STOREs outstanding per association (default 16)")
    p.add_argument("--max-pdu", type=int, default=None,
                   help="maximum PDU length for every tool (default: each tool's own)")
    p.add_argument("--only", choices=("store", "echo", "concurrent"), action="append",
                   help="run only these parts (repeatable)")
    p.add_argument("--scp-dir", metavar="DIR",
                   help="where the SCPs store (a fresh directory in DIR per run; default: "
                        "the system temporary directory). /dev/shm (tmpfs) takes the disk "
                        "out of the measurement (fsync is then a no-op)")
    p.add_argument("--keep", action="store_true", help="keep the scratch directory (logs)")
    p.add_argument("--json", metavar="PATH", help="also write the results as JSON")
    args = p.parse_args(argv)
    quick = args.quick
    args.ct = args.ct or (20 if quick else 400)
    args.echoes = args.echoes or (100 if quick else 1000)
    args.repeats = args.repeats or (1 if quick else 3)
    parts = set(args.only or ("store", "echo", "concurrent"))
    for tool in (STORESCU, STORESCP, ECHOSCU):
        if not os.access(tool, os.X_OK):
            raise SystemExit(f"{tool} not found: install dcmtk (apt-get install dcmtk)")

    def log(msg: str) -> None:
        print(msg, file=sys.stderr, flush=True)

    corpus_dir = Path(args.corpus) if args.corpus else DEFAULT_DIR
    paths = [str(p) for p in ensure_corpus(corpus_dir, args.ct, 4)["ct"]]
    paths = paths[:args.ct]
    work = Work(args.scp_dir)
    files_list = work.root / "files.txt"
    files_list.write_text("".join(p + "\n" for p in paths))
    env = {"python": platform.python_version(), "machine": platform.machine(),
           "cpus": os.cpu_count(), "loadavg_before": os.getloadavg(),
           "dcmtk": subprocess.run([STORESCU, "--version"], capture_output=True,
                                   text=True).stdout.split("\n")[0].strip("$ "),
           "time": time.strftime("%Y-%m-%dT%H:%M:%S%z")}
    import pynetdicom  # a bench dependency, like dcmtk

    env["pynetdicom"] = pynetdicom.__version__
    store = echo = conc = []
    try:
        env["dcmtk_nagle_disabled"] = check_nagle(work)
        log(f"# {len(paths)} CT slices from {corpus_dir}; scratch {work.root}; "
            f"dcmtk TCP_NODELAY=1 honoured: {env['dcmtk_nagle_disabled']}")
        if "store" in parts:
            log("# part 1: C-STORE over one association")
            store = part_store(paths, files_list, work, args, log)
        if "echo" in parts:
            log("# part 2: C-ECHO latency")
            echo = part_echo(work, args, log)
        if "concurrent" in parts:
            log("# part 3: concurrent associations")
            conc = part_concurrent(paths, files_list, work, args, log)
    finally:
        if not args.keep:
            work.cleanup()
    env["loadavg_after"] = os.getloadavg()
    print(f"fastdicom network benchmark, loopback 127.0.0.1 | Python {env['python']} | "
          f"{env['cpus']} CPUs | {env['dcmtk']} | pynetdicom {env['pynetdicom']} | "
          f"load {'/'.join(f'{x:.2f}' for x in env['loadavg_before'])} before, "
          f"{'/'.join(f'{x:.2f}' for x in env['loadavg_after'])} after | "
          f"fastdicom SCU window {args.window} | max PDU "
          f"{args.max_pdu or 'each tool default'} | SCPs store in {args.scp_dir or tempfile.gettempdir()} "
          f"({_fs_type(args.scp_dir or tempfile.gettempdir())})")
    for line in report(store, echo, conc, args):
        print(line)
    if args.json:
        payload = {"environment": env, "settings": {
            "ct": len(paths), "echoes": args.echoes, "repeats": args.repeats,
            "window": args.window, "max_pdu": args.max_pdu, "quick": quick,
            "scp_dir": args.scp_dir or tempfile.gettempdir(),
            "scp_fs": _fs_type(args.scp_dir or tempfile.gettempdir())},
            "store": store, "echo": echo, "concurrent": conc}
        Path(args.json).write_text(json.dumps(payload, indent=1) + "\n")
        log(f"# wrote {args.json}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
