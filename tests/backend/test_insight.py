"""Inside the network: activations, saliency, filters and decision grids of trained models."""

from __future__ import annotations

import time
from typing import Any

import numpy as np
import pytest

from backend.data import Dataset
from backend.evaluation.insight import (
    InsightError,
    activation_probe,
    data_bounds,
    decision_grid,
    first_layer_filters,
    inspect_sample,
    layer_activations,
    saliency,
    supports_decision_grid,
    tile,
)
from tests import evaluation_models


def test_each_layer_activation_has_the_layer_output_shape_and_the_real_values(
    keras: Any,
) -> None:
    model, dataset = evaluation_models.digits()
    sample = dataset.x_test[3]
    acts = layer_activations(model, sample)
    layers = [layer for layer in model.layers if not isinstance(layer, keras.layers.InputLayer)]
    assert [a.name for a in acts] == [layer.name for layer in layers]
    for act, layer in zip(acts, layers, strict=True):
        assert act.values.shape == tuple(layer.output.shape[1:])
        assert act.layer_type == type(layer).__name__
    conv = acts[0]
    assert conv.is_feature_maps and conv.feature_maps().shape == (8, 8, 8)
    # the conv maps are the layer applied to the sample; the last layer is the prediction
    expected_conv = keras.ops.convert_to_numpy(model.get_layer("conv")(sample[None]))[0]
    np.testing.assert_allclose(conv.values, expected_conv, rtol=1e-5, atol=1e-6)
    prediction = model.predict(sample[None], verbose=0)[0]
    np.testing.assert_allclose(acts[-1].values, prediction, rtol=1e-5, atol=1e-6)
    assert activation_probe(model) is activation_probe(model), "built once per model"


def test_saliency_is_the_input_gradient_of_the_predicted_class() -> None:
    model, dataset = evaluation_models.moons()
    sample = dataset.x_test[0].astype("float64")
    result = saliency(model, sample)
    assert result.values.shape == sample.shape
    p = float(model.predict(sample[None], verbose=0)[0, 0])
    assert result.class_index == int(p >= 0.5)
    eps = 1e-2
    for i in range(2):  # central differences of the sigmoid output
        step = np.zeros(2)
        step[i] = eps
        up = model.predict((sample + step)[None], verbose=0)[0, 0]
        down = model.predict((sample - step)[None], verbose=0)[0, 0]
        assert result.values[i] == pytest.approx(abs(up - down) / (2 * eps), rel=0.05, abs=1e-4)


def test_image_saliency_has_the_input_shape_and_a_class_can_be_chosen() -> None:
    model, dataset = evaluation_models.digits()
    sample = dataset.x_test[0]
    predicted = saliency(model, sample)
    assert predicted.values.shape == sample.shape == (8, 8, 1)
    assert predicted.image.shape == (8, 8)
    assert np.all(predicted.values >= 0) and predicted.values.max() > 0
    probs = model.predict(sample[None], verbose=0)[0]
    assert predicted.class_index == int(probs.argmax())
    other = (predicted.class_index + 1) % 10
    chosen = saliency(model, sample, class_index=other)
    assert chosen.class_index == other
    assert not np.allclose(chosen.values, predicted.values)
    with pytest.raises(InsightError, match="class 12 does not exist"):
        saliency(model, sample, class_index=12)


def test_first_layer_filters_are_the_learned_kernels() -> None:
    model, _ = evaluation_models.digits()
    filters = first_layer_filters(model)
    assert filters is not None and filters.layer_name == "conv"
    kernel = model.get_layer("conv").kernel.numpy()  # (3, 3, 1, 8)
    assert filters.images.shape == (8, 3, 3)
    np.testing.assert_allclose(filters.images[5], kernel[:, :, 0, 5])
    dense = first_layer_filters(evaluation_models.moons()[0])
    assert dense is not None and dense.layer_type == "Dense"
    weights = evaluation_models.moons()[0].get_layer("hidden").kernel.numpy()  # (2, 16)
    assert dense.images.shape == (16, 1, 2)
    np.testing.assert_allclose(dense.images[:, 0, :], weights.T)


def test_a_dense_layer_on_flattened_images_shows_its_weights_as_images(keras: Any) -> None:
    inputs = keras.Input((8, 8, 1))
    outputs = keras.layers.Dense(4)(keras.layers.Flatten()(inputs))
    model = keras.Model(inputs, outputs)
    filters = first_layer_filters(model)
    assert filters is not None and filters.images.shape == (4, 8, 8)
    weights = model.layers[-1].kernel.numpy()
    np.testing.assert_allclose(filters.images[2], weights[:, 2].reshape(8, 8))


def test_tile_lays_images_out_with_nan_gaps_each_scaled_to_unit_range() -> None:
    images = np.arange(5 * 2 * 3, dtype="float32").reshape(5, 2, 3)
    mosaic = tile(images)  # 3 columns x 2 rows of 2x3 images, 1-pixel gaps
    assert mosaic.shape == (2 * 3 - 1, 3 * 4 - 1)
    assert np.isnan(mosaic[2]).all() and np.isnan(mosaic[:, 3]).all()
    first = mosaic[0:2, 0:3]
    assert first.min() == 0.0 and first.max() == 1.0
    assert np.isnan(mosaic[3:5, 8:11]).all(), "the sixth slot is empty"
    np.testing.assert_array_equal(tile(images, normalise=False)[0:2, 4:7], images[1])


def test_decision_grid_covers_the_data_with_the_model_probabilities() -> None:
    model, dataset = evaluation_models.moons()
    assert supports_decision_grid(dataset)
    grid = decision_grid(model, dataset, steps=60)
    assert grid.xs.shape == grid.ys.shape == (60,)
    assert grid.values.shape == (60, 60, 2)
    np.testing.assert_allclose(grid.values.sum(axis=-1), 1.0, rtol=1e-5)
    x0, x1, y0, y1 = data_bounds(dataset)
    points = np.concatenate([dataset.x_train, dataset.x_val, dataset.x_test])
    assert x0 < points[:, 0].min() and x1 > points[:, 0].max()
    assert y0 < points[:, 1].min() and y1 > points[:, 1].max()
    assert grid.bounds == pytest.approx((x0, x1, y0, y1))
    for iy, ix in ((0, 0), (59, 0), (12, 47)):
        point = np.array([[grid.xs[ix], grid.ys[iy]]], dtype="float32")
        p = model.predict(point, verbose=0)[0, 0]
        assert grid.values[iy, ix, 1] == pytest.approx(p, abs=1e-5)
    both = grid.values[..., 1]
    assert both.min() < 0.1 and both.max() > 0.9, "both classes have a region"


def test_decision_grid_is_cheap_and_works_inside_fit(keras: Any, moons: Dataset) -> None:
    keras.utils.set_random_seed(2)
    inputs = keras.Input((2,))
    model = keras.Model(inputs, keras.layers.Dense(3, activation="softmax")(inputs))
    model.compile("adam", "sparse_categorical_crossentropy")
    grids: list[Any] = []
    at_epoch_end = keras.callbacks.LambdaCallback(
        on_epoch_end=lambda epoch, logs: grids.append(decision_grid(model, moons, steps=40))
    )
    model.fit(moons.x_train, moons.y_train, epochs=2, verbose=0, callbacks=[at_epoch_end])
    assert len(grids) == 2 and grids[0].values.shape == (40, 40, 3)
    assert not np.allclose(grids[0].values, grids[1].values), "the boundary moves as it learns"
    start = time.perf_counter()
    for _ in range(5):
        decision_grid(model, moons)
    assert (time.perf_counter() - start) / 5 < 0.25, "cheap enough for every epoch"


def test_regression_grid_and_unsupported_data(digits: Dataset) -> None:
    model, _ = evaluation_models.moons()
    flat = Dataset(
        "plane",
        "regression",
        np.zeros((4, 2)),
        np.zeros((4, 1)),
        np.zeros((0, 2)),
        np.zeros((0, 1)),
        np.array([[0.0, 0.0], [1.0, 2.0]]),
        np.zeros((2, 1)),
    )
    grid = decision_grid(model, flat, steps=10)
    assert grid.task == "regression" and grid.values.shape == (10, 10, 1)
    assert not supports_decision_grid(digits)
    with pytest.raises(
        InsightError, match=r"2-D points; 'digits' has samples of shape \(8, 8, 1\)"
    ):
        decision_grid(model, digits)


def test_inspect_sample_bundles_everything_for_one_sample() -> None:
    model, dataset = evaluation_models.digits()
    result = inspect_sample(model, dataset.x_test[7], index=7)
    assert result.index == 7
    assert len(result.activations) == 5
    assert result.saliency.values.shape == (8, 8, 1)
    assert result.filters is not None and result.filters.images.shape == (8, 3, 3)
