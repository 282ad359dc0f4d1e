"""Work done on a helper thread while the first training call runs inside TensorFlow.

A run's first call into TensorFlow does two things one after the other: Python traces the
training step into a graph (holding the interpreter), then TensorFlow optimises that graph,
creates its kernels and runs the first batch (in C++, the interpreter free). Measured on the
2-core VM (benchmark models of `benchmarks/`, seconds): that C++ part takes 0.06-0.14 for
the CNN and 0.16-0.24 for the LSTM. Two things the run needs soon after can use that time:

- tracing the validation step (0.04-0.05 and 0.09), which plain `fit` does at the end of
  the first epoch, holding the run again;
- the diagnostics probe's measure of the weights before training (`Probe.measure` of a
  `snapshot` taken before the first call: the same numbers whenever it runs).

So the first call is split: the training step is traced on the training thread, then a
helper thread does the queued work while the training thread is inside TensorFlow. What the
helper computed is waited for where it is needed (the probe's before the first batch is
reported, the validation step before validation starts). Nothing else changes: the same
functions, each traced once (`tf.function` keeps the trace; a test checks the count), the
same events in the same order. Only on the default strategy; the validation step only when
the validation data is a `tf.data` pipeline (as the trainer gives it, `batched_validation`).
Work the helper never started runs on the training thread when it is waited for; a trace
that fails is left to validation, as before.

The helper pays only where a core is idle: its Python competes with the first call's
TensorFlow threads and then, where it runs past the call, with the batches. Measured in one
process on the 2-core VM, 10 rounds alternating, the ratio to plain `fit`: at load 1.3-1.6
(nothing else running) CNN 1.41 with the helper against 1.35 without, LSTM 1.26 against 1.14;
at load 2-3 from other processes the first call grew by what validation saved. So a run
uses it when the load average says the cores are not all busy (`idle_core`); the run record
says whether it did (`validation_traced_ahead`).
"""

from __future__ import annotations

import inspect
import os
import threading
from collections.abc import Callable
from typing import Any

from backend.keras_env import import_keras, import_tensorflow


def idle_core() -> bool:
    """Whether this process has a core to spare: two or more cores, and the last minute's
    load average below their number (no load average on the platform: the cores). The load
    counts this process's own earlier runs: measured, the helper paid at 1.3-1.6 on two
    cores (the benchmark alone) and not at 2-3 (other work besides)."""
    try:
        cores = len(os.sched_getaffinity(0))
    except (AttributeError, OSError):
        cores = os.cpu_count() or 1
    try:
        load = os.getloadavg()[0]
    except (AttributeError, OSError):
        load = 0.0
    return cores >= 2 and load < cores


def traced_step(function: Any) -> Any:
    """The `tf.function` behind a Keras train or test function (None if Keras changed)."""
    try:
        found = inspect.getclosurevars(function).nonlocals.get("multi_step_on_iterator")
    except TypeError:  # not a Python function
        return None
    return found if hasattr(found, "get_concrete_function") else None


class Job:
    """One piece of work for the helper; `result` waits for it, or runs it on the calling
    thread if the helper never took it."""

    def __init__(self, work: Callable[[], Any]) -> None:
        self.work = work
        self._lock = threading.Lock()
        self._taken = False
        self._done = threading.Event()
        self._value: Any = None
        self._error: BaseException | None = None

    def run(self) -> None:
        with self._lock:
            if self._taken:
                return
            self._taken = True
        try:
            self._value = self.work()
        except BaseException as exc:  # handed to whoever waits for it
            self._error = exc
        finally:
            self._done.set()

    def result(self) -> Any:
        self.run()  # at once if nobody took it yet
        self._done.wait()
        if self._error is not None:
            raise self._error
        return self._value


class TraceAhead:
    """A Keras callback (built lazily on Keras) running queued work on a helper thread
    during the first training call, and tracing the validation step there."""

    def __new__(cls, validation: Any) -> Any:
        keras = import_keras()
        tf = import_tensorflow()

        class Ahead(keras.callbacks.Callback):  # type: ignore[name-defined]
            def __init__(self) -> None:
                super().__init__()
                self.jobs: list[Job] = []
                self.thread: threading.Thread | None = None
                self.traced = False
                """Whether the helper traced the validation step."""
                self._unused: tuple[Any, Any] | None = None  # (wrapper, Keras' function)
                self._called = False  # the first call has begun

            @property
            def active(self) -> bool:
                """Whether work queued now runs on the helper during the first call."""
                return self._unused is not None and not self._called

            def add(self, work: Callable[[], Any], first: bool = False) -> Job:
                """Queue work for the helper (before the first call); `first`: ahead of the
                validation step."""
                job = Job(work)
                self.jobs.insert(0 if first else len(self.jobs), job)
                return job

            def on_train_begin(self, logs: Any = None) -> None:
                model = self.model
                train = model.train_function
                train_step = traced_step(train)
                if tf.distribute.has_strategy() or train is None or train_step is None:
                    return
                if not idle_core():  # the helper would take the cores the run needs
                    return
                if isinstance(validation, tf.data.Dataset):
                    model.make_test_function()
                    test_step = traced_step(model.test_function)
                    if test_step is not None:
                        self.add(lambda: self._trace(test_step))
                policy = keras.config.dtype_policy()  # Keras' global state is per thread

                def first_call(iterator: Any) -> Any:
                    model.train_function = train  # once
                    self._called = True
                    if not isinstance(
                        iterator, (tf.data.Iterator, tf.distribute.DistributedIterator)
                    ):
                        return train(iterator)  # Keras steps through it in Python: no helper
                    train_step.get_concrete_function(iterator)  # traced here, on this thread
                    self.thread = threading.Thread(
                        target=self._work, args=(policy,), name="trace-ahead", daemon=True
                    )
                    self.thread.start()
                    return train(iterator)  # runs in TensorFlow: the helper works meanwhile

                model.train_function = first_call
                self._unused = (first_call, train)

            def _work(self, policy: Any) -> None:
                keras.config.set_dtype_policy(policy)
                for job in list(self.jobs):
                    job.run()

            def _trace(self, test_step: Any) -> None:
                try:
                    test_step.get_concrete_function(iter(validation))
                    self.traced = True
                except Exception:  # validation traces it, as it would have anyway
                    pass

            def on_test_begin(self, logs: Any = None) -> None:
                self.join()

            def on_train_end(self, logs: Any = None) -> None:
                self.join()
                if self._unused and self.model.train_function is self._unused[0]:
                    self.model.train_function = self._unused[1]  # no batch was trained

            def join(self) -> None:
                if self.thread is not None:
                    self.thread.join()
                    self.thread = None

        return Ahead()
