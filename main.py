"""DeepCanvas: design, train and export neural networks visually.

python main.py                     open the app on the built-in example
python main.py PROJECT.json        open a project
python main.py --screenshot OUT.png [PROJECT.json]
                                   render the main window offscreen to a PNG and exit
python main.py COMMAND ...         headless commands (no Qt): see `python main.py --help`
--verbose (anywhere)               show TensorFlow's own log lines, hidden by default
"""

from __future__ import annotations

import argparse
import os
import sys


def _gui_parser(commands: dict[str, str]) -> argparse.ArgumentParser:
    lines = "\n".join(f"  {name:<10} {text}" for name, text in commands.items())
    parser = argparse.ArgumentParser(
        prog="main.py",
        description="DeepCanvas: design, train and export neural networks visually.",
        formatter_class=argparse.RawDescriptionHelpFormatter,
        epilog=(
            "headless commands (no display needed; `main.py COMMAND --help` for each):\n"
            f"{lines}\n\n"
            "With no arguments the app opens on the built-in example project."
        ),
    )
    parser.add_argument("project", nargs="?", help="project file (.dcproj.json) to open")
    parser.add_argument(
        "--screenshot",
        metavar="OUT.png",
        help="render the main window offscreen to a PNG and exit",
    )
    parser.add_argument(
        "--example",
        metavar="NAME",
        help="open a built-in example instead of the default one",
    )
    parser.add_argument(
        "--train-and-exit",
        action="store_true",
        help="(smoke test) press Train once the window is up, exit 0 when training ends",
    )
    parser.add_argument("--epochs", type=int, help="override the project's epoch count")
    parser.add_argument(
        "--verbose",
        action="store_true",
        help="show TensorFlow's own log lines (hidden by default; any command takes it)",
    )
    return parser


def main(argv: list[str] | None = None) -> int:
    from backend.keras_env import take_verbose_flag

    argv = take_verbose_flag(sys.argv[1:] if argv is None else list(argv))
    from backend.cli.main import COMMANDS
    from backend.cli.main import main as cli_main

    if argv and argv[0] in COMMANDS:
        return cli_main(argv)
    args = _gui_parser(COMMANDS).parse_args(argv)
    from gui.app import run_app

    return run_app(
        project_path=args.project,
        screenshot=args.screenshot,
        example=args.example,
        train_and_exit=args.train_and_exit,
        epochs=args.epochs,
    )


if __name__ == "__main__":
    status = main()
    sys.stdout.flush()
    sys.stderr.flush()
    # Everything is saved and every thread stopped by now. Skip the interpreter's teardown:
    # Qt's and TensorFlow's own threads can race there and crash an otherwise clean exit.
    os._exit(status)
