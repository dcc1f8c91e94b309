"""Stage 3, resolve: body regions named in a text (a small stand-in until the vocabulary's
`normalize.body_regions` exists; resolve prefers that one)."""

from __future__ import annotations

import re
from typing import Final

# (region, words that name it). Matched as whole words, case-insensitively.
REGION_WORDS: Final = (
    ("lumbar spine", r"lumbar|lumbosacral|low(?:er)? back|l[1-5]-(?:[1-5]|s1)|sciatica"),
    ("cervical spine", r"cervical|neck|c[1-7]-[1-7]"),
    ("thoracic spine", r"thoracic|mid(?:dle)? back"),
    ("shoulder", r"shoulders?|rotator cuff"),
    ("elbow", r"elbows?|epicondyl\w*"),
    ("wrist/hand", r"wrists?|hands?|fingers?|thumbs?|carpal"),
    ("hip", r"hips?"),
    ("knee", r"knees?|menisc\w*"),
    ("ankle/foot", r"ankles?|feet|foot|heels?|toes?|plantar"),
    ("head", r"head|headaches?|concussion"),
    ("psychiatric", r"depress\w*|anxiety|psychiatric|psycholog\w*|ptsd|insomnia"),
)
_PATTERNS: Final = tuple(
    (name, re.compile(rf"\b(?:{words})\b", re.I)) for name, words in REGION_WORDS
)


def body_regions(text: str) -> tuple[str, ...]:
    """The regions a text names, in REGION_WORDS order."""
    return tuple(name for name, pattern in _PATTERNS if pattern.search(text))
