"""The headless command line: `python main.py COMMAND`."""
