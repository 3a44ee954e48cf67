"""Echo: log the typed fields of every vCenter event, whichever producer shape it came in."""
