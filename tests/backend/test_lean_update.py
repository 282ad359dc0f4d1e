"""The lean optimizer update trains bit for bit what Keras' own update trains, for every
optimizer setting it takes, in a smaller traced step; the others keep Keras' path."""

from __future__ import annotations

from typing import Any

import numpy as np
import pytest

from backend.keras_env import import_keras, import_tensorflow
from backend.training.lean_update import lean_update


def _model(keras: Any, optimizer: Any, embedding: bool = False) -> Any:
    keras.utils.set_random_seed(7)
    if embedding:  # a sparse gradient: Keras' own path, inside the lean update
        inputs = keras.Input((6,), dtype="int32")
        h = keras.layers.GlobalAveragePooling1D()(keras.layers.Embedding(20, 4)(inputs))
    else:
        inputs = keras.Input((8, 8, 1))
        h = keras.layers.Conv2D(4, 3, activation="relu")(inputs)
        h = keras.layers.BatchNormalization()(h)
        h = keras.layers.Flatten()(h)
    outputs = keras.layers.Dense(3, activation="softmax")(h)
    model = keras.Model(inputs, outputs)
    model.compile(optimizer=optimizer, loss="sparse_categorical_crossentropy")
    return model


def _train(keras: Any, optimizer: Any, lean: bool, embedding: bool = False) -> Any:
    """Two epochs in a fixed order, with the lean update or with Keras' own."""
    rng = np.random.default_rng(0)
    if embedding:
        x: Any = rng.integers(0, 20, size=(64, 6)).astype("int32")
    else:
        x = rng.normal(size=(64, 8, 8, 1)).astype("float32")
    y = rng.integers(0, 3, size=64)
    model = _model(keras, optimizer, embedding)
    if lean:
        assert lean_update(model.optimizer)
    model.fit(x, y, batch_size=16, epochs=2, shuffle=False, verbose=0)
    return model


OPTIMIZERS = {
    "adam, weight decay and clipping": lambda k: k.optimizers.Adam(
        0.01, weight_decay=0.01, clipnorm=0.5
    ),
    "adamw": lambda k: k.optimizers.AdamW(0.01),
    "sgd": lambda k: k.optimizers.SGD(0.05),
    "sgd, momentum": lambda k: k.optimizers.SGD(0.05, momentum=0.9),
    "sgd, nesterov": lambda k: k.optimizers.SGD(0.05, momentum=0.9, nesterov=True),
}


@pytest.mark.parametrize("name", list(OPTIMIZERS))
def test_the_lean_update_trains_the_same_weights_bit_for_bit(name: str) -> None:
    keras = import_keras()
    plain = _train(keras, OPTIMIZERS[name](keras), lean=False)
    lean = _train(keras, OPTIMIZERS[name](keras), lean=True)
    for a, b in zip(plain.get_weights(), lean.get_weights(), strict=True):
        assert np.isfinite(b).all()
        np.testing.assert_array_equal(a, b)
    for a, b in zip(plain.optimizer.variables, lean.optimizer.variables, strict=True):
        np.testing.assert_array_equal(np.asarray(a), np.asarray(b))


def test_the_traced_update_is_smaller() -> None:
    keras = import_keras()
    tf = import_tensorflow()

    def operations(lean: bool) -> int:
        model = _model(keras, keras.optimizers.Adam(0.01))
        model.optimizer.build(model.trainable_variables)
        if lean:
            assert lean_update(model.optimizer)
            assert not lean_update(model.optimizer)  # once
        grads = [tf.ones_like(v.value) for v in model.trainable_variables]
        step = tf.function(lambda: model.optimizer.apply(grads, model.trainable_variables))
        return len(step.get_concrete_function().graph.get_operations())

    keras_ops, lean_ops = operations(lean=False), operations(lean=True)
    assert lean_ops < 0.75 * keras_ops, (lean_ops, keras_ops)


def test_other_optimizers_and_sparse_gradients_keep_keras_path() -> None:
    keras = import_keras()
    for optimizer in (keras.optimizers.Nadam(), keras.optimizers.Adam(amsgrad=True)):
        assert not lean_update(optimizer)
    # an Embedding's gradient is sparse: the lean update hands it to Keras, same weights
    plain = _train(keras, keras.optimizers.Adam(0.01), lean=False, embedding=True)
    lean = _train(keras, keras.optimizers.Adam(0.01), lean=True, embedding=True)
    for a, b in zip(plain.get_weights(), lean.get_weights(), strict=True):
        np.testing.assert_array_equal(a, b)
