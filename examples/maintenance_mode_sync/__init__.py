"""Flagship example: vCenter host maintenance mode mirrored into vROps."""
