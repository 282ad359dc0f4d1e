"""The validation step traced while the first training step starts running.

A run's first call into TensorFlow does two things one after the other: Python traces the
training step into a graph (holding the interpreter), then TensorFlow optimises that graph,
creates its kernels and runs the first batch (in C++, the interpreter free). Tracing the
validation step waits, in plain `fit`, for the end of the first epoch, and then holds the
run again. Measured on the 2-core VM (benchmark models of `benchmarks/`, seconds): the
first call's C++ part 0.06-0.14 for the CNN and 0.16-0.24 for the LSTM; tracing the
validation step 0.04-0.05 and 0.09.

So the first call is split: the training step is traced on the training thread, then a
helper thread traces the validation step while the training thread is inside TensorFlow
running the first batch. At the first validation, Keras finds the step traced and only runs
it. Nothing else changes: the same functions, traced once each (`tf.function` keeps the
trace; a test checks each step is traced exactly once), and the helper is joined before
validation starts. Only for a run on the default strategy, with its validation data as a
`tf.data` pipeline (as the trainer gives it, `batched_validation`); a helper that fails
leaves the tracing to validation, as before.
"""

from __future__ import annotations

import inspect
import threading
from typing import Any

from backend.keras_env import import_keras, import_tensorflow


def traced_step(function: Any) -> Any:
    """The `tf.function` behind a Keras train or test function (None if Keras changed)."""
    try:
        found = inspect.getclosurevars(function).nonlocals.get("multi_step_on_iterator")
    except TypeError:  # not a Python function
        return None
    return found if hasattr(found, "get_concrete_function") else None


class TraceAhead:
    """A Keras callback (built lazily on Keras) tracing the validation step ahead."""

    def __new__(cls, validation: Any) -> Any:
        keras = import_keras()
        tf = import_tensorflow()

        class Ahead(keras.callbacks.Callback):  # type: ignore[name-defined]
            def __init__(self) -> None:
                super().__init__()
                self.thread: threading.Thread | None = None
                self.traced = False
                """Whether the helper traced the validation step."""
                self.unused: tuple[Any, Any] | None = None  # (wrapper, Keras' function)

            def on_train_begin(self, logs: Any = None) -> None:
                model = self.model
                if not isinstance(validation, tf.data.Dataset) or tf.distribute.has_strategy():
                    return
                train = model.train_function
                model.make_test_function()
                train_step, test_step = traced_step(train), traced_step(model.test_function)
                if train is None or train_step is None or test_step is None:
                    return
                policy = keras.config.dtype_policy()  # Keras' global state is per thread

                def first_call(iterator: Any) -> Any:
                    model.train_function = train  # once
                    train_step.get_concrete_function(iterator)  # traced here, on this thread
                    self.thread = threading.Thread(
                        target=self._trace, args=(test_step, policy), daemon=True
                    )
                    self.thread.start()
                    return train(iterator)  # runs in TensorFlow: the helper traces meanwhile

                model.train_function = first_call
                self.unused = (first_call, train)

            def _trace(self, test_step: Any, policy: Any) -> None:
                try:
                    keras.config.set_dtype_policy(policy)
                    test_step.get_concrete_function(iter(validation))
                    self.traced = True
                except Exception:  # validation traces it, as it would have anyway
                    pass

            def on_test_begin(self, logs: Any = None) -> None:
                self.join()

            def on_train_end(self, logs: Any = None) -> None:
                self.join()
                if self.unused and self.model.train_function is self.unused[0]:
                    self.model.train_function = self.unused[1]  # no batch was trained

            def join(self) -> None:
                if self.thread is not None:
                    self.thread.join()
                    self.thread = None

        return Ahead()
