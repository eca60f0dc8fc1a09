"""pytest-benchmark suite: the network stack (issue #7), a quick version of
``python -m benchmarks.net`` (prefer that script for the issue's numbers: it
runs every SCU in its own process, interleaves the pairs, checks the files).

    python -m pytest benchmarks/bench_net.py --benchmark-only

``FASTDICOM_BENCH_NET_CT`` (default 20): CT slices per association, the
first ones of the corpus (see benchmarks/conftest.py). Each SCP is a
separate process on a free port of 127.0.0.1 (benchmarks.net.SCP), started
once per test; the SCUs run in the pytest process, except dcmtk ``storescu``
(a process per round, so its rounds include starting it). Groups:

* ``net-store``: one association storing the slices, request to release;
* ``net-echo``: one association, 100 C-ECHOs.
"""
from __future__ import annotations

import os
import shutil
import subprocess

import pytest

from benchmarks import net

N_CT = int(os.environ.get("FASTDICOM_BENCH_NET_CT", "20"))
N_ECHO = 100
CT_CONTEXT = ("1.2.840.10008.5.1.4.1.1.2", ["1.2.840.10008.1.2.1"])

pytestmark = pytest.mark.skipif(not os.access(net.STORESCU, os.X_OK),
                                reason="dcmtk is not installed")


@pytest.fixture(scope="module")
def work():
    w = net.Work()
    yield w
    w.cleanup()


@pytest.fixture(scope="module")
def ct_files(corpus_paths):
    return corpus_paths["ct"][:N_CT]


def _rounds(benchmark, fn, group):
    benchmark.group = group
    benchmark.pedantic(fn, rounds=5, warmup_rounds=1, iterations=1)


def _fastdicom_store(port, files, aec="ANY-SCP"):
    from fastdicom.net.ae import AE

    ae = AE("FD-BENCH")

    def one():
        with ae.associate("127.0.0.1", port, ae_title=aec, contexts=[CT_CONTEXT]) as assoc:
            results = assoc.store_many(files, window=1)
        assert all(r.ok for r in results)
    return one


@pytest.mark.parametrize("kind", ["fastdicom", "fastdicom-nofsync", "dcmtk"])
def test_store_fastdicom_scu(benchmark, work, ct_files, kind):
    with net.SCP(kind, work) as scp:
        _rounds(benchmark, _fastdicom_store(scp.port, ct_files,
                                            "STORESCP" if kind == "dcmtk" else "ANY-SCP"),
                "net-store")
        assert len(scp.received()) == len(ct_files)


@pytest.mark.parametrize("kind", ["dcmtk", "fastdicom-nofsync"])
def test_store_dcmtk_storescu(benchmark, work, ct_files, kind):
    aec = "STORESCP" if kind == "dcmtk" else "ANY-SCP"
    with net.SCP(kind, work) as scp:
        cmd = [net.STORESCU, "-aec", aec, "127.0.0.1", str(scp.port), *ct_files]
        _rounds(benchmark, lambda: subprocess.run(cmd, env=net.DCMTK_ENV, check=True,
                                                  stdout=subprocess.DEVNULL), "net-store")
        assert len(scp.received()) == len(ct_files)


def test_store_pynetdicom(benchmark, work, ct_files):
    from pynetdicom import AE, _config

    _config.STORE_SEND_CHUNKED_DATASET = True
    ae = AE(ae_title="PN-BENCH")
    ae.add_requested_context(*CT_CONTEXT)
    with net.SCP("pynetdicom", work) as scp:
        def one():
            assoc = ae.associate("127.0.0.1", scp.port)
            assert all(assoc.send_c_store(p).Status == 0 for p in ct_files)
            assoc.release()
        _rounds(benchmark, one, "net-store")
        assert len(scp.received()) == len(ct_files)


def test_echo_fastdicom(benchmark, work):
    from fastdicom.net.ae import AE

    ae = AE("FD-BENCH")
    with net.SCP("fastdicom-nofsync", work) as scp:
        def one():
            with ae.associate("127.0.0.1", scp.port) as assoc:
                for _ in range(N_ECHO):
                    assert assoc.echo() == 0
        _rounds(benchmark, one, "net-echo")


def test_echo_pynetdicom(benchmark, work):
    from pynetdicom import AE

    ae = AE(ae_title="PN-BENCH")
    ae.add_requested_context("1.2.840.10008.1.1")
    with net.SCP("pynetdicom", work) as scp:
        def one():
            assoc = ae.associate("127.0.0.1", scp.port)
            for _ in range(N_ECHO):
                assert assoc.send_c_echo().Status == 0
            assoc.release()
        _rounds(benchmark, one, "net-echo")


def test_echo_dcmtk(benchmark, work):
    with net.SCP("dcmtk", work) as scp:
        cmd = [net.ECHOSCU, "-aec", "STORESCP", "--repeat", str(N_ECHO), "127.0.0.1",
               str(scp.port)]
        _rounds(benchmark, lambda: subprocess.run(cmd, env=net.DCMTK_ENV, check=True),
                "net-echo")


def test_dcmtk_tools_present():
    """Sanity check (not a benchmark): the dcmtk tools are the real ones."""
    for tool in (net.STORESCU, net.STORESCP, net.ECHOSCU):
        assert shutil.which(tool)
