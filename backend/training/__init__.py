"""Training: the trainer, its callbacks and set-up, optimizers, devices, strategies, diagnostics."""
