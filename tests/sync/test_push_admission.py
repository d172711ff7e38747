"""The parent's admission of pushes (sync.push_admission) and the child's back-off on its hint."""

from __future__ import annotations

import asyncio

import pytest

from sync.client import backoff_seconds
from sync.errors import Busy
from sync.push_admission import PushAdmission, default_max_pushes


async def _hold(admission: PushAdmission, child: str, release: asyncio.Event) -> None:
    async with admission.admitted(child):
        await release.wait()


async def _holding(
    admission: PushAdmission, count: int
) -> tuple[asyncio.Event, list[asyncio.Task[None]]]:
    release = asyncio.Event()
    tasks = [asyncio.create_task(_hold(admission, f"county-{i}", release)) for i in range(count)]
    await asyncio.sleep(0)
    return release, tasks


def test_no_more_pushes_are_taken_at_once_than_the_setting_allows() -> None:
    async def scenario() -> None:
        admission = PushAdmission(2)
        release, tasks = await _holding(admission, 2)
        assert admission.in_flight == 2
        with pytest.raises(Busy):
            async with admission.admitted("county-late"):
                pytest.fail("a third push was taken in while two were being served")
        release.set()
        await asyncio.gather(*tasks)
        assert (admission.counts.admitted, admission.counts.refused, admission.counts.peak) == (
            2,
            1,
            2,
        )

    asyncio.run(scenario())


def test_a_refused_push_is_told_when_to_come_back_and_later_in_a_longer_queue() -> None:
    async def scenario() -> None:
        admission = PushAdmission(2, base_hint_ms=100, max_hint_ms=1000)
        release, tasks = await _holding(admission, 2)
        hints = []
        for i in range(30):
            with pytest.raises(Busy) as refused:
                async with admission.admitted(f"county-{i + 10}"):
                    pass
            hints.append(refused.value.retry_after_ms)
        assert hints[0] == 100
        assert hints == sorted(hints)
        assert hints[-1] == 1000  # capped
        assert "retry in" in str(refused.value)
        release.set()
        await asyncio.gather(*tasks)

    asyncio.run(scenario())


def test_a_finished_push_gives_its_slot_back() -> None:
    async def scenario() -> None:
        admission = PushAdmission(1)
        async with admission.admitted("county-a"):
            assert admission.in_flight == 1
        async with admission.admitted("county-b"):
            assert admission.in_flight == 1
        assert admission.in_flight == 0

    asyncio.run(scenario())


def test_a_failed_or_cancelled_push_gives_its_slot_back() -> None:
    async def scenario() -> None:
        admission = PushAdmission(1)
        with pytest.raises(RuntimeError):
            async with admission.admitted("county-a"):
                raise RuntimeError("the child sent a broken batch")
        assert admission.in_flight == 0
        _, tasks = await _holding(admission, 1)
        assert admission.in_flight == 1
        tasks[0].cancel()  # the child hung up mid-stream
        await asyncio.gather(*tasks, return_exceptions=True)
        assert admission.in_flight == 0
        async with admission.admitted("county-b"):
            pass

    asyncio.run(scenario())


def test_unset_pushes_at_once_are_sized_for_the_machine() -> None:
    assert default_max_pushes(8) == 8
    assert default_max_pushes(1) == 2
    assert PushAdmission(0).max_pushes == default_max_pushes()
    with pytest.raises(ValueError):
        PushAdmission(-1)


def test_a_child_pushed_back_waits_the_hint_with_jitter_and_never_less() -> None:
    assert backoff_seconds(3, 400, lambda low, high: low) == pytest.approx(0.4)
    assert backoff_seconds(3, 400, lambda low, high: high) == pytest.approx(0.6)
    # without a hint: exponential in the failures in a row
    assert backoff_seconds(1, None, lambda low, high: 1.0) == pytest.approx(1.0)
    assert backoff_seconds(4, None, lambda low, high: 1.0) == pytest.approx(8.0)


def test_the_hint_shrinks_again_as_pushes_finish() -> None:
    async def refused_hint(admission: PushAdmission) -> int:
        with pytest.raises(Busy) as refused:
            async with admission.admitted("county-late"):
                pass
        return refused.value.retry_after_ms

    async def scenario() -> None:
        admission = PushAdmission(1, base_hint_ms=100, max_hint_ms=10_000)
        release, tasks = await _holding(admission, 1)
        crowded = [await refused_hint(admission) for _ in range(5)]
        assert crowded == [100, 200, 300, 400, 500]
        release.set()
        await asyncio.gather(*tasks)
        release, tasks = await _holding(admission, 1)
        assert await refused_hint(admission) == 500  # one finished push worked off one refusal
        release.set()
        await asyncio.gather(*tasks)

    asyncio.run(scenario())


def test_a_lost_refusal_is_believed_only_a_few_rounds_in_a_row() -> None:
    """INTERNAL 'Internal error from Core' is taken for a busy parent's lost refusal (retried
    soon) only at first: a parent that keeps failing for real gets the normal back-off."""
    from sync.client import CORE_WRITE_FAILED, LOST_REFUSALS_BELIEVED, _lost_refusal

    assert _lost_refusal("INTERNAL", CORE_WRITE_FAILED, 0)
    assert not _lost_refusal("INTERNAL", CORE_WRITE_FAILED, LOST_REFUSALS_BELIEVED)
    assert not _lost_refusal("INTERNAL", "something else", 0)
