"""The DICOM Upper Layer protocol state machine (PS3.8 section 9.2).

Every state transition of the upper layer happens here and nowhere else:
:data:`TRANSITIONS` is table 9-10 of PS3.8 (states ``Sta1`` .. ``Sta13``,
events ``Evt1`` .. ``Evt19``), :data:`ACTIONS` the actions of tables 9-6 to
9-9 (``AE-1`` .. ``AE-8``, ``DT-1``, ``DT-2``, ``AR-1`` .. ``AR-10``,
``AA-1`` .. ``AA-8``) with what each one does, described as data (which PDU
it sends, which primitive it issues to the local user, what it does to the
ARTIM timer and to the transport connection) and the state it leads to.

:class:`StateMachine` applies an event: it looks up the action, moves to the
next state, runs the ARTIM timer (as a deadline: nothing here sleeps or reads
a clock, the caller passes ``now``) and returns a :class:`Transition` that the
caller (:mod:`fastdicom.net.association`) carries out. It does no I/O.

A state/event pair that the table leaves empty is an error:
:class:`~fastdicom.net.errors.LocalProtocolError` (a local primitive issued in a
state where it is not allowed, or bytes received without a transport
connection); the state does not change.
"""
from __future__ import annotations

from dataclasses import dataclass

from fastdicom.net.errors import LocalProtocolError

__all__ = [
    "STATES", "EVENTS", "LOCAL_EVENTS", "ACTIONS", "TRANSITIONS", "Action", "Transition",
    "StateMachine",
    "DEFAULT_ARTIM_TIMEOUT",
]

#: PS3.8 table 9-1: the states of the upper layer.
STATES: dict[str, str] = {
    "Sta1": "Idle",
    "Sta2": "Transport connection open (Awaiting A-ASSOCIATE-RQ PDU)",
    "Sta3": "Awaiting local A-ASSOCIATE response primitive (from local user)",
    "Sta4": "Awaiting transport connection opening to complete (from local transport service)",
    "Sta5": "Awaiting A-ASSOCIATE-AC or A-ASSOCIATE-RJ PDU",
    "Sta6": "Association established and ready for data transfer",
    "Sta7": "Awaiting A-RELEASE-RP PDU",
    "Sta8": "Awaiting local A-RELEASE response primitive (from local user)",
    "Sta9": "Release collision requestor side; awaiting A-RELEASE response (from local user)",
    "Sta10": "Release collision acceptor side; awaiting A-RELEASE-RP PDU",
    "Sta11": "Release collision requestor side; awaiting A-RELEASE-RP PDU",
    "Sta12": "Release collision acceptor side; awaiting A-RELEASE response primitive (from local user)",
    "Sta13": "Awaiting Transport Connection Close Indication (Association no longer exists)",
}

#: PS3.8 table 9-10: the events.
EVENTS: dict[str, str] = {
    "Evt1": "A-ASSOCIATE request (local user)",
    "Evt2": "Transport connect confirmation (local transport service)",
    "Evt3": "A-ASSOCIATE-AC PDU (received on transport connection)",
    "Evt4": "A-ASSOCIATE-RJ PDU (received on transport connection)",
    "Evt5": "Transport connection indication (local transport service)",
    "Evt6": "A-ASSOCIATE-RQ PDU (received on transport connection)",
    "Evt7": "A-ASSOCIATE response primitive (accept)",
    "Evt8": "A-ASSOCIATE response primitive (reject)",
    "Evt9": "P-DATA request primitive",
    "Evt10": "P-DATA-TF PDU",
    "Evt11": "A-RELEASE request primitive",
    "Evt12": "A-RELEASE-RQ PDU (received on open transport connection)",
    "Evt13": "A-RELEASE-RP PDU (received on transport connection)",
    "Evt14": "A-RELEASE response primitive",
    "Evt15": "A-ABORT request primitive",
    "Evt16": "A-ABORT PDU (received on open transport connection)",
    "Evt17": "Transport connection closed indication (local transport service)",
    "Evt18": "ARTIM timer expired (Association reject/release timer)",
    "Evt19": "Unrecognized or invalid PDU received",
}

#: Events that are primitives issued by the local user (an empty cell for one
#: of these is a mistake of the local user).
LOCAL_EVENTS = frozenset({"Evt1", "Evt7", "Evt8", "Evt9", "Evt11", "Evt14", "Evt15"})

#: Default ARTIM timeout in seconds (PS3.8 9.1.5 leaves the value local).
DEFAULT_ARTIM_TIMEOUT = 30.0


@dataclass(frozen=True)
class Action:
    """One action of PS3.8 tables 9-6 to 9-9, as data.

    ``send`` is the PDU sent to the peer (``"A-ABORT"`` ...), ``indication``
    the primitive issued to the local user, ``artim`` ``"start"``,
    ``"restart"`` or ``"stop"``, ``close`` whether the transport connection is
    closed, ``connect`` whether a transport connection is requested.
    ``next_state`` is ``None`` for the two actions whose next state is decided
    when they run (AE-6: whether the A-ASSOCIATE-RQ is acceptable; AR-8:
    whether this side requested the association).
    """

    name: str
    description: str
    next_state: str | None
    send: str | None = None
    indication: str | None = None
    artim: str | None = None
    close: bool = False
    connect: bool = False


def _a(name: str, description: str, next_state: str | None, **kw: object) -> tuple[str, Action]:
    return name, Action(name, description, next_state, **kw)  # type: ignore[arg-type]


#: PS3.8 tables 9-6 (association establishment), 9-7 (data transfer),
#: 9-8 (association release) and 9-9 (association abort).
ACTIONS: dict[str, Action] = dict([
    _a("AE-1", "Issue TRANSPORT CONNECT request primitive to local transport service", "Sta4",
       connect=True),
    _a("AE-2", "Send A-ASSOCIATE-RQ PDU", "Sta5", send="A-ASSOCIATE-RQ"),
    _a("AE-3", "Issue A-ASSOCIATE confirmation (accept) primitive", "Sta6",
       indication="A-ASSOCIATE-confirmation-accept"),
    _a("AE-4", "Issue A-ASSOCIATE confirmation (reject) primitive and close transport connection",
       "Sta1", indication="A-ASSOCIATE-confirmation-reject", close=True),
    _a("AE-5", "Issue Transport connection response primitive; start ARTIM timer", "Sta2",
       artim="start"),
    _a("AE-6", "Stop ARTIM timer and if A-ASSOCIATE-RQ acceptable by service-provider: issue "
               "A-ASSOCIATE indication primitive (next state Sta3); otherwise issue "
               "A-ASSOCIATE-RJ PDU and start ARTIM timer (next state Sta13)", None),
    _a("AE-7", "Send A-ASSOCIATE-AC PDU", "Sta6", send="A-ASSOCIATE-AC"),
    _a("AE-8", "Send A-ASSOCIATE-RJ PDU and start ARTIM timer", "Sta13", send="A-ASSOCIATE-RJ",
       artim="start"),
    _a("DT-1", "Send P-DATA-TF PDU", "Sta6", send="P-DATA-TF"),
    _a("DT-2", "Send P-DATA indication primitive", "Sta6", indication="P-DATA"),
    _a("AR-1", "Send A-RELEASE-RQ PDU", "Sta7", send="A-RELEASE-RQ"),
    _a("AR-2", "Issue A-RELEASE indication primitive", "Sta8", indication="A-RELEASE"),
    _a("AR-3", "Issue A-RELEASE confirmation primitive, and close transport connection", "Sta1",
       indication="A-RELEASE-confirmation", close=True),
    _a("AR-4", "Issue A-RELEASE-RP PDU and start ARTIM timer", "Sta13", send="A-RELEASE-RP",
       artim="start"),
    _a("AR-5", "Stop ARTIM timer", "Sta1", artim="stop"),
    _a("AR-6", "Issue P-DATA indication", "Sta7", indication="P-DATA"),
    _a("AR-7", "Issue P-DATA-TF PDU", "Sta8", send="P-DATA-TF"),
    _a("AR-8", "Issue A-RELEASE indication (release collision): if association-requestor, next "
               "state is Sta9, if not next state is Sta10", None, indication="A-RELEASE"),
    _a("AR-9", "Send A-RELEASE-RP PDU", "Sta11", send="A-RELEASE-RP"),
    _a("AR-10", "Issue A-RELEASE confirmation primitive", "Sta12",
       indication="A-RELEASE-confirmation"),
    _a("AA-1", "Send A-ABORT PDU (service-user source) and start (or restart if already started) "
               "ARTIM timer", "Sta13", send="A-ABORT", artim="restart"),
    _a("AA-2", "Stop ARTIM timer if running. Close transport connection", "Sta1", artim="stop",
       close=True),
    _a("AA-3", "If (service-user initiated abort): issue A-ABORT indication and close transport "
               "connection; otherwise (service-provider initiated abort): issue A-P-ABORT "
               "indication and close transport connection", "Sta1", indication="A-ABORT",
       close=True),
    _a("AA-4", "Issue A-P-ABORT indication primitive", "Sta1", indication="A-P-ABORT"),
    _a("AA-5", "Stop ARTIM timer", "Sta1", artim="stop"),
    _a("AA-6", "Ignore PDU", "Sta13"),
    _a("AA-7", "Send A-ABORT PDU", "Sta13", send="A-ABORT"),
    _a("AA-8", "Send A-ABORT PDU (service-provider source), issue an A-P-ABORT indication, and "
               "start ARTIM timer", "Sta13", send="A-ABORT", indication="A-P-ABORT",
       artim="start"),
])

# PS3.8 table 9-10, laid out as in the standard: one row per event, one column
# per state (Sta1 .. Sta13); "-" is an empty cell.
_TABLE_9_10 = """
        Sta1 Sta2 Sta3 Sta4 Sta5 Sta6 Sta7 Sta8 Sta9 Sta10 Sta11 Sta12 Sta13
Evt1    AE-1 -    -    -    -    -    -    -    -    -     -     -     -
Evt2    -    -    -    AE-2 -    -    -    -    -    -     -     -     -
Evt3    -    AA-1 AA-8 -    AE-3 AA-8 AA-8 AA-8 AA-8 AA-8  AA-8  AA-8  AA-6
Evt4    -    AA-1 AA-8 -    AE-4 AA-8 AA-8 AA-8 AA-8 AA-8  AA-8  AA-8  AA-6
Evt5    AE-5 -    -    -    -    -    -    -    -    -     -     -     -
Evt6    -    AE-6 AA-8 -    AA-8 AA-8 AA-8 AA-8 AA-8 AA-8  AA-8  AA-8  AA-7
Evt7    -    -    AE-7 -    -    -    -    -    -    -     -     -     -
Evt8    -    -    AE-8 -    -    -    -    -    -    -     -     -     -
Evt9    -    -    -    -    -    DT-1 -    AR-7 -    -     -     -     -
Evt10   -    AA-1 AA-8 -    AA-8 DT-2 AR-6 AA-8 AA-8 AA-8  AA-8  AA-8  AA-6
Evt11   -    -    -    -    -    AR-1 -    -    -    -     -     -     -
Evt12   -    AA-1 AA-8 -    AA-8 AR-2 AR-8 AA-8 AA-8 AA-8  AA-8  AA-8  AA-6
Evt13   -    AA-1 AA-8 -    AA-8 AA-8 AR-3 AA-8 AA-8 AR-10 AR-3  AA-8  AA-6
Evt14   -    -    -    -    -    -    -    AR-4 AR-9 -     -     AR-4  -
Evt15   -    -    AA-1 AA-2 AA-1 AA-1 AA-1 AA-1 AA-1 AA-1  AA-1  AA-1  -
Evt16   -    AA-2 AA-3 -    AA-3 AA-3 AA-3 AA-3 AA-3 AA-3  AA-3  AA-3  AA-2
Evt17   -    AA-5 AA-4 AA-4 AA-4 AA-4 AA-4 AA-4 AA-4 AA-4  AA-4  AA-4  AR-5
Evt18   -    AA-2 -    -    -    -    -    -    -    -     -     -     AA-2
Evt19   -    AA-1 AA-8 -    AA-8 AA-8 AA-8 AA-8 AA-8 AA-8  AA-8  AA-8  AA-7
"""


def _parse_table(text: str) -> dict[tuple[str, str], str]:
    lines = [line.split() for line in text.strip().splitlines()]
    columns = lines[0]
    table: dict[tuple[str, str], str] = {}
    for row in lines[1:]:
        event, cells = row[0], row[1:]
        if event not in EVENTS or len(cells) != len(columns):
            raise AssertionError(f"malformed row of table 9-10: {row}")
        for state, cell in zip(columns, cells):
            if cell != "-":
                if cell not in ACTIONS:
                    raise AssertionError(f"unknown action {cell!r} in table 9-10")
                table[(state, event)] = cell
    return table


#: PS3.8 table 9-10: ``(state, event) -> action name``; absent pairs are empty cells.
TRANSITIONS: dict[tuple[str, str], str] = _parse_table(_TABLE_9_10)


@dataclass(frozen=True)
class Transition:
    """What one event did: ``state`` --``event``/``action``--> ``next_state``.

    ``acceptable`` is the outcome of AE-6 (``False``: the A-ASSOCIATE-RQ was
    rejected and an A-ASSOCIATE-RJ PDU is to be sent); ``send`` and
    ``indication`` are those of the action as it ran (AE-6 sends an
    A-ASSOCIATE-RJ PDU or issues an A-ASSOCIATE indication).
    """

    state: str
    event: str
    action: Action
    next_state: str
    send: str | None
    indication: str | None
    close: bool
    acceptable: bool = True


class StateMachine:
    """The state of one association's upper layer, and its ARTIM timer.

    ``requestor`` tells which side this is (AR-8 needs it for a release
    collision). The ARTIM timer is a deadline (``artim_deadline``, in the
    caller's clock, ``None`` when not running): :meth:`artim_expired` tells
    whether it has passed; the caller then applies ``Evt18``.
    """

    __slots__ = ("state", "requestor", "artim_timeout", "artim_deadline", "history")

    def __init__(self, requestor: bool, artim_timeout: float = DEFAULT_ARTIM_TIMEOUT,
                 state: str = "Sta1") -> None:
        if state not in STATES:
            raise ValueError(f"unknown state {state!r}")
        self.state = state
        self.requestor = bool(requestor)
        self.artim_timeout = float(artim_timeout)
        self.artim_deadline: float | None = None
        #: The last transitions, oldest first (bounded, for diagnostics).
        self.history: list[Transition] = []

    def allowed(self, event: str) -> bool:
        """Whether ``event`` has a cell in the current state's column."""
        return (self.state, event) in TRANSITIONS

    def action_for(self, event: str) -> Action | None:
        """The action table 9-10 gives for ``event`` in the current state."""
        name = TRANSITIONS.get((self.state, event))
        return None if name is None else ACTIONS[name]

    def fire(self, event: str, now: float = 0.0, *, acceptable: bool = True) -> Transition:
        """Apply ``event`` at time ``now``; return what to carry out.

        ``acceptable`` is consulted by AE-6 only. Raises
        :class:`LocalProtocolError` for an empty cell (state unchanged).
        """
        fixed = _FIXED.get((self.state, event))
        if fixed is not None:  # a cell whose outcome depends on nothing else (P-DATA ...)
            self.state = fixed.next_state
            if fixed.next_state == "Sta1":
                self.artim_deadline = None
            self._remember(fixed)
            return fixed
        if event not in EVENTS:
            raise ValueError(f"unknown event {event!r}")
        name = TRANSITIONS.get((self.state, event))
        if name is None:
            why = "" if event in LOCAL_EVENTS else " (no transport connection to receive it on)"
            raise LocalProtocolError(f"{EVENTS[event]} ({event}) is not allowed in state "
                                     f"{self.state} ({STATES[self.state]}){why}")
        action = ACTIONS[name]
        send, indication, artim = action.send, action.indication, action.artim
        next_state = action.next_state
        if name == "AE-6":
            self.artim_deadline = None  # "Stop ARTIM timer"
            if acceptable:
                next_state, indication = "Sta3", "A-ASSOCIATE"
            else:
                next_state, send, artim = "Sta13", "A-ASSOCIATE-RJ", "start"
        elif name == "AR-8":
            next_state = "Sta9" if self.requestor else "Sta10"
        assert next_state is not None
        if artim == "stop":
            self.artim_deadline = None
        elif artim is not None:  # "start" or "restart": a new deadline either way
            self.artim_deadline = now + self.artim_timeout
        transition = Transition(self.state, event, action, next_state, send, indication,
                                action.close, acceptable if name == "AE-6" else True)
        self.state = next_state
        if next_state == "Sta1":
            self.artim_deadline = None  # no timer survives the end of the connection
        self._remember(transition)
        return transition

    def _remember(self, transition: Transition) -> None:
        self.history.append(transition)
        if len(self.history) > 64:
            del self.history[:32]

    def artim_expired(self, now: float) -> bool:
        """Whether the ARTIM timer is running and its deadline has passed at ``now``."""
        return self.artim_deadline is not None and now >= self.artim_deadline

    def __repr__(self) -> str:
        role = "requestor" if self.requestor else "acceptor"
        return f"<StateMachine {role} {self.state}: {STATES[self.state]}>"


def _fixed_transitions() -> dict[tuple[str, str], Transition]:
    """The cells whose transition is always the same: no ARTIM change, not AE-6
    (its outcome depends on acceptance) nor AR-8 (on the side): one frozen
    :class:`Transition` each, reused by :meth:`StateMachine.fire`."""
    out = {}
    for (state, event), name in TRANSITIONS.items():
        action = ACTIONS[name]
        if action.artim is None and name not in ("AE-6", "AR-8") and action.next_state:
            out[state, event] = Transition(state, event, action, action.next_state,
                                           action.send, action.indication, action.close)
    return out


_FIXED = _fixed_transitions()

