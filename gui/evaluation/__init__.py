"""Evaluation and insight views."""
