"""`make bench`: the performance budget of DESIGN.md, measured side by side (see README.md)."""
