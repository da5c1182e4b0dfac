"""rnnviz's Qt front end. Views take the explorer model and subscribe to its signals; all JAX
work runs on one worker thread (``ui.jobs``)."""
