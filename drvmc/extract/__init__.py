"""`drvmc extract`: a driver's C source (and proposed patches) → a checkable spec.

`pipeline` runs the stages (cparse → scan → lower → model → emit); docs/EXTRACT.md describes what
is recognised and how it is abstracted.
"""
