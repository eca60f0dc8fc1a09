"""How ``fastdicom bench`` measures: checks in child processes, then timings.

1. **Checks.** For every (workload, kind of file, tool) a child process
   (``multiprocessing``, forked where the platform can) runs fastdicom's
   adapter and the tool's on every file and compares the results
   (:func:`fastdicom.bench.tools.compare`), sending one verdict per file
   through a pipe. A child that dies (a segfault, an abort) or hangs past
   ``timeout`` is reported as "crashed" / "timeout" on the file it was on,
   and a new child goes on with the next file: a crashing tool never takes
   the run down. Files fastdicom itself cannot handle are left out for every
   tool (reported). A tool is timed on a kind only if it agreed with
   fastdicom on every file of it; otherwise its status ("mismatch", "error",
   "crashed", "timeout") and the first problems are reported instead.
2. **Timings**, in this process, tools interleaved: ``warm`` (files read
   once so the page cache holds them; each tool's number of passes is
   calibrated so a sample lasts at least ``min_time``, then ``repeats``
   samples per tool round-robin, the order rotated each round) and, with
   ``cold``, ``repeats`` single passes per tool, the page cache dropped for
   those files only (``posix_fadvise(POSIX_FADV_DONTNEED)``) before each.
   A sample is seconds per file (GC off); results give median, min, max,
   files/s, MB/s (file bytes / median) and ``ratio`` = the baseline tool's
   median / this tool's median (above 1: faster than the baseline).
"""
from __future__ import annotations

import faulthandler
import multiprocessing
import os
import signal
import statistics
import traceback
from dataclasses import asdict, dataclass, field
from typing import Any, Callable

from fastdicom.bench.timing import (
    Timing, calibrate, can_drop_page_cache, drop_page_cache, time_batch, time_passes,
    warm_page_cache)
from fastdicom.bench.tools import TOOLS, WORKLOADS, compare

__all__ = ["Check", "Result", "check_one", "time_kind", "Runner"]

REFERENCE = "fastdicom"
#: Lossy codecs (none in the synthetic corpus) may differ by a grey level.
PIXEL_ATOL = 0


@dataclass
class Check:
    workload: str
    kind: str
    tool: str
    status: str = "ok"  # ok | mismatch | error | crashed | timeout | reference failed
    checked: int = 0
    problems: list[dict] = field(default_factory=list)


@dataclass
class Result:
    workload: str
    kind: str
    mode: str
    tool: str
    files: int
    number: int
    samples: list[float]
    median_s: float
    min_s: float
    max_s: float
    files_per_s: float
    mb_per_s: float
    ratio: float | None = None


def _error_text(exc: BaseException) -> str:
    text = " ".join(str(exc).split())
    return f"{type(exc).__name__}: {text}"[:300] if text else type(exc).__name__


def _check_child(conn, tool: str, workload: str, items: list, start: int, atol: float) -> None:
    """Child process: one verdict per item, from ``start``; None when done."""
    faulthandler.disable()  # a crash is reported by the parent, not dumped on stderr
    try:
        ref = TOOLS[REFERENCE].get()[workload]
        adapter = TOOLS[tool].get()[workload]
        for i in range(start, len(items)):
            try:
                expected = ref.result(items[i])
            except Exception as exc:
                conn.send((i, "reference failed", _error_text(exc)))
                continue
            if tool == REFERENCE:
                conn.send((i, "ok", ""))
                continue
            try:
                got = adapter.result(items[i])
            except Exception as exc:
                conn.send((i, "error", _error_text(exc)))
                continue
            try:
                diff = compare(workload, expected, got, atol)
            except Exception as exc:
                diff = "results not comparable: " + _error_text(exc)
            conn.send((i, "mismatch" if diff else "ok", diff or ""))
        conn.send(None)
    except BaseException:  # the adapters could not even be made
        conn.send((start, "error", traceback.format_exc(limit=2).strip().splitlines()[-1]))
        conn.send(None)
    finally:
        conn.close()


def _context():
    methods = multiprocessing.get_all_start_methods()
    return multiprocessing.get_context("fork" if "fork" in methods else "spawn")


def _death(exitcode: int | None) -> str:
    if exitcode is not None and exitcode < 0:
        try:
            name = signal.Signals(-exitcode).name
        except ValueError:
            name = f"signal {-exitcode}"
        return f"the child process was killed by {name}"
    return f"the child process exited with status {exitcode}"


def check_one(tool: str, workload: str, items: list, names: list[str], *, timeout: float = 300.0,
              atol: float = PIXEL_ATOL) -> list[tuple[int, str, str]]:
    """Verdicts ``(index, status, detail)`` for every item, in child processes."""
    ctx = _context()
    verdicts: list[tuple[int, str, str]] = []
    start = 0
    while start < len(items):
        recv, send = ctx.Pipe(duplex=False)
        proc = ctx.Process(target=_check_child, args=(send, tool, workload, items, start, atol),
                           daemon=True)
        proc.start()
        send.close()
        nxt, done, timed_out = start, False, False
        while True:
            if not recv.poll(timeout):
                timed_out = True
                break
            try:
                msg = recv.recv()
            except EOFError:
                break
            if msg is None:
                done = True
                break
            verdicts.append(msg)
            nxt = msg[0] + 1
        if timed_out:
            proc.kill()
        proc.join()
        recv.close()
        if done:
            break
        if nxt < len(items):
            verdicts.append((nxt, "timeout", f"no result within {timeout:g} s") if timed_out
                            else (nxt, "crashed", f"{_death(proc.exitcode)} on {names[nxt]}"))
        start = nxt + 1
    return verdicts


def _summarise(check: Check, verdicts, names: list[str], max_problems: int = 5) -> None:
    order = ("crashed", "timeout", "error", "mismatch", "reference failed")
    check.checked = len(verdicts)
    bad = [v for v in verdicts if v[1] != "ok"]
    for status in order:
        if any(v[1] == status for v in bad):
            check.status = status
            break
    check.problems = [{"file": names[i], "status": s, "detail": d} for i, s, d in bad[:max_problems]]
    if len(bad) > max_problems:
        check.problems.append({"file": None, "status": "more",
                               "detail": f"{len(bad) - max_problems} more problems"})


def time_kind(adapters: dict[str, Any], paths: list[str], *, repeats: int, min_time: float,
              cold: bool) -> dict[str, Timing]:
    """Samples per tool for one (workload, kind); tools interleaved."""
    names = list(adapters)
    timers = {t: (time_batch if adapters[t].batch else time_passes) for t in names}
    timings: dict[str, Timing] = {}
    if not cold:
        warm_page_cache(paths)
        for t in names:
            timings[t] = Timing(calibrate(adapters[t].run, paths, min_time, timers[t]))
    else:
        timings = {t: Timing(1) for t in names}
    for r in range(repeats):
        k = r % len(names)
        for t in names[k:] + names[:k]:
            if cold:
                drop_page_cache(paths)
            timings[t].samples.append(timers[t](adapters[t].run, paths, timings[t].number))
    return timings


class Runner:
    """Checks then timings of ``tools`` x ``workloads`` on ``corpus`` ({kind: [paths]})."""

    def __init__(self, corpus: dict[str, list[str]], tools: list[str], workloads: list[str], *,
                 baseline: str | None = "pydicom", repeats: int = 5, min_time: float = 0.2,
                 cold: bool = False, timeout: float = 300.0, echoes: int = 20,
                 progress: Callable[[str], None] | None = None) -> None:
        self.corpus = {k: [str(p) for p in v] for k, v in corpus.items() if v}
        self.tools = tools
        self.workloads = [w for w in WORKLOADS if w in workloads] + \
            [w for w in workloads if w not in WORKLOADS]
        self.baseline = baseline
        self.repeats = repeats
        self.min_time = min_time
        self.modes = ["warm"] + (["cold"] if cold else [])
        if cold and not can_drop_page_cache():
            raise RuntimeError("--cold needs os.posix_fadvise (Linux and most Unixes)")
        self.timeout = timeout
        self.echoes = echoes
        self.progress = progress or (lambda text: None)
        self.checks: list[Check] = []
        self.results: list[Result] = []
        self.skipped: list[dict] = []
        self.notes: list[str] = []
        self.versions: dict[str, str | None] = {}

    def _available(self) -> dict[str, dict]:
        adapters: dict[str, dict] = {}
        for name in dict.fromkeys([REFERENCE] + self.tools):
            tool = TOOLS.get(name)
            version = tool.version() if tool is not None else None
            self.versions[name] = version
            if tool is None:
                self.skipped.append({"tool": name, "workload": None, "reason": "unknown tool"})
                continue
            if version is None:
                self.skipped.append({"tool": name, "workload": None, "reason": "not installed"})
                continue
            adapters[name] = tool.get()
            if name not in self.tools:
                continue
            for w in self.workloads:
                if w == "net":
                    continue
                if w not in adapters[name]:
                    self.skipped.append({"tool": name, "workload": w,
                                         "reason": f"no {w} adapter"})
        return adapters

    def run(self) -> None:
        adapters = self._available()
        if REFERENCE not in adapters:
            raise RuntimeError("fastdicom's adapters are needed as the reference")
        plan = []  # (workload, kind, [tools ok], [paths])
        for w in self.workloads:
            if w not in adapters[REFERENCE]:
                continue
            for kind, paths in self.corpus.items():
                plan.append((w, kind, self._check(w, kind, paths, adapters)))
        if "net" in self.workloads:
            self._net()
        total = sum(len(self.modes) for _w, _k, (ok, _p) in plan if ok)
        step = 0
        for w, kind, (ok, paths) in plan:
            if not ok:
                continue
            for mode in self.modes:
                step += 1
                self.progress(f"[{step}/{total}] timing {w} on {kind} ({len(paths)} files, "
                              f"{mode}): {', '.join(ok)}")
                chosen = {t: adapters[t][w] for t in ok}
                timings = time_kind(chosen, paths, repeats=self.repeats, min_time=self.min_time,
                                    cold=mode == "cold")
                self._record(w, kind, mode, paths, timings)

    def _net(self) -> None:
        """The net workload (:mod:`fastdicom.bench.net`): native CT files stored."""
        from fastdicom.bench.net import run_net_isolated

        kind = "ct" if "ct" in self.corpus else next(iter(self.corpus))
        tools = set(self.tools) | ({"pynetdicom"} if "pydicom" in self.tools else set())
        checks, results, notes = run_net_isolated({kind: self.corpus[kind]}, sorted(tools),
                                         repeats=self.repeats, echoes=self.echoes,
                                         progress=self.progress)
        results.sort(key=lambda r: r.kind != "echo")  # echo rows first, pairs in order
        for r in results:
            base = next((b for b in results if b.kind == r.kind
                         and b.tool == "pynetdicom>pynetdicom"), None)
            r.ratio = base.median_s / r.median_s if base is not None else None
        self.checks += checks
        self.results += results
        self.notes += notes

    def _check(self, w: str, kind: str, paths: list[str], adapters: dict) -> tuple[list, list]:
        names = list(paths)
        ref = adapters[REFERENCE][w]
        items = [paths] if ref.batch else paths
        labels = [f"{len(paths)} {kind} files"] if ref.batch else names
        self.progress(f"checking {w} on {kind}: fastdicom")
        verdicts = check_one(REFERENCE, w, items, labels, timeout=self.timeout)
        check = Check(w, kind, REFERENCE)
        _summarise(check, verdicts, labels)
        self.checks.append(check)
        good = {i for i, status, _ in verdicts if status == "ok"}
        if not ref.batch:
            paths = [p for i, p in enumerate(paths) if i in good]
        elif not good:
            paths = []
        if not paths:
            return [], []
        items = [paths] if ref.batch else paths
        labels = [f"{len(paths)} {kind} files"] if ref.batch else paths
        ok = [REFERENCE] if REFERENCE in self.tools else []
        for t in self.tools:
            if t == REFERENCE or t not in adapters or w not in adapters[t]:
                continue
            if adapters[t][w].batch != ref.batch:
                continue
            self.progress(f"checking {w} on {kind}: {t}")
            check = Check(w, kind, t)
            _summarise(check, check_one(t, w, items, labels, timeout=self.timeout), labels)
            self.checks.append(check)
            if check.status == "ok":
                ok.append(t)
        return ok, paths

    def _record(self, w: str, kind: str, mode: str, paths: list[str], timings: dict) -> None:
        nbytes = statistics.mean(os.path.getsize(p) for p in paths)
        base = timings.get(self.baseline)
        for t, timing in timings.items():
            med = timing.median
            self.results.append(Result(
                w, kind, mode, t, len(paths), timing.number, timing.samples, med, timing.best,
                timing.worst, 1.0 / med if med > 0 else float("inf"),
                nbytes / med / 1e6 if med > 0 else float("inf"),
                base.median / med if base is not None and med > 0 else None))

    def payload(self) -> dict:
        notes: dict[str, dict[str, str]] = {}
        for r in self.results:
            tool = TOOLS.get(r.tool)  # net rows are pairs, "SCU>SCP"
            if tool is None or r.workload not in tool.get():
                continue
            note = tool.get()[r.workload].note
            if note:
                notes.setdefault(r.tool, {})[r.workload] = note
        return {"notes": self.notes, "adapter_notes": notes, "checks": [asdict(c) for c in self.checks],
                "results": [asdict(r) for r in self.results],
                "skipped": self.skipped, "versions": self.versions}
