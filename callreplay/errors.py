"""The exception tree of callreplay.

    CallReplayError                 root: the CLI catches it per scenario and carries on
    ├── ScenarioError               a scenario file is unreadable or does not follow the format
    ├── ProfileError                a pipeline profile name or ``module:attr`` cannot be loaded
    ├── ReplayError                 a valid scenario asked for something the replay cannot do
    └── ImportFormatError           a capture, log file or call export cannot be turned into a scenario

Every error carries enough context (file, line, YAML path) to be printed on one line without a
traceback: ``str(error)`` is that line.
"""

from __future__ import annotations


class CallReplayError(Exception):
    """Root of every error callreplay raises on purpose."""


class ScenarioError(CallReplayError):
    """Raised when a scenario file cannot be read or does not follow the scenario format."""

    def __init__(self, message: str, *, file: str | None = None, line: int | None = None,
                 path: str | None = None, expected: str | None = None) -> None:
        self.message = message
        self.file = file
        self.line = line
        self.path = path
        self.expected = expected
        self.others: list[ScenarioError] = []   # further errors of the same file, reported in the same run
        super().__init__(self.render())

    def all_lines(self) -> list[str]:
        """This error and every other one found in the same file, one line each."""
        return [self.render()] + [other.render() for other in self.others]

    def render(self) -> str:
        where = self.file or "<scenario>"
        if self.line is not None:
            where += f":{self.line}"
        if self.path:
            where += f" {self.path}"
        text = f"{where}: {self.message}"
        if self.expected:
            text += f" (expected {self.expected})"
        return text


class ProfileError(CallReplayError):
    """Raised when a pipeline profile cannot be found or does not have the required shape."""


class ReplayError(CallReplayError):
    """Raised when a replay meets a step it cannot carry out (the step is named in the message)."""


class ImportFormatError(CallReplayError):
    """Raised when a capture, log or call export cannot be read; names the file and line."""

    file: str | None = None
    line: int | None = None
    what: str = ""
    expected: str | None = None
