"""Analysis of a graph before training: summary, FLOPs, memory, errors, advice and fixes."""
