"""Trackers: the adapter contract and one sub-package per tracker."""
