"""``fastdicom find | move | get HOST PORT -k KEY=VALUE ...``: Query/Retrieve SCU.

    fastdicom find pacs 104 -k PatientName=DOE* -k StudyDate=20200101-20201231 --level STUDY
    fastdicom find pacs 104 -k PatientID=P1 -k StudyInstanceUID --json
    fastdicom move pacs 104 -k StudyInstanceUID=1.2.3 --dest MYSTORE
    fastdicom get pacs 104 -k StudyInstanceUID=1.2.3 --dir out/

Keys as dcmtk's ``-k``: a keyword or ``gggg,eeee`` tag, ``=VALUE`` to match
(wildcards, ranges, ``a\\b`` lists), nothing after the key to have it
returned. ``find`` prints a table of the requested keys (``--json``: the
matches in DICOM JSON, one array). Exit status 0 when the operation
succeeded, 1 otherwise (failures, a warning status of C-MOVE/C-GET, or no
association).
"""
from __future__ import annotations

import argparse
import json
import sys
from typing import Any

from fastdicom.cli import _net
from fastdicom.cli._common import CLIError, error_line


def add_parser(subparsers: Any) -> argparse.ArgumentParser:
    helps = {"find": "query a peer (C-FIND)", "move": "have a peer send instances to an AE "
             "(C-MOVE)", "get": "retrieve instances from a peer (C-GET)"}
    parser = None
    for name in ("find", "move", "get"):
        p = subparsers.add_parser(name, help=helps[name], description=helps[name] + ".")
        p.add_argument("host")
        p.add_argument("port", type=int)
        p.add_argument("-k", "--key", action="append", default=[], metavar="KEY[=VALUE]",
                       help="a key of the identifier (repeatable)")
        p.add_argument("--level", "-L", type=str.upper,
                       choices=("PATIENT", "STUDY", "SERIES", "IMAGE"),
                       help="Query/Retrieve Level (default: -k QueryRetrieveLevel, else STUDY)")
        models = ("study", "patient", "worklist") if name == "find" else ("study", "patient")
        p.add_argument("--model", "-m", choices=models, default="study",
                       help="information model (default study root)")
        p.add_argument("--cancel", type=int, metavar="N",
                       help="send a C-CANCEL after N pending responses")
        p.add_argument("--relational", action="store_true",
                       help="negotiate relational queries (no unique keys needed above "
                            "the level)")
        if name == "find":
            p.add_argument("--fuzzy", action="store_true",
                           help="negotiate case-insensitive person name matching")
            p.add_argument("--combined-datetime", action="store_true",
                           help="negotiate combined date and time range matching")
        if name == "find":
            p.add_argument("--json", action="store_true", help="print the matches as DICOM JSON")
        if name == "move":
            p.add_argument("--dest", "-aem", required=True, metavar="AE",
                           help="the move destination's AE title")
        if name == "get":
            p.add_argument("--dir", "-od", required=True, metavar="DIR",
                           help="where the received instances are written")
        _net.add_options(p, scu=True)
        p.set_defaults(func=run, service=name)
        parser = p
    return parser  # type: ignore[return-value]


def parse_keys(specs: list[str]) -> dict[str, Any]:
    """``-k`` values as keyword -> value ("" to be returned); ``Seq[0].Key``
    paths as sequences (lists of mappings)."""
    out: dict[str, Any] = {}
    for spec in specs:
        path, _, value = spec.partition("=")
        target = out
        steps = path.split(".")
        for n, step in enumerate(steps):
            item = None
            if step.endswith("]") and "[" in step:  # Sequence[0]: an item of a sequence
                step, _, index = step[:-1].partition("[")
                item = int(index) if index.strip().isdigit() else -1
            keyword = _keyword(step, spec)
            if n == len(steps) - 1:
                if item is not None:
                    raise CLIError(f"-k {spec}: a sequence item needs a key inside it", 2)
                target[keyword] = value.split("\\") if "\\" in value else value
                break
            if item is None or item < 0:
                raise CLIError(f"-k {spec}: write sequence keys as Sequence[0].Key", 2)
            items = target.setdefault(keyword, [])
            if not isinstance(items, list) or any(not isinstance(i, dict) for i in items):
                items = target[keyword] = []
            while len(items) <= item:
                items.append({})
            target = items[item]
    return out


def _keyword(key: str, spec: str) -> str:
    from fastdicom import datadict

    key = key.strip().strip("()")
    if "," in key:
        try:
            tag = int(key.replace(",", ""), 16)
        except ValueError:
            raise CLIError(f"-k {spec}: not a tag", 2) from None
        keyword = datadict.keyword_for_tag(tag)
    else:
        keyword = key if datadict.tag_for_keyword(key) is not None else ""
    if not keyword:
        raise CLIError(f"-k {spec}: unknown key {key!r}", 2)
    return keyword


def _text(value: Any) -> str:
    if value is None:
        return ""
    if type(value).__name__ == "Sequence":  # its items' values
        return " | ".join(", ".join(f"{e.keyword}={_text(e.value)}" for e in item)
                          for item in value)
    if isinstance(value, (list, tuple)) or type(value).__name__ == "MultiValue":
        return "\\".join(str(v) for v in value)
    return str(value)


def print_table(keys: list[str], matches: list[Any], out: Any = None) -> None:
    out = out or sys.stdout
    rows = [[_text(m.get(k)) for k in keys] for m in matches]
    widths = [max([len(k)] + [len(r[i]) for r in rows]) for i, k in enumerate(keys)]
    print("  ".join(k.ljust(w) for k, w in zip(keys, widths)).rstrip(), file=out)
    for r in rows:
        print("  ".join(v.ljust(w) for v, w in zip(r, widths)).rstrip(), file=out)


def run(args: argparse.Namespace) -> int:
    from fastdicom.net import query
    from fastdicom.net.errors import NetworkError

    keys = parse_keys(args.key)
    level = args.level or (str(keys.pop("QueryRetrieveLevel")).upper()
                           if "QueryRetrieveLevel" in keys else "STUDY")
    keys.pop("QueryRetrieveLevel", None)
    model = args.model.upper()
    service = args.service
    ae = _net.make_ae(args)
    contexts = query.contexts(service, model)
    roles = query.get_role_selection() if service == "get" else None
    options = [name for name, on in (("relational", args.relational),
                                     ("fuzzy", getattr(args, "fuzzy", False)),
                                     ("datetime", getattr(args, "combined_datetime", False)))
               if on]
    items = []
    if options and model != "WORKLIST":
        from fastdicom.net.services import extended_negotiation

        items = extended_negotiation(options, [service], model)
    try:
        with ae.associate(args.host, args.port, ae_title=args.aec, contexts=contexts,
                          role_selection=roles, user_items=items,
                          ssl=_net.ssl_context(args, False)) as assoc:
            if service == "find":
                return _find(args, assoc, keys, level, model)
            common = dict(model=model, level=level, cancel_after=args.cancel,
                          on_pending=_pending if sys.stderr.isatty() else None)
            if service == "move":
                result = assoc.move(keys, args.dest, **common)
            else:
                result = assoc.get(keys, directory=args.dir, **common)
    except (NetworkError, OSError) as exc:
        raise CLIError(f"{args.host}:{args.port}: {error_line(exc)}") from None
    if sys.stderr.isatty():
        print(file=sys.stderr)
    line = (f"C-{service.upper()}: {_net.status_text(result.status)}: {result.completed} "
            f"completed, {result.failed} failed, {result.warning} warning")
    if service == "get":
        line += f"; {len(result.stored)} file(s) written to {args.dir}"
    print(line)
    if result.error_comment:
        print(f"  {result.error_comment}")
    for uid in result.failed_uids:
        print(f"  failed: {uid}")
    return 0 if result.status == 0 else 1


def _pending(result: Any) -> None:
    print(f"\r{result.completed} completed, {result.failed} failed, {result.warning} warning,"
          f" {result.remaining} remaining", end="", file=sys.stderr, flush=True)


def _find(args: argparse.Namespace, assoc: Any, keys: dict[str, Any], level: str,
          model: str) -> int:
    identifier = dict(keys)
    if model == "WORKLIST":
        result = assoc.find(identifier, model=model, cancel_after=args.cancel)
    else:
        result = assoc.find(identifier, model=model, level=level, cancel_after=args.cancel)
    if args.json:
        json.dump([m.to_json_dict() for m in result.matches], sys.stdout, indent=1,
                  ensure_ascii=False)
        print()
    else:
        shown = [k for k in keys] or ["QueryRetrieveLevel"]
        print_table(shown, result.matches)
    print(f"C-FIND: {_net.status_text(result.status)}, {len(result.matches)} match"
          f"{'' if len(result.matches) == 1 else 'es'}", file=sys.stderr)
    return 0 if result.status == 0 else 1
