"""The verbs of the ``hybridbatch`` command line, one module per concept (see hybridbatch.cli).

Each command is thin: parse flags, validate the output location and settings, then import and call the
library. Only typer and the settings models are imported at module level, so a bad flag is rejected
in well under a second.
"""

OVERWRITE_HELP = "Write into a non-empty --out that is not an output of this command (deletes nothing)."
#: The ``--precision`` vocabulary (hybridbatch.models.encoding.PRECISIONS and ``auto``), one wording.
PRECISION_HELP = (
    "fp32, bf16, int8, onnx-fp32, onnx-int8 (ONNX Runtime) "
    "or auto (bf16 on a CPU with native bf16, else fp32)."
)
