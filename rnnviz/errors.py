"""The one error type users see: a single line naming the file, the key or line, and what was
expected. The command line prints it and exits with status 2; the window shows it and goes on."""


def one_line(text: str) -> str:
    """``text`` with every character that is not printable (newlines, tabs, escape codes,
    bidirectional overrides, Unicode line separators, undecodable file-name bytes) written as
    its Python escape (``\\n``, ``\\x1b``, ``\\u202e``, ``\\udcff``), so that a file name or a
    key from a file can never break a message into several lines."""
    text = str(text)
    if text.isprintable():
        return text
    return "".join(c if c.isprintable() else c.encode("unicode_escape", "backslashreplace")
                   .decode("ascii") for c in text)


class RnnvizError(ValueError):
    """A problem with the user's input (a file, a key, a value), stated in one line."""

    def __init__(self, message: str = ""):
        super().__init__(one_line(message))
