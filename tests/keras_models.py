"""The varied Keras models the import, round-trip and script tests share, and how they compare.

Each builder returns a small, real functional (or Sequential) model; `architecture` is the
model's config with the names Keras draws itself (those of `keras.ops` nodes such as an
Embedding's mask, numbered per process) replaced by their order, which is all a round trip may
change.
"""

from __future__ import annotations

import json
from collections.abc import Callable
from typing import Any

import numpy as np

from backend.keras_env import import_keras


def mlp() -> Any:
    keras = import_keras()
    layers = keras.layers
    inputs = keras.Input((12,), name="features")
    x = layers.Dense(32, activation="relu", kernel_regularizer="l2", name="hidden")(inputs)
    x = layers.Dropout(0.25, name="drop")(x)
    x = layers.Dense(16, activation="tanh", kernel_initializer="he_normal", name="hidden_2")(x)
    return keras.Model(inputs, layers.Dense(3, activation="softmax", name="probs")(x), name="mlp")


def cnn() -> Any:
    keras = import_keras()
    layers = keras.layers
    inputs = keras.Input((16, 16, 1), name="image")
    x = layers.Rescaling(1 / 255.0, name="scale")(inputs)
    x = layers.Conv2D(8, 3, padding="same", activation="relu", name="conv_1")(x)
    x = layers.BatchNormalization(name="bn_1")(x)
    x = layers.MaxPooling2D(name="pool_1")(x)
    x = layers.SeparableConv2D(16, (3, 3), strides=2, name="sep")(x)
    x = layers.GlobalAveragePooling2D(name="gap")(x)
    return keras.Model(inputs, layers.Dense(10, name="logits")(x), name="cnn")


def lstm_text() -> Any:
    """An LSTM text classifier: masked Embedding, Bidirectional LSTM, a TimeDistributed head."""
    keras = import_keras()
    layers = keras.layers
    tokens = keras.Input((20,), dtype="int32", name="tokens")
    x = layers.Embedding(200, 16, mask_zero=True, name="embed")(tokens)
    x = layers.Bidirectional(layers.LSTM(8, return_sequences=True), name="bi_lstm")(x)
    x = layers.TimeDistributed(layers.Dense(8, activation="relu"), name="per_step")(x)
    x = layers.GRU(8, name="gru")(x)
    return keras.Model(tokens, layers.Dense(1, activation="sigmoid", name="p")(x), name="text")


def transformer() -> Any:
    keras = import_keras()
    layers = keras.layers
    tokens = keras.Input((12,), dtype="int32", name="tokens")
    x = layers.Embedding(100, 16, name="embed")(tokens)
    attention = layers.MultiHeadAttention(2, 8, dropout=0.1, name="mha")(x, x)
    x = layers.LayerNormalization(epsilon=1e-6, name="ln_1")(
        layers.Add(name="res_1")([x, attention])
    )
    ff = layers.Dense(32, activation="gelu", name="ff_1")(x)
    ff = layers.Dense(16, name="ff_2")(ff)
    x = layers.LayerNormalization(epsilon=1e-6, name="ln_2")(layers.Add(name="res_2")([x, ff]))
    x = layers.GlobalAveragePooling1D(name="pool")(x)
    return keras.Model(tokens, layers.Dense(2, name="logits")(x), name="encoder")


def resnet_style() -> Any:
    keras = import_keras()
    layers = keras.layers
    inputs = keras.Input((12, 12, 3), name="image")
    x = layers.Conv2D(8, 3, padding="same", name="stem")(inputs)
    for i in range(2):
        skip = x
        y = layers.Conv2D(8, 3, padding="same", use_bias=False, name=f"b{i}_conv_a")(x)
        y = layers.BatchNormalization(name=f"b{i}_bn")(y)
        y = layers.ReLU(name=f"b{i}_relu")(y)
        y = layers.Conv2D(8, 3, padding="same", name=f"b{i}_conv_b")(y)
        x = layers.Activation("relu", name=f"b{i}_out")(layers.Add(name=f"b{i}_add")([skip, y]))
    x = layers.GlobalMaxPooling2D(name="pool")(x)
    return keras.Model(inputs, layers.Dense(4, name="head")(x), name="resnet_style")


def two_in_two_out() -> Any:
    keras = import_keras()
    layers = keras.layers
    image = keras.Input((8, 8, 1), name="image")
    meta = keras.Input((5,), name="meta")
    a = layers.Flatten(name="flat")(layers.Conv2D(4, 3, name="conv")(image))
    b = layers.Dense(8, activation="relu", name="meta_fc")(meta)
    joined = layers.Concatenate(name="join")([a, b])
    kind = layers.Dense(3, activation="softmax", name="kind")(joined)
    size = layers.Dense(1, name="size")(joined)
    return keras.Model([image, meta], [kind, size], name="two_heads")


def siamese_nested() -> Any:
    """A nested model applied twice and a Dense shared by two branches (one layer, two calls)."""
    keras = import_keras()
    layers = keras.layers
    inner_in = keras.Input((6,), name="inner_in")
    inner_out = layers.Dense(4, activation="relu", name="inner_fc")(inner_in)
    encoder = keras.Model(inner_in, inner_out, name="encoder")
    left = keras.Input((6,), name="left")
    right = keras.Input((6,), name="right")
    shared = layers.Dense(6, name="shared")
    distance = layers.Subtract(name="diff")([encoder(shared(left)), encoder(shared(right))])
    frozen = keras.Sequential([keras.Input((4,)), layers.Dense(2, name="seq_fc")], name="head")
    frozen.trainable = False
    return keras.Model([left, right], frozen(distance), name="siamese")


def seq2seq_states() -> Any:
    """An LSTM encoder-decoder: the encoder's final states (`return_state=True`) start the
    decoder (`initial_state`); a bidirectional encoder's five outputs and a GRU's state too."""
    keras = import_keras()
    layers = keras.layers
    source = keras.Input((6, 3), name="source")
    target = keras.Input((5, 2), name="target")
    _seq, h, c = layers.LSTM(8, return_state=True, name="encoder")(source)
    decoded = layers.LSTM(8, return_sequences=True, name="decoder")(target, initial_state=[h, c])
    both = layers.Bidirectional(layers.LSTM(4, return_state=True), name="bi_encoder")(source)
    _bi, fh, fc, bh, bc = both
    state_h = layers.Concatenate(name="state_h")([fh, bh])
    state_c = layers.Concatenate(name="state_c")([fc, bc])
    second = layers.LSTM(8, return_sequences=True, name="decoder_2")(
        decoded, initial_state=[state_h, state_c]
    )
    _last, gru_state = layers.GRU(4, return_state=True, name="summary")(second)
    steps = layers.TimeDistributed(layers.Dense(3), name="steps")(second)
    return keras.Model([source, target], [steps, gru_state], name="seq2seq")


def attention_scores() -> Any:
    """Multi-head attention whose scores are a second model output, and dot-product attention
    whose scores feed on (`return_attention_scores=True`: two tensors per call)."""
    keras = import_keras()
    layers = keras.layers
    tokens = keras.Input((7, 8), name="tokens")
    mixed, scores = layers.MultiHeadAttention(2, 4, name="mha")(
        tokens, tokens, return_attention_scores=True
    )
    context, weights = layers.Attention(name="attend")(
        [mixed, tokens], return_attention_scores=True
    )
    pooled = layers.GlobalAveragePooling1D(name="pool")(context)
    flat = layers.Flatten(name="weights_flat")(weights)
    joined = layers.Concatenate(name="join")([pooled, flat])
    return keras.Model(tokens, [layers.Dense(2, name="logits")(joined), scores], name="scores")


def nested_two_outputs() -> Any:
    """A nested functional model with two outputs: both read, one a model output itself."""
    keras = import_keras()
    layers = keras.layers
    inner_in = keras.Input((6,), name="inner_in")
    wide = layers.Dense(5, activation="relu", name="wide")(inner_in)
    narrow = layers.Dense(2, name="narrow")(wide)
    trunk = keras.Model(inner_in, [wide, narrow], name="trunk")
    features = keras.Input((6,), name="features")
    a, b = trunk(features)
    joined = layers.Concatenate(name="join")([a, b])
    return keras.Model(features, [layers.Dense(1, name="score")(joined), b], name="two_out")


def keras_ops() -> Any:
    """keras.ops calls between layers: `ops.add`, `x * 2`, `ops.mean(axis=1)`, indexing,
    `ops.concatenate`, and `ops.split`, an operation with two outputs."""
    keras = import_keras()
    layers, ops = keras.layers, keras.ops
    a = keras.Input((6,), name="a")
    b = keras.Input((6,), name="b")
    total = ops.add(layers.Dense(6, name="fc_a")(a), b)
    doubled = total * 2
    grid = layers.Reshape((2, 3), name="grid")(doubled)
    mean = ops.mean(grid, axis=1)
    head = a[:, :2]
    left, right = ops.split(doubled, 2, axis=-1)
    joined = ops.concatenate([mean, head, left * right], axis=-1)
    return keras.Model([a, b], layers.Dense(2, name="out")(joined), name="with_ops")


def conv_autoencoder() -> Any:
    """A convolutional autoencoder: the image squeezed through strided convolutions and
    rebuilt with transposed ones (its output has the input's shape)."""
    keras = import_keras()
    layers = keras.layers
    image = keras.Input((16, 16, 1), name="image")
    x = layers.Conv2D(8, 3, strides=2, padding="same", activation="relu", name="down_1")(image)
    code = layers.Conv2D(4, 3, strides=2, padding="same", activation="relu", name="code")(x)
    x = layers.Conv2DTranspose(8, 3, strides=2, padding="same", activation="relu", name="up_1")(
        code
    )
    x = layers.Conv2DTranspose(1, 3, strides=2, padding="same", name="up_2")(x)
    return keras.Model(image, layers.Activation("sigmoid", name="pixels")(x), name="autoencoder")


def sequential_mlp() -> Any:
    keras = import_keras()
    layers = keras.layers
    return keras.Sequential(
        [keras.Input((7,)), layers.Dense(5, activation="relu"), layers.Dense(1)], name="seq"
    )


VARIED: dict[str, Callable[[], Any]] = {
    "mlp": mlp,
    "cnn": cnn,
    "lstm_text": lstm_text,
    "transformer": transformer,
    "resnet_style": resnet_style,
    "two_in_two_out": two_in_two_out,
    "siamese_nested": siamese_nested,
    "seq2seq_states": seq2seq_states,
    "attention_scores": attention_scores,
    "nested_two_outputs": nested_two_outputs,
    "keras_ops": keras_ops,
}


def architecture(model: Any) -> Any:
    """`model.get_config()` as plain JSON, `keras.ops` node names replaced by their order."""
    config = json.loads(json.dumps(model.get_config(), default=str))
    renames: dict[str, str] = {}

    def collect(cfg: dict[str, Any]) -> None:
        for layer in cfg.get("layers", []):
            if str(layer.get("module", "")).startswith("keras.src.ops."):
                renames[layer["name"]] = f"op_{len(renames)}"
            if isinstance(layer.get("config"), dict) and "layers" in layer["config"]:
                collect(layer["config"])

    collect(config)
    return json.loads(_rename(json.dumps(config), renames))


def _rename(text: str, renames: dict[str, str]) -> str:
    for old, new in renames.items():
        text = text.replace(f'"{old}"', f'"{new}"')
    return text


def sample_inputs(model: Any, batch: int = 3, seed: int = 0) -> list[np.ndarray]:
    """Random inputs for every model input (token ids for integer inputs)."""
    rng = np.random.default_rng(seed)
    inputs = []
    for tensor in model.inputs:
        shape = (batch, *tensor.shape[1:])
        if "int" in str(tensor.dtype):
            inputs.append(rng.integers(0, 50, size=shape).astype(str(tensor.dtype)))
        else:
            inputs.append(rng.random(shape).astype("float32"))
    return inputs


def predict(model: Any, inputs: list[np.ndarray]) -> list[np.ndarray]:
    out = model(inputs if len(inputs) > 1 else inputs[0], training=False)
    return [np.asarray(o) for o in (out if isinstance(out, (list, tuple)) else [out])]
