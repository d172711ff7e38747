"""Session tokens signed and checked with the node's own Ed25519 key.

Why the node's event key and not a key of its own: it is already the node's identity, certified
by the hierarchy, kept 0600 in the data folder and rotated with ``hotline pki rotate``; anyone
holding the node's certificate can tell a token of this node from another's without a new key
to hand out. Signatures of different things never mix because each is made over its own
context prefix: events over ``hotline.v1.event\\0 || envelope``, rule books over theirs, tokens
over ``hotline.v1.session\\0 || claims``. A token can thus never pass as an event, nor the
reverse. Rotating the node's keys ends every session (their tokens no longer verify): officers
sign in again.
"""

from __future__ import annotations

from core.access.reasons import TokenRefusal
from core.access.sessions import BadToken, SessionClaims, token_parts, token_text
from sync.identity import NodeIdentity
from sync.signatures import verify

SESSION_CONTEXT = b"hotline.v1.session\x00"
"""Prefix of every token signature's message."""


class TokenRefused(Exception):
    """A token that does not get past its text and signature; internal to the sign-in desk,
    which records it and answers ``NotSignedIn``."""

    def __init__(self, refusal: TokenRefusal, claims: SessionClaims | None, detail: str) -> None:
        super().__init__(detail)
        self.refusal = refusal
        self.claims = claims
        """What the token claims, when readable (unproven unless the refusal says otherwise)."""


def sign_token(identity: NodeIdentity, claims: SessionClaims) -> str:
    """The token of ``claims``, signed by this node."""
    data = claims.to_bytes()
    return token_text(data, identity.sign(SESSION_CONTEXT + data))


def open_token(identity: NodeIdentity, token: str) -> SessionClaims:
    """The claims of a token this node signed, or ``TokenRefused``: ``MALFORMED`` when it is no
    token, ``OTHER_NODE`` when it names another node (not checked further: this node does not
    take another's tokens, however good), ``FORGED`` when its signature does not verify under
    this node's current key (forged, altered, or signed before a key rotation)."""
    try:
        data, signature = token_parts(token)
        claims = SessionClaims.from_bytes(data)
    except BadToken as exc:
        raise TokenRefused(TokenRefusal.MALFORMED, None, str(exc)) from None
    if claims.node_id != identity.node_id:
        raise TokenRefused(TokenRefusal.OTHER_NODE, claims, f"issued by {claims.node_id}")
    if not verify(identity.public.public_key, signature, SESSION_CONTEXT + data):
        raise TokenRefused(TokenRefusal.FORGED, claims, "signature does not verify")
    return claims
