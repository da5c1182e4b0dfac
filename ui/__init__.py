"""rnnviz's Qt front end, installed as ``rnnviz.ui``.

The explorer's state and its controller (``state``) import no Qt; the views (the window, the
columns and their rows, the side panels, the dialogs) take them in their constructors,
subscribe to the state's events and ask the controller for every change.
"""
