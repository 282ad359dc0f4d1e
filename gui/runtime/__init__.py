"""The application runtime: start-up, theme, Keras loading, background jobs, GC guard."""
