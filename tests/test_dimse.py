"""DIMSE command sets, status codes, fragmentation and reassembly.

Command sets are compared byte for byte with pynetdicom's encoding of the
same message (pynetdicom.dimse_primitives -> dimse_messages), and decoded
both ways; fragments are compared with pynetdicom's P-DATA fragmentation.
"""
from __future__ import annotations

import io
import os
import struct

import pytest

import fastdicom
from fastdicom.net import dimse
from fastdicom.net.dimse import (DimseMessage, MessageAssembler, MessageIDs, PDV, Status,
                                 build_command, decode_command, encode_command, fragment,
                                 status_category)
from fastdicom.net.errors import LocalProtocolError, RemoteProtocolError



class _Pyn:
    """pynetdicom's modules, imported when a test needs them (skipped without it)."""

    def __getattr__(self, name):
        if name.startswith("_") or name not in ("pm", "pp", "pyn_encode", "pyn_decode",
                                                "P_DATA", "code_to_category"):
            raise AttributeError(name)  # (pytest looks at module attributes when collecting)
        pytest.importorskip("pynetdicom", exc_type=ImportError)
        from pynetdicom import dimse_messages, dimse_primitives, dsutils, pdu_primitives, status
        mods = dict(pm=dimse_messages, pp=dimse_primitives, pyn_encode=dsutils.encode,
                    pyn_decode=dsutils.decode, P_DATA=pdu_primitives.P_DATA,
                    code_to_category=status.code_to_category)
        return mods[name]


pyn = _Pyn()

CT = "1.2.840.10008.5.1.4.1.1.2"
STUDY_FIND = "1.2.840.10008.5.1.4.1.2.2.1"
PATIENT_GET = "1.2.840.10008.5.1.4.1.2.1.3"
PATIENT_MOVE = "1.2.840.10008.5.1.4.1.2.1.2"
INSTANCE = "1.2.826.0.1.3680043.8.498.12345678901234567890"
DATA = b"\x08\x00\x52\x00\x06\x00\x00\x00STUDY "

# (pynetdicom primitive, message class, dataset attribute, our name, elements)
CASES = [
    ("C_ECHO", "C_ECHO_RQ", None, "C-ECHO-RQ",
     dict(MessageID=1, AffectedSOPClassUID=dimse.VERIFICATION_SOP_CLASS)),
    ("C_ECHO", "C_ECHO_RSP", None, "C-ECHO-RSP",
     dict(MessageIDBeingRespondedTo=1, AffectedSOPClassUID=dimse.VERIFICATION_SOP_CLASS,
          Status=0x0000)),
    ("C_ECHO", "C_ECHO_RSP", None, "C-ECHO-RSP",
     dict(MessageIDBeingRespondedTo=65535, AffectedSOPClassUID=dimse.VERIFICATION_SOP_CLASS,
          Status=0x0211, ErrorComment="odd")),
    ("C_STORE", "C_STORE_RQ", "DataSet", "C-STORE-RQ",
     dict(MessageID=7, AffectedSOPClassUID=CT, AffectedSOPInstanceUID=INSTANCE,
          Priority=dimse.PRIORITY_HIGH)),
    ("C_STORE", "C_STORE_RQ", "DataSet", "C-STORE-RQ",
     dict(MessageID=8, AffectedSOPClassUID=CT, AffectedSOPInstanceUID=INSTANCE, Priority=0,
          MoveOriginatorApplicationEntityTitle="MOVESCU", MoveOriginatorMessageID=3)),
    ("C_STORE", "C_STORE_RSP", None, "C-STORE-RSP",
     dict(MessageIDBeingRespondedTo=7, AffectedSOPClassUID=CT, AffectedSOPInstanceUID=INSTANCE,
          Status=0xB000)),
    ("C_STORE", "C_STORE_RSP", None, "C-STORE-RSP",
     dict(MessageIDBeingRespondedTo=7, AffectedSOPClassUID=CT, AffectedSOPInstanceUID=INSTANCE,
          Status=0xA900, OffendingElement=[0x00100010, 0x00100020], ErrorComment="bad ids")),
    ("C_FIND", "C_FIND_RQ", "Identifier", "C-FIND-RQ",
     dict(MessageID=2, AffectedSOPClassUID=STUDY_FIND, Priority=dimse.PRIORITY_LOW)),
    ("C_FIND", "C_FIND_RSP", "Identifier", "C-FIND-RSP",
     dict(MessageIDBeingRespondedTo=2, AffectedSOPClassUID=STUDY_FIND, Status=0xFF00)),
    ("C_FIND", "C_FIND_RSP", None, "C-FIND-RSP",
     dict(MessageIDBeingRespondedTo=2, AffectedSOPClassUID=STUDY_FIND, Status=0x0000)),
    ("C_GET", "C_GET_RQ", "Identifier", "C-GET-RQ",
     dict(MessageID=3, AffectedSOPClassUID=PATIENT_GET, Priority=0)),
    ("C_GET", "C_GET_RSP", None, "C-GET-RSP",
     dict(MessageIDBeingRespondedTo=3, AffectedSOPClassUID=PATIENT_GET, Status=0xFF00,
          NumberOfRemainingSuboperations=5, NumberOfCompletedSuboperations=1,
          NumberOfFailedSuboperations=0, NumberOfWarningSuboperations=2)),
    ("C_GET", "C_GET_RSP", "Identifier", "C-GET-RSP",
     dict(MessageIDBeingRespondedTo=3, AffectedSOPClassUID=PATIENT_GET, Status=0xB000,
          NumberOfCompletedSuboperations=4, NumberOfFailedSuboperations=1,
          NumberOfWarningSuboperations=0)),
    ("C_MOVE", "C_MOVE_RQ", "Identifier", "C-MOVE-RQ",
     dict(MessageID=4, AffectedSOPClassUID=PATIENT_MOVE, Priority=0, MoveDestination="STORESCP")),
    ("C_MOVE", "C_MOVE_RQ", "Identifier", "C-MOVE-RQ",
     dict(MessageID=4, AffectedSOPClassUID=PATIENT_MOVE, Priority=1, MoveDestination="ODD")),
    ("C_MOVE", "C_MOVE_RSP", None, "C-MOVE-RSP",
     dict(MessageIDBeingRespondedTo=4, AffectedSOPClassUID=PATIENT_MOVE, Status=0xA801,
          ErrorComment="who?")),
    ("C_MOVE", "C_MOVE_RSP", None, "C-MOVE-RSP",
     dict(MessageIDBeingRespondedTo=4, AffectedSOPClassUID=PATIENT_MOVE, Status=0xFE00,
          NumberOfRemainingSuboperations=0, NumberOfCompletedSuboperations=3,
          NumberOfFailedSuboperations=0, NumberOfWarningSuboperations=0)),
    ("C_CANCEL", "C_CANCEL_RQ", None, "C-CANCEL-RQ", dict(MessageIDBeingRespondedTo=2)),
]
IDS = [f"{c[3]}-{i}" for i, c in enumerate(CASES)]


def _pynetdicom_message(prim_cls, msg_cls, ds_attr, elements, data):
    prim = getattr(pyn.pp, prim_cls)()
    for key, value in elements.items():
        if key == "OffendingElement":
            value = [pynetdicom_tag(v) for v in value]
        setattr(prim, key, value)
    if ds_attr is not None and data is not None:
        setattr(prim, ds_attr, io.BytesIO(data))
    msg = getattr(pyn.pm, msg_cls)()
    msg.primitive_to_message(prim)
    return msg


def pynetdicom_tag(value):
    from pydicom.tag import Tag
    return Tag(value)


def _ours(name, elements, data):
    ds = build_command(name, **elements)
    if data is not None:
        ds.CommandDataSetType = dimse.DATASET_PRESENT
    return ds


@pytest.mark.parametrize("case", CASES, ids=IDS)
def test_command_set_bytes_equal_pynetdicom(case):
    prim_cls, msg_cls, ds_attr, name, elements = case
    data = DATA if ds_attr is not None and name != "C-STORE-RSP" else None
    theirs = _pynetdicom_message(prim_cls, msg_cls, ds_attr, elements, data)
    expected = pyn.pyn_encode(theirs.command_set, True, True)
    ours = encode_command(_ours(name, elements, data))
    assert ours == expected


@pytest.mark.parametrize("case", CASES, ids=IDS)
def test_decode_both_ways(case):
    prim_cls, msg_cls, ds_attr, name, elements = case
    data = DATA if ds_attr is not None else None
    theirs = _pynetdicom_message(prim_cls, msg_cls, ds_attr, elements, data)
    # pynetdicom's bytes -> our Dataset
    ds = decode_command(pyn.pyn_encode(theirs.command_set, True, True))
    assert dimse.COMMAND_NAMES[ds.CommandField] == name
    for key, value in elements.items():
        got = ds[key].value
        if key == "OffendingElement":
            assert [int(t) for t in got] == value
        else:
            assert got == value, key
    # our bytes -> pynetdicom's Dataset
    raw = encode_command(_ours(name, elements, data))
    back = pyn.pyn_decode(io.BytesIO(raw), True, True)
    assert back.CommandGroupLength == len(raw) - 12
    assert back.CommandField == ds.CommandField
    for key, value in elements.items():
        got = back[key].value
        if key == "OffendingElement":
            assert [int(t) for t in got] == value
        else:
            assert got == value, key


def test_encode_from_mapping_and_group_length_ignored():
    a = encode_command({"MessageID": 1, "CommandField": 0x30, "CommandGroupLength": 999,
                        "AffectedSOPClassUID": dimse.VERIFICATION_SOP_CLASS,
                        0x00000800: 0x0101})
    b = encode_command(build_command(dimse.C_ECHO_RQ, MessageID=1,
                                     AffectedSOPClassUID=dimse.VERIFICATION_SOP_CLASS))
    assert a == b
    assert struct.unpack("<I", a[8:12])[0] == len(a) - 12


def test_encode_refuses_other_groups_and_decode_refuses_garbage():
    ds = build_command("C-ECHO-RQ", MessageID=1)
    ds.PatientID = "x"
    with pytest.raises(LocalProtocolError):
        encode_command(ds)
    with pytest.raises(ValueError):
        build_command("C-NOPE-RQ")
    with pytest.raises(RemoteProtocolError):
        decode_command(b"\x08\x00\x20\x00\x00\x00\x00\x00")  # group 0008
    with pytest.raises(RemoteProtocolError):
        decode_command(b"\x00\x00\x00\x00\x04\x00\x00\x00")  # truncated
    with pytest.raises(RemoteProtocolError):  # no Command Field
        decode_command(encode_command({"MessageID": 3}))
    with pytest.raises(RemoteProtocolError):  # a length past the end
        decode_command(b"\x00\x00\x10\x01\xff\x00\x00\x00\x01\x00")


@pytest.mark.parametrize("max_pdu", [0, 16, 100, 16384])
@pytest.mark.parametrize("size", [0, 1, 9, 10, 11, 1000, 70001])
def test_fragments_equal_pynetdicom(max_pdu, size):
    data = os.urandom(size) if size else None
    elements = dict(MessageID=9, AffectedSOPClassUID=CT, AffectedSOPInstanceUID=INSTANCE,
                    Priority=0)
    theirs = _pynetdicom_message("C_STORE", "C_STORE_RQ", "DataSet", elements, data)
    expected = []
    for pdata in theirs.encode_msg(11, max_pdu):
        for ctx, payload in pdata.presentation_data_value_list:
            expected.append((ctx, payload[0], bytes(payload[1:])))
    msg = DimseMessage(11, build_command("C-STORE-RQ", **elements), data)
    got = [(p.context_id, p.control_header, bytes(p.data))
           for p in dimse.message_pdvs(msg, max_pdu)]
    assert got == expected
    if max_pdu:
        assert all(len(d) + 6 <= max_pdu for _, _, d in got)


def test_fragment_limits():
    with pytest.raises(LocalProtocolError):
        list(fragment(1, b"\x00" * 10, None, 6))
    pdvs = list(fragment(1, b"abcd", b"", 7))
    assert [(p.is_command, p.is_last, bytes(p.data)) for p in pdvs] == [
        (True, False, b"a"), (True, False, b"b"), (True, False, b"c"), (True, True, b"d"),
        (False, True, b"")]
    big = bytes(range(256)) * 40
    views = [p.data for p in fragment(3, b"cmd", big, 1000) if not p.is_command]
    assert all(isinstance(v, memoryview) for v in views)  # no copies of the data set
    assert b"".join(views) == big


@pytest.mark.parametrize("max_pdu", [7, 64, 1024, 0])
def test_large_dataset_fragmented_and_reassembled(max_pdu):
    data = os.urandom(300_000 if max_pdu != 7 else 3000)
    cmd = build_command("C-STORE-RQ", MessageID=1, AffectedSOPClassUID=CT,
                        AffectedSOPInstanceUID=INSTANCE, Priority=0)
    asm = MessageAssembler()
    out = []
    for pdv in dimse.message_pdvs(DimseMessage(5, cmd, data), max_pdu):
        got = asm.add(pdv)
        if got is not None:
            out.append(got)
    assert len(out) == 1 and not asm.in_progress
    msg = out[0]
    assert msg.name == "C-STORE-RQ" and msg.context_id == 5 and msg.data == data
    assert msg.command.AffectedSOPInstanceUID == INSTANCE and msg.has_dataset


def test_reassembles_pynetdicom_fragments():
    data = os.urandom(5000)
    elements = dict(MessageIDBeingRespondedTo=2, AffectedSOPClassUID=STUDY_FIND, Status=0xFF01)
    theirs = _pynetdicom_message("C_FIND", "C_FIND_RSP", "Identifier", elements, data)
    asm = MessageAssembler()
    msgs = []
    for pdata in theirs.encode_msg(3, 512):
        for ctx, payload in pdata.presentation_data_value_list:
            m = asm.add(PDV.from_header(ctx, payload[0], payload[1:]))
            if m:
                msgs.append(m)
    (msg,) = msgs
    assert msg.data == data and msg.status == 0xFF01 and msg.status_category == dimse.PENDING
    assert msg.message_id_being_responded_to == 2 and not msg.is_request


def test_pynetdicom_reassembles_ours():
    data = os.urandom(4000)
    cmd = build_command("C-STORE-RQ", MessageID=77, AffectedSOPClassUID=CT,
                        AffectedSOPInstanceUID=INSTANCE, Priority=2,
                        MoveOriginatorApplicationEntityTitle="ORIGIN",
                        MoveOriginatorMessageID=12)
    msg = pyn.pm.DIMSEMessage()
    done = False
    for pdv in dimse.message_pdvs(DimseMessage(1, cmd, data), 1000):
        p = pyn.P_DATA()
        p.presentation_data_value_list.append(
            (pdv.context_id, bytes([pdv.control_header]) + bytes(pdv.data)))
        done = msg.decode_msg(p)
    assert done
    prim = msg.message_to_primitive()
    assert isinstance(prim, pyn.pp.C_STORE)
    assert prim.MessageID == 77 and prim.AffectedSOPInstanceUID == INSTANCE
    assert prim.MoveOriginatorApplicationEntityTitle == "ORIGIN"
    assert prim.Priority == 2 and prim.DataSet.getvalue() == data


def test_assembler_several_messages_and_order_errors():
    echo = encode_command(build_command("C-ECHO-RQ", MessageID=1,
                                        AffectedSOPClassUID=dimse.VERIFICATION_SOP_CLASS))
    asm = MessageAssembler()
    for i in range(3):
        m = asm.add(PDV(1, True, True, echo))
        assert m is not None and m.data is None and m.message_id == 1
    # a data set fragment first
    with pytest.raises(RemoteProtocolError):
        MessageAssembler().add(PDV(1, False, True, b"xx"))
    # another context in the middle of a message
    asm = MessageAssembler()
    asm.add(PDV(1, True, False, echo[:10]))
    with pytest.raises(RemoteProtocolError):
        asm.add(PDV(3, True, True, echo[10:]))
    # a command fragment where the data set was expected
    store = encode_command(_ours("C-STORE-RQ", dict(MessageID=1, AffectedSOPClassUID=CT,
                                                     AffectedSOPInstanceUID=INSTANCE,
                                                     Priority=0), b"x"))
    asm = MessageAssembler()
    assert asm.add(PDV(1, True, True, store)) is None
    with pytest.raises(RemoteProtocolError):
        asm.add(PDV(1, True, True, store))


def test_assembler_limits():
    store = encode_command(_ours("C-STORE-RQ", dict(MessageID=1, AffectedSOPClassUID=CT,
                                                     AffectedSOPInstanceUID=INSTANCE,
                                                     Priority=0), b"x"))
    asm = MessageAssembler(max_dataset_length=1000)
    asm.add(PDV(1, True, True, store))
    asm.add(PDV(1, False, False, b"x" * 600))
    with pytest.raises(RemoteProtocolError, match="limit"):
        asm.add(PDV(1, False, False, b"x" * 600))
    asm = MessageAssembler(max_command_length=50)
    with pytest.raises(RemoteProtocolError, match="limit"):
        asm.add(PDV(1, True, True, store))
    asm = MessageAssembler(max_dataset_length=None, max_command_length=None)
    asm.add(PDV(1, True, True, store))
    assert asm.add(PDV(1, False, True, b"y" * 5000)).data == b"y" * 5000


def test_message_properties_and_dataset_type():
    msg = DimseMessage(1, build_command("C-FIND-RQ", MessageID=4, AffectedSOPClassUID=STUDY_FIND,
                                        Priority=0), b"\x10\x00\x10\x00\x00\x00\x00\x00")
    assert msg.name == "C-FIND-RQ" and msg.is_request and msg.message_id == 4
    raw = msg.encode_command()
    assert decode_command(raw).CommandDataSetType == dimse.DATASET_PRESENT
    msg.data = None
    assert decode_command(msg.encode_command()).CommandDataSetType == dimse.NO_DATASET
    assert msg.status is None and msg.status_category is None
    assert "C-FIND-RQ" in repr(msg)


def test_status_categories():
    assert status_category(Status.SUCCESS) == dimse.SUCCESS
    assert status_category(Status.CANCEL) == dimse.CANCEL
    assert status_category(Status.PENDING) == dimse.PENDING
    assert status_category(Status.OUT_OF_RESOURCES) == dimse.FAILURE
    assert status_category(Status.COERCION_OF_DATA_ELEMENTS) == dimse.WARNING
    assert status_category(0x1234) == dimse.UNKNOWN
    assert status_category(0x0150) == dimse.FAILURE  # 01xx (PS3.7 C.5) not in pynetdicom's list
    named = [v for k, v in vars(Status).items() if k.isupper()]
    for code in named + [0x0000, 0x0001, 0xFF00, 0xFF01, 0xFE00, 0xA700, 0xA801, 0xB000,
                         0xB007, 0xC000, 0xC123, 0x0107, 0x0116, 0x0122, 0x0213]:
        assert status_category(code) == pyn.code_to_category(code), hex(code)


def test_message_ids_wrap_and_skip_zero():
    ids = MessageIDs()
    assert [ids.next() for _ in range(3)] == [1, 2, 3]
    ids = MessageIDs(65534)
    assert [next(ids) for _ in range(4)] == [65534, 65535, 1, 2]
    with pytest.raises(ValueError):
        MessageIDs(0)


def test_command_is_a_fastdicom_dataset():
    ds = decode_command(encode_command(build_command(
        "C-MOVE-RQ", MessageID=4, AffectedSOPClassUID=PATIENT_MOVE, Priority=0,
        MoveDestination="DEST")))
    assert isinstance(ds, fastdicom.Dataset)
    assert ds.MoveDestination == "DEST" and ds.Priority == 0


def test_make_response():
    rq = DimseMessage(3, build_command("C-STORE-RQ", MessageID=5, AffectedSOPClassUID=CT,
                                       AffectedSOPInstanceUID=INSTANCE, Priority=0), b"xx")
    rsp = dimse.make_response(rq, Status.DUPLICATE_SOP_INSTANCE, ErrorComment="again")
    assert rsp.name == "C-STORE-RSP" and rsp.context_id == 3 and rsp.data is None
    assert rsp.message_id_being_responded_to == 5 and rsp.status_category == dimse.FAILURE
    assert rsp.command.AffectedSOPInstanceUID == INSTANCE
    expected = encode_command(build_command(
        "C-STORE-RSP", MessageIDBeingRespondedTo=5, AffectedSOPClassUID=CT,
        AffectedSOPInstanceUID=INSTANCE, Status=0x0111, ErrorComment="again"))
    assert rsp.encode_command() == expected
    find = DimseMessage(1, build_command("C-FIND-RQ", MessageID=2, AffectedSOPClassUID=STUDY_FIND,
                                         Priority=0), b"id")
    pending = dimse.make_response(find, Status.PENDING, b"match")
    assert pending.name == "C-FIND-RSP" and pending.has_dataset
    assert decode_command(pending.encode_command()).CommandDataSetType == dimse.DATASET_PRESENT
    assert "AffectedSOPInstanceUID" not in pending.command
    with pytest.raises(LocalProtocolError):
        dimse.make_response(DimseMessage(1, build_command("C-CANCEL-RQ",
                                                          MessageIDBeingRespondedTo=2)))
    with pytest.raises(LocalProtocolError):
        dimse.make_response(pending)


def test_decode_needs_the_exact_bytes():
    raw = encode_command(build_command("C-ECHO-RSP", MessageIDBeingRespondedTo=1,
                                       AffectedSOPClassUID=dimse.VERIFICATION_SOP_CLASS,
                                       Status=0x0110, ErrorComment="x" * 120 + "DICM" * 10))
    ds = decode_command(raw)  # no file heuristics: "DICM" at byte 128 means nothing
    assert ds.ErrorComment.startswith("xxx") and ds.Status == 0x0110
    with pytest.raises(RemoteProtocolError):
        decode_command(raw + b"\x00")
    with pytest.raises(RemoteProtocolError):
        decode_command(raw[:-2])
