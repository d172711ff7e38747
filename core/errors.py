"""The project's errors: one tree, so that every edge maps them in one place.

Every error the project raises on purpose descends from ``HotlineError``; the gRPC edge
(``node.edge.errors.STATUS_OF``) gives each class a status code and the CLI prints any of them
as one line. The classes live next to what they guard (``core`` cannot import ``sync``), but
the whole tree is drawn here, with the status code a caller of a node's gRPC services sees::

    HotlineError                  anything of ours that went wrong      status code at the edge
    ├── DomainError               a command cannot be taken; it wrote nothing
    │   ├── InvalidInput          bad input; names the field            INVALID_ARGUMENT
    │   │   └── InvalidSetting    a node's setting is unusable          INVALID_ARGUMENT
    │   ├── StepNotAllowed        the ticket's state does not allow it  FAILED_PRECONDITION
    │   ├── EnrolmentForbidden    an ODR application's or roster entry's FAILED_PRECONDITION
    │   │                         state forbids the step (listed unit)
    │   ├── NotPermitted          not this officer's or unit's to do    PERMISSION_DENIED
    │   │   └── AccountLocked     too many wrong sign-in tries          PERMISSION_DENIED
    │   ├── UnknownOfficer        not on this node's roster             UNAUTHENTICATED
    │   ├── NotSignedIn           no valid sign-in or session token     UNAUTHENTICATED
    │   └── NotFound              no such ticket, unit or officer       NOT_FOUND
    ├── StorageError              the database failed; rolled back      UNAVAILABLE
    ├── ReplicationError          a peer unreachable or refusing        UNAVAILABLE
    │   └── ProtocolMismatch      a peer of another protocol version    FAILED_PRECONDITION
    ├── Busy                      the node takes no more now; retry     RESOURCE_EXHAUSTED
    ├── WaitExpired               a wait ran past the node's limit      DEADLINE_EXCEEDED
    ├── PkiError                  a certificate or CRL refused          FAILED_PRECONDITION
    ├── EnvelopeError             bytes that are no event envelope      INVALID_ARGUMENT
    ├── IdentityError             the node's own keys are unusable      FAILED_PRECONDITION
    │   ├── NotEnrolled           the node has no certificate yet       FAILED_PRECONDITION
    │   └── CertificateNotUsable  its certificate fails on its clock    FAILED_PRECONDITION
    ├── RuleBookRefused           a rule book not to be trusted         FAILED_PRECONDITION
    ├── SealBroken                sealed personal data does not check   DATA_LOSS
    ├── AccountRefused            an officer account record refused     FAILED_PRECONDITION
    ├── RosterRecordRefused       an ODR roster record refused          FAILED_PRECONDITION
    ├── DataFolderInUse           another process holds the data folder FAILED_PRECONDITION
    └── CallError                 a call to another node failed         UNAVAILABLE

Where they live: ``core.errors`` (the root and the ``DomainError`` branch),
``node.app.settings`` (``InvalidSetting``), ``sync.errors`` (``StorageError``,
``ReplicationError``, ``Busy``, ``WaitExpired``), ``sync.pki``, ``sync.envelope``,
``sync.identity``, ``sync.rule_book_signing``, ``sync.officer_account_signing``,
``sync.odr_roster_signing``, ``sync.protocol`` (``ProtocolMismatch``),
``sync.personal.suites`` (``SealBroken``), ``node.app.data_folder`` (``DataFolderInUse``, an
``OSError`` too) and ``node.edge.client`` (``CallError``).

``docs/architecture.md`` ("Errors") says why each code was chosen. Lower-level exceptions
(driver errors, ``grpc.RpcError``, ``cryptography``'s) are converted at the boundary where they
arise and raised ``from`` the original, so the cause is kept. Plain ``ValueError`` and friends
are left to genuine programming errors. Every error carries a one-line, human-readable
message; nothing here knows about gRPC.
"""

from __future__ import annotations


class HotlineError(Exception):
    """Root of every error the project raises on purpose; its message is one line for a human."""


class DomainError(HotlineError):
    """Base of every error a command can raise; the command wrote nothing."""


class InvalidInput(DomainError):
    """A field of the input is missing or malformed; ``field`` is its dotted path."""

    def __init__(self, field: str, reason: str) -> None:
        super().__init__(f"{field}: {reason}")
        self.field = field
        self.reason = reason


class StepNotAllowed(DomainError):
    """The step is well formed but the ticket's current state does not allow it."""

    def __init__(self, step: str, state: str, reason: str) -> None:
        super().__init__(f"{step} not allowed while the ticket is {state}: {reason}")
        self.step = step
        self.state = state
        self.reason = reason


class EnrolmentForbidden(DomainError):
    """The ODR application's or roster entry's state forbids the step (申请/名录): a listed unit
    applying, an application reviewed twice, a removal decided with none proposed."""


class NotPermitted(DomainError):
    """The acting officer's role or unit does not give the authority for this step."""


class AccountLocked(NotPermitted):
    """The officer's account is locked after too many wrong sign-in tries; ``until_ms`` says
    when the lock ends. The node knows who asks and refuses them for now, hence a permission
    refusal (PERMISSION_DENIED), not a failed proof of identity nor a passing outage: a client
    that retried UNAVAILABLE automatically would only keep the account locked."""

    def __init__(self, message: str, until_ms: int) -> None:
        super().__init__(message)
        self.until_ms = until_ms


class UnknownOfficer(DomainError):
    """The named officer is not on the roster of the node that received the command."""


class NotSignedIn(DomainError):
    """The caller has not proved who they are: a sign-in with a wrong officer, password or code,
    or a session token that is missing where one is needed, malformed, forged, of another node,
    expired, idle or signed out. The message says which for a token, never for a sign-in."""


class NotFound(DomainError):
    """The ticket, unit or officer named by the command does not exist here."""
