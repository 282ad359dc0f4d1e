"""Undo commands: every edit undoes to exactly the graph before it and redoes to the one after."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import pytest

from backend.document.graph import CycleError, GraphError, LayerGraph
from backend.editing.commands import (
    AddNode,
    Connect,
    Disconnect,
    Macro,
    MoveNodes,
    RemoveNodes,
    Rename,
    SetOutputs,
    SetParams,
    UndoStack,
)


def small_graph() -> tuple[LayerGraph, list[str]]:
    graph = LayerGraph()
    a = graph.add_node("Input", {"shape": [4]}, position=(0, 0))
    b = graph.add_node("Dense", {"units": 8}, position=(200, 0))
    c = graph.add_node("Dense", {"units": 1}, position=(400, 0))
    graph.connect(a.id, b.id)
    graph.connect(b.id, c.id)
    graph.set_outputs([c.id])
    return graph, [a.id, b.id, c.id]


CASES: dict[str, Callable[[list[str]], Any]] = {
    "add": lambda ids: AddNode("Dropout", {"rate": 0.3}, (10, 20)),
    "remove middle": lambda ids: RemoveNodes([ids[1]]),
    "remove output": lambda ids: RemoveNodes([ids[2]]),
    "move": lambda ids: MoveNodes({ids[0]: ((0, 0), (50, 60)), ids[1]: ((200, 0), (250, 60))}),
    "set units": lambda ids: SetParams(ids[1], {"units": 99, "activation": "relu"}),
    "reset units": lambda ids: SetParams(ids[2], reset=["units", "use_bias"]),
    "rename": lambda ids: Rename(ids[1], "hidden layer"),
    "outputs": lambda ids: SetOutputs([ids[1], ids[2]]),
}


@pytest.mark.parametrize("case", list(CASES))
def test_undo_restores_and_redo_reapplies(case: str) -> None:
    graph, ids = small_graph()
    stack = UndoStack(graph)
    before = graph.to_dict()
    stack.push(CASES[case](ids))
    after = graph.to_dict()
    assert after != before
    assert stack.undo() is not None
    assert graph.to_dict() == before
    assert stack.redo() is not None
    assert graph.to_dict() == after


def test_disconnect_and_connect_round_trip() -> None:
    graph, ids = small_graph()
    stack = UndoStack(graph)
    before = graph.to_dict()
    stack.push(Disconnect([graph.edges[0]]))
    assert len(graph.edges) == 1
    stack.undo()
    assert graph.to_dict() == before
    stack.redo()
    stack.push(Connect(ids[0], ids[1], None))  # Dense's only port is free again
    assert len(graph.edges) == 2
    stack.undo()
    assert len(graph.edges) == 1


def test_connect_refused_records_nothing() -> None:
    graph, ids = small_graph()
    stack = UndoStack(graph)
    with pytest.raises(GraphError, match="takes no inputs"):
        stack.push(Connect(ids[2], ids[0], None))
    merge = stack.push(AddNode("Add")).node_id
    stack.push(Connect(ids[2], merge))
    before = graph.to_dict()
    loop = Macro("loop", [Disconnect([graph.edges[0]]), Connect(merge, ids[1], 0)])
    with pytest.raises(CycleError):  # dense -> dense_1 -> add -> dense
        stack.push(loop)
    assert graph.to_dict() == before  # the macro's disconnect was rolled back
    assert stack.labels()[-1].startswith("Connect")


def test_macro_is_one_step_and_rolls_back_on_failure() -> None:
    graph, ids = small_graph()
    stack = UndoStack(graph)
    before = graph.to_dict()
    add = AddNode("Add", position=(300, 100))
    stack.push(Macro("Add a skip", [add]))
    stack.push(
        Macro("wire", [Connect(ids[0], str(add.node_id)), Connect(ids[1], str(add.node_id))])
    )
    assert stack.labels() == ["Add a skip", "wire"]
    stack.undo()
    stack.undo()
    assert graph.to_dict() == before
    bad = Macro("bad", [AddNode("Dense"), Connect(ids[2], ids[0])])
    with pytest.raises(GraphError):
        stack.push(bad)
    assert graph.to_dict() == before
    assert not stack.can_undo and stack.can_redo


def test_labels_read_well() -> None:
    graph, ids = small_graph()
    stack = UndoStack(graph)
    stack.push(SetParams(ids[1], {"units": 3}))
    stack.push(Rename(ids[1], "fc"))
    stack.push(RemoveNodes([ids[1]]))
    assert stack.labels() == ["Set units of 'dense'", "Rename 'dense' to 'fc'", "Delete 'fc'"]
    stack.undo()
    assert stack.undo_label == "Rename 'dense' to 'fc'"
    assert stack.redo_label == "Delete 'fc'"


def test_history_is_bounded() -> None:
    graph, ids = small_graph()
    stack = UndoStack(graph, limit=5)
    for i in range(12):
        stack.push(MoveNodes({ids[0]: ((i, 0), (i + 1, 0))}))
    assert len(stack.done) == 5


def test_new_edit_clears_redo() -> None:
    graph, ids = small_graph()
    stack = UndoStack(graph)
    stack.push(Rename(ids[1], "a"))
    stack.undo()
    stack.push(Rename(ids[1], "b"))
    assert not stack.can_redo


def test_undo_of_a_delete_gives_back_the_outputs_each_edge_read() -> None:
    graph = LayerGraph()
    seq = graph.add_node("Input", {"shape": [5, 3]}).id
    lstm = graph.add_node("LSTM", {"units": 4, "return_state": True}).id
    head = graph.add_node("Dense", {"units": 1}).id
    graph.connect(seq, lstm)
    stack = UndoStack(graph)
    stack.push(Connect(lstm, head, None, src_port=2))
    assert graph.edges[-1].src_port == 2
    graph.set_outputs([head, f"{lstm}:1"])
    before = graph.to_dict()

    stack.push(RemoveNodes([lstm]))
    assert graph.explicit_outputs == [head]
    stack.undo()
    assert graph.to_dict() == before

    stack.push(Disconnect([graph.edges[-1]]))
    stack.undo()
    assert graph.to_dict() == before
    stack.undo()  # the Connect
    assert [e.src_port for e in graph.edges] == [0]
