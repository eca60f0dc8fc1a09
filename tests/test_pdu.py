"""DICOM Upper Layer PDU codec (issue 7): fastdicom.net.pdu, fastdicom._core.PDUReader
and encode_pdata.

Golden bytes are written out by hand from PS3.8 Tables 9-11 .. 9-26 and PS3.7
Annex D; pynetdicom's ``pdu``/``pdu_items`` classes are the oracle for the
cross-checks (encode with one, decode with the other, field by field).
"""
from __future__ import annotations

import random
import struct

import pytest
from hypothesis import HealthCheck, given, settings, strategies as st

from fastdicom import _core
from fastdicom.errors import DicomError
from fastdicom.net import errors as E
from fastdicom.net import pdu as P

pp = pytest.importorskip("pynetdicom.pdu")
pi = pytest.importorskip("pynetdicom.pdu_items")

APP = b"1.2.840.10008.3.1.1.1"
VERIFICATION, IMPLICIT, EXPLICIT = "1.2.840.10008.1.1", "1.2.840.10008.1.2", "1.2.840.10008.1.2.1"


def be16(n):
    return n.to_bytes(2, "big")


def be32(n):
    return n.to_bytes(4, "big")


def item(t, value, reserved=0):
    return bytes([t, reserved]) + be16(len(value)) + value


def pdu(t, body):
    return bytes([t, 0]) + be32(len(body)) + body


# -- golden items (PS3.8 9.3.2-9.3.3, PS3.7 D.3.3), each written out byte by byte ----------
TS_IMPLICIT = b"\x40\x00\x00\x11" + b"1.2.840.10008.1.2"
TS_EXPLICIT = b"\x40\x00\x00\x13" + b"1.2.840.10008.1.2.1"
GOLDEN_ITEMS = [
    (P.ApplicationContextItem(), b"\x10\x00\x00\x15" + APP),
    (P.AbstractSyntaxItem(VERIFICATION), b"\x30\x00\x00\x11" + b"1.2.840.10008.1.1"),
    (P.TransferSyntaxItem(IMPLICIT), TS_IMPLICIT),
    (P.PresentationContextRQItem(1, VERIFICATION, [IMPLICIT, EXPLICIT]),
     b"\x20\x00\x00\x45" b"\x01\x00\x00\x00" b"\x30\x00\x00\x11" b"1.2.840.10008.1.1"
     + TS_IMPLICIT + TS_EXPLICIT),
    *[(P.PresentationContextACItem(3, r, IMPLICIT),
       b"\x21\x00\x00\x19\x03\x00" + bytes([r]) + b"\x00" + TS_IMPLICIT) for r in range(5)],
    (P.MaximumLengthItem(16382), b"\x51\x00\x00\x04\x00\x00\x3f\xfe"),
    (P.MaximumLengthItem(0), b"\x51\x00\x00\x04\x00\x00\x00\x00"),
    (P.ImplementationClassUIDItem("1.2.3.4"), b"\x52\x00\x00\x071.2.3.4"),
    (P.AsynchronousOperationsWindowItem(5, 1), b"\x53\x00\x00\x04\x00\x05\x00\x01"),
    (P.RoleSelectionItem("1.2.3", 1, 0), b"\x54\x00\x00\x09\x00\x051.2.3\x01\x00"),
    (P.ImplementationVersionNameItem("FD_0.1"), b"\x55\x00\x00\x06FD_0.1"),
    (P.SOPClassExtendedNegotiationItem("1.2.3", b"\x01\x00\x01"),
     b"\x56\x00\x00\x0a\x00\x051.2.3\x01\x00\x01"),
    (P.SOPClassCommonExtendedNegotiationItem("1.2.3", "1.2.4", ["1.2.5", "1.2.66"]),
     b"\x57\x00\x00\x1f\x00\x051.2.3\x00\x051.2.4\x00\x0f\x00\x051.2.5\x00\x061.2.66"),
    (P.SOPClassCommonExtendedNegotiationItem("1.2.3", "1.2.4", []),
     b"\x57\x00\x00\x10\x00\x051.2.3\x00\x051.2.4\x00\x00"),
    (P.UserIdentityRQItem(2, b"user", b"pw", True),
     b"\x58\x00\x00\x0c\x02\x01\x00\x04user\x00\x02pw"),
    (P.UserIdentityRQItem(1, b"bob"), b"\x58\x00\x00\x09\x01\x00\x00\x03bob\x00\x00"),
    (P.UserIdentityACItem(b"ok"), b"\x59\x00\x00\x04\x00\x02ok"),
    (P.UnknownItem(0x5A, b"\xff"), b"\x5a\x00\x00\x01\xff"),
]
USER_SUBS = [obj for obj, _ in GOLDEN_ITEMS if 0x51 <= obj.item_type <= 0x59]
USER_INFO = P.UserInformationItem(USER_SUBS)
USER_INFO_BYTES = item(0x50, b"".join(b for o, b in GOLDEN_ITEMS if 0x51 <= o.item_type <= 0x59))
GOLDEN_ITEMS.append((USER_INFO, USER_INFO_BYTES))


@pytest.mark.parametrize("obj,golden", GOLDEN_ITEMS, ids=lambda x: type(x).__name__)
def test_golden_items(obj, golden):
    assert obj.encode() == golden
    assert type(obj).decode(golden) == obj
    assert P.decode_item(bytearray(golden)) == obj


def assoc(t, called, calling, items):
    return pdu(t, be16(1) + b"\0\0" + called.ljust(16) + calling.ljust(16) + bytes(32) + items)


PC_RQ = [P.PresentationContextRQItem(1, VERIFICATION, [IMPLICIT, EXPLICIT]),
         P.PresentationContextRQItem(3, "1.2.840.10008.5.1.4.1.1.2", [EXPLICIT])]
RQ = P.AAssociateRQ("STORESCP", "FINDSCU", PC_RQ, USER_INFO)
RQ_BYTES = assoc(1, b"STORESCP", b"FINDSCU", b"\x10\x00\x00\x15" + APP + b"".join(
    p.encode() for p in PC_RQ) + USER_INFO_BYTES)
PC_AC = [P.PresentationContextACItem(1, 0, EXPLICIT), P.PresentationContextACItem(3, 3, IMPLICIT)]
AC_UI = P.UserInformationItem([P.MaximumLengthItem(32768), P.ImplementationClassUIDItem("1.2.3.4"),
                               P.UserIdentityACItem(b"ok")])
AC = P.AAssociateAC("STORESCP", "FINDSCU", PC_AC, AC_UI)
AC_BYTES = assoc(2, b"STORESCP", b"FINDSCU", b"\x10\x00\x00\x15" + APP
                 + b"\x21\x00\x00\x1b\x01\x00\x00\x00" + TS_EXPLICIT
                 + b"\x21\x00\x00\x19\x03\x00\x03\x00" + TS_IMPLICIT
                 + b"\x50\x00\x00\x1b" b"\x51\x00\x00\x04\x00\x00\x80\x00"
                 b"\x52\x00\x00\x071.2.3.4" b"\x59\x00\x00\x04\x00\x02ok")
GOLDEN_PDUS = [
    (RQ, RQ_BYTES),
    (AC, AC_BYTES),
    (P.AAssociateRJ(1, 1, 7), b"\x03\x00\x00\x00\x00\x04\x00\x01\x01\x07"),
    (P.AAssociateRJ(2, 3, 1), b"\x03\x00\x00\x00\x00\x04\x00\x02\x03\x01"),
    (P.PDataTF([P.PDV(1, True, True, b"\xaa\xbb"), P.PDV(3, False, False, b"")]),
     b"\x04\x00\x00\x00\x00\x0e" b"\x00\x00\x00\x04\x01\x03\xaa\xbb" b"\x00\x00\x00\x02\x03\x00"),
    (P.AReleaseRQ(), b"\x05\x00\x00\x00\x00\x04\x00\x00\x00\x00"),
    (P.AReleaseRP(), b"\x06\x00\x00\x00\x00\x04\x00\x00\x00\x00"),
    (P.AAbort(2, 6), b"\x07\x00\x00\x00\x00\x04\x00\x00\x02\x06"),
    (P.AAbort(0, 0), b"\x07\x00\x00\x00\x00\x04\x00\x00\x00\x00"),
]


@pytest.mark.parametrize("obj,golden", GOLDEN_PDUS, ids=lambda x: type(x).__name__)
def test_golden_pdus(obj, golden):
    assert obj.encode() == golden
    assert type(obj).decode(golden) == obj
    assert P.decode_pdu(memoryview(golden)) == obj
    reader = _core.PDUReader()
    reader.feed(golden)
    assert reader.next_pdu() == obj and reader.next_pdu() is None


def test_constants():
    assert [int(t) for t in P.PDUType] == list(range(1, 8))
    assert P.ItemType.USER_IDENTITY_AC == 0x59 and P.PresentationContextResult.TRANSFER_SYNTAXES_NOT_SUPPORTED == 4
    assert P.AAssociateRJ(1, 1, 2).reason_text == "application-context-name-not-supported"
    assert P.AbortReason.INVALID_PDU_PARAMETER_VALUE == 6 == E.MalformedPDUError.abort_reason
    assert issubclass(E.RemoteProtocolError, E.NetworkError) and issubclass(E.NetworkError, DicomError)
    assert RQ.user_information.maximum_length == 16382
    assert RQ.user_information.implementation_version_name == "FD_0.1"
    assert AC.user_information.implementation_class_uid == "1.2.3.4"


# -- pynetdicom as the oracle ---------------------------------------------------------------

def _sub(cls, **attrs):
    obj = cls()
    for k, v in attrs.items():
        setattr(obj, k, v)
    return obj


PYN_SUB = {  # our sub-item -> (pynetdicom class, {their attribute: ours})
    P.MaximumLengthItem: (pi.MaximumLengthSubItem, {"maximum_length_received": "maximum_length"}),
    P.ImplementationClassUIDItem: (pi.ImplementationClassUIDSubItem, {"implementation_class_uid": "uid"}),
    P.ImplementationVersionNameItem: (pi.ImplementationVersionNameSubItem,
                                      {"implementation_version_name": "name"}),
    P.AsynchronousOperationsWindowItem: (pi.AsynchronousOperationsWindowSubItem, {
        "maximum_number_operations_invoked": "max_operations_invoked",
        "maximum_number_operations_performed": "max_operations_performed"}),
    P.RoleSelectionItem: (pi.SCP_SCU_RoleSelectionSubItem,
                          {"sop_class_uid": "sop_class_uid", "scu_role": "scu_role", "scp_role": "scp_role"}),
    P.SOPClassExtendedNegotiationItem: (pi.SOPClassExtendedNegotiationSubItem, {
        "sop_class_uid": "sop_class_uid",
        "service_class_application_information": "service_class_application_information"}),
    P.SOPClassCommonExtendedNegotiationItem: (pi.SOPClassCommonExtendedNegotiationSubItem, {
        "sop_class_uid": "sop_class_uid", "service_class_uid": "service_class_uid",
        "related_general_sop_class_identification": "related_general_sop_class_uids"}),
    P.UserIdentityRQItem: (pi.UserIdentitySubItemRQ, {
        "user_identity_type": "identity_type", "positive_response_requested": "positive_response_requested",
        "primary_field": "primary_field", "secondary_field": "secondary_field"}),
    P.UserIdentityACItem: (pi.UserIdentitySubItemAC, {"server_response": "server_response"}),
}


def pyn_user_info(subs):
    out = []
    for s in subs:
        if type(s) in PYN_SUB:
            cls, attrs = PYN_SUB[type(s)]
            out.append(_sub(cls, **{k: getattr(s, v) for k, v in attrs.items()}))
            if isinstance(s, P.UserIdentityRQItem):
                out[-1].positive_response_requested = int(s.positive_response_requested)
    return _sub(pi.UserInformationItem, user_data=out)


def pyn_assoc(ours):
    rq = isinstance(ours, P.AAssociateRQ)
    p = pp.A_ASSOCIATE_RQ() if rq else pp.A_ASSOCIATE_AC()
    if rq:
        p.called_ae_title, p.calling_ae_title = ours.called_ae_title, ours.calling_ae_title
    else:
        p.reserved_aet, p.reserved_aec = ours.called_ae_title, ours.calling_ae_title
    items = [_sub(pi.ApplicationContextItem, application_context_name=ours.application_context)]
    for pc in ours.presentation_contexts:
        if rq:
            subs = [_sub(pi.AbstractSyntaxSubItem, abstract_syntax_name=pc.abstract_syntax)]
            subs += [_sub(pi.TransferSyntaxSubItem, transfer_syntax_name=t) for t in pc.transfer_syntaxes]
            items.append(_sub(pi.PresentationContextItemRQ, presentation_context_id=pc.context_id,
                              abstract_transfer_syntax_sub_items=subs))
        else:
            ts = _sub(pi.TransferSyntaxSubItem, transfer_syntax_name=pc.transfer_syntax)
            items.append(_sub(pi.PresentationContextItemAC, presentation_context_id=pc.context_id,
                              result_reason=pc.result, transfer_syntax_sub_item=[ts]))
    items.append(pyn_user_info(ours.user_information.sub_items))
    p.variable_items = items
    return p


def from_pyn(theirs):
    """pynetdicom's decoded A-ASSOCIATE-RQ/AC as our dataclasses, field by field."""
    rq = isinstance(theirs, pp.A_ASSOCIATE_RQ)
    subs = []
    for s in theirs.user_information.user_data:
        ours_cls = next(c for c, (cls, _) in PYN_SUB.items() if type(s) is cls)
        subs.append(ours_cls(**{v: getattr(s, k) for k, v in PYN_SUB[ours_cls][1].items()}))
    if rq:
        contexts = [P.PresentationContextRQItem(c.context_id, c.abstract_syntax, list(c.transfer_syntax))
                    for c in theirs.presentation_context]
        return P.AAssociateRQ(theirs.called_ae_title, theirs.calling_ae_title, contexts,
                              P.UserInformationItem(subs), theirs.application_context_name)
    contexts = [P.PresentationContextACItem(c.context_id, c.result, c.transfer_syntax)
                for c in theirs.presentation_context]
    return P.AAssociateAC(theirs.reserved_aet, theirs.reserved_aec, contexts,
                          P.UserInformationItem(subs), theirs.application_context_name)


@pytest.mark.parametrize("ours", [RQ, AC], ids=["RQ", "AC"])
def test_pynetdicom_assoc_cross_check(ours):
    theirs = pyn_assoc(ours)
    encoded = theirs.encode()
    assert encoded == ours.encode()              # same bytes from both encoders
    assert P.decode_pdu(encoded) == from_pyn(theirs) == ours   # theirs -> ours
    back = type(theirs)()
    back.decode(ours.encode())                                # ours -> theirs
    assert from_pyn(back) == ours


def test_pynetdicom_fixed_pdus_cross_check():
    rj = pp.A_ASSOCIATE_RJ()
    rj.result, rj.source, rj.reason_diagnostic = 2, 3, 2
    assert P.decode_pdu(rj.encode()) == P.AAssociateRJ(2, 3, 2)
    theirs = pp.A_ASSOCIATE_RJ()
    theirs.decode(P.AAssociateRJ(1, 2, 2).encode())
    assert (theirs.result, theirs.source, theirs.reason_diagnostic) == (1, 2, 2)
    ab = pp.A_ABORT_RQ()
    ab.source, ab.reason_diagnostic = 2, 4
    assert P.decode_pdu(ab.encode()) == P.AAbort(2, 4)
    assert P.decode_pdu(pp.A_RELEASE_RQ().encode()) == P.AReleaseRQ()
    assert P.decode_pdu(pp.A_RELEASE_RP().encode()) == P.AReleaseRP()
    theirs = pp.A_ABORT_RQ()
    theirs.decode(P.AAbort(2, 1).encode())
    assert (theirs.source, theirs.reason_diagnostic) == (2, 1)


def pyn_pdata(pdvs):
    p = pp.P_DATA_TF()
    p.presentation_data_value_items = [
        _sub(pi.PresentationDataValueItem, presentation_context_id=v.context_id,
             presentation_data_value=bytes([v.control_header]) + bytes(v.data)) for v in pdvs]
    return p


def test_pynetdicom_pdata_cross_check():
    pdvs = [P.PDV(1, True, False, b"\x01" * 10), P.PDV(1, True, True, b""),
            P.PDV(255, False, True, bytes(range(256)))]
    theirs = pyn_pdata(pdvs)
    assert theirs.encode() == P.PDataTF(pdvs).encode()
    assert P.PDataTF.decode(theirs.encode()).pdvs == pdvs
    back = pp.P_DATA_TF()
    back.decode(P.PDataTF(pdvs).encode())
    assert [(v.presentation_context_id, v.presentation_data_value) for v in back.presentation_data_value_items] == [
        (v.context_id, bytes([v.control_header]) + v.data) for v in pdvs]


# -- incremental framing --------------------------------------------------------------------

STREAM = b"".join(g for _, g in GOLDEN_PDUS) + P.PDataTF([P.PDV(5, False, True, bytes(5000))]).encode()
EXPECTED = [o for o, _ in GOLDEN_PDUS] + [P.PDataTF([P.PDV(5, False, True, bytes(5000))])]


def read_chunks(data, sizes, **kw):
    reader, out, pos = _core.PDUReader(**kw), [], 0
    for n in sizes:
        reader.feed(data[pos:pos + n])
        pos += n
        out.extend(reader)
    assert pos >= len(data) and reader.buffered == 0 and reader.needed == 6
    return out, reader


def test_feed_byte_by_byte_and_random_chunks():
    assert read_chunks(STREAM, [len(STREAM)])[0] == EXPECTED
    out, reader = read_chunks(STREAM, [1] * len(STREAM))
    assert out == EXPECTED and reader.offset == len(STREAM)
    assert reader.buffer_capacity <= 5000 + 6 + 6     # grown up to the largest PDU, no more
    rng = random.Random(7)
    for _ in range(50):
        sizes = [rng.choice([1, 2, 3, 5, 6, 7, 64, 700, 4096]) for _ in range(len(STREAM))]
        assert read_chunks(STREAM, sizes)[0] == EXPECTED
    for src in (bytearray(STREAM), memoryview(STREAM)):
        assert read_chunks(src, [len(STREAM)])[0] == EXPECTED


def test_needed_and_lazy_buffer():
    big = P.PDataTF([P.PDV(1, False, True, bytes(16000))]).encode()
    reader = _core.PDUReader()
    reader.feed(big[:3])
    assert reader.next_pdu() is None and reader.needed == 3
    reader.feed(big[3:20])
    assert reader.needed == len(big) - 20 and reader.buffer_capacity <= 4096  # not the declared size
    reader.feed(big[20:])
    assert reader.needed == 0 and reader.next_pdu().pdvs[0].data == bytes(16000)


def test_pdvs_are_views_of_the_pdu():
    data = P.PDataTF([P.PDV(1, True, True, b"cmd"), P.PDV(1, False, False, b"data")]).encode()
    reader = _core.PDUReader()
    for i in range(len(data)):   # gathered in the reusable buffer, then one bytes per PDU
        reader.feed(data[i:i + 1])
    a, b = reader.next_pdu().pdvs
    assert isinstance(a.data, memoryview) and a.data.readonly
    assert a.data.obj is b.data.obj and isinstance(a.data.obj, bytes) and len(a.data.obj) == len(data)
    assert (a.is_command, a.is_last, b.is_command, b.is_last) == (True, True, False, False)


# -- malformed input ------------------------------------------------------------------------

def fail(data, cls=E.RemoteProtocolError, offset=None, status=None, **kw):
    reader = _core.PDUReader(**kw)
    reader.feed(data)
    with pytest.raises(cls) as info:
        reader.next_pdu()
    exc = info.value
    assert isinstance(exc, E.RemoteProtocolError)
    if offset is not None:
        assert exc.offset == offset
    if status is not None:
        assert exc.status == status
    with pytest.raises(cls):   # the reader stays failed
        reader.next_pdu()
    return reader, exc


@pytest.mark.parametrize("t", [1, 2, 3, 4, 5, 6, 7])
def test_length_ffffffff_refused_from_the_header(t):
    reader, _ = fail(bytes([t, 0]) + b"\xff\xff\xff\xff", E.RemoteProtocolError, 2,
                     max_pdu_length=0, max_associate_length=0)
    assert reader.buffered == 0 and reader.buffer_capacity == 0   # nothing buffered or allocated


def test_length_above_maximum():
    fail(b"\x04\x00" + be32(16383), E.PDUTooLargeError, 2, _core.PDU_ERR_TOO_LONG)
    fail(b"\x01\x00" + be32(4097), E.PDUTooLargeError, 2, max_associate_length=4096)
    reader = _core.PDUReader(max_pdu_length=0)   # 0 = no limit
    reader.feed(b"\x04\x00" + be32(1 << 30))
    assert reader.next_pdu() is None and reader.needed == 1 << 30 and reader.buffer_capacity <= 4096
    assert _core.PDUReader(max_pdu_length=100).max_pdu_length == 100


@pytest.mark.parametrize("data,offset,status", [
    (b"\x04\x00" + be32(10) + be32(7) + b"\x01\x00" + b"\xaa" * 4, 6, _core.PDU_ERR_PDV_LENGTH),
    (b"\x04\x00" + be32(12) + be32(2) + b"\x01\x00" + be32(0xFFFFFFFF) + b"\x01\x00", 12,
     _core.PDU_ERR_PDV_LENGTH),
    (b"\x04\x00" + be32(9) + be32(2) + b"\x01\x00" + b"\x00\x00\x00", 12, _core.PDU_ERR_PDV_LENGTH),
    (b"\x04\x00" + be32(6) + be32(1) + b"\x01\x00", 6, _core.PDU_ERR_PDV_SHORT),
    (b"\x04\x00" + be32(6) + be32(0) + b"\x01\x00", 6, _core.PDU_ERR_PDV_SHORT),
    (b"\x04\x00" + be32(6) + be32(2) + b"\x00\x00", 10, _core.PDU_ERR_CONTEXT_ID),
    (b"\x04\x00" + be32(6) + be32(2) + b"\x02\x00", 10, _core.PDU_ERR_CONTEXT_ID),
    (b"\x04\x00" + be32(0), 2, _core.PDU_ERR_PDU_LENGTH),
    (b"\x03\x00" + be32(5) + bytes(5), 2, _core.PDU_ERR_PDU_LENGTH),
    (b"\x07\x00" + be32(3) + bytes(3), 2, _core.PDU_ERR_PDU_LENGTH),
    (b"\x01\x00" + be32(67) + bytes(67), 2, _core.PDU_ERR_PDU_LENGTH),
])
def test_malformed_frames(data, offset, status):
    _, exc = fail(data, E.MalformedPDUError, offset, status)
    assert exc.abort_reason == 6
    with pytest.raises(E.MalformedPDUError):
        P.decode_pdu(data)
    prefix = P.AReleaseRQ().encode()   # offsets are stream offsets, earlier PDUs come first
    reader = _core.PDUReader()
    reader.feed(prefix + data)
    assert reader.next_pdu() == P.AReleaseRQ()
    with pytest.raises(E.MalformedPDUError) as info:
        reader.next_pdu()
    assert info.value.offset == offset + len(prefix)


def assoc_items(items, t=1):
    return assoc(t, b"A", b"B", items)


@pytest.mark.parametrize("items,offset", [
    (b"\x10\x00\x00\x16" + APP, 74 + 2),                       # item past the PDU
    (b"\x10\x00\x00\x15" + APP + b"\x50\x00", 74 + 25),         # item header truncated
    (item(0x20, b"\x01\x00\x00\x00" + b"\x30\x00\x00\x05abc"), 74 + 8 + 2),  # sub-item past its parent
    (item(0x50, b"\x51\x00\x00\x04\x00\x00"), 74 + 4 + 2),
    (item(0x20, b"\x01\x00\x00"), 74 + 2),                      # context item shorter than 4
    (item(0x21, b""), 74 + 2),
])
def test_items_overrunning(items, offset):
    fail(assoc_items(items), E.MalformedPDUError, offset)
    with pytest.raises(E.MalformedPDUError) as info:
        P.decode_pdu(assoc_items(items))
    assert info.value.offset == offset


@pytest.mark.parametrize("items", [
    item(0x20, b"\x02\x00\x00\x00" + TS_IMPLICIT),                       # even context ID
    item(0x20, b"\x01\x00\x00\x00" + item(0x30, b"1.2") + item(0x30, b"1.3")),  # two abstract syntaxes
    item(0x20, b"\x01\x00\x00\x00" + item(0x51, be32(1))),                # stray sub-item
    item(0x10, b"1.2") + item(0x10, b"1.2"),                              # two application contexts
    item(0x50, item(0x51, b"\x00\x00\x00")),                              # maximum length of 3 bytes
    item(0x50, item(0x53, b"\x00\x01")),
    item(0x50, item(0x54, b"\x00\x09" + b"1.2.3\x01\x00")),               # UID length past the item
    item(0x50, item(0x54, b"\x00\x05" + b"1.2.3\x01")),                   # role byte missing
    item(0x50, item(0x56, b"\x00")),
    item(0x50, item(0x57, b"\x00\x011\x00\x012\x00\x03\x00\x05x")),       # related UID overruns
    item(0x50, item(0x57, b"\x00\x011\x00\x012\x00\x00\xff")),            # trailing byte
    item(0x50, item(0x58, b"\x01")),
    item(0x50, item(0x58, b"\x01\x00\x00\x01a\x00\x00!")),
    item(0x50, item(0x59, b"\x00\x05ab")),
])
def test_bad_item_fields(items):
    _, exc = fail(assoc_items(items), E.MalformedPDUError)
    assert exc.offset is not None and 74 <= exc.offset <= 74 + len(items)


@pytest.mark.parametrize("first", [0x00, 0x08, 0x47, 0xFF])
def test_unknown_pdu_type_from_the_first_byte(first):
    reader, exc = fail(bytes([first]), E.UnknownPDUError, 0, _core.PDU_ERR_TYPE)
    assert exc.abort_reason == 1 and reader.buffered == 0
    with pytest.raises(E.UnknownPDUError):
        P.decode_pdu(bytes([first]) + bytes(9))


def test_http_request_refused_quickly():
    reader, exc = fail(b"GET / HTTP/1.1\r\nHost: example\r\n\r\n", E.UnknownPDUError, 0)
    assert reader.buffered == 0 and reader.buffer_capacity == 0
    reader.feed(b"more")   # ignored after the error
    with pytest.raises(E.UnknownPDUError):
        reader.next_pdu()


def test_truncated():
    for data in (b"", b"\x05", b"\x05\x00\x00\x00\x00", b"\x05\x00" + be32(4) + b"\x00"):
        reader = _core.PDUReader()
        reader.feed(data)
        assert reader.next_pdu() is None and reader.buffered == len(data)
        with pytest.raises(E.MalformedPDUError):
            P.decode_pdu(data)
    for good in (RQ_BYTES, AC_BYTES, GOLDEN_PDUS[4][1]):
        for cut in (6, min(50, len(good) - 2), len(good) - 1):
            with pytest.raises(E.MalformedPDUError):
                P.decode_pdu(good[:cut])
        with pytest.raises(E.MalformedPDUError):
            P.decode_pdu(good + b"\x00")   # bytes after the PDU


def test_local_errors():
    for bad in ("A" * 17, "A\\B", "\u00e9", "A\nB", b"AE"):
        with pytest.raises(E.LocalProtocolError):
            P.AAssociateRQ(bad).encode()
    bad_items = [P.PresentationContextRQItem(2, VERIFICATION, [IMPLICIT]), P.MaximumLengthItem(1 << 32),
                 P.ImplementationVersionNameItem("x" * 70000), P.PresentationContextACItem(1, 256, IMPLICIT),
                 P.RoleSelectionItem("1.2", 2, 256), P.UserIdentityRQItem(1, b"x" * 65536)]
    for bad in bad_items:
        with pytest.raises(E.LocalProtocolError):
            bad.encode()
    for args in ([(2, True, b"x")], [(0, True, b"x")], [(256, True, b"x")]):
        with pytest.raises(E.LocalProtocolError):
            _core.encode_pdata(args, 0)
    with pytest.raises(E.LocalProtocolError):
        _core.encode_pdata([(1, True, b"x")], 6)
    with pytest.raises(E.LocalProtocolError):
        P.PDataTF([]).encode()
    with pytest.raises(E.LocalProtocolError):
        P.PDataTF([P.PDV(4, True, True, b"")]).encode()


# -- hypothesis round trips -----------------------------------------------------------------

uids = st.from_regex(r"[1-9][0-9]{0,4}(\.(0|[1-9][0-9]{0,5})){0,9}", fullmatch=True)
ae_titles = st.text(st.characters(min_codepoint=0x20, max_codepoint=0x7E, blacklist_characters="\\"),
                    min_size=1, max_size=16).map(str.strip).filter(bool)
ctx_ids = st.integers(0, 127).map(lambda i: 2 * i + 1)
u8, u16 = st.integers(0, 255), st.integers(0, 0xFFFF)
blob = st.binary(max_size=40)
user_subs = st.one_of(
    st.builds(P.MaximumLengthItem, st.integers(0, 0xFFFFFFFF)),
    st.builds(P.ImplementationClassUIDItem, uids),
    st.builds(P.ImplementationVersionNameItem, st.text("ABCXYZ_.0123456789", min_size=1, max_size=16)),
    st.builds(P.AsynchronousOperationsWindowItem, u16, u16),
    st.builds(P.RoleSelectionItem, uids, st.integers(0, 1), st.integers(0, 1)),
    st.builds(P.SOPClassExtendedNegotiationItem, uids, blob),
    st.builds(P.SOPClassCommonExtendedNegotiationItem, uids, uids, st.lists(uids, max_size=4)),
    # an empty primary field is invalid (PS3.7 D.3.3.7.1); pynetdicom misreads it
    st.builds(P.UserIdentityRQItem, st.integers(1, 5), st.binary(min_size=1, max_size=40), blob, st.booleans()),
    st.builds(P.UserIdentityACItem, blob),
)
user_info = st.builds(P.UserInformationItem, st.lists(user_subs, max_size=8))
rq_contexts = st.builds(P.PresentationContextRQItem, ctx_ids, uids, st.lists(uids, min_size=1, max_size=4))
ac_contexts = st.builds(P.PresentationContextACItem, ctx_ids, st.integers(0, 4), uids | st.none())
associate = st.one_of(
    st.builds(P.AAssociateRQ, ae_titles, ae_titles, st.lists(rq_contexts, max_size=6), user_info),
    st.builds(P.AAssociateAC, ae_titles, ae_titles, st.lists(ac_contexts, max_size=6), user_info))
pdvs = st.lists(st.builds(P.PDV, ctx_ids, st.booleans(), st.booleans(), st.binary(max_size=300)),
                min_size=1, max_size=8)
HYP = settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.too_slow])


@HYP
@given(associate, st.randoms(use_true_random=False))
def test_hypothesis_associate_round_trip(obj, rnd):
    data = obj.encode()
    assert P.decode_pdu(data) == obj
    sizes = [rnd.randint(1, 64) for _ in range(len(data))]
    assert read_chunks(data, sizes)[0] == [obj]
    theirs = type(pyn_assoc(obj))()
    theirs.decode(data)          # pynetdicom reads what we wrote, field by field
    assert from_pyn(theirs) == obj
    assert theirs.encode() == data   # and writes the same bytes back


@HYP
@given(pdvs, st.randoms(use_true_random=False))
def test_hypothesis_pdata_round_trip(items, rnd):
    data = P.PDataTF(items).encode()
    assert data == pyn_pdata(items).encode()
    sizes = [rnd.randint(1, 200) for _ in range(len(data))]
    (got,), _ = read_chunks(data * 1, sizes, max_pdu_length=0)
    assert got.pdvs == items and P.PDataTF.decode(data).pdvs == items


@settings(max_examples=400, deadline=None)
@given(st.sampled_from([g for _, g in GOLDEN_PDUS]), st.lists(st.tuples(st.integers(0, 10**6), u8), max_size=4),
       st.integers(0, 10**6))
def test_hypothesis_mutated_pdus_raise_only_remote_errors(golden, edits, cut):
    data = bytearray(golden)
    for pos, value in edits:
        data[pos % len(data)] = value
    data = bytes(data[:cut % (len(data) + 1)])
    reader = _core.PDUReader(max_pdu_length=0)
    for i in range(0, len(data), 7):
        reader.feed(data[i:i + 7])
    for decode in (P.decode_pdu, lambda _: list(reader)):
        try:
            decode(data)
        except E.RemoteProtocolError:
            pass


# -- P-DATA fragmentation -------------------------------------------------------------------

def split_pdus(stream, max_pdu):
    reader = _core.PDUReader(max_pdu_length=max_pdu)
    reader.feed(stream)
    out = list(reader)
    assert reader.buffered == 0
    return out


def check_fragmentation(payloads, max_pdu):
    stream = _core.encode_pdata(payloads, max_pdu)
    assert stream == P.encode_pdata(payloads, max_pdu)
    pdus = split_pdus(stream, max_pdu)
    sizes, pos = [], 0
    for p in pdus:
        length = struct.unpack_from(">L", stream, pos + 2)[0]
        sizes.append(length)
        pos += 6 + length
        assert max_pdu == 0 or length <= max_pdu
    fragments = [v for p in pdus for v in p.pdvs]
    if max_pdu:  # packed: a PDU closes only when the next PDV cannot fit
        for k, p in enumerate(pdus[:-1]):
            nxt = pdus[k + 1].pdvs[0]
            assert max_pdu - sizes[k] < 6 + (1 if len(nxt.data) else 0)
    k = 0
    for entry in payloads:
        ctx, is_cmd, data = entry[:3]
        last = entry[3] if len(entry) > 3 else True
        got = []
        while True:
            v = fragments[k]
            k += 1
            assert (v.context_id, v.is_command) == (ctx, bool(is_cmd))
            got.append(bytes(v.data))
            if sum(map(len, got)) == len(data):
                assert v.is_last == last
                break
            assert not v.is_last and len(v.data) > 0
        assert b"".join(got) == bytes(data)
    assert k == len(fragments)
    return pdus


def test_fragmentation_examples():
    cmd, ds = bytes(range(100)), bytes(100000)
    pdus = check_fragmentation([(1, True, cmd), (1, False, ds)], 16382)
    assert len(pdus[0].pdvs) == 2 and len(pdus) == 7     # command and data set start share a PDU
    assert len(check_fragmentation([(1, True, cmd), (1, False, ds)], 0)) == 1
    assert len(check_fragmentation([(3, False, b"abc")], 7)) == 3   # one byte per PDU
    assert [len(p.pdvs) for p in check_fragmentation([(1, True, b"")] * 3, 12)] == [2, 1]
    pdus = check_fragmentation([(1, False, memoryview(ds)[:1000], False), (1, False, bytearray(5))], 500)
    assert sum(v.is_last for p in pdus for v in p.pdvs) == 1
    theirs = pp.P_DATA_TF()          # pynetdicom reads the packed PDUs as well
    theirs.decode(_core.encode_pdata([(1, True, cmd), (1, False, ds)], 16382)[:16388])
    assert [len(v.presentation_data_value) for v in theirs.presentation_data_value_items] == [101, 16271]
    assert _core.encode_pdata([], 100) == b""


@HYP
@given(st.lists(st.tuples(ctx_ids, st.booleans(), st.binary(max_size=3000), st.booleans()), max_size=6),
       st.just(0) | st.integers(7, 40) | st.integers(41, 5000))
def test_hypothesis_fragmentation(payloads, max_pdu):
    check_fragmentation(payloads, max_pdu)
