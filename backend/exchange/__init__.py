"""Models in and out: Keras import, export formats with verification, Python code generation."""
