"""The clean stage's fast paths give what their plain forms give."""

from __future__ import annotations

import random
import re
from pathlib import Path

from search.parse.clean import _first_case_number


def test_first_case_number_is_the_regex_search(sample_paths: list[Path]) -> None:
    # Found by its "-1234567" tail, then the four characters before it are checked.
    pattern = re.compile(r"[A-Z]{2}\d{2}-\d{7}")
    rng = random.Random(3)
    alphabet = ["C", "M", "x", "1", "7", "0", "-", " ", "\n", "٣"]
    texts = [p.read_text(encoding="utf-8") for p in sample_paths]
    texts += ["".join(rng.choice(alphabet) for _ in range(rng.randint(0, 80))) for _ in range(8000)]
    texts += ["CM17-0013077", "xCM17-0013077", "M17-0013077 CM18-1234567", "-1234567"]
    texts += ["AB12-123456", "AB12-12345678", "ab12-1234567 AB12-1234567"]
    found = 0
    for text in texts:
        m = pattern.search(text)
        expected = (m.group(0), m.end()) if m else None
        assert _first_case_number(text) == expected, repr(text)
        found += m is not None
    assert found > 40
