"""The one error type users see: a single line naming the file, the key or line, and what was
expected. The command line prints it and exits with status 2; the window shows it and goes on."""


class RnnvizError(ValueError):
    """A problem with the user's input (a file, a key, a value), stated in one line."""
