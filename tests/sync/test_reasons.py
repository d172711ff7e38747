"""Refusal and alert reasons are closed lists: the alert follows from the reason, not its words."""

from __future__ import annotations

from sync.reasons import AlertKind, Refusal, Refused


def test_alert_kinds_keep_the_strings_stored_and_printed_today() -> None:
    assert [k.value for k in AlertKind] == [
        "refused-event",
        "tampered-event",
        "fork",
        "revoked-signer",
        "rule-book-refused",
        "released",
        "access-record",
        "account-refused",
        "roster-refused",
    ]


def test_every_refusal_has_a_text_for_humans_and_a_decided_alert() -> None:
    for reason in Refusal:
        assert reason.text and reason.text == reason.text.strip()
        assert reason.alert is None or isinstance(reason.alert, AlertKind)


def test_a_broken_signature_or_chain_alerts_of_tampering_and_a_fork_of_a_fork() -> None:
    assert Refused(Refusal.BAD_SIGNATURE).alert is AlertKind.TAMPERED_EVENT
    assert Refused(Refusal.CHAIN_BROKEN, "x").alert is AlertKind.TAMPERED_EVENT
    assert Refused(Refusal.FORK, "a different event n#3 is already held").alert is AlertKind.FORK
    assert Refused(Refusal.SIGNER_NOT_TRUSTED, "revoked").alert is AlertKind.REFUSED_EVENT


def test_a_refusal_whose_detail_mentions_verify_is_not_taken_for_tampering() -> None:
    # The alert used to be chosen by looking for "verify" in the message, which would have
    # taken this one for tampering.
    refused = Refused(Refusal.NO_CERTIFICATE, "certificate of node-x does not verify")
    assert refused.alert is AlertKind.REFUSED_EVENT


def test_waiting_and_gaps_are_recorded_without_an_alert() -> None:
    assert Refusal.WAITS_FOR_EARLIER.alert is None
    assert Refusal.GAP.alert is None
    assert Refusal.QUARANTINED.alert is None


def test_a_refusal_reads_as_its_phrase_then_its_detail() -> None:
    assert str(Refused(Refusal.GAP, "expected n#4, got #6")) == "gap: expected n#4, got #6"
    assert str(Refused(Refusal.BAD_SIGNATURE)) == "signature does not verify"
