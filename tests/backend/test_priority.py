"""Training threads at a lower priority than the GUI thread (Linux's per-thread nice)."""

from __future__ import annotations

import os
import sys
import threading

import pytest

from backend.training.priority import DEFAULT_NICE, lower_priority, other_threads, training_nice

linux = pytest.mark.skipif(not sys.platform.startswith("linux"), reason="per-thread nice")


@linux
def test_a_thread_is_lowered_once_and_the_kept_thread_is_left_alone() -> None:
    started, release = threading.Event(), threading.Event()
    ids: list[int] = []

    def work() -> None:
        ids.append(threading.get_native_id())
        started.set()
        release.wait(10)

    thread = threading.Thread(target=work)
    thread.start()
    try:
        started.wait(10)
        me = threading.get_native_id()
        found = other_threads(keep=me)
        assert ids[0] in found and me not in found
        before = os.getpriority(os.PRIO_PROCESS, me)
        assert lower_priority([ids[0]], nice=before + 3) == 1
        assert os.getpriority(os.PRIO_PROCESS, ids[0]) == before + 3
        assert lower_priority([ids[0]], nice=before + 3) == 0  # never raised back
        assert lower_priority([ids[0]], nice=before + 1) == 0  # nor lowered (needs privilege)
        assert os.getpriority(os.PRIO_PROCESS, me) == before
        assert lower_priority([999_999_999], nice=5) == 0  # a thread that is gone
    finally:
        release.set()
        thread.join()


def test_the_nice_value_comes_from_the_environment(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("DEEPCANVAS_TRAIN_NICE", raising=False)
    assert training_nice() == DEFAULT_NICE
    for raw, value in (("0", 0), ("7", 7), ("99", 19), ("-4", 0), ("lots", DEFAULT_NICE)):
        monkeypatch.setenv("DEEPCANVAS_TRAIN_NICE", raw)
        assert training_nice() == value
    monkeypatch.setenv("DEEPCANVAS_TRAIN_NICE", "0")
    assert lower_priority([threading.get_native_id()]) == 0  # off: nothing changes
