"""Alarm notifier: a vCenter alarm turning red becomes a chat message."""
