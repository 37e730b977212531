"""Hounsfield: a DICOM image archive whose front is the DICOM web services."""

__version__ = "0.1.0"
