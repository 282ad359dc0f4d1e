"""The template gallery and built-in examples."""
