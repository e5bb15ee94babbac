"""A bare DRF create endpoint on a 12-field model: the baseline of bench/api.py.

Installed only by bench._settings (never by config.settings): its table exists
in the benchmark's scratch database alone.
"""
