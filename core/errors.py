"""The domain's own errors: what can go wrong with a command, in the business's words.

The tree, drawn once here so the edge (the gRPC interceptor in ``node.edge.errors``) can map it in
one place::

    DomainError
    ├── InvalidInput      bad input; names the field and the reason      -> INVALID_ARGUMENT
    ├── StepNotAllowed    the step does not fit the ticket's state         -> FAILED_PRECONDITION
    ├── NotPermitted      this officer or unit may not take this step      -> PERMISSION_DENIED
    ├── UnknownOfficer    the acting officer is not on this node's roster  -> UNAUTHENTICATED
    └── NotFound          no such ticket, unit or officer                  -> NOT_FOUND

Every error carries a one-line, human-readable message; nothing here knows about gRPC.
"""

from __future__ import annotations


class DomainError(Exception):
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


class NotPermitted(DomainError):
    """The acting officer's role or unit does not give the authority for this step."""


class UnknownOfficer(DomainError):
    """The named officer is not on the roster of the node that received the command."""


class NotFound(DomainError):
    """The ticket, unit or officer named by the command does not exist here."""
