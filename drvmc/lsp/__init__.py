"""Editor support: the `drvmc lsp` language server and the library reference generated from
the same doc comments (so the hover text and docs/LIBRARY.md cannot drift apart).

Only `server` imports pygls; the rest is plain Python over the front end's AST.
"""
