"""Query/Retrieve benchmark: fastdicom's archive SCP against dcmtk dcmqrscp and
a pynetdicom SCP with a naive handler, on 127.0.0.1.

    python -m benchmarks.qr [--instances 10000] [--slices 400] [--work DIR] [--repeat 20]

1. Index: N synthetic instances (patients with two studies of 25 instances,
   small images) written with pydicom; ``fastdicom index --db`` indexes them
   (timed); dcmtk's dcmqridx adds them to dcmqrscp's index (timed); the
   pynetdicom SCP reads their headers once at start.
2. C-FIND at STUDY level with a wildcard and a date range (``PatientName=B*``,
   ``StudyDate=20180101-20181231``, returning four keys): median latency of
   ``--repeat`` queries over one association, the same SCU (ours) against each
   SCP; and dcmtk's findscu process against each (association included).
3. C-GET of one series of ``--slices`` CT slices (512x512, the benchmarks'
   corpus): fastdicom SCU -> fastdicom SCP, dcmtk getscu -> dcmqrscp and
   getscu -> fastdicom SCP: seconds and MB/s.
4. The index alone at ``--index-rows`` instances (records, no files): the same
   query in-process.

dcmtk tools are called by absolute path (/usr/bin). Results are printed as a
table and written to ``--json`` if given.
"""
from __future__ import annotations

import argparse
import json
import os
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

from fastdicom.bench.net import free_port, wait_for_port

DCMTK = "/usr/bin"
PER_STUDY = 25
STUDY_FIND = "1.2.840.10008.5.1.4.1.2.2.1"
QUERY = {"PatientName": "B*", "StudyDate": "20180101-20181231", "StudyInstanceUID": "",
         "PatientID": ""}
_NAMES = ("ADAMS", "BAKER", "BROWN", "CLARK", "DAVIS", "EVANS", "GARCIA", "HALL", "JONES",
          "KING", "LEE", "MILLER", "NELSON", "OWEN", "PARKER", "ROBINSON", "SMITH", "TAYLOR",
          "WHITE", "YOUNG")


# -- data ---------------------------------------------------------------------------------
def synthetic(directory: Path, n: int) -> list[Path]:
    """``n`` small CT instances: patients of two studies of ``PER_STUDY`` instances
    (dcmqrscp holds at most 500 studies: 10,000 instances make 400)."""
    import numpy as np
    from pydicom.dataset import Dataset, FileMetaDataset
    from pydicom.uid import ExplicitVRLittleEndian

    from benchmarks.synth import uid

    directory.mkdir(parents=True, exist_ok=True)
    existing = sorted(directory.glob("*.dcm"))
    if len(existing) == n:
        return existing
    pixels = np.zeros((4, 4), "<u2").tobytes()
    out = []
    for i in range(n):
        study, patient = i // PER_STUDY, i // (2 * PER_STUDY)
        ds = Dataset()
        ds.SOPClassUID = "1.2.840.10008.5.1.4.1.1.2"
        ds.SOPInstanceUID = uid(f"qr/{i}")
        ds.PatientName = f"{_NAMES[patient % len(_NAMES)]}^P{patient}"
        ds.PatientID = f"PID{patient:06d}"
        ds.PatientBirthDate = f"19{40 + patient % 60:02d}0101"
        ds.PatientSex = "MF"[patient % 2]
        ds.StudyInstanceUID = uid(f"qr/study/{study}")
        ds.StudyDate = f"{2015 + study % 10}{1 + study % 12:02d}{1 + study % 28:02d}"
        ds.StudyTime = f"{8 + study % 10:02d}3000"
        ds.AccessionNumber = f"A{study:07d}"
        ds.StudyID = str(study)
        ds.StudyDescription = "CT CHEST"
        ds.ReferringPhysicianName = ""
        ds.SeriesInstanceUID = uid(f"qr/series/{study}")
        ds.Modality = "CT"
        ds.SeriesNumber = 1
        ds.InstanceNumber = i % PER_STUDY + 1
        ds.Rows = ds.Columns = 4
        ds.SamplesPerPixel = 1
        ds.PhotometricInterpretation = "MONOCHROME2"
        ds.BitsAllocated, ds.BitsStored, ds.HighBit, ds.PixelRepresentation = 16, 12, 11, 0
        ds.PixelData = pixels
        ds.file_meta = FileMetaDataset()
        ds.file_meta.MediaStorageSOPClassUID = ds.SOPClassUID
        ds.file_meta.MediaStorageSOPInstanceUID = ds.SOPInstanceUID
        ds.file_meta.TransferSyntaxUID = ExplicitVRLittleEndian
        path = directory / f"{i:06d}.dcm"
        ds.save_as(path, enforce_file_format=True)
        out.append(path)
    return out


def expected_matches(files: list[Path]) -> int:
    """Studies the query matches (counted here independently, with pydicom)."""
    import pydicom

    studies = set()
    for p in files[::PER_STUDY]:
        ds = pydicom.dcmread(p, stop_before_pixels=True)
        if str(ds.PatientName).startswith("B") and "20180101" <= ds.StudyDate <= "20181231":
            studies.add(ds.StudyInstanceUID)
    return len(studies)


# -- servers ------------------------------------------------------------------------------
class Procs:
    def __init__(self) -> None:
        self.procs: list[subprocess.Popen] = []

    def start(self, args: list[str], port: int, **kw) -> subprocess.Popen:
        proc = subprocess.Popen(args, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
                                **kw)
        self.procs.append(proc)
        wait_for_port(port, 300)
        return proc

    def stop(self) -> None:
        for p in self.procs:
            p.terminate()
        for p in self.procs:
            try:
                p.wait(10)
            except subprocess.TimeoutExpired:
                p.kill()


def fastdicom_env() -> dict[str, str]:
    root = str(Path(__file__).resolve().parent.parent)
    return dict(os.environ, PYTHONPATH=root + os.pathsep + os.environ.get("PYTHONPATH", ""))


def start_fastdicom(procs: Procs, directory: Path, db: str) -> int:
    port = free_port()
    procs.start([sys.executable, "-m", "fastdicom", "scp", "--port", str(port), "--bind",
                 "127.0.0.1", "--dir", str(directory), "--db", db, "-q", "--no-fsync"],
                port, env=fastdicom_env())
    return port


def start_dcmqrscp(procs: Procs, work: Path) -> int:
    port = free_port()
    db = work / "dcmqrscp-db"
    if db.exists():
        shutil.rmtree(db)
    db.mkdir(parents=True)
    cfg = work / "dcmqrscp.cfg"
    cfg.write_text(f"NetworkTCPPort = {port}\nMaxPDUSize = 16384\nMaxAssociations = 16\n"
                   "HostTable BEGIN\nHostTable END\nVendorTable BEGIN\nVendorTable END\n"
                   f"AETable BEGIN\nCOMMON {db} RW (500, 100gb) ANY\nAETable END\n")
    procs.start([f"{DCMTK}/dcmqrscp", "-c", str(cfg), str(port)], port)
    return port


def dcmqridx(work: Path, files: list[Path]) -> float:
    """Add files (where they are) to dcmqrscp's index with dcmtk's dcmqridx."""
    start = time.perf_counter()
    for i in range(0, len(files), 500):
        subprocess.run([f"{DCMTK}/dcmqridx", str(work / "dcmqrscp-db"),
                        *map(str, files[i:i + 500])], check=True, capture_output=True)
    return time.perf_counter() - start


def storescu(port: int, directory: Path, aec: str = "COMMON") -> float:
    start = time.perf_counter()
    subprocess.run([f"{DCMTK}/storescu", "-aec", aec, "+sd", "127.0.0.1", str(port),
                    str(directory)], check=True, capture_output=True, timeout=3600)
    return time.perf_counter() - start


def pynetdicom_scp(directory: str, port: int) -> None:
    """A pynetdicom C-FIND SCP with a naive handler: the headers are read once,
    each query scans them (wildcards with fnmatch, date ranges as strings)."""
    import fnmatch

    import pydicom
    from pydicom.dataset import Dataset
    from pynetdicom import AE, evt

    headers = [pydicom.dcmread(os.path.join(directory, n), stop_before_pixels=True)
               for n in sorted(os.listdir(directory)) if n.endswith(".dcm")]

    def matches(ds: Dataset, key: str, value: str) -> bool:
        if not value or value == "*":
            return True
        have = str(ds.get(key, ""))
        if "-" in value and key.endswith("Date"):
            low, high = value.split("-")
            return bool(have) and (not low or have >= low) and (not high or have <= high)
        return fnmatch.fnmatchcase(have, value)

    def handle(event):
        q = event.identifier
        keys = [e.keyword for e in q if e.keyword != "QueryRetrieveLevel"]
        seen = set()
        for ds in headers:
            if ds.StudyInstanceUID in seen:
                continue
            if all(matches(ds, k, str(q.get(k, ""))) for k in keys):
                seen.add(ds.StudyInstanceUID)
                out = Dataset()
                out.QueryRetrieveLevel = "STUDY"
                for k in keys:
                    setattr(out, k, ds.get(k, ""))
                yield 0xFF00, out

    ae = AE("PYNSCP")
    ae.add_supported_context(STUDY_FIND)
    ae.start_server(("127.0.0.1", port), evt_handlers=[(evt.EVT_C_FIND, handle)])


# -- measurements -------------------------------------------------------------------------
def find_latency(port: int, repeat: int, aec: str = "ANY-SCP") -> tuple[float, int]:
    from fastdicom.net.ae import AE

    times, n = [], 0
    with AE("BENCH").associate("127.0.0.1", port, ae_title=aec,
                               contexts=[STUDY_FIND]) as assoc:
        for _ in range(repeat):
            start = time.perf_counter()
            result = assoc.find(dict(QUERY))
            times.append(time.perf_counter() - start)
            assert result.status == 0, hex(result.status or 0)
            n = len(result.matches)
    return statistics.median(times) * 1e3, n


def findscu_latency(port: int, repeat: int, aec: str = "ANY-SCP") -> float:
    args = [f"{DCMTK}/findscu", "-S", "-aec", aec, "-k", "QueryRetrieveLevel=STUDY"]
    for k, v in QUERY.items():
        args += ["-k", f"{k}={v}" if v else k]
    times = []
    for _ in range(max(3, repeat // 4)):
        start = time.perf_counter()
        subprocess.run(args + ["127.0.0.1", str(port)], check=True, capture_output=True)
        times.append(time.perf_counter() - start)
    return statistics.median(times) * 1e3


def get_ours(port: int, study: str, out: Path, aec: str = "ANY-SCP") -> float:
    from fastdicom.net import query
    from fastdicom.net.ae import AE

    ct = "1.2.840.10008.5.1.4.1.1.2"
    shutil.rmtree(out, ignore_errors=True)
    start = time.perf_counter()
    with AE("BENCH").associate("127.0.0.1", port, ae_title=aec,
                               contexts=query.contexts("get", storage_classes=[ct]),
                               role_selection=query.get_role_selection([ct])) as assoc:
        result = assoc.get({"StudyInstanceUID": study}, directory=str(out))
    elapsed = time.perf_counter() - start
    assert result.status == 0 and result.completed > 0, result
    return elapsed


def get_dcmtk(port: int, study: str, out: Path, aec: str = "ANY-SCP") -> float:
    shutil.rmtree(out, ignore_errors=True)
    out.mkdir(parents=True)
    start = time.perf_counter()
    subprocess.run([f"{DCMTK}/getscu", "-S", "-aec", aec, "-od", str(out), "-k",
                    "QueryRetrieveLevel=STUDY", "-k", f"StudyInstanceUID={study}",
                    "127.0.0.1", str(port)], check=True, capture_output=True, timeout=3600)
    return time.perf_counter() - start


def index_scale(work: Path, rows: int, repeat: int) -> dict[str, float]:
    """The index alone at a larger scale: ``rows`` instances' records (no files)
    in SQLite, then the STUDY-level query (and with two computed keys)."""
    from fastdicom.dataset import Dataset
    from fastdicom.net.archive import open_archive, record_of

    db = work / "scale.sqlite"
    for suffix in ("", "-wal", "-shm"):
        if os.path.exists(str(db) + suffix):
            os.unlink(str(db) + suffix)
    archive = open_archive(f"sqlite:///{db}")

    def records():
        for i in range(rows):
            study, patient = i // PER_STUDY, i // (2 * PER_STUDY)
            ds = Dataset()
            ds.PatientName = f"{_NAMES[patient % len(_NAMES)]}^P{patient}"
            ds.PatientID = f"PID{patient:06d}"
            ds.StudyInstanceUID = f"1.2.{study}"
            ds.StudyDate = f"{2015 + study % 10}{1 + study % 12:02d}{1 + study % 28:02d}"
            ds.SeriesInstanceUID = f"1.3.{study}"
            ds.Modality = "CT"
            ds.SOPClassUID = "1.2.840.10008.5.1.4.1.1.2"
            ds.SOPInstanceUID = f"1.4.{i}"
            yield record_of(ds, f"/virtual/{i}.dcm", "1.2.840.10008.1.2.1", 0)

    out: dict[str, float] = {}
    start = time.perf_counter()
    archive.add_records(records())
    out[f"index_{rows}_records_s"] = time.perf_counter() - start
    query = Dataset()
    query.QueryRetrieveLevel = "STUDY"
    for k, v in QUERY.items():
        setattr(query, k, v)
    for label in ("", "_with_counts"):
        if label:
            query.NumberOfStudyRelatedInstances = ""
            query.ModalitiesInStudy = ""
        times = []
        for _ in range(repeat):
            t = time.perf_counter()
            archive.find(query, "STUDY")
            times.append(time.perf_counter() - t)
        out[f"find_in_index_{rows}{label}_ms"] = statistics.median(times) * 1e3
    archive.close()
    return out


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--instances", type=int, default=10000)
    ap.add_argument("--slices", type=int, default=400)
    ap.add_argument("--repeat", type=int, default=20)
    ap.add_argument("--index-rows", type=int, default=100000,
                    help="records for the index-only scale measurement (0: skip)")
    ap.add_argument("--work", default=None, help="working directory (default: a temporary one)")
    ap.add_argument("--json", default=None, help="write the results here")
    ap.add_argument("--serve-pynetdicom", nargs=2, metavar=("DIR", "PORT"),
                    help=argparse.SUPPRESS)
    args = ap.parse_args(argv)
    if args.serve_pynetdicom:
        pynetdicom_scp(args.serve_pynetdicom[0], int(args.serve_pynetdicom[1]))
        return 0
    work = Path(args.work or tempfile.mkdtemp(prefix="fastdicom-bench-qr-"))
    results: dict[str, float] = {}
    procs = Procs()
    try:
        print(f"writing {args.instances} synthetic instances ...", file=sys.stderr)
        files = synthetic(work / "synthetic", args.instances)
        want = expected_matches(files)
        db = work / "index.sqlite"
        if db.exists():
            db.unlink()
        start = time.perf_counter()
        subprocess.run([sys.executable, "-m", "fastdicom", "index", "--db", f"sqlite:///{db}",
                        str(work / "synthetic")], check=True, capture_output=True,
                       env=fastdicom_env())
        results["index_fastdicom_s"] = time.perf_counter() - start
        ours = start_fastdicom(procs, work / "fastdicom-store", f"sqlite:///{db}")
        dcmqr = start_dcmqrscp(procs, work)
        results["index_dcmqridx_s"] = dcmqridx(work, files)
        pyn = free_port()
        print("starting the pynetdicom SCP (reads the headers) ...", file=sys.stderr)
        procs.start([sys.executable, "-m", "benchmarks.qr", "--serve-pynetdicom",
                     str(work / "synthetic"), str(pyn)], pyn, env=fastdicom_env(),
                    cwd=str(Path(__file__).resolve().parent.parent))
        for name, port, aec in (("fastdicom", ours, "ANY-SCP"), ("dcmqrscp", dcmqr, "COMMON"),
                                ("pynetdicom", pyn, "ANY-SCP")):
            ms, n = find_latency(port, args.repeat, aec)
            assert n == want, (name, n, want)
            results[f"find_{name}_ms"] = ms
            results[f"findscu_{name}_ms"] = findscu_latency(port, args.repeat, aec)
        results["find_matches"] = want

        print(f"C-GET of {args.slices} CT slices ...", file=sys.stderr)
        from benchmarks.corpus import ensure_corpus

        ct = ensure_corpus(work / "corpus", ct=args.slices, mr=0)["ct"]
        series = work / "series"
        series.mkdir(exist_ok=True)
        for p in ct:
            target = series / p.name
            if not target.exists():
                os.link(p, target)
        size = sum(p.stat().st_size for p in ct) / 1e6
        storescu(ours, series)
        dcmqridx(work, sorted(series.glob("*.dcm")))
        import pydicom

        study = str(pydicom.dcmread(ct[0], stop_before_pixels=True).StudyInstanceUID)
        for name, fn, port, aec in (
                ("fastdicom_to_fastdicom", get_ours, ours, "ANY-SCP"),
                ("getscu_to_dcmqrscp", get_dcmtk, dcmqr, "COMMON"),
                ("getscu_to_fastdicom", get_dcmtk, ours, "ANY-SCP"),
                ("fastdicom_to_dcmqrscp", get_ours, dcmqr, "COMMON")):
            best = min(fn(port, study, work / "got", aec) for _ in range(3))
            results[f"get_{name}_s"] = best
            results[f"get_{name}_MBps"] = size / best
        results["get_series_MB"] = size
        if args.index_rows:
            print(f"the index alone with {args.index_rows} records ...", file=sys.stderr)
            results.update(index_scale(work, args.index_rows, args.repeat))
    finally:
        procs.stop()
    width = max(len(k) for k in results)
    for k, v in results.items():
        print(f"{k.ljust(width)}  {v:10.2f}")
    if args.json:
        Path(args.json).write_text(json.dumps(results, indent=1) + "\n")
    if not args.work:
        shutil.rmtree(work, ignore_errors=True)
    return 0


if __name__ == "__main__":
    sys.exit(main())
