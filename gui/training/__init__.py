"""Training: the panel, its settings form, the worker thread and the runs table."""
