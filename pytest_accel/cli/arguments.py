"""The commands' arguments as data: each (sub)command is one ``Command`` value, and ``add_commands`` is
the one place that turns such values into argparse parsers."""

from __future__ import annotations

import argparse
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any


class Arg:
    """One argument, written as the ``add_argument`` call it stands for:
    ``Arg("--last", type=int, default=10, metavar="N", help="...")``."""

    __slots__ = ("names", "options")

    def __init__(self, *names: str, **options: Any) -> None:
        self.names = names
        self.options = options


@dataclass(frozen=True)
class Command:
    """A command: its line in the parent's list of commands (``help``), what its own ``--help`` shows
    (``description``, and ``usage`` where argparse's own would mislead), and either its arguments or
    its actions (``history add|check|show``), each a Command of its own."""

    name: str
    help: str
    args: tuple[Arg, ...] = ()
    description: str | None = None
    usage: str | None = None
    actions: tuple[Command, ...] = ()


def add_commands(
    parser: argparse.ArgumentParser,
    commands: Sequence[Command],
    dest: str = "command",
    metavar: str = "COMMAND",
) -> None:
    """``commands`` as the required subcommands of ``parser`` (the chosen name in ``args.<dest>``); a
    command's actions are its own required subcommands, chosen in ``args.action``."""
    choices = parser.add_subparsers(dest=dest, metavar=metavar, required=True)
    for command in commands:
        sub = choices.add_parser(
            command.name, help=command.help, description=command.description, usage=command.usage
        )
        for arg in command.args:
            sub.add_argument(*arg.names, **arg.options)
        if command.actions:
            add_commands(sub, command.actions, dest="action", metavar="ACTION")
