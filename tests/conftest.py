"""Test configuration: Qt draws offscreen, and JAX stays on the CPU."""

import os

os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")
os.environ.setdefault("JAX_PLATFORMS", "cpu")
