"""The bridge to Keras: layer catalog, shape inference, compiler, operations and weights."""
