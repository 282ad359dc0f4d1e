"""Editing the graph: undoable commands, clipboard, blocks, layout and data wiring."""
