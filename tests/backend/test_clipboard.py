"""Copy/paste through JSON: fresh ids, unique names, inner edges only, one undo step."""

from __future__ import annotations

import pytest

from backend.document.graph import GraphError, LayerGraph
from backend.editing.clipboard import copy_nodes, from_text, paste_command, pasted_ids, to_text
from backend.editing.commands import UndoStack
from backend.templates.examples import digits_cnn


def test_copy_paste_between_projects() -> None:
    source = digits_cnn().graph
    ids = [source.node_by_name(n).id for n in ("dense", "dropout", "dense_1")]
    text = to_text(copy_nodes(source, ids))

    target = digits_cnn().graph  # already has 'dense', 'dropout', 'dense_1'
    stack = UndoStack(target)
    before = target.to_dict()
    command = stack.push(paste_command(target, from_text(text)))
    new = pasted_ids(command)
    assert len(new) == 3 and not set(new) & set(ids)
    names = [target.nodes[n].name for n in new]
    assert len(set(n.name for n in target.nodes.values())) == len(target.nodes)
    assert names == ["dense_2", "dropout_1", "dense_3"]
    inner = [(e.src, e.dst) for e in target.edges if e.src in new or e.dst in new]
    assert inner == [(new[0], new[1]), (new[1], new[2])]  # the edge from flatten was not copied
    assert target.nodes[new[0]].params == source.node_by_name("dense").params
    assert stack.labels() == ["Paste 3 layers"]
    stack.undo()
    assert target.to_dict() == before


def test_paste_twice_gives_distinct_copies() -> None:
    graph = LayerGraph()
    a = graph.add_node("Input", {"shape": [3]})
    data = copy_nodes(graph, [a.id])
    first = paste_command(graph, data)
    first.do(graph)
    second = paste_command(graph, data)
    second.do(graph)
    assert len(graph.nodes) == 3
    assert sorted(n.name for n in graph.nodes.values()) == ["input", "input_1", "input_2"]


@pytest.mark.parametrize("text", ["", "hello", "[1, 2]", '{"kind": "other"}'])
def test_foreign_clipboard_text_is_refused(text: str) -> None:
    with pytest.raises(GraphError, match="no DeepCanvas layers"):
        from_text(text)


def test_unknown_layer_in_clipboard_changes_nothing() -> None:
    graph = LayerGraph()
    data = {"kind": "deepcanvas-nodes", "nodes": [{"id": "x", "type": "Lambda"}], "edges": []}
    with pytest.raises(KeyError):
        paste_command(graph, data)
    assert not graph.nodes


def test_a_paste_keeps_which_output_each_edge_and_model_output_reads() -> None:
    graph = LayerGraph()
    seq = graph.add_node("Input", {"shape": [5, 3]}, name="seq").id
    lstm = graph.add_node("LSTM", {"units": 4, "return_state": True}, name="enc").id
    head = graph.add_node("Dense", {"units": 1}, name="head").id
    graph.connect(seq, lstm)
    graph.connect(lstm, head, src_port=2)
    graph.set_outputs([head, f"{lstm}:1"])

    data = from_text(to_text(copy_nodes(graph, [lstm, head])))
    command = UndoStack(graph).push(paste_command(graph, data))

    new_lstm, new_head = pasted_ids(command)
    assert [(e.src, e.src_port) for e in graph.in_edges(new_head)] == [(new_lstm, 2)]
    assert graph.explicit_outputs == [head, f"{lstm}:1", new_head, f"{new_lstm}:1"]
