"""Evaluation and insight on a trained model: metrics, confusion, activations, saliency."""
