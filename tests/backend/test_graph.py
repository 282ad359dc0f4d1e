"""The layer graph: edits, their events, the connection rules and (de)serialization."""

from __future__ import annotations

import copy
import json
from collections.abc import Callable
from typing import Any

import pytest

from backend.document.graph import CycleError, Edge, GraphError, LayerGraph, snake_case
from backend.document.layer_table import UnknownLayerError
from backend.events import Signal

SIGNALS = (
    "node_added",
    "node_removed",
    "edge_added",
    "edge_removed",
    "params_changed",
    "node_renamed",
    "node_moved",
    "outputs_changed",
    "changed",
)


class Recorder:
    """Every event a graph emits, as (signal name, arguments)."""

    def __init__(self, graph: LayerGraph) -> None:
        self.events: list[tuple[str, tuple[Any, ...]]] = []
        for name in SIGNALS:
            getattr(graph, name).connect(self._listener(name))

    def _listener(self, name: str) -> Callable[..., None]:
        return lambda *args: self.events.append((name, args))

    def names(self) -> list[str]:
        return [name for name, _ in self.events]

    def take(self) -> list[tuple[str, tuple[Any, ...]]]:
        events, self.events = self.events, []
        return events


def residual_graph() -> tuple[LayerGraph, dict[str, str]]:
    """input -> d1 -> d2 -> add(d2, d1) -> head: the Add node takes two inputs."""
    graph = LayerGraph()
    ids = {
        "input": graph.add_node("Input", {"shape": [16]}, (0, 0), name="input").id,
        "d1": graph.add_node("Dense", {"units": 16}, (200, 0), name="d1").id,
        "d2": graph.add_node("Dense", {"units": 16}, (400, 0), name="d2").id,
        "add": graph.add_node("Add", {}, (600, 0), name="add").id,
        "head": graph.add_node("Dense", {"units": 1}, (800, 0), name="head").id,
    }
    graph.connect(ids["input"], ids["d1"])
    graph.connect(ids["d1"], ids["d2"])
    graph.connect(ids["d2"], ids["add"], 0)
    graph.connect(ids["d1"], ids["add"], 1)
    graph.connect(ids["add"], ids["head"])
    return graph, ids


# ----------------------------------------------------------------- events
def test_every_edit_announces_itself() -> None:
    graph = LayerGraph()
    rec = Recorder(graph)

    source = graph.add_node("Input", {"shape": [4]})
    dense = graph.add_node("Dense", {"units": 3})
    assert rec.take() == [
        ("node_added", (source,)),
        ("changed", ()),
        ("node_added", (dense,)),
        ("changed", ()),
    ]

    edge = graph.connect(source.id, dense.id)
    assert edge == Edge(source.id, dense.id, 0)
    assert rec.take() == [("edge_added", (edge,)), ("changed", ())]

    graph.set_params(dense.id, {"units": 5, "activation": "relu"})
    assert dense.params == {"units": 5, "activation": "relu"}
    assert rec.take() == [("params_changed", (dense.id,)), ("changed", ())]

    graph.reset_param(dense.id, "activation")
    assert "activation" not in dense.params
    assert rec.take() == [("params_changed", (dense.id,)), ("changed", ())]
    graph.reset_param(dense.id, "activation")  # nothing to reset: nothing to announce
    assert rec.take() == []

    assert graph.rename_node(dense.id, "head") == "head"
    assert rec.take() == [("node_renamed", (dense.id,)), ("changed", ())]

    graph.move_node(dense.id, (10, 20))
    assert dense.position == (10.0, 20.0)
    assert rec.take() == [("node_moved", (dense.id,))]  # layout only: the model is unchanged

    graph.set_outputs([dense.id])
    assert rec.take() == [("outputs_changed", ()), ("changed", ())]

    graph.disconnect(edge)
    assert rec.take() == [("edge_removed", (edge,)), ("changed", ())]

    graph.connect(source.id, dense.id)
    rec.take()
    graph.remove_node(dense.id)
    assert rec.names() == ["edge_removed", "outputs_changed", "node_removed", "changed"]
    assert graph.edges == []
    assert graph.explicit_outputs == []
    assert list(graph.nodes) == [source.id]


def test_a_failing_listener_does_not_silence_the_others() -> None:
    signal = Signal("test")
    heard: list[int] = []

    def broken(value: int) -> None:
        raise RuntimeError(f"broken on {value}")

    signal.connect(broken)
    signal.connect(heard.append)
    with pytest.raises(RuntimeError, match="broken on 7"):
        signal.emit(7)
    assert heard == [7]
    signal.disconnect(broken)
    signal.emit(8)
    assert heard == [7, 8]


# ----------------------------------------------------------------- nodes
def test_nodes_get_keras_style_unique_names_and_the_table_defaults() -> None:
    graph = LayerGraph()
    first = graph.add_node("Dense")
    second = graph.add_node("Dense", {"units": 8})
    pooling = graph.add_node("MaxPooling2D")
    assert (first.name, second.name, pooling.name) == ("dense", "dense_1", "max_pooling2d")
    assert first.params == {"units": 32}  # Keras has no default: the table supplies one
    assert second.params == {"units": 8}
    assert first.id != second.id
    assert all(isinstance(nid, str) and nid.startswith("n") for nid in graph.nodes)
    assert graph.rename_node(second.id, "dense") == "dense_1"  # taken by another node
    assert graph.rename_node(second.id, "my head!") == "my_head_"
    assert snake_case("Conv2DTranspose") == "conv2d_transpose"


def test_an_unknown_layer_type_is_refused_without_a_trace() -> None:
    graph = LayerGraph()
    rec = Recorder(graph)
    with pytest.raises(UnknownLayerError, match="Lambda") as info:
        graph.add_node("Lambda", {"function": "lambda x: x"})
    assert info.value.type_name == "Lambda"
    assert graph.nodes == {}
    assert rec.events == []


def test_a_node_id_cannot_be_reused() -> None:
    graph = LayerGraph()
    graph.add_node("Dense", node_id="fc")
    with pytest.raises(GraphError, match="'fc' already exists"):
        graph.add_node("Dense", node_id="fc")


# ----------------------------------------------------------------- connections
def test_connect_refuses_a_cycle_and_names_it() -> None:
    graph, ids = residual_graph()
    rec = Recorder(graph)
    edges_before = list(graph.edges)
    # head -> add would close add -> head -> add (the Add has a free port 2)
    with pytest.raises(CycleError) as info:
        graph.connect(ids["head"], ids["add"], 2)
    assert set(info.value.node_ids) == {ids["head"], ids["add"]}
    assert "cycle" in str(info.value)
    assert graph.edges == edges_before
    assert rec.events == []


def test_a_layer_cannot_feed_itself() -> None:
    graph, ids = residual_graph()
    with pytest.raises(GraphError, match="cannot feed itself"):
        graph.connect(ids["add"], ids["add"], 2)


def test_a_taken_or_missing_port_is_refused() -> None:
    graph = LayerGraph()
    a = graph.add_node("Input", {"shape": [4]})
    b = graph.add_node("Input", {"shape": [4]})
    dense = graph.add_node("Dense")
    graph.connect(a.id, dense.id, 0)
    with pytest.raises(GraphError, match="input 0 of 'dense' is already connected"):
        graph.connect(b.id, dense.id, 0)
    with pytest.raises(GraphError, match="has no input port 1"):
        graph.connect(b.id, dense.id)  # the first free port is 1, and Dense has one input
    with pytest.raises(GraphError, match="takes no inputs"):
        graph.connect(dense.id, a.id)
    with pytest.raises(GraphError, match="both ends"):
        graph.connect(a.id, "nowhere")
    assert graph.check_connection(b.id, dense.id, 0) is not None
    assert len(graph.edges) == 1


def test_a_variadic_merge_takes_the_next_free_port() -> None:
    graph = LayerGraph()
    sources = [graph.add_node("Input", {"shape": [4]}) for _ in range(3)]
    add = graph.add_node("Add")
    ports = [graph.connect(s.id, add.id).dst_port for s in sources]
    assert ports == [0, 1, 2]
    assert [e.src for e in graph.in_edges(add.id)] == [s.id for s in sources]


def test_order_outputs_and_descendants() -> None:
    graph, ids = residual_graph()
    order = graph.topological_order()
    assert order.index(ids["d1"]) < order.index(ids["d2"]) < order.index(ids["add"])
    assert order[0] == ids["input"] and order[-1] == ids["head"]
    assert graph.outputs == [ids["head"]]  # the only sink that is not an Input
    assert graph.descendants(ids["d1"]) == {ids["d2"], ids["add"], ids["head"]}
    assert graph.descendants(ids["head"]) == set()
    assert [n.id for n in graph.input_nodes()] == [ids["input"]]
    with pytest.raises(GraphError, match="no node"):
        graph.set_outputs(["missing"])


# ----------------------------------------------------------------- (de)serialization
def test_to_dict_from_dict_keeps_ids_names_positions_params_and_outputs() -> None:
    graph, ids = residual_graph()
    graph.set_params(ids["d1"], {"activation": "relu", "extra": (3, 3)})
    graph.move_node(ids["head"], (812.5, -40.25))
    graph.rename_node(ids["d2"], "hidden")
    graph.set_outputs([ids["head"], ids["d2"]])

    data = json.loads(json.dumps(graph.to_dict()))  # through real JSON text
    copy_ = LayerGraph.from_dict(data)

    assert list(copy_.nodes) == list(graph.nodes)
    for nid, node in graph.nodes.items():
        twin = copy_.nodes[nid]
        assert (twin.layer_type, twin.name, twin.position) == (
            node.layer_type,
            node.name,
            node.position,
        )
        assert twin.params == json.loads(json.dumps(node.params))
    assert copy_.nodes[ids["head"]].position == (812.5, -40.25)
    assert copy_.nodes[ids["d1"]].params["extra"] == [3, 3]
    assert copy_.edges == graph.edges
    assert copy_.explicit_outputs == [ids["head"], ids["d2"]]
    assert copy_.to_dict() == graph.to_dict()


def _valid_data() -> dict[str, Any]:
    graph, _ = residual_graph()
    return graph.to_dict()


def _mutated(change: Callable[[dict[str, Any]], Any]) -> dict[str, Any]:
    data = copy.deepcopy(_valid_data())
    result = change(data)
    return data if result is None else result


def _set(path: list[Any], value: Any) -> Callable[[dict[str, Any]], None]:
    def change(data: dict[str, Any]) -> None:
        target = data
        for key in path[:-1]:
            target = target[key]
        target[path[-1]] = value

    return change


BAD_GRAPHS: dict[str, Callable[[dict[str, Any]], Any]] = {
    "not an object": lambda data: ["nodes"],
    "nodes not a list": _set(["nodes"], {"a": 1}),
    "node without type": _set(["nodes", 1, "type"], None),
    "node not an object": _set(["nodes", 1], "Dense"),
    "params not an object": _set(["nodes", 1, "params"], [1, 2]),
    "position of one number": _set(["nodes", 1, "position"], [1.0]),
    "position of words": _set(["nodes", 1, "position"], ["left", "top"]),
    "position with null": _set(["nodes", 1, "position"], [None, 0]),
    "duplicate id": lambda data: data["nodes"].append(dict(data["nodes"][1])),
    "edge to a missing node": _set(["edges", 0, "dst"], "missing"),
    "edge port not an integer": _set(["edges", 0, "dst_port"], "0"),
    "edge not an object": _set(["edges", 0], ["a", "b"]),
    "edge onto a taken port": lambda data: data["edges"].append(dict(data["edges"][0])),
    "edge closing a cycle": lambda data: data["edges"].append(
        {"src": data["nodes"][4]["id"], "dst": data["nodes"][3]["id"], "dst_port": 2}
    ),
    "edge src_port negative": _set(["edges", 1, "src_port"], -1),
    "edge src_port not an integer": _set(["edges", 1, "src_port"], "1"),
    "edge src_port a boolean": _set(["edges", 1, "src_port"], True),
    "edge from output 1 of an Input": _set(["edges", 0, "src_port"], 1),
    "outputs naming a missing node": _set(["outputs"], ["missing"]),
    "outputs naming a port of a missing node": _set(["outputs"], ["missing:1"]),
    "outputs with a port that is not a number": lambda data: data.update(
        outputs=[data["nodes"][4]["id"] + ":h"]
    ),
    "outputs not a list": _set(["outputs"], "head"),
    "outputs holding a list": _set(["outputs"], [["head"]]),
}


@pytest.mark.parametrize("case", BAD_GRAPHS)
def test_load_dict_refuses_bad_data_and_leaves_the_graph_alone(case: str) -> None:
    graph, _ = residual_graph()
    before = graph.to_dict()
    rec = Recorder(graph)
    with pytest.raises(GraphError):
        graph.load_dict(_mutated(BAD_GRAPHS[case]))
    assert graph.to_dict() == before
    assert rec.events == []


def lstm_with_states() -> tuple[LayerGraph, dict[str, str]]:
    """seq -> lstm (return_state: output, h, c); h and c each feed a Dense."""
    graph = LayerGraph()
    ids = {
        "seq": graph.add_node("Input", {"shape": [5, 3]}, name="seq").id,
        "lstm": graph.add_node("LSTM", {"units": 4, "return_state": True}, name="lstm").id,
        "on_h": graph.add_node("Dense", {"units": 2}, name="on_h").id,
        "on_c": graph.add_node("Dense", {"units": 2}, name="on_c").id,
    }
    graph.connect(ids["seq"], ids["lstm"])
    graph.connect(ids["lstm"], ids["on_h"], src_port=1)
    graph.connect(ids["lstm"], ids["on_c"], src_port=2)
    return graph, ids


def test_an_edge_keeps_which_output_it_reads_and_saves_it_only_when_not_zero() -> None:
    graph, ids = lstm_with_states()
    graph.set_outputs([ids["on_h"], f"{ids['lstm']}:2", ids["lstm"]])

    data = json.loads(json.dumps(graph.to_dict()))

    assert data["edges"][0] == {"src": ids["seq"], "dst": ids["lstm"], "dst_port": 0}
    assert data["edges"][1] == {
        "src": ids["lstm"],
        "dst": ids["on_h"],
        "dst_port": 0,
        "src_port": 1,
    }
    assert data["outputs"] == [ids["on_h"], f"{ids['lstm']}:2", ids["lstm"]]
    again = LayerGraph.from_dict(data)
    assert again.edges == graph.edges
    assert [e.src_port for e in again.edges] == [0, 1, 2]
    assert again.output_ports == [(ids["on_h"], 0), (ids["lstm"], 2), (ids["lstm"], 0)]
    assert again.outputs == [ids["on_h"], ids["lstm"], ids["lstm"]]


def test_a_file_from_before_output_ports_loads_unchanged() -> None:
    old = {
        "nodes": [
            {"id": "a", "type": "Input", "name": "x", "params": {"shape": [4]}},
            {"id": "b", "type": "Dense", "name": "fc", "params": {"units": 2}},
        ],
        "edges": [{"src": "a", "dst": "b", "dst_port": 0}],
        "outputs": ["b"],
    }
    graph = LayerGraph.from_dict(copy.deepcopy(old))
    assert graph.edges == [Edge("a", "b", 0, 0)]
    assert graph.output_ports == [("b", 0)]
    assert graph.to_dict()["edges"] == old["edges"]
    assert graph.to_dict()["outputs"] == ["b"]


def test_output_entries_name_ports_and_go_with_their_node() -> None:
    graph, ids = lstm_with_states()
    rec = Recorder(graph)
    graph.set_outputs([f"{ids['lstm']}:1", f"{ids['lstm']}:0", ids["on_c"]])
    assert graph.explicit_outputs == [f"{ids['lstm']}:1", ids["lstm"], ids["on_c"]]
    with pytest.raises(GraphError, match="no node"):
        graph.set_outputs([f"{ids['lstm']}:-1"])
    with pytest.raises(GraphError, match="no node"):
        graph.set_outputs(["nowhere:1"])
    rec.take()

    graph.remove_node(ids["lstm"])

    assert graph.explicit_outputs == [ids["on_c"]]
    assert "outputs_changed" in rec.names()


def test_a_connection_names_the_output_port_it_cannot_take() -> None:
    graph, ids = lstm_with_states()
    free = graph.add_node("Dense", {"units": 1}, name="free").id
    with pytest.raises(GraphError, match="Input 'seq' has one output"):
        graph.connect(ids["seq"], free, src_port=1)
    assert "not a port number" in str(graph.check_connection(ids["lstm"], free, 0, src_port=-2))
    # how many outputs a layer has is up to its configuration: shape inference judges it
    assert graph.check_connection(ids["lstm"], free, 0, src_port=7) is None


def test_load_dict_of_an_unknown_type_names_it_and_leaves_the_graph_alone() -> None:
    graph, _ = residual_graph()
    before = graph.to_dict()
    with pytest.raises(UnknownLayerError, match="TimeMachine"):
        graph.load_dict(_mutated(_set(["nodes", 2, "type"], "TimeMachine")))
    assert graph.to_dict() == before


def test_load_dict_replaces_the_content_through_events() -> None:
    graph = LayerGraph()
    graph.add_node("Dense", name="old")
    rec = Recorder(graph)
    graph.load_dict(_valid_data())
    assert [n.name for n in graph.nodes.values()] == ["input", "d1", "d2", "add", "head"]
    assert rec.names().count("node_removed") == 1
    assert rec.names().count("node_added") == 5
    assert rec.names().count("edge_added") == 5
    assert rec.names()[-1] == "changed"
