"""Networks as computation graphs: the MLP builder (:mod:`.mlp`) and the import of torch
models (:mod:`.torch_model`). Both produce a plain graph (schema in :mod:`graphexplain.graph`),
so derivation, reports, pictures and verification need no new code paths.
"""
