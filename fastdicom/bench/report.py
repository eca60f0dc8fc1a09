"""Output of ``fastdicom bench``: a progress line, the terminal table, JSON and
an optional PNG chart (matplotlib, when installed) of ratios per workload."""
from __future__ import annotations

import json
import sys
import time
from fastdicom.bench.timing import fmt_time

__all__ = ["Progress", "format_table", "format_checks", "write_json", "write_chart",
           "summary", "environment_line", "markdown", "SCHEMA_VERSION"]

SCHEMA_VERSION = 1


class Progress:
    """One status line on stderr, rewritten in place on a terminal (one line
    per step otherwise); ``quiet`` shows nothing."""

    def __init__(self, stream=None, quiet: bool = False) -> None:
        self.stream = stream if stream is not None else sys.stderr
        self.quiet = quiet
        self.tty = bool(getattr(self.stream, "isatty", lambda: False)())
        self.start = time.perf_counter()
        self.shown = False

    def __call__(self, text: str) -> None:
        if self.quiet:
            return
        line = f"{time.perf_counter() - self.start:6.1f} s  {text}"
        if self.tty:
            self.stream.write("\r" + line[:160] + "\x1b[K")
        else:
            self.stream.write(line + "\n")
        self.stream.flush()
        self.shown = True

    def finish(self) -> None:
        if self.tty and self.shown and not self.quiet:
            self.stream.write("\r\x1b[K")
            self.stream.flush()


def _ratio(r: dict) -> str:
    return "" if r.get("ratio") is None else f"{r['ratio']:.2f}x"


def format_table(payload: dict) -> str:
    """Results per workload and kind of file, tools in rows."""
    results = payload["results"]
    baseline = payload["settings"].get("baseline")
    lines = []
    tw = max([10] + [len(r["tool"]) for r in results])
    header = (f"{'workload':8s} {'kind':13s} {'mode':4s} {'tool':{tw}s} {'files':>5s} "
              f"{'median':>10s} {'min':>10s} {'max':>10s} {'files/s':>9s} {'MB/s':>8s} "
              f"{'vs ' + str(baseline):>12s}")
    lines += [header, "-" * len(header)]
    prev = None
    for r in results:
        key = (r["workload"], r["kind"], r["mode"])
        if prev is not None and key != prev:
            lines.append("")
        prev = key
        lines.append(f"{r['workload']:8s} {r['kind']:13s} {r['mode']:4s} {r['tool']:{tw}s} "
                     f"{r['files']:5d} {fmt_time(r['median_s']):>10s} {fmt_time(r['min_s']):>10s} "
                     f"{fmt_time(r['max_s']):>10s} {r['files_per_s']:9.1f} {r['mb_per_s']:8.1f} "
                     f"{_ratio(r):>12s}")
    if not results:
        lines.append("(nothing timed)")
    return "\n".join(lines)


def format_checks(payload: dict) -> list[str]:
    """The checks that failed and the tools left out, one line each."""
    out = []
    for c in payload["checks"]:
        if c["status"] == "ok":
            continue
        first = c["problems"][0] if c["problems"] else {}
        what = "not timed" if c["tool"] != "fastdicom" else "files left out for every tool"
        out.append(f"{c['tool']}: {c['workload']} on {c['kind']}: {c['status'].upper()} "
                   f"({len([p for p in c['problems'] if p['status'] != 'more'])} of "
                   f"{c['checked']} checked; {what}): {first.get('file')}: {first.get('detail')}")
    missing: dict[str, list[str]] = {}
    for s in payload["skipped"]:
        if s["workload"] is None:
            out.append(f"{s['tool']}: {s['reason']}")
        else:
            missing.setdefault(s["tool"], []).append(s["workload"])
    for tool, workloads in missing.items():
        out.append(f"{tool}: no adapter for {', '.join(workloads)}")
    for tool, notes in payload.get("adapter_notes", {}).items():
        for workload, note in notes.items():
            out.append(f"{tool} {workload}: {note}")
    return out


def _md_time(seconds: float) -> str:
    for unit, scale in (("s", 1.0), ("ms", 1e-3), ("µs", 1e-6)):
        if seconds >= scale:
            return f"{seconds / scale:.3g} {unit}"
    return f"{seconds / 1e-9:.3g} ns"


def markdown(payload: dict, command: str = "fastdicom bench") -> str:
    """A Markdown section (what the README's performance section is made of):
    how and where it was measured, then one row per workload, kind and mode
    with each tool's median per file and its ratio to the baseline."""
    m, s = payload["machine"], payload["settings"]
    versions = ", ".join(f"{t} {v}" for t, v in payload["versions"].items() if v)
    missing = [t for t, v in payload["versions"].items() if not v]
    lines = [f"Measured {m['time'][:10]} by `{command}` on {m['machine']} "
             f"({m.get('cpu') or 'CPU unknown'}, {m['usable_cpus']} of {m['cpu_count']} CPUs, "
             f"load average {'/'.join(f'{x:.2f}' for x in m['loadavg'] or [])} before the run), "
             f"Python {m['python']}, {versions}"
             + (f" ({', '.join(missing)} not installed)" if missing else "")
             + f"; median of {s['repeats']} interleaved samples per tool, seconds per file; "
             f"(Nx) = {s['baseline']}'s time / the tool's. Every tool's results were checked "
             "against fastdicom's before timing.", ""]
    tools = list(dict.fromkeys(r["tool"] for r in payload["results"]))
    lines.append("| workload | kind | mode | files | " + " | ".join(tools) + " |")
    lines.append("|---" * (4 + len(tools)) + "|")
    rows: dict[tuple, dict] = {}
    for r in payload["results"]:
        rows.setdefault((r["workload"], r["kind"], r["mode"], r["files"]), {})[r["tool"]] = r
    for (w, kind, mode, files), per in rows.items():
        cells = []
        for t in tools:
            r = per.get(t)
            cells.append("" if r is None else _md_time(r["median_s"]) +
                         ("" if r["ratio"] is None else f" ({r['ratio']:.3g}x)"))
        lines.append(f"| {w} | {kind} | {mode} | {files} | " + " | ".join(cells) + " |")
    problems = format_checks(payload)
    if problems:
        lines += [""] + [f"- {p}" for p in problems]
    return "\n".join(lines) + "\n"


def write_json(payload: dict, path: str) -> None:
    with open(path, "w", encoding="utf-8") as f:
        json.dump(payload, f, indent=1, default=str)
        f.write("\n")


def write_chart(payload: dict, path: str) -> str | None:
    """A bar chart of ratios to the baseline per workload (warm runs, median over
    kinds); returns None when written, else why not."""
    try:
        import matplotlib

        matplotlib.use("Agg")
        import matplotlib.pyplot as plt
    except ImportError:
        return "matplotlib is not installed: no chart"
    import statistics

    baseline = payload["settings"].get("baseline")
    ratios: dict[str, dict[str, list[float]]] = {}
    for r in payload["results"]:
        if r["mode"] == "warm" and r["ratio"] is not None:
            ratios.setdefault(r["workload"], {}).setdefault(r["tool"], []).append(r["ratio"])
    if not ratios:
        return f"no ratios to chart (baseline {baseline} not timed)"
    workloads = list(ratios)
    tools = list(dict.fromkeys(r["tool"] for r in payload["results"]
                               if r["mode"] == "warm" and r["ratio"] is not None))
    fig, ax = plt.subplots(figsize=(1.6 + 1.4 * len(workloads), 4.2))
    width = 0.8 / max(len(tools), 1)
    for k, tool in enumerate(tools):
        xs = [i + k * width for i in range(len(workloads))]
        ys = [statistics.median(ratios[w][tool]) if tool in ratios[w] else 0 for w in workloads]
        ax.bar(xs, ys, width, label=tool)
    ax.set_xticks([i + width * (len(tools) - 1) / 2 for i in range(len(workloads))])
    ax.set_xticklabels(workloads)
    ax.set_yscale("log")
    ax.axhline(1.0, color="grey", linewidth=0.8)
    ax.set_ylabel(f"speed vs {baseline} (x, log)")
    ax.set_title(f"fastdicom bench {payload['machine'].get('time', '')[:10]}: warm, median over "
                 "kinds of file", fontsize=10)
    ax.legend()
    fig.tight_layout()
    fig.savefig(path, dpi=120)
    plt.close(fig)
    return None


def environment_line(payload: dict) -> str:
    m = payload["machine"]
    versions = ", ".join(f"{t} {v}" for t, v in payload["versions"].items() if v)
    missing = ", ".join(t for t, v in payload["versions"].items() if not v)
    load = "/".join(f"{x:.2f}" for x in m["loadavg"]) if m.get("loadavg") else "?"
    return (f"{versions}{' (not installed: ' + missing + ')' if missing else ''} | Python "
            f"{m['python']} | {m['machine']} {m.get('cpu') or ''}, {m['usable_cpus']}/"
            f"{m['cpu_count']} CPUs | load {load} | {m['time']}")


def summary(payload: dict) -> str:
    s = payload["settings"]
    lines = [environment_line(payload), format_table(payload)]
    lines.append(f"median/min/max: seconds per file over {s['repeats']} samples; files/s = "
                 f"1/median; MB/s = file bytes/median; 'vs {s['baseline']}' = {s['baseline']}'s "
                 "median / this tool's (above 1: faster); warm = page cache holding the files, "
                 "cold = dropped for those files before each pass")
    if any(r["workload"] == "net" for r in payload["results"]):
        lines.append("net rows: seconds per C-ECHO (echo) or per file stored (store), one "
                     "association per sample; 'vs' = pynetdicom>pynetdicom's median / this "
                     "pair's")
    readers = [r for r in payload["results"] if r["workload"] != "net"]
    if readers and not any(r["tool"] == s["baseline"] for r in readers):
        lines.append(f"no ratios: the baseline {s['baseline']} was not timed (not installed, "
                     "or its checks failed)")
    notes = (payload["corpus"].get("notes") or []) + (payload.get("notes") or [])
    lines += [f"note: {n}" for n in notes]
    lines += format_checks(payload)
    return "\n".join(lines)
