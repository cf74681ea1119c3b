"""Networks as computation graphs: the MLP builder (:mod:`.mlp`, :mod:`.layers`) and the import
of torch models (the package :mod:`.torch`: load, trace, scalarize, check). Both produce a plain
graph (schema in :mod:`graphexplain.graph`), so derivation, reports, pictures and verification
need no new code paths.

The subpackage is named ``graphexplain.nn.torch``; it does not shadow the real ``torch``, since
every import in graphexplain is absolute (``import torch`` is torch itself), and this package
does not import it: importing it imports torch, which only a torch model needs.
:mod:`.torch_model` re-exports it under its old name.
"""
