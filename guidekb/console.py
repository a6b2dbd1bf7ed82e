"""The two consoles every command prints to: answers on stdout, problems on stderr.

Problems are never wrapped: `file:line:col: message` must stay on one line for editors and CI
logs that parse it, whatever the terminal width.
"""

from rich.console import Console

console = Console(highlight=False)
err_console = Console(stderr=True, highlight=False, soft_wrap=True)
