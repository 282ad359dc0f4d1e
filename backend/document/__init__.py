"""The document: the layer graph, the project file, run records and training settings. No Keras."""
