"""Project files: new, open, save, autosave, recover, recent."""
