"""The upper layer state machine against PS3.8 table 9-10, cell by cell.

The expected table below is written by hand from the standard, one state
(column of table 9-10) at a time, independently of the layout used by
``fastdicom.net.fsm``; the expected next states come from the action
definitions of tables 9-6 to 9-9. Behaviour on the wire (out-of-order PDUs,
release collisions, ARTIM expiry, A-ABORT and A-ASSOCIATE-RJ fields) is
tested through the sans-IO association at the end of this file.
"""
from __future__ import annotations

import pytest

from fastdicom.net import fsm
from fastdicom.net.errors import LocalProtocolError
from fastdicom.net.fsm import StateMachine

ALL_STATES = [f"Sta{i}" for i in range(1, 14)]
ALL_EVENTS = [f"Evt{i}" for i in range(1, 20)]
# Sta3, Sta5 .. Sta12: a transport connection is open and the association is
# being set up, in use or released.
_OPEN = ["Sta3", "Sta5", "Sta6", "Sta7", "Sta8", "Sta9", "Sta10", "Sta11", "Sta12"]

# PS3.8 table 9-10, column by column: state -> {event: action}.
EXPECTED: dict[str, dict[str, str]] = {
    "Sta1": {"Evt1": "AE-1", "Evt5": "AE-5"},
    "Sta2": {"Evt3": "AA-1", "Evt4": "AA-1", "Evt6": "AE-6", "Evt10": "AA-1", "Evt12": "AA-1",
             "Evt13": "AA-1", "Evt16": "AA-2", "Evt17": "AA-5", "Evt18": "AA-2", "Evt19": "AA-1"},
    "Sta3": {"Evt3": "AA-8", "Evt4": "AA-8", "Evt6": "AA-8", "Evt7": "AE-7", "Evt8": "AE-8",
             "Evt10": "AA-8", "Evt12": "AA-8", "Evt13": "AA-8", "Evt15": "AA-1", "Evt16": "AA-3",
             "Evt17": "AA-4", "Evt19": "AA-8"},
    "Sta4": {"Evt2": "AE-2", "Evt15": "AA-2", "Evt17": "AA-4"},
    "Sta5": {"Evt3": "AE-3", "Evt4": "AE-4", "Evt6": "AA-8", "Evt10": "AA-8", "Evt12": "AA-8",
             "Evt13": "AA-8", "Evt15": "AA-1", "Evt16": "AA-3", "Evt17": "AA-4", "Evt19": "AA-8"},
    "Sta6": {"Evt3": "AA-8", "Evt4": "AA-8", "Evt6": "AA-8", "Evt9": "DT-1", "Evt10": "DT-2",
             "Evt11": "AR-1", "Evt12": "AR-2", "Evt13": "AA-8", "Evt15": "AA-1", "Evt16": "AA-3",
             "Evt17": "AA-4", "Evt19": "AA-8"},
    "Sta7": {"Evt3": "AA-8", "Evt4": "AA-8", "Evt6": "AA-8", "Evt10": "AR-6", "Evt12": "AR-8",
             "Evt13": "AR-3", "Evt15": "AA-1", "Evt16": "AA-3", "Evt17": "AA-4", "Evt19": "AA-8"},
    "Sta8": {"Evt3": "AA-8", "Evt4": "AA-8", "Evt6": "AA-8", "Evt9": "AR-7", "Evt10": "AA-8",
             "Evt12": "AA-8", "Evt13": "AA-8", "Evt14": "AR-4", "Evt15": "AA-1", "Evt16": "AA-3",
             "Evt17": "AA-4", "Evt19": "AA-8"},
    "Sta9": {"Evt3": "AA-8", "Evt4": "AA-8", "Evt6": "AA-8", "Evt10": "AA-8", "Evt12": "AA-8",
             "Evt13": "AA-8", "Evt14": "AR-9", "Evt15": "AA-1", "Evt16": "AA-3", "Evt17": "AA-4",
             "Evt19": "AA-8"},
    "Sta10": {"Evt3": "AA-8", "Evt4": "AA-8", "Evt6": "AA-8", "Evt10": "AA-8", "Evt12": "AA-8",
              "Evt13": "AR-10", "Evt15": "AA-1", "Evt16": "AA-3", "Evt17": "AA-4",
              "Evt19": "AA-8"},
    "Sta11": {"Evt3": "AA-8", "Evt4": "AA-8", "Evt6": "AA-8", "Evt10": "AA-8", "Evt12": "AA-8",
              "Evt13": "AR-3", "Evt15": "AA-1", "Evt16": "AA-3", "Evt17": "AA-4",
              "Evt19": "AA-8"},
    "Sta12": {"Evt3": "AA-8", "Evt4": "AA-8", "Evt6": "AA-8", "Evt10": "AA-8", "Evt12": "AA-8",
              "Evt13": "AA-8", "Evt14": "AR-4", "Evt15": "AA-1", "Evt16": "AA-3", "Evt17": "AA-4",
              "Evt19": "AA-8"},
    "Sta13": {"Evt3": "AA-6", "Evt4": "AA-6", "Evt6": "AA-7", "Evt10": "AA-6", "Evt12": "AA-6",
              "Evt13": "AA-6", "Evt16": "AA-2", "Evt17": "AR-5", "Evt18": "AA-2", "Evt19": "AA-7"},
}

# Tables 9-6 .. 9-9: the state each action leads to (AE-6 and AR-8 depend on
# their outcome and are tested separately).
NEXT_STATE = {
    "AE-1": "Sta4", "AE-2": "Sta5", "AE-3": "Sta6", "AE-4": "Sta1", "AE-5": "Sta2",
    "AE-7": "Sta6", "AE-8": "Sta13", "DT-1": "Sta6", "DT-2": "Sta6", "AR-1": "Sta7",
    "AR-2": "Sta8", "AR-3": "Sta1", "AR-4": "Sta13", "AR-5": "Sta1", "AR-6": "Sta7",
    "AR-7": "Sta8", "AR-9": "Sta11", "AR-10": "Sta12", "AA-1": "Sta13", "AA-2": "Sta1",
    "AA-3": "Sta1", "AA-4": "Sta1", "AA-5": "Sta1", "AA-6": "Sta13", "AA-7": "Sta13",
    "AA-8": "Sta13",
}

# What each action sends to the peer (PDU) per its definition.
SENDS = {
    "AE-2": "A-ASSOCIATE-RQ", "AE-7": "A-ASSOCIATE-AC", "AE-8": "A-ASSOCIATE-RJ",
    "DT-1": "P-DATA-TF", "AR-7": "P-DATA-TF", "AR-1": "A-RELEASE-RQ", "AR-4": "A-RELEASE-RP",
    "AR-9": "A-RELEASE-RP", "AA-1": "A-ABORT", "AA-7": "A-ABORT", "AA-8": "A-ABORT",
}
# Actions that close the transport connection.
CLOSES = {"AE-4", "AR-3", "AA-2", "AA-3"}


def _cells():
    for state in ALL_STATES:
        for event in ALL_EVENTS:
            yield state, event, EXPECTED[state].get(event)


def test_expected_table_is_complete_as_transcribed():
    # The standard's table has 13 states x 19 events; count the filled cells
    # per event row as a check on the transcription above.
    per_event = {e: sum(e in EXPECTED[s] for s in ALL_STATES) for e in ALL_EVENTS}
    assert per_event == {
        "Evt1": 1, "Evt2": 1, "Evt3": 11, "Evt4": 11, "Evt5": 1, "Evt6": 11, "Evt7": 1,
        "Evt8": 1, "Evt9": 2, "Evt10": 11, "Evt11": 1, "Evt12": 11, "Evt13": 11, "Evt14": 3,
        "Evt15": 10, "Evt16": 11, "Evt17": 12, "Evt18": 2, "Evt19": 11,
    }
    for state in _OPEN:
        assert EXPECTED[state]["Evt16"] == "AA-3" and EXPECTED[state]["Evt17"] == "AA-4"


def test_module_table_equals_the_standard():
    mine = {(s, e): a for s, e, a in _cells() if a is not None}
    assert fsm.TRANSITIONS == mine
    assert set(fsm.STATES) == set(ALL_STATES)
    assert set(fsm.EVENTS) == set(ALL_EVENTS)


@pytest.mark.parametrize("state,event,action", list(_cells()),
                         ids=[f"{s}-{e}" for s, e, _ in _cells()])
def test_every_state_event_pair(state, event, action):
    for requestor in (True, False):
        machine = StateMachine(requestor=requestor, artim_timeout=5.0, state=state)
        if action is None:
            with pytest.raises(LocalProtocolError):
                machine.fire(event, now=100.0)
            assert machine.state == state
            continue
        t = machine.fire(event, now=100.0, acceptable=True)
        assert t.action.name == action
        assert (t.state, t.event) == (state, event)
        if action == "AE-6":
            expected_next = "Sta3"
        elif action == "AR-8":
            expected_next = "Sta9" if requestor else "Sta10"
        else:
            expected_next = NEXT_STATE[action]
        assert t.next_state == expected_next == machine.state
        if action != "AE-6":
            assert t.send == SENDS.get(action)
        assert t.close == (action in CLOSES)
        # the ARTIM timer runs only while waiting for a request (Sta2) or for
        # the transport to close (Sta13)
        if machine.state not in ("Sta2", "Sta13"):
            assert machine.artim_deadline is None


def test_ae6_acceptable_or_not():
    m = StateMachine(requestor=False, artim_timeout=10)
    m.fire("Evt5", now=0.0)
    assert m.state == "Sta2" and m.artim_deadline == 10.0
    t = m.fire("Evt6", now=1.0, acceptable=True)
    assert (t.action.name, t.next_state, t.indication, t.send) == ("AE-6", "Sta3", "A-ASSOCIATE",
                                                                  None)
    assert m.artim_deadline is None  # AE-6 stops ARTIM

    m = StateMachine(requestor=False, artim_timeout=10)
    m.fire("Evt5", now=0.0)
    t = m.fire("Evt6", now=3.0, acceptable=False)
    assert (t.next_state, t.send, t.indication, t.acceptable) == ("Sta13", "A-ASSOCIATE-RJ",
                                                                  None, False)
    assert m.artim_deadline == 13.0  # ... and starts it again after the A-ASSOCIATE-RJ


def test_ar8_release_collision_sides():
    for requestor, colliding in ((True, "Sta9"), (False, "Sta10")):
        m = StateMachine(requestor=requestor, state="Sta6")
        assert m.fire("Evt11").next_state == "Sta7"  # AR-1: A-RELEASE-RQ sent
        t = m.fire("Evt12")  # the peer's A-RELEASE-RQ crosses ours
        assert (t.action.name, t.next_state, t.indication) == ("AR-8", colliding, "A-RELEASE")


def test_release_collision_requestor_path():
    m = StateMachine(requestor=True, state="Sta7")
    seq = [("Evt12", "AR-8", "Sta9"), ("Evt14", "AR-9", "Sta11"), ("Evt13", "AR-3", "Sta1")]
    for event, action, state in seq:
        t = m.fire(event)
        assert (t.action.name, m.state) == (action, state)
    assert t.close and t.indication == "A-RELEASE-confirmation"


def test_release_collision_acceptor_path():
    m = StateMachine(requestor=False, state="Sta7")
    seq = [("Evt12", "AR-8", "Sta10"), ("Evt13", "AR-10", "Sta12"), ("Evt14", "AR-4", "Sta13"),
           ("Evt17", "AR-5", "Sta1")]
    for event, action, state in seq:
        t = m.fire(event, now=50.0)
        assert (t.action.name, m.state) == (action, state)
        if action == "AR-4":
            assert t.send == "A-RELEASE-RP" and m.artim_deadline is not None
    assert m.artim_deadline is None  # AR-5 stops ARTIM


def test_artim_expiry_in_sta2_and_sta13():
    m = StateMachine(requestor=False, artim_timeout=30)
    m.fire("Evt5", now=1000.0)
    assert not m.artim_expired(1029.9)
    assert m.artim_expired(1030.0)
    t = m.fire("Evt18", now=1030.0)
    assert (t.action.name, m.state, t.close) == ("AA-2", "Sta1", True)
    assert m.artim_deadline is None

    m = StateMachine(requestor=True, artim_timeout=30, state="Sta8")
    m.fire("Evt14", now=0.0)  # AR-4: A-RELEASE-RP sent, ARTIM started
    assert m.state == "Sta13" and m.artim_deadline == 30.0
    m.fire("Evt10", now=10.0)  # AA-6: a late P-DATA-TF is ignored, timer untouched
    assert m.state == "Sta13" and m.artim_deadline == 30.0
    assert m.artim_expired(31.0)
    assert m.fire("Evt18", now=31.0).action.name == "AA-2"
    assert m.state == "Sta1"


def test_aa1_restarts_a_running_artim():
    m = StateMachine(requestor=False, artim_timeout=10)
    m.fire("Evt5", now=0.0)  # Sta2, deadline 10
    m.fire("Evt10", now=7.0)  # AA-1 (a P-DATA-TF before any A-ASSOCIATE-RQ): restart
    assert m.state == "Sta13" and m.artim_deadline == 17.0


def test_empty_cell_leaves_state_and_timer():
    m = StateMachine(requestor=False, artim_timeout=10)
    m.fire("Evt5", now=0.0)
    with pytest.raises(LocalProtocolError, match="Sta2"):
        m.fire("Evt9", now=1.0)  # P-DATA request before an association
    assert m.state == "Sta2" and m.artim_deadline == 10.0


def test_action_descriptions_name_the_standard():
    assert set(fsm.ACTIONS) == set(NEXT_STATE) | {"AE-6", "AR-8"}
    assert fsm.ACTIONS["AA-8"].send == "A-ABORT" and fsm.ACTIONS["AA-8"].indication == "A-P-ABORT"
    assert "service-provider source" in fsm.ACTIONS["AA-8"].description
    assert "service-user source" in fsm.ACTIONS["AA-1"].description
    with pytest.raises(ValueError):
        StateMachine(requestor=True).fire("Evt20")
    with pytest.raises(ValueError):
        StateMachine(requestor=True, state="Sta14")


# -- on the wire, through the sans-IO association ------------------------------------------
from fastdicom.net import dimse, pdu  # noqa: E402
from fastdicom.net.association import (ACCEPTOR, NEED_DATA, REQUESTOR, Abort,  # noqa: E402
                                       AssociateReject, AssociateRequest, Association,
                                       ConnectionClosed, ReleaseReply, ReleaseRequest,
                                       accept_request, propose_contexts)

VERIFICATION = dimse.VERIFICATION_SOP_CLASS
ABORT_UNEXPECTED = bytes([7, 0, 0, 0, 0, 4, 0, 0, 2, 2])  # service-provider, unexpected-PDU


def _events(assoc):
    out = []
    while True:
        ev = assoc.next_event()
        if ev is NEED_DATA:
            return out
        out.append(ev)
        if isinstance(ev, ConnectionClosed):
            return out


def _feed(assoc, data):
    assoc.receive_data(data)
    return _events(assoc)


def _echo_bytes(context_id=1):
    cmd = dimse.encode_command(dimse.build_command("C-ECHO-RQ", MessageID=1,
                                                   AffectedSOPClassUID=VERIFICATION))
    return pdu.PDataTF([pdu.PDV(context_id, True, True, cmd)]).encode()


def _pair(now=0.0):
    r, a = Association(REQUESTOR), Association(ACCEPTOR)
    r.send(AssociateRequest(calling_ae_title="A", called_ae_title="B",
                            presentation_contexts=propose_contexts([VERIFICATION])), now=now)
    a.connection_made(now=now)
    a.receive_data(r.connection_made(now=now), now=now)
    (rq,) = _events(a)
    r.receive_data(a.send(accept_request(rq, {VERIFICATION: ["1.2.840.10008.1.2"]}), now=now))
    _events(r)
    assert r.state == a.state == "Sta6"
    return r, a


def _last_action(assoc):
    return assoc.transitions[-1].action.name


def test_wire_pdata_before_associate_ac():
    r = Association(REQUESTOR)
    r.send(AssociateRequest(presentation_contexts=propose_contexts([VERIFICATION])))
    r.connection_made(now=0.0)
    assert r.state == "Sta5"
    events = _feed(r, _echo_bytes())
    assert _last_action(r) == "AA-8" and r.state == "Sta13"
    assert events == [Abort(source=2, reason=2)]  # A-P-ABORT indication
    assert r.data_to_send() == ABORT_UNEXPECTED
    assert r.artim_deadline is not None


def test_wire_pdata_before_associate_rq():
    a = Association(ACCEPTOR)
    a.connection_made(now=0.0)
    assert _feed(a, _echo_bytes()) == []  # AA-1: no indication
    assert _last_action(a) == "AA-1" and a.state == "Sta13"
    assert a.data_to_send() == bytes([7, 0, 0, 0, 0, 4, 0, 0, 0, 0])  # service-user source


def test_wire_second_associate_rq():
    r, a = _pair()
    rq = pdu.AAssociateRQ("B", "A", [pdu.PresentationContextRQItem(1, VERIFICATION,
                                                                   ["1.2.840.10008.1.2"])])
    events = _feed(a, rq.encode())
    assert _last_action(a) == "AA-8" and a.state == "Sta13"
    assert events == [Abort(source=2, reason=2)]
    assert a.data_to_send() == ABORT_UNEXPECTED
    # the requestor receives the A-ABORT: AA-3, A-P-ABORT indication, transport closed
    events = _feed(r, ABORT_UNEXPECTED)
    assert events == [Abort(source=2, reason=2, remote=True), ConnectionClosed()]
    assert events[0].provider and r.state == "Sta1" and r.should_close
    # then in Sta13 the acceptor gets the close: AR-5
    a.receive_data(b"")
    assert _last_action(a) == "AR-5" and a.state == "Sta1"


@pytest.mark.parametrize("pdu_bytes,event", [
    (pdu.AReleaseRP().encode(), "Evt13"),
    (pdu.AAssociateAC("B", "A").encode(), "Evt3"),
    (pdu.AAssociateRJ(1, 1, 1).encode(), "Evt4"),
])
def test_wire_unsolicited_pdus_in_sta6(pdu_bytes, event):
    r, a = _pair()
    events = _feed(a, pdu_bytes)
    t = a.transitions[-1]
    assert (t.state, t.event, t.action.name, a.state) == ("Sta6", event, "AA-8", "Sta13")
    assert events == [Abort(source=2, reason=2)]
    assert a.data_to_send() == ABORT_UNEXPECTED


def test_wire_sta13_ignores_or_aborts():
    r, a = _pair()
    r.send(Abort())  # requestor: AA-1, now in Sta13
    assert r.state == "Sta13"
    assert _feed(r, _echo_bytes()) == [] and _last_action(r) == "AA-6"  # ignored
    assert _feed(r, pdu.AReleaseRQ().encode()) == [] and _last_action(r) == "AA-6"
    rq = pdu.AAssociateRQ("B", "A", [pdu.PresentationContextRQItem(1, VERIFICATION,
                                                                   ["1.2.840.10008.1.2"])])
    assert _feed(r, rq.encode()) == [] and _last_action(r) == "AA-7"
    assert r.data_to_send() == ABORT_UNEXPECTED and r.state == "Sta13"
    assert _feed(r, pdu.AAbort(0, 0).encode()) == [ConnectionClosed()]
    assert _last_action(r) == "AA-2" and r.state == "Sta1" and r.should_close


def test_wire_invalid_pdus_evt19():
    r, a = _pair()
    events = _feed(a, bytes([9, 0, 0, 0, 0, 4, 0, 0, 0, 0]))  # unknown PDU type
    assert (a.transitions[-1].event, _last_action(a)) == ("Evt19", "AA-8")
    assert events == [Abort(source=2, reason=1)]  # unrecognized-PDU
    assert a.data_to_send() == bytes([7, 0, 0, 0, 0, 4, 0, 0, 2, 1])
    assert _feed(a, _echo_bytes()) == []  # after that the stream is no longer read

    r, a = _pair()
    big = bytes([4, 0]) + (1 << 24).to_bytes(4, "big")  # above our maximum PDU length
    events = _feed(a, big)
    assert events == [Abort(source=2, reason=6)] and a.state == "Sta13"

    r, a = _pair()
    events = _feed(a, _echo_bytes(context_id=3))  # a presentation context never accepted
    assert events == [Abort(source=2, reason=6)] and _last_action(a) == "AA-8"

    a = Association(ACCEPTOR)
    a.connection_made(now=0.0)
    assert _feed(a, bytes([1, 0, 0, 0, 0, 2, 0, 1])) == []  # a malformed A-ASSOCIATE-RQ
    assert _last_action(a) == "AA-1" and a.state == "Sta13"


def test_wire_release_collision():
    r, a = _pair()
    rq_from_r = r.send(ReleaseRequest())
    rq_from_a = a.send(ReleaseRequest())
    assert r.state == a.state == "Sta7"
    # the requests cross
    assert _feed(r, rq_from_a) == [ReleaseRequest(collision=True)] and r.state == "Sta9"
    assert _feed(a, rq_from_r) == [ReleaseRequest(collision=True)] and a.state == "Sta10"
    with pytest.raises(LocalProtocolError):
        a.send(ReleaseReply())  # Sta10: the acceptor waits for the requestor's reply
    rp_from_r = r.send(ReleaseReply())  # AR-9
    assert r.state == "Sta11"
    assert _feed(a, rp_from_r) == [ReleaseReply(collision=True)] and a.state == "Sta12"
    rp_from_a = a.send(ReleaseReply(), now=0.0)  # AR-4
    assert a.state == "Sta13" and a.artim_deadline == 30.0
    assert _feed(r, rp_from_a) == [ReleaseReply(collision=True), ConnectionClosed()]
    assert r.state == "Sta1" and r.should_close  # AR-3
    a.receive_data(b"")  # AR-5
    assert a.state == "Sta1"
    assert [t.action.name for t in r.transitions][-3:] == ["AR-8", "AR-9", "AR-3"]
    assert [t.action.name for t in a.transitions][-4:] == ["AR-8", "AR-10", "AR-4", "AR-5"]


def test_wire_artim_expiry():
    a = Association(ACCEPTOR, artim_timeout=10)
    a.connection_made(now=100.0)  # AE-5: waiting for an A-ASSOCIATE-RQ
    assert a.artim_deadline == 110.0
    assert not a.timer_expired(now=109.9) and a.state == "Sta2"
    assert a.timer_expired(now=110.0)
    assert _last_action(a) == "AA-2" and a.state == "Sta1" and a.should_close
    assert _events(a) == [ConnectionClosed()]
    # and after a release, when the requestor never closes the connection
    r, a = _pair()
    _feed(a, r.send(ReleaseRequest()))
    a.send(ReleaseReply(), now=50.0)
    assert not a.timer_expired(now=79.0)
    assert a.timer_expired(now=80.0) and a.state == "Sta1"


def test_wire_abort_source_and_reason():
    for source, reason in ((0, 0), (2, 1), (2, 2), (2, 4), (2, 5), (2, 6)):
        r, a = _pair()
        events = _feed(a, pdu.AAbort(source, reason).encode())
        assert events == [Abort(source=source, reason=reason, remote=True), ConnectionClosed()]
        assert events[0].provider == (source == 2) and _last_action(a) == "AA-3"


def test_wire_associate_rj_fields():
    for result, source, reason in ((1, 1, 1), (1, 1, 2), (2, 1, 3), (1, 1, 7), (1, 2, 1),
                                   (1, 2, 2), (2, 3, 1), (2, 3, 2)):
        r = Association(REQUESTOR)
        r.send(AssociateRequest(presentation_contexts=propose_contexts([VERIFICATION])))
        r.connection_made()
        events = _feed(r, pdu.AAssociateRJ(result, source, reason).encode())
        assert events == [AssociateReject(result, source, reason), ConnectionClosed()]
        assert _last_action(r) == "AE-4" and r.should_close
