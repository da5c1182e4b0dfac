"""The explorer's state and its controller, without Qt (tested without a window)."""
