"""Layers with several outputs on the canvas: a port per output, wired and labelled by port."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import pytest
from PySide6.QtCore import QPoint, Qt
from PySide6.QtWidgets import QLineEdit

from backend.document.graph import LayerGraph
from backend.document.project import Project
from backend.editing.commands import SetParams
from gui.canvas.items import key_params_text
from gui.main_window import MainWindow
from tests.gui.conftest import Dialogs, make_window
from tests.gui.test_main_window import drag_between, view_point


@pytest.fixture
def states_window(qtbot: Any, dialogs: Dialogs) -> Iterator[MainWindow]:
    """seq -> enc (LSTM, return_state) whose h and c start dec (LSTM) on a second input."""
    graph = LayerGraph()
    seq = graph.add_node("Input", {"shape": [6, 3]}, (0, 0), name="seq")
    target = graph.add_node("Input", {"shape": [5, 2]}, (0, 160), name="target")
    enc = graph.add_node("LSTM", {"units": 8, "return_state": True}, (240, 0), name="enc")
    dec = graph.add_node("LSTM", {"units": 8}, (480, 120), name="dec")
    graph.add_node("Dense", {"units": 2}, (480, -140), name="probe")
    graph.connect(seq.id, enc.id)
    graph.connect(target.id, dec.id, 0)
    graph.connect(enc.id, dec.id, 1, src_port=1)
    graph.connect(enc.id, dec.id, 2, src_port=2)
    win = make_window(qtbot, Project(graph, name="States"), dialogs)
    win.view.fit_all()
    yield win
    win.shutdown()


def test_a_layer_with_states_shows_a_port_per_output(states_window: MainWindow) -> None:
    win = states_window
    graph = win.project.graph
    enc = win.scene.node_items[graph.node_by_name("enc").id]
    dec = win.scene.node_items[graph.node_by_name("dec").id]

    assert [p.label for p in enc.output_ports] == ["output", "h", "c"]
    assert [p.index for p in enc.output_ports] == [0, 1, 2]
    assert len({p.scenePos().y() for p in enc.output_ports}) == 3
    assert [p.label for p in dec.input_ports] == ["input", "initial h", "initial c"]
    assert "output 1 (h) of enc" in enc.output_ports[1].toolTip()
    for edge in graph.in_edges(dec.node.id)[1:]:
        item = win.scene.edge_items[edge]
        assert item.path().pointAtPercent(0) == enc.output_ports[edge.src_port].scenePos()
        assert item.label_text == "8"
        assert item.toolTip() == ("h" if edge.src_port == 1 else "c") + ": (None, 8)"
    white = [p.brush().color().name() == "#ffffff" for p in enc.output_ports]
    assert white == [True, False, False], "h and c are connected, output 0 is not"


def test_wiring_from_an_output_port_reads_that_output(
    qtbot: Any, states_window: MainWindow
) -> None:
    win = states_window
    graph = win.project.graph
    enc_id, probe_id = graph.node_by_name("enc").id, graph.node_by_name("probe").id
    enc, probe = win.scene.node_items[enc_id], win.scene.node_items[probe_id]

    drag_between(qtbot, win, enc.output_ports[2], probe.input_ports[0])

    (edge,) = graph.in_edges(probe_id)
    assert (edge.src, edge.src_port) == (enc_id, 2)
    assert win.scene.edge_items[edge].label_text == "8"
    assert win.live.results[probe_id].shape == (None, 2)
    # pick the edge's end up at the Dense and drop it on another layer: still output c
    other = graph.add_node("Dense", {"units": 5}, (720, -140), name="other")
    held = view_point(win, probe.input_ports[0].scenePos())
    drop = view_point(win, win.scene.node_items[other.id].input_ports[0].scenePos())
    viewport = win.view.viewport()
    qtbot.mousePress(viewport, Qt.MouseButton.LeftButton, pos=held)
    qtbot.mouseMove(viewport, pos=(held + drop) / 2 + QPoint(0, 5))
    qtbot.mouseRelease(viewport, Qt.MouseButton.LeftButton, pos=drop)
    assert win.undo.undo_label == "Reconnect"
    (moved,) = graph.in_edges(other.id)
    assert (moved.src, moved.src_port) == (enc_id, 2)
    assert not graph.in_edges(probe_id)


def test_ports_follow_the_configuration_and_a_missing_output_is_shown(
    states_window: MainWindow,
) -> None:
    win = states_window
    graph = win.project.graph
    enc_id, dec_id = graph.node_by_name("enc").id, graph.node_by_name("dec").id
    enc = win.scene.node_items[enc_id]

    win.undo.push(SetParams(enc_id, {"return_state": False}))

    # one output now, but edges still read h and c: their ports stay, and dec says why
    assert len(enc.output_ports) == 3 and enc.inferred_outputs == 1
    assert win.scene.node_items[dec_id].has_error
    assert "reads output 1 of LSTM 'enc', which has one output" in str(
        win.live.results[dec_id].error
    )
    win.editing.undo_last()
    assert enc.inferred_outputs == 3 and not win.scene.node_items[dec_id].has_error
    win.undo.push(SetParams(enc_id, {"units": 3}))
    assert "initial state 1 must have the shape (None, 8), got (None, 3)" in str(
        win.live.results[dec_id].error
    )


def test_the_inspector_lists_each_output_and_marks_any_as_model_output(
    qtbot: Any, states_window: MainWindow
) -> None:
    win = states_window
    graph = win.project.graph
    enc_id = graph.node_by_name("enc").id
    win.scene.select_node(enc_id)
    inspector = win.inspector

    assert [b.text() for b in inspector.output_boxes] == [
        "model output: output",
        "model output: h",
        "model output: c",
    ]
    assert "c <b>(None, 8)</b>" in inspector.status.text()

    inspector.output_boxes[2].click()

    assert graph.explicit_outputs == [f"{enc_id}:2"]
    assert win.scene.node_items[enc_id].is_output
    inspector.output_boxes[2].click()
    assert graph.explicit_outputs == []

    dense = graph.node_by_name("probe").id
    win.scene.select_node(dense)
    assert [b.text() for b in inspector.output_boxes] == ["model output"]
    win.scene.select_node(enc_id)
    win.undo.push(SetParams(enc_id, {"return_state": False}))
    qtbot.waitUntil(lambda: len(inspector.output_boxes) == 1)


def test_a_keras_ops_call_is_a_node_named_after_its_operation(qtbot: Any, dialogs: Dialogs) -> None:
    graph = LayerGraph()
    a = graph.add_node("Input", {"shape": [6]}, (0, 0), name="a").id
    b = graph.add_node("Input", {"shape": [6]}, (0, 160), name="b").id
    add = graph.add_node("Operation", position=(240, 60), name="plus").id  # Add(x, y)
    split = graph.add_node(
        "Operation",
        {
            "op": {
                "module": "keras.src.ops.numpy",
                "class_name": "Split",
                "config": {"indices_or_sections": 2, "axis": -1},
            },
            "args": [{"__input__": 0}],
        },
        (480, 60),
        name="halves",
    ).id
    graph.connect(a, add, 0)
    graph.connect(b, add, 1)
    graph.connect(add, split)
    win = make_window(qtbot, Project(graph, name="Ops"), dialogs)
    try:
        plus, halves = win.scene.node_items[add], win.scene.node_items[split]
        assert (plus.title(), halves.title()) == ("Add (op)", "Split (op)")
        assert [p.label for p in plus.input_ports] == ["input 0", "input 1"]
        assert [p.label for p in halves.output_ports] == ["output", "output_1"]
        assert "indices_or_sections=2 axis=-1" in key_params_text(halves.node)
        edge = graph.in_edges(split)[0]
        assert win.scene.edge_items[edge].label_text == "6"

        win.scene.select_node(split)  # its operation and arguments, edited as JSON
        op_editor = win.inspector.editors["op"]
        assert isinstance(op_editor, QLineEdit) and '"class_name": "Split"' in op_editor.text()
        op_editor.setText(
            op_editor.text().replace('"indices_or_sections": 2', '"indices_or_sections": 3')
        )
        op_editor.editingFinished.emit()
        assert win.live.results[split].output_count == 3
        assert [p.label for p in halves.output_ports] == ["output", "output_1", "output_2"]

        args = [{"__input__": 0}, {"__input__": 1}, {"__input__": 2}]
        win.undo.push(SetParams(add, {"args": args}))  # a third tensor: a third port
        assert len(plus.input_ports) == 3 and plus.has_error
    finally:
        win.shutdown()
