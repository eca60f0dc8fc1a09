"""PDUReader receiving in place (issue 7): get_buffer/buffer_updated, as
asyncio.BufferedProtocol calls them. PDUs are views of receive blocks; a block
is written again only once no view of it is alive."""
import random
import tracemalloc

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from fastdicom import _core
from fastdicom.net import errors as E
from fastdicom.net import pdu as P
from test_pdu import EXPECTED, GOLDEN_PDUS, STREAM, be32


def receive(reader, data, sizes=None, frame=True, step=None):
    """Copy ``data`` into the reader's buffers as a socket would, in chunks of
    ``sizes`` (cut to what each buffer offers); returns the PDUs framed (none
    taken from the reader when ``frame`` is false). With ``step``, the PDUs of
    each chunk go to ``step(bytes received so far, pdus)`` instead, not kept."""
    out, pos, sizes = [], 0, iter(sizes or [])
    while pos < len(data):
        buf = reader.get_buffer(-1)
        assert len(buf) >= 65536 and not buf.readonly
        n = min(len(buf), len(data) - pos, next(sizes, len(data)))
        buf[:n] = data[pos:pos + n]
        del buf
        reader.buffer_updated(n)
        pos += n
        got = list(reader) if frame else []
        if step is None:
            out.extend(got)
        else:
            step(pos, got)
    return out


def test_whole_stream_and_random_chunks():
    reader = _core.PDUReader()
    assert receive(reader, STREAM) == EXPECTED
    assert reader.buffered == 0 and reader.needed == 6 and reader.offset == len(STREAM)
    rng = random.Random(11)
    for _ in range(30):
        sizes = [rng.choice([1, 2, 3, 5, 6, 7, 64, 700, 4096]) for _ in range(len(STREAM))]
        reader = _core.PDUReader()
        assert receive(reader, STREAM, sizes) == EXPECTED
        assert reader.buffered == 0


def test_pdvs_are_read_only_views_of_the_block():
    data = P.PDataTF([P.PDV(1, True, True, b"cmd"), P.PDV(1, False, False, b"data")]).encode()
    reader = _core.PDUReader()
    (pdu,) = receive(reader, data)
    a, b = pdu.pdvs
    assert isinstance(a.data, memoryview) and a.data.readonly and bytes(b.data) == b"data"
    assert isinstance(a.data.obj, bytearray) and a.data.obj is b.data.obj
    assert len(a.data.obj) == reader.buffer_capacity == _core.RECEIVE_BLOCK_SIZE


def test_views_alive_keep_their_bytes_while_more_arrives():
    """A view kept by its user (a sink gathering writes, say) never sees its
    bytes overwritten: the reader moves to another block instead."""
    rng = random.Random(3)
    payloads = [rng.randbytes(rng.choice([100, 70_000, 250_000])) for _ in range(60)]
    stream = b"".join(P.PDataTF([P.PDV(3, False, True, p)]).encode() for p in payloads)
    reader = _core.PDUReader(max_pdu_length=0)
    kept = []
    for i, pdu in enumerate(receive(reader, stream, [rng.choice([1000, 65536, 300_000])
                                                     for _ in range(10_000)])):
        if i % 3 == 0:
            kept.append((i, pdu.pdvs[0].data))
    assert [bytes(v) for _, v in kept] == [payloads[i] for i, _ in kept]


def test_blocks_are_reused_when_no_view_is_alive():
    pdu = P.PDataTF([P.PDV(1, False, True, bytes(262_138))]).encode()   # 256 KiB PDUs
    stream = pdu * 200                                                   # 50 MiB
    reader, lengths = _core.PDUReader(max_pdu_length=0), []
    tracemalloc.start()
    try:
        receive(reader, stream, [212_992] * 1000,
                step=lambda pos, pdus: lengths.extend(len(p.pdvs[0].data) for p in pdus))
        peak = tracemalloc.get_traced_memory()[1]
    finally:
        tracemalloc.stop()
    assert lengths == [262_138] * 200 and peak < 6 * _core.RECEIVE_BLOCK_SIZE


def test_pdu_larger_than_a_block_grows_as_its_bytes_arrive():
    big = P.PDataTF([P.PDV(1, False, True, bytes(range(256)) * 12_000)]).encode()  # ~3 MB
    reader, capacities = _core.PDUReader(max_pdu_length=0), []

    def step(pos, pdus):
        capacities.append(reader.buffer_capacity)
        assert reader.buffer_capacity <= max(2 * pos + 65536, _core.RECEIVE_BLOCK_SIZE)

    receive(reader, big, [100_000] * 100, frame=False, step=step)
    (pdu,) = list(reader)
    assert pdu.pdvs[0].data == bytes(range(256)) * 12_000
    assert max(capacities) <= len(big) + 65536


def test_declared_huge_length_allocates_nothing_for_it():
    reader = _core.PDUReader(max_pdu_length=0)          # no limit: 1 GiB declared
    receive(reader, b"\x04\x00" + be32(1 << 30) + bytes(500_000))
    assert reader.next_pdu() is None and reader.buffered == 500_006
    assert reader.buffer_capacity == _core.RECEIVE_BLOCK_SIZE


def test_errors_and_bytes_after_them():
    reader = _core.PDUReader()
    receive(reader, b"GET / HTTP/1.1\r\nHost: example\r\n\r\n", frame=False)
    with pytest.raises(E.UnknownPDUError) as info:
        reader.next_pdu()
    assert info.value.offset == 0
    receive(reader, bytes(200_000), frame=False)        # received and dropped
    with pytest.raises(E.UnknownPDUError):
        reader.next_pdu()
    reader = _core.PDUReader(max_pdu_length=100)
    good = GOLDEN_PDUS[0][1]
    receive(reader, good + b"\x04\x00" + be32(101), frame=False)
    assert reader.next_pdu() == GOLDEN_PDUS[0][0]       # the PDUs before the bad one first
    with pytest.raises(E.PDUTooLargeError) as info:
        reader.next_pdu()
    assert info.value.offset == len(good) + 2


def test_one_way_of_receiving_per_reader():
    reader = _core.PDUReader()
    receive(reader, STREAM[:10])
    with pytest.raises(ValueError):
        reader.feed(b"\x05")
    reader = _core.PDUReader()
    reader.feed(STREAM[:10])
    with pytest.raises(ValueError):
        reader.get_buffer(-1)
    reader = _core.PDUReader()
    buf = reader.get_buffer(-1)
    with pytest.raises(ValueError):
        reader.buffer_updated(len(buf) + 1)


@settings(max_examples=200, deadline=None)
@given(st.lists(st.sampled_from([g for _, g in GOLDEN_PDUS]), max_size=12),
       st.lists(st.integers(1, 70_000), min_size=1, max_size=50), st.binary(max_size=64))
def test_hypothesis_same_as_feed(pdus, sizes, tail):
    stream = b"".join(pdus) + tail

    def frames(r):
        out = []
        try:
            out.extend(r)
        except E.RemoteProtocolError as exc:
            out.append(("error", type(exc), exc.offset))
        return out

    fed = _core.PDUReader(max_pdu_length=0)
    fed.feed(stream)
    expected = frames(fed)
    reader, got, pos, it = _core.PDUReader(max_pdu_length=0), [], 0, iter(sizes)
    while pos < len(stream) and not (got and isinstance(got[-1], tuple)):
        buf = reader.get_buffer(-1)
        n = min(len(buf), len(stream) - pos, next(it, len(stream)))
        buf[:n] = stream[pos:pos + n]
        del buf
        reader.buffer_updated(n)
        pos += n
        got += frames(reader)
    if not (got and isinstance(got[-1], tuple)):
        got += frames(reader)
    assert got == expected


# -- sending views of the data set (pdu.pdata_vector) --------------------------------------

@pytest.mark.parametrize("n,max_pdu", [(1, 0), (2, 16382), (16376, 16382), (16377, 16382),
                                       (100_000, 16382), (524_288, 262_144), (70_001, 8)])
def test_pdata_vector_equals_the_encoder(n, max_pdu):
    data = random.Random(n).randbytes(n)
    for last in (False, True):
        vector = P.pdata_vector(7, memoryview(data), last, max_pdu)
        assert all(isinstance(v, memoryview) for v in vector[1::2])   # views, not copies
        assert all(v.obj is data for v in vector[1::2])
        wire = b"".join(vector)
        reader = _core.PDUReader(max_pdu_length=max_pdu)
        reader.feed(wire)
        pdvs = [pdv for pdu in reader for pdv in pdu.pdvs]
        assert b"".join(bytes(p.data) for p in pdvs) == data
        assert all(p.context_id == 7 and not p.is_command for p in pdvs)
        assert [p.is_last for p in pdvs] == [False] * (len(pdvs) - 1) + [last]
        assert all(len(p.data) % 2 == 0 for p in pdvs[:-1])
    with pytest.raises(E.LocalProtocolError):
        P.pdata_vector(1, b"ab", True, 7)


def test_transport_write_vector_keeps_order_when_the_socket_fills():
    """Views written straight to the socket while it takes them, the rest through
    the transport: the peer gets every byte in order."""
    import asyncio
    import socket

    from fastdicom.net.association import REQUESTOR, Association
    from fastdicom.net.transport import AssociationProtocol

    async def main():
        a, b = socket.socketpair()
        a.setsockopt(socket.SOL_SOCKET, socket.SO_SNDBUF, 16384)
        loop = asyncio.get_running_loop()
        proto = AssociationProtocol(Association(REQUESTOR))
        transport, _ = await loop.create_connection(lambda: proto, sock=a)
        assert proto._raw_fd == a.fileno()
        data = random.Random(5).randbytes(3_000_000)
        chunks = [data[i:i + 100_000] for i in range(0, len(data), 100_000)]
        received = bytearray()

        def reader():
            b.setblocking(True)
            while len(received) < len(data):
                received.extend(b.recv(1 << 20))

        task = loop.run_in_executor(None, reader)
        for k in range(0, len(chunks), 3):
            proto._write_vector([memoryview(c) for c in chunks[k:k + 3]])
            await proto.drain()
        await task
        transport.close()
        b.close()
        return bytes(received)

    assert asyncio.run(main()) == random.Random(5).randbytes(3_000_000)


def test_unwritten_rest_of_a_short_write():
    pieces = [b"ab", memoryview(b"cde"), b"", bytearray(b"fg")]
    for done in range(8):
        assert b"".join(bytes(p) for p in P.unwritten(pieces, done)) == b"abcdefg"[done:]
