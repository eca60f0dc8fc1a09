"""The Python peers of the network benchmark (benchmarks/net.py), one process each.

    python -m benchmarks.net_peers ROLE [options]

Roles (SCUs read their file list, one path a line, from ``--files``):

* ``fd-store``: fastdicom SCU, the files over one association
  (:meth:`AE.connect` + :meth:`ClientAssociation.store_many`);
* ``fd-echo``: fastdicom SCU, ``--count`` C-ECHOs over one association;
* ``fd-multi``: fastdicom SCU, ``--assocs`` associations at once in one event
  loop, the files dealt round-robin between them;
* ``pn-store`` / ``pn-echo``: the same with pynetdicom (``send_c_store`` from
  the path with ``STORE_SEND_CHUNKED_DATASET``: the data set bytes are sent as
  they are in the file, no decode; ``--decode`` sends them decoded and
  re-encoded, pynetdicom's default);
* ``pn-scp``: a pynetdicom Storage + Verification SCP writing each received
  data set with its File Meta Information (``event.encoded_dataset()``: bytes
  as received, no decode, no fsync, like dcmtk ``storescp +B``) to
  ``--dir/<SOP Instance UID>.dcm``; with ``--decode`` the handler of
  pynetdicom's documentation (``event.dataset`` + ``save_as``).

Every SCU first makes a warm-up association (one C-STORE of the first file, or
ten C-ECHOs), prints ``READY`` and waits for a line on standard input, then
does the timed association and prints one JSON line: ``assoc_s`` (from the
start of the association request to the end of the release), ``cpu_s``
(this process, all threads, over the same span), and per role counts or
latencies. The orchestrator samples the SCP's CPU time between ``READY`` and
the JSON line.
"""
from __future__ import annotations

import argparse
import asyncio
import json
import os
import statistics
import sys
import time

CT_IMAGE_STORAGE = "1.2.840.10008.5.1.4.1.1.2"
VERIFICATION = "1.2.840.10008.1.1"
EXPLICIT_LE = "1.2.840.10008.1.2.1"
IMPLICIT_LE = "1.2.840.10008.1.2"
WARM_ECHOES = 10


def _files(path: str) -> list[str]:
    with open(path) as f:
        return [line.strip() for line in f if line.strip()]


def _contexts(paths: list[str]) -> list[tuple[str, list[str]]]:
    """A presentation context per SOP class of the files, proposing the files'
    own transfer syntaxes (read once, before anything is timed)."""
    import fastdicom

    out: dict[str, dict[str, None]] = {}
    for p in paths:
        ds = fastdicom.dcmread(p, specific_tags=[0x00080016])
        ts = str(ds.file_meta.TransferSyntaxUID) if "TransferSyntaxUID" in ds.file_meta \
            else IMPLICIT_LE
        out.setdefault(str(ds.SOPClassUID), {})[ts] = None
    return [(uid, list(syntaxes)) for uid, syntaxes in out.items()]


def _go() -> None:
    print("READY", flush=True)
    sys.stdin.readline()


def _latency_summary(samples: list[float]) -> dict:
    ordered = sorted(samples)
    p99 = ordered[min(len(ordered) - 1, int(round(0.99 * (len(ordered) - 1))))]
    return {"count": len(samples), "median_s": statistics.median(samples), "p99_s": p99,
            "mean_s": statistics.fmean(samples), "max_s": ordered[-1]}


# -- fastdicom -----------------------------------------------------------------------------
def _fd_ae(args):
    from fastdicom.net.ae import AE

    kw = {} if args.max_pdu is None else {"max_pdu_length": args.max_pdu}
    return AE("FD-BENCH", dimse_timeout=60, acse_timeout=60, **kw)


async def _fd_store_once(ae, args, paths, contexts) -> tuple[int, list[str]]:
    assoc = await ae.connect(args.host, args.port, ae_title=args.aec, contexts=contexts,
                             async_ops_window=args.window)
    results = await assoc.store_many(paths, window=args.window)
    await assoc.release()
    return sum(r.ok for r in results), [f"{r.source}: {r.status} {r.error}"
                                        for r in results if not r.ok][:5]


async def fd_store(args) -> dict:
    paths = _files(args.files)
    contexts = _contexts(paths)
    ae = _fd_ae(args)
    await _fd_store_once(ae, args, paths[:1], contexts)
    await asyncio.get_running_loop().run_in_executor(None, _go)
    cpu, t0 = time.process_time(), time.perf_counter()
    ok, errors = await _fd_store_once(ae, args, paths, contexts)
    return {"assoc_s": time.perf_counter() - t0, "cpu_s": time.process_time() - cpu,
            "stored": ok, "files": len(paths), "errors": errors}


async def fd_echo(args) -> dict:
    ae = _fd_ae(args)
    for count in (WARM_ECHOES, args.count):
        if count == args.count:
            await asyncio.get_running_loop().run_in_executor(None, _go)
        cpu, t0 = time.process_time(), time.perf_counter()
        assoc = await ae.connect(args.host, args.port, ae_title=args.aec,
                                 contexts=[VERIFICATION])
        samples = []
        for _ in range(count):
            t = time.perf_counter()
            status = await assoc.echo()
            samples.append(time.perf_counter() - t)
            if status != 0:
                raise SystemExit(f"C-ECHO status 0x{status:04X}")
        await assoc.release()
    return {"assoc_s": time.perf_counter() - t0, "cpu_s": time.process_time() - cpu,
            **_latency_summary(samples)}


async def fd_multi(args) -> dict:
    paths = _files(args.files)
    contexts = _contexts(paths)
    ae = _fd_ae(args)
    shares = [paths[i::args.assocs] for i in range(args.assocs)]
    shares = [s for s in shares if s]
    await asyncio.gather(*(_fd_store_once(ae, args, s[:1], contexts) for s in shares))
    await asyncio.get_running_loop().run_in_executor(None, _go)
    cpu, t0 = time.process_time(), time.perf_counter()
    done = await asyncio.gather(*(_fd_store_once(ae, args, s, contexts) for s in shares))
    return {"assoc_s": time.perf_counter() - t0, "cpu_s": time.process_time() - cpu,
            "stored": sum(ok for ok, _ in done), "files": len(paths),
            "associations": len(shares), "errors": [e for _, errs in done for e in errs][:5]}


# -- pynetdicom ----------------------------------------------------------------------------
def _pn_ae(args, contexts):
    from pynetdicom import AE

    ae = AE(ae_title="PN-BENCH")
    ae.acse_timeout = ae.dimse_timeout = ae.network_timeout = 60
    if args.max_pdu is not None:
        ae.maximum_pdu_size = args.max_pdu
    for uid, syntaxes in contexts:
        ae.add_requested_context(uid, syntaxes)
    return ae


def pn_store(args) -> dict:
    from pynetdicom import _config

    _config.STORE_SEND_CHUNKED_DATASET = not args.decode
    paths = _files(args.files)
    ae = _pn_ae(args, _contexts(paths))

    def once(items):
        assoc = ae.associate(args.host, args.port, ae_title=args.aec)
        if not assoc.is_established:
            raise SystemExit("pynetdicom: association not established")
        ok, errors = 0, []
        for p in items:
            status = assoc.send_c_store(p)
            if status and status.Status == 0:
                ok += 1
            elif len(errors) < 5:
                errors.append(f"{p}: {status}")
        assoc.release()
        return ok, errors

    once(paths[:1])
    _go()
    cpu, t0 = time.process_time(), time.perf_counter()
    ok, errors = once(paths)
    return {"assoc_s": time.perf_counter() - t0, "cpu_s": time.process_time() - cpu,
            "stored": ok, "files": len(paths), "errors": errors}


def pn_echo(args) -> dict:
    ae = _pn_ae(args, [(VERIFICATION, [EXPLICIT_LE, IMPLICIT_LE])])
    for count in (WARM_ECHOES, args.count):
        if count == args.count:
            _go()
        cpu, t0 = time.process_time(), time.perf_counter()
        assoc = ae.associate(args.host, args.port, ae_title=args.aec)
        samples = []
        for _ in range(count):
            t = time.perf_counter()
            status = assoc.send_c_echo()
            samples.append(time.perf_counter() - t)
            if not status or status.Status != 0:
                raise SystemExit(f"C-ECHO failed: {status}")
        assoc.release()
    return {"assoc_s": time.perf_counter() - t0, "cpu_s": time.process_time() - cpu,
            **_latency_summary(samples)}


def pn_scp(args) -> None:
    from pynetdicom import AE, ALL_TRANSFER_SYNTAXES, AllStoragePresentationContexts, evt

    out_dir = args.dir

    def on_store(event):
        uid = str(event.request.AffectedSOPInstanceUID)
        if not uid.replace(".", "").isdigit():
            return 0xA900
        path = os.path.join(out_dir, uid + ".dcm")
        if args.decode:  # the handler of pynetdicom's documentation
            ds = event.dataset
            ds.file_meta = event.file_meta
            ds.save_as(path, enforce_file_format=True)
            return 0x0000
        with open(path, "wb") as f:
            f.write(event.encoded_dataset(include_meta=True))
        return 0x0000

    ae = AE(ae_title="PN-SCP")
    ae.acse_timeout = ae.dimse_timeout = ae.network_timeout = 60
    if args.max_pdu is not None:
        ae.maximum_pdu_size = args.max_pdu
    for cx in AllStoragePresentationContexts:
        ae.add_supported_context(cx.abstract_syntax, ALL_TRANSFER_SYNTAXES)
    ae.add_supported_context(VERIFICATION, ALL_TRANSFER_SYNTAXES)
    ae.start_server(("127.0.0.1", args.port), block=True,
                    evt_handlers=[(evt.EVT_C_STORE, on_store)])


ROLES = {"fd-store": fd_store, "fd-echo": fd_echo, "fd-multi": fd_multi,
         "pn-store": pn_store, "pn-echo": pn_echo, "pn-scp": pn_scp}


def main(argv=None) -> int:
    p = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    p.add_argument("role", choices=sorted(ROLES))
    p.add_argument("--host", default="127.0.0.1")
    p.add_argument("--port", type=int, required=True)
    p.add_argument("--aec", default="ANY-SCP")
    p.add_argument("--files", help="file with the paths to send, one a line")
    p.add_argument("--count", type=int, default=1000, help="C-ECHOs (echo roles)")
    p.add_argument("--window", type=int, default=1,
                   help="fastdicom: C-STOREs outstanding at once per association")
    p.add_argument("--assocs", type=int, default=1, help="fd-multi: associations at once")
    p.add_argument("--max-pdu", type=int, default=None, help="our maximum PDU length")
    p.add_argument("--decode", action="store_true",
                   help="pn-store: let pynetdicom read and re-encode each file (its default); "
                        "pn-scp: decode each data set and save_as")
    p.add_argument("--dir", help="pn-scp: where received files go")
    args = p.parse_args(argv)
    fn = ROLES[args.role]
    result = asyncio.run(fn(args)) if asyncio.iscoroutinefunction(fn) else fn(args)
    if result is not None:
        print(json.dumps(result), flush=True)
    return 0


if __name__ == "__main__":
    sys.exit(main())
