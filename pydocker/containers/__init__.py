"""Containers: the record, its state machine, create-config validation, the process spec
built from it, inspect documents, names and logs. No Twisted here except where noted."""
