"""Hounsfield's benchmark suite, side by side with Orthanc: ``python -m bench``."""
