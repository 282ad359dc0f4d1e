"""The optimizer's update, traced lean: the same arithmetic as Keras', a fraction of the graph.

Keras' optimizers update one variable at a time through `keras.ops`, and Adam recomputes its
bias corrections (two powers, a square root, two divisions) for every variable. Traced into
the training step that is about 18 operations a variable, each through several Python layers:
for the benchmark CNN the optimizer is a third of the step's tracing, and the bigger graph
also costs TensorFlow's optimizer passes at the first call. The run's result does not depend
on any of it.

`lean_update(optimizer)` gives one optimizer instance an update that computes what Keras'
`update_step` computes, with the same TensorFlow kernels in the same order on the same
values (so the weights come out bit for bit the same, `tests/backend/test_lean_update.py`),
but the learning rate and bias corrections once per dtype, not once per variable, and with
TensorFlow's operations directly. It covers the update steps of `Adam` (and `AdamW`, which
only adds weight decay, applied before the update as in Keras) and `SGD` (with or without
momentum and Nesterov); any other optimizer, AMSGrad, a distribution strategy or a sparse
gradient (an Embedding's) takes Keras' own path. Clipping, weight decay, EMA, gradient
accumulation and the step counter stay Keras' (they run around `_backend_update_step`).
The instance's class, configuration and saved form are unchanged (a `.keras` file saved
after training loads with Keras' own update).
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from backend.keras_env import import_keras, import_tensorflow

_ATTRIBUTE = "_backend_update_step"


def lean_update(optimizer: Any) -> bool:
    """Give this optimizer the lean update when its update step is one we reproduce exactly;
    returns whether it did. Call before the training step is traced."""
    step = _lean_step_for(optimizer)
    if step is None or _ATTRIBUTE in vars(optimizer):
        return False
    keras_step = getattr(optimizer, _ATTRIBUTE)

    def update(grads: list[Any], variables: list[Any], learning_rate: Any) -> None:
        tf = import_tensorflow()
        if tf.distribute.has_strategy() or any(
            isinstance(g, tf.IndexedSlices) for g in grads
        ):  # a strategy's replicas, or a sparse gradient: Keras' own path
            keras_step(grads, variables, learning_rate)
            return
        step(optimizer, grads, variables, learning_rate)

    setattr(optimizer, _ATTRIBUTE, update)  # this instance only: an attribute, not a method
    return True


def _lean_step_for(optimizer: Any) -> Callable[..., None] | None:
    keras = import_keras()
    update_step = getattr(type(optimizer), "update_step", None)
    if update_step is keras.optimizers.Adam.update_step and not optimizer.amsgrad:
        return _adam
    if update_step is keras.optimizers.SGD.update_step:
        return _sgd
    return None


def _pairs(optimizer: Any, grads: list[Any], variables: list[Any]) -> list[tuple[Any, Any, int]]:
    """(gradient, TensorFlow variable, index among the optimizer's variables) per variable."""
    keras = import_keras()
    index = optimizer._get_variable_index
    return [
        (g, var.value if isinstance(var, keras.Variable) else var, index(var))
        for g, var in zip(grads, variables, strict=True)
    ]


def _adam(optimizer: Any, grads: list[Any], variables: list[Any], learning_rate: Any) -> None:
    """Keras' `Adam.update_step`, each line the same operation on the same values."""
    tf = import_tensorflow()
    corrections: dict[Any, Any] = {}
    beta_1, beta_2, epsilon = optimizer.beta_1, optimizer.beta_2, optimizer.epsilon
    for gradient, variable, index in _pairs(optimizer, grads, variables):
        dtype = variable.dtype
        if dtype not in corrections:
            lr = tf.cast(learning_rate, dtype)
            local_step = tf.cast(optimizer.iterations + 1, dtype)
            beta_1_power = tf.pow(tf.cast(beta_1, dtype), local_step)
            beta_2_power = tf.pow(tf.cast(beta_2, dtype), local_step)
            corrections[dtype] = lr * tf.sqrt(1 - beta_2_power) / (1 - beta_1_power)
        alpha = corrections[dtype]
        gradient = tf.cast(gradient, dtype)
        m = optimizer._momentums[index].value
        v = optimizer._velocities[index].value
        m.assign_add(tf.cast((gradient - m) * (1 - beta_1), dtype))
        v.assign_add(tf.cast((tf.square(gradient) - v) * (1 - beta_2), dtype))
        variable.assign_sub(tf.cast((m * alpha) / (tf.sqrt(v) + epsilon), dtype))


def _sgd(optimizer: Any, grads: list[Any], variables: list[Any], learning_rate: Any) -> None:
    """Keras' `SGD.update_step`, each line the same operation on the same values."""
    tf = import_tensorflow()
    rates: dict[Any, Any] = {}
    for gradient, variable, index in _pairs(optimizer, grads, variables):
        dtype = variable.dtype
        if dtype not in rates:
            rates[dtype] = tf.cast(learning_rate, dtype)
        lr = rates[dtype]
        gradient = tf.cast(gradient, dtype)
        if optimizer.momentum == 0:
            variable.assign_sub(tf.cast(gradient * lr, dtype))
            continue
        m = optimizer.momentums[index].value
        momentum = tf.cast(optimizer.momentum, dtype)
        m.assign(tf.cast(m * momentum - gradient * lr, dtype))
        if optimizer.nesterov:
            variable.assign_add(tf.cast(m * momentum - gradient * lr, dtype))
        else:
            variable.assign_add(tf.cast(m, dtype))
