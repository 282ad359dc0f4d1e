"""The data panel and its preview."""
