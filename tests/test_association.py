"""The sans-IO association end to end, in memory and against pynetdicom.

Two :class:`Association` objects (requestor and acceptor) are wired together
by passing the bytes each produces to the other: associate, C-ECHO, C-STORE
of a small and of a large data set, release; rejection and abort paths;
presentation context and role negotiation. Interoperability: pynetdicom's
PDU encoders and decoders on the other side of the bytes, and pynetdicom
application entities over the loopback interface.
"""
from __future__ import annotations

import os
import socket
import threading

import pytest

import fastdicom
from fastdicom.net import dimse, pdu
from fastdicom.net.association import (ACCEPTOR, NEED_DATA, REQUESTOR, Abort, AssociateAccept,
                                       AssociateReject, AssociateRequest, Association,
                                       ConnectionClosed, DimseMessage, PData,
                                       PresentationContext, ReleaseReply, ReleaseRequest,
                                       accept_request, negotiate_contexts, negotiate_roles,
                                       propose_contexts)
from fastdicom.net.errors import LocalProtocolError

CT = "1.2.840.10008.5.1.4.1.1.2"
MR = "1.2.840.10008.5.1.4.1.1.4"
EXPLICIT, IMPLICIT = "1.2.840.10008.1.2.1", "1.2.840.10008.1.2"
INSTANCE = "1.2.826.0.1.3680043.8.498.1"
SUPPORTED = {dimse.VERIFICATION_SOP_CLASS: [IMPLICIT], CT: [EXPLICIT, IMPLICIT]}


class Clock:
    def __init__(self) -> None:
        self.t = 1000.0

    def __call__(self) -> float:
        return self.t


def drain(assoc: Association) -> list:
    out = []
    while True:
        ev = assoc.next_event()
        if ev is NEED_DATA:
            return out
        out.append(ev)
        if isinstance(ev, ConnectionClosed):
            return out


def deliver(data: bytes, dst: Association) -> list:
    if data:
        dst.receive_data(data)
    return drain(dst)


def request(**kw) -> AssociateRequest:
    kw.setdefault("presentation_contexts",
                  propose_contexts([dimse.VERIFICATION_SOP_CLASS, CT, MR]))
    return AssociateRequest(calling_ae_title="SCU", called_ae_title="SCP", **kw)


def associate(req_kw=None, acc_kw=None, rq=None, clock=None):
    clock = clock or Clock()
    r = Association(REQUESTOR, clock=clock, **(req_kw or {}))
    a = Association(ACCEPTOR, clock=clock, **(acc_kw or {}))
    assert r.send(rq or request()) == b""
    assert r.state == "Sta4"
    assert a.connection_made() == b"" and a.state == "Sta2"
    events = deliver(r.connection_made(), a)
    assert r.state == "Sta5" and a.state == "Sta3"
    (ev,) = events
    assert isinstance(ev, AssociateRequest)
    events = deliver(a.send(accept_request(ev, SUPPORTED)), r)
    assert isinstance(events[0], AssociateAccept)
    assert r.state == a.state == "Sta6" and r.is_established
    return r, a


def echo_rq(mid: int, ctx: int = 1) -> DimseMessage:
    return DimseMessage(ctx, dimse.build_command(
        "C-ECHO-RQ", MessageID=mid, AffectedSOPClassUID=dimse.VERIFICATION_SOP_CLASS))


def store_rq(mid: int, data: bytes, ctx: int = 3) -> DimseMessage:
    cmd = dimse.build_command("C-STORE-RQ", MessageID=mid, AffectedSOPClassUID=CT,
                              AffectedSOPInstanceUID=INSTANCE, Priority=dimse.PRIORITY_MEDIUM)
    return DimseMessage(ctx, cmd, data)


def rsp_for(msg: DimseMessage, status: int = 0) -> DimseMessage:
    name = msg.name.replace("-RQ", "-RSP")
    kw = dict(MessageIDBeingRespondedTo=msg.message_id,
              AffectedSOPClassUID=msg.command.AffectedSOPClassUID, Status=status)
    if "AffectedSOPInstanceUID" in msg.command:
        kw["AffectedSOPInstanceUID"] = msg.command.AffectedSOPInstanceUID
    return DimseMessage(msg.context_id, dimse.build_command(name, **kw))


def dataset_bytes(size_hint: int = 0) -> bytes:
    """An explicit VR little endian data set (written by hand: no writer needed)."""
    def el(group, elem, vr, value):
        if len(value) % 2:
            value += b"\x00" if vr == b"UI" else b" "
        if vr in (b"OB", b"OW", b"UN", b"UT"):
            return (group.to_bytes(2, "little") + elem.to_bytes(2, "little") + vr + b"\x00\x00"
                    + len(value).to_bytes(4, "little") + value)
        return (group.to_bytes(2, "little") + elem.to_bytes(2, "little") + vr
                + len(value).to_bytes(2, "little") + value)
    out = (el(0x0008, 0x0016, b"UI", CT.encode()) + el(0x0008, 0x0018, b"UI", INSTANCE.encode())
           + el(0x0010, 0x0010, b"PN", b"Doe^Jane") + el(0x0010, 0x0020, b"LO", b"12345"))
    if size_hint:
        out += el(0x7FE0, 0x0010, b"OB", os.urandom(size_hint))
    return out


# -- end to end in memory ------------------------------------------------------------------------
def test_associate_echo_store_release():
    r, a = associate()
    assert {c.abstract_syntax: c.transfer_syntax for c in r.accepted_contexts.values()} == {
        dimse.VERIFICATION_SOP_CLASS: IMPLICIT, CT: EXPLICIT}
    assert r.accept.presentation_contexts[2].result == \
        pdu.PresentationContextResult.ABSTRACT_SYNTAX_NOT_SUPPORTED
    assert a.request.calling_ae_title == "SCU" and a.request.called_ae_title == "SCP"
    assert a.peer_max_pdu_length == r.max_pdu_length

    # C-ECHO
    (msg,) = deliver(r.send(echo_rq(1)), a)
    assert msg.name == "C-ECHO-RQ" and msg.data is None and msg.message_id == 1
    (rsp,) = deliver(a.send(rsp_for(msg)), r)
    assert rsp.name == "C-ECHO-RSP" and rsp.status == dimse.Status.SUCCESS
    assert rsp.message_id_being_responded_to == 1 and rsp.status_category == dimse.SUCCESS

    # C-STORE of a small data set
    data = dataset_bytes()
    ctx = r.context_for(CT)
    (msg,) = deliver(r.send(store_rq(2, data, ctx.context_id)), a)
    assert msg.name == "C-STORE-RQ" and msg.data == data
    ds = fastdicom.dcmread(msg.data, force=True)
    assert ds.PatientID == "12345" and str(ds.PatientName) == "Doe^Jane"
    (rsp,) = deliver(a.send(rsp_for(msg)), r)
    assert rsp.name == "C-STORE-RSP" and rsp.command.AffectedSOPInstanceUID == INSTANCE

    # release
    assert deliver(r.send(ReleaseRequest()), a) == [ReleaseRequest(collision=False)]
    assert r.state == "Sta7" and a.state == "Sta8"
    events = deliver(a.send(ReleaseReply()), r)
    assert events == [ReleaseReply(collision=False), ConnectionClosed()]
    assert r.state == "Sta1" and r.should_close
    assert a.state == "Sta13" and a.artim_deadline is not None and not a.should_close
    a.receive_data(b"")  # the requestor closed the connection: AR-5
    assert a.state == "Sta1" and a.should_close and a.artim_deadline is None
    assert drain(a) == [ConnectionClosed()]
    names = [t.action.name for t in a.transitions]
    assert names[:3] == ["AE-5", "AE-6", "AE-7"] and names[-2:] == ["AR-4", "AR-5"]


@pytest.mark.parametrize("req_max,acc_max", [(4096, 1024), (0, 16382), (7, 7)])
def test_large_dataset_across_pdvs(req_max, acc_max):
    r, a = associate(req_kw=dict(max_pdu_length=req_max), acc_kw=dict(max_pdu_length=acc_max))
    assert r.peer_max_pdu_length == acc_max and a.peer_max_pdu_length == req_max
    data = dataset_bytes(50_000 if acc_max > 7 else 3000)
    wire = r.send(store_rq(9, data))
    # every P-DATA-TF PDU fits the acceptor's maximum
    pos, count = 0, 0
    while pos < len(wire):
        length = int.from_bytes(wire[pos + 2:pos + 6], "big")
        assert wire[pos] == 4 and length <= acc_max
        pos += 6 + length
        count += 1
    assert count > 1
    # delivered in awkward slices
    events = []
    for i in range(0, len(wire), 777):
        a.receive_data(wire[i:i + 777])
        events += drain(a)
    (msg,) = events
    assert msg.data == data
    (rsp,) = deliver(a.send(rsp_for(msg, 0xB000)), r)
    assert rsp.status_category == dimse.WARNING


def test_data_both_ways_while_releasing():
    r, a = associate()
    deliver(r.send(ReleaseRequest()), a)
    # the acceptor (Sta8) may still send data (AR-7); the requestor (Sta7) takes it (AR-6)
    (msg,) = deliver(a.send(echo_rq(5)), r)
    assert msg.name == "C-ECHO-RQ" and r.state == "Sta7" and a.state == "Sta8"
    with pytest.raises(LocalProtocolError):
        r.send(echo_rq(6))  # the requestor may not (Sta7 + Evt9 is empty)
    assert deliver(a.send(ReleaseReply()), r)[0] == ReleaseReply()


def test_pdata_events_when_not_assembling():
    r, a = associate(acc_kw=dict(assemble=False))
    events = deliver(r.send(store_rq(3, dataset_bytes(100))), a)
    assert events and all(isinstance(e, PData) for e in events)
    pdvs = [p for e in events for p in e.pdvs]
    assert pdvs[0].is_command and pdvs[-1].is_last and not pdvs[-1].is_command
    # and P-DATA sent as such
    raw = PData([dimse.PDV(1, True, True, dimse.encode_command(echo_rq(4).command))])
    (msg,) = deliver(r.send(raw), a)
    assert isinstance(msg, PData)
    r2, a2 = associate()
    (msg,) = deliver(r2.send(raw), a2)
    assert msg.name == "C-ECHO-RQ"
    too_big = PData([dimse.PDV(1, False, True, b"x" * 20000)])
    with pytest.raises(LocalProtocolError):
        r2.send(too_big)


# -- negotiation -------------------------------------------------------------------------------
def test_negotiate_contexts_and_roles():
    proposed = propose_contexts([CT, (MR, [IMPLICIT]), "1.2.3"], [EXPLICIT, IMPLICIT])
    assert [c.context_id for c in proposed] == [1, 3, 5]
    got = negotiate_contexts(proposed, {CT: [IMPLICIT, EXPLICIT], MR: [EXPLICIT]})
    assert [(c.result, c.transfer_syntax) for c in got] == [(0, IMPLICIT), (4, None), (3, None)]
    got = negotiate_contexts(proposed, {CT: {IMPLICIT, EXPLICIT}, MR: {EXPLICIT}},
                             requestor_order=True)  # the requestor's preference first
    assert [(c.result, c.transfer_syntax) for c in got] == [(0, EXPLICIT), (4, None), (3, None)]
    assert negotiate_roles({CT: (True, True), MR: (False, True)},
                           {CT: (True, False)}) == {CT: (True, False), MR: (False, False)}
    with pytest.raises(LocalProtocolError):
        propose_contexts([CT] * 129)


def test_roles_async_window_and_extra_items_round_trip():
    identity = pdu.UserIdentityRQItem(pdu.UserIdentityType.USERNAME, b"user", b"", False)
    rq = request(role_selection={CT: (True, True)}, async_ops_window=(3, 2),
                 user_items=[identity])
    r = Association(REQUESTOR)
    a = Association(ACCEPTOR)
    r.send(rq)
    a.connection_made()
    (ev,) = deliver(r.connection_made(), a)
    assert ev.role_selection == {CT: (True, True)} and ev.async_ops_window == (3, 2)
    assert ev.user_items == [identity]
    assert ev.implementation_class_uid == str(fastdicom.uid.FASTDICOM_IMPLEMENTATION_UID)
    acc = accept_request(ev, SUPPORTED, roles={CT: (False, True)}, max_pdu_length=32768)
    (got, *_) = deliver(a.send(acc), r)
    assert got.role_selection == {CT: (False, True)} and got.max_pdu_length == 32768
    assert r.peer_max_pdu_length == 32768


def test_accept_must_answer_every_context():
    r = Association(REQUESTOR)
    a = Association(ACCEPTOR)
    r.send(request())
    a.connection_made()
    (ev,) = deliver(r.connection_made(), a)
    acc = accept_request(ev, SUPPORTED)
    with pytest.raises(LocalProtocolError):
        a.send(AssociateAccept(presentation_contexts=acc.presentation_contexts[:1]))
    bad = [PresentationContext(c.context_id, None, [MR], 0) for c in ev.presentation_contexts]
    with pytest.raises(LocalProtocolError):
        a.send(AssociateAccept(presentation_contexts=bad))
    assert a.state == "Sta3"
    a.send(acc)
    assert a.state == "Sta6"
    with pytest.raises(LocalProtocolError):  # MR was not accepted
        a.send(DimseMessage(5, echo_rq(1).command))
    with pytest.raises(LocalProtocolError):
        a.context_for(MR)


# -- rejection -----------------------------------------------------------------------------------
def test_user_reject_with_result_source_reason():
    r = Association(REQUESTOR)
    a = Association(ACCEPTOR)
    r.send(request())
    a.connection_made(now=0.0)
    deliver(r.connection_made(), a)
    rj = AssociateReject(pdu.RejectResult.REJECTED_TRANSIENT, pdu.RejectSource.SERVICE_USER,
                         pdu.REJECT_USER_CALLING_AE_NOT_RECOGNIZED)
    wire = a.send(rj, now=5.0)
    assert wire == bytes([3, 0, 0, 0, 0, 4, 0, 2, 1, 3])
    assert a.state == "Sta13" and a.artim_deadline == 35.0  # AE-8 starts ARTIM
    events = deliver(wire, r)
    assert events == [AssociateReject(2, 1, 3), ConnectionClosed()]
    assert r.state == "Sta1" and r.should_close  # AE-4 closes the transport
    assert a.timer_expired(now=35.0) and a.state == "Sta1" and a.should_close


@pytest.mark.parametrize("kw,rq_kw,expected", [
    (dict(ae_title="OTHER"), {}, (1, 1, 7)),
    ({}, dict(application_context_name="1.2.3.4"), (1, 1, 2)),
    ({}, dict(protocol_version=2), (1, 2, 2)),
    (dict(check_request=lambda rq: AssociateReject(2, 3, 1)), {}, (2, 3, 1)),
])
def test_provider_rejects_in_ae6(kw, rq_kw, expected):
    r = Association(REQUESTOR)
    a = Association(ACCEPTOR, **kw)
    r.send(request(**rq_kw))
    a.connection_made()
    assert deliver(r.connection_made(), a) == []  # no indication to the user (AE-6)
    assert a.state == "Sta13" and a.artim_deadline is not None
    events = deliver(a.data_to_send(), r)
    assert events[0] == AssociateReject(*expected)
    assert a.transitions[-1].action.name == "AE-6" and not a.transitions[-1].acceptable


# -- abort ------------------------------------------------------------------------------------------
def test_user_abort_both_sides():
    clock = Clock()
    r, a = associate(clock=clock)
    wire = r.send(Abort())
    assert wire == bytes([7, 0, 0, 0, 0, 4, 0, 0, 0, 0])  # service-user source
    assert r.state == "Sta13" and r.artim_deadline == clock.t + 30
    events = deliver(wire, a)
    assert events == [Abort(source=0, reason=0, remote=True), ConnectionClosed()]
    assert a.state == "Sta1" and a.should_close  # AA-3 closes the transport
    assert not r.timer_expired()
    clock.t += 30
    assert r.timer_expired() and r.state == "Sta1" and r.should_close


def test_transport_lost_is_a_provider_abort():
    r, a = associate()
    r.receive_data(b"")
    ev = drain(r)
    assert ev[0] == Abort(source=2, reason=0) and ev[0].provider and not ev[0].remote
    assert r.state == "Sta1" and isinstance(ev[1], ConnectionClosed)
    a.connection_lost()
    a.connection_lost()  # a second close indication is harmless
    assert a.state == "Sta1"


def test_abort_before_transport_is_up():
    r = Association(REQUESTOR)
    r.send(request())
    assert r.send(Abort()) == b"" and r.state == "Sta1"  # AA-2
    with pytest.raises(LocalProtocolError):
        Association(REQUESTOR).send(Abort())  # Sta1 + Evt15 is empty
    with pytest.raises(LocalProtocolError):
        Association(ACCEPTOR).send(request())
    with pytest.raises(LocalProtocolError):
        Association(REQUESTOR).receive_data(b"\x01")


def test_close_right_after_the_last_pdu():
    r, a = associate()
    deliver(r.send(ReleaseRequest()), a)
    r.receive_data(a.send(ReleaseReply()))
    r.receive_data(b"")  # the peer closed at once: the A-RELEASE-RP still counts (AR-3)
    assert drain(r) == [ReleaseReply(), ConnectionClosed()]
    assert [t.action.name for t in r.transitions][-1] == "AR-3"


def test_transport_connect_fails():
    r = Association(REQUESTOR)
    r.send(request())
    r.connection_lost()  # Sta4 + Evt17: AA-4
    assert drain(r) == [Abort(source=2, reason=0), ConnectionClosed()]
    assert r.transitions[-1].action.name == "AA-4" and r.state == "Sta1"


def test_dataset_limit_aborts():
    r, a = associate(acc_kw=dict(max_dataset_length=4000))
    (msg,) = deliver(r.send(store_rq(1, dataset_bytes(1000))), a)
    events = deliver(r.send(store_rq(2, dataset_bytes(5000))), a)
    assert events == [Abort(source=2, reason=6)] and a.state == "Sta13"
    assert deliver(a.data_to_send(), r)[0] == Abort(source=2, reason=6, remote=True)


def test_dimse_error_aborts():
    r, a = associate()
    bad_cmd = PData([dimse.PDV(1, True, True, b"\x08\x00\x10\x00\x00\x00\x00\x00")])
    events = deliver(r.send(bad_cmd), a)
    assert events[0] == Abort(source=2, reason=6)
    assert a.state == "Sta13"
    assert pdu.AAbort.decode(a.data_to_send()) == pdu.AAbort(2, 6)


# -- interoperability with pynetdicom ----------------------------------------------------------


def test_pynetdicom_pdus_in_memory():
    pytest.importorskip("pynetdicom", exc_type=ImportError)
    from pynetdicom import pdu as ppdu
    from pynetdicom.pdu_primitives import (A_ASSOCIATE, MaximumLengthNotification,
                                           ImplementationClassUIDNotification)
    from pynetdicom.presentation import build_context
    prim = A_ASSOCIATE()
    prim.application_context_name = "1.2.840.10008.3.1.1.1"
    prim.calling_ae_title = "PYNETSCU"
    prim.called_ae_title = "ANY-SCP"
    cx = [build_context(dimse.VERIFICATION_SOP_CLASS), build_context(CT, [EXPLICIT])]
    for i, c in enumerate(cx):
        c.context_id = 2 * i + 1
    prim.presentation_context_definition_list = cx
    ml = MaximumLengthNotification()
    ml.maximum_length_received = 8192
    ic = ImplementationClassUIDNotification()
    ic.implementation_class_uid = "1.2.3.4"
    prim.user_information = [ml, ic]
    rq = ppdu.A_ASSOCIATE_RQ()
    rq.from_primitive(prim)
    a = Association(ACCEPTOR)
    a.connection_made()
    (ev,) = deliver(rq.encode(), a)
    assert ev.calling_ae_title == "PYNETSCU" and ev.max_pdu_length == 8192
    assert [c.transfer_syntaxes for c in ev.presentation_contexts][1] == [EXPLICIT]
    ac = ppdu.A_ASSOCIATE_AC()
    ac.decode(a.send(accept_request(ev, SUPPORTED)))
    got = ac.to_primitive()
    assert got.maximum_length_received == 16382
    assert [(c.context_id, c.result, c.transfer_syntax[0]) for c in
            got.presentation_context_definition_results_list] == [(1, 0, IMPLICIT),
                                                                  (3, 0, EXPLICIT)]
    # a C-ECHO encoded by pynetdicom, in one P-DATA-TF PDU
    from pynetdicom.dimse_messages import C_ECHO_RQ
    from pynetdicom.dimse_primitives import C_ECHO
    p = C_ECHO()
    p.MessageID = 12
    p.AffectedSOPClassUID = dimse.VERIFICATION_SOP_CLASS
    m = C_ECHO_RQ()
    m.primitive_to_message(p)
    wire = b""
    for pdata in m.encode_msg(1, 8192):
        tf = ppdu.P_DATA_TF()
        tf.from_primitive(pdata)
        wire += tf.encode()
    (msg,) = deliver(wire, a)
    assert msg.message_id == 12
    # our response decoded by pynetdicom
    tf = ppdu.P_DATA_TF()
    tf.decode(a.send(rsp_for(msg)))
    ((ctx, payload),) = tf.to_primitive().presentation_data_value_list
    assert ctx == 1 and payload[0] == 3
    rel = ppdu.A_RELEASE_RQ()
    assert deliver(rel.encode(), a) == [ReleaseRequest()]
    rp = ppdu.A_RELEASE_RP()
    rp.decode(a.send(ReleaseReply()))


def _serve_one(sock: socket.socket, assoc: Association, on_event, stop: threading.Event):
    """Drive ``assoc`` over ``sock`` until it should close (a loop for the tests)."""
    sock.settimeout(0.2)
    try:
        while not stop.is_set():
            while True:
                ev = assoc.next_event()
                if ev is NEED_DATA or isinstance(ev, ConnectionClosed):
                    break
                reply = on_event(assoc, ev)
                if reply is not None:
                    sock.sendall(assoc.send(reply))
            out = assoc.data_to_send()
            if out:
                sock.sendall(out)
            if assoc.should_close:
                return
            if assoc.timer_expired():
                return
            try:
                data = sock.recv(65536)
            except socket.timeout:
                continue
            assoc.receive_data(data)
    finally:
        sock.close()


def test_pynetdicom_scu_against_our_acceptor():
    pytest.importorskip("pynetdicom", exc_type=ImportError)
    from pynetdicom import AE
    from pydicom.dataset import Dataset
    from pydicom.uid import ExplicitVRLittleEndian
    listener = socket.create_server(("127.0.0.1", 0))
    port = listener.getsockname()[1]
    received = []
    stop = threading.Event()

    def on_event(assoc, ev):
        if isinstance(ev, AssociateRequest):
            return accept_request(ev, SUPPORTED)
        if isinstance(ev, DimseMessage):
            received.append(ev)
            return rsp_for(ev)
        if isinstance(ev, ReleaseRequest):
            return ReleaseReply()
        return None

    def server():
        listener.settimeout(10)
        conn, _ = listener.accept()
        assoc = Association(ACCEPTOR)
        assoc.connection_made()
        _serve_one(conn, assoc, on_event, stop)

    th = threading.Thread(target=server, daemon=True)
    th.start()
    try:
        ae = AE(ae_title="PYNETSCU")
        ae.acse_timeout = ae.dimse_timeout = ae.network_timeout = 10
        ae.add_requested_context(dimse.VERIFICATION_SOP_CLASS)
        ae.add_requested_context(CT, [ExplicitVRLittleEndian])
        assoc = ae.associate("127.0.0.1", port, ae_title="SCP")
        assert assoc.is_established
        assert assoc.send_c_echo().Status == 0
        ds = Dataset()
        ds.SOPClassUID = CT
        ds.SOPInstanceUID = INSTANCE
        ds.PatientID = "p1"
        ds.BitsAllocated = 8
        ds.PixelData = os.urandom(40000)
        from pydicom.dataset import FileMetaDataset
        ds.file_meta = FileMetaDataset()
        ds.file_meta.TransferSyntaxUID = ExplicitVRLittleEndian
        assert assoc.send_c_store(ds).Status == 0
        assoc.release()
        th.join(10)
        assert not th.is_alive()
    finally:
        stop.set()
        listener.close()
    echo, store = received
    assert echo.name == "C-ECHO-RQ" and store.name == "C-STORE-RQ"
    got = fastdicom.dcmread(store.data, force=True)
    assert got.PatientID == "p1" and got.SOPInstanceUID == INSTANCE


def test_our_requestor_against_pynetdicom_scp():
    pytest.importorskip("pynetdicom", exc_type=ImportError)
    from pynetdicom import AE, evt
    from pydicom.uid import ExplicitVRLittleEndian, ImplicitVRLittleEndian
    stored = []

    def handle_store(event):
        stored.append(event.dataset)
        return 0x0000

    ae = AE(ae_title="PYNETSCP")
    ae.network_timeout = ae.acse_timeout = ae.dimse_timeout = 10
    ae.add_supported_context(dimse.VERIFICATION_SOP_CLASS)
    ae.add_supported_context(CT, [ExplicitVRLittleEndian, ImplicitVRLittleEndian])
    server = ae.start_server(("127.0.0.1", 0), block=False,
                             evt_handlers=[(evt.EVT_C_STORE, handle_store)])
    try:
        port = server.server_address[1]
        sock = socket.create_connection(("127.0.0.1", port), timeout=10)
        assoc = Association(REQUESTOR)
        assoc.send(AssociateRequest(calling_ae_title="FDSCU", called_ae_title="PYNETSCP",
                                    presentation_contexts=propose_contexts(
                                        [dimse.VERIFICATION_SOP_CLASS, CT, MR])))
        sock.sendall(assoc.connection_made())
        events = []
        plan = [echo_rq(1), None, store_rq(2, dataset_bytes(30000)), None, ReleaseRequest(),
                None]

        def wait_event():
            while True:
                ev = assoc.next_event()
                if ev is not NEED_DATA:
                    return ev
                data = sock.recv(65536)
                assoc.receive_data(data)

        acc = wait_event()
        assert isinstance(acc, AssociateAccept)
        assert [c.result for c in acc.presentation_contexts] == [0, 0, 3]
        for step in plan:
            if step is not None:
                sock.sendall(assoc.send(step))
            else:
                events.append(wait_event())
        echo_rsp, store_rsp, release = events
        assert echo_rsp.name == "C-ECHO-RSP" and echo_rsp.status == 0
        assert store_rsp.name == "C-STORE-RSP" and store_rsp.status == 0
        assert release == ReleaseReply() and assoc.should_close
        sock.close()
    finally:
        server.shutdown()
    (ds,) = stored
    assert ds.PatientID == "12345" and len(ds.PixelData) == 30000
