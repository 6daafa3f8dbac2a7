"""Offline data sets for the course notebooks."""
