"""Editor panels: palette, inspector, analysis, history, learn, start."""
