"""One column of the explorer and its rows."""
