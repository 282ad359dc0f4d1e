"""Export dialog and Keras file actions."""
