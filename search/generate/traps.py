"""What makes a letter hard to parse by structure: partial approvals, numbered lines inside
guideline and rationale text, rationale lines ending in a colon, wrapped credential lines.

Each builder here is used only when a letter is drawn with traps on (`generate_letter(...,
traps=True)`), so letters drawn without them stay exactly as before.
"""

from __future__ import annotations

import random
import re

from .vocab import Block, Item, pick, rint, sample

# ---------------------------------------------------------------------------- partial approvals

# A count the request states, which UR can authorize part of: "#90", "x 12", "12 sessions".
_QUANTITY = re.compile(
    r"(?:#\s?|\bqty |\bquantity |\bx ?)(?P<n>\d{1,3})\b(?! ?(?:weeks?|months?)\b)"
    r"|\b(?P<n2>\d{1,3}) (?:sessions|visits|count|tablets|capsules|patches)\b",
    re.I,
)
_AUTHORIZED_BY = (
    "was authorized by the Claims Administrator",
    "was authorized by the Claims Administrator",
    "was authorized by the Claims Administrator",
    "was certified by the Claims Administrator",
    "was approved by the Claims Administrator",
)


def _with_count(text: str, m: re.Match[str], n: int) -> str:
    start, end = m.span("n") if m.group("n") else m.span("n2")
    return f"{text[:start]}{n}{text[end:]}"


def make_partial(rng: random.Random, item: Item) -> bool:
    """Turn an item into a partial approval when its request states a count UR could split:
    the original request X, the part UR authorized Y and the remaining portion Z decided by
    IMR (the item's request). False (item unchanged) when it states no such count."""
    m = _QUANTITY.search(item.request)
    total = int((m.group("n") or m.group("n2")) if m else 0)
    if m is None or total < 4:
        return False
    granted = rint(rng, 1, total - 1)
    original = item.request
    item.original = original
    item.authorized = _with_count(original, m, granted)
    item.request = _with_count(original, m, total - granted)
    verb = pick(rng, _AUTHORIZED_BY)
    item.lead = (
        f"{original} was the original request. {item.authorized} {verb}. "
        "The remaining IMR eligible portion of the original request, "
    )
    return True


def date_of_service(rng: random.Random, item: Item, year: int) -> None:
    """End a request with its date of service after a colon ("... DOS: 11/11/2016"), so its
    heading holds two colons ("... DOS: 11/11/2016: Upheld")."""
    item.request += f" DOS: {rint(rng, 1, 12)}/{rint(rng, 1, 28)}/{year}"


def heading(item: Item) -> str:
    """An item's heading text: its request, or a partial approval's three sentences."""
    return f"{item.lead}{item.request}"


# ---------------------------------------------------------------------------- numbered lines

# Section names of a guideline, numbered as a guideline numbers them (no source names: the
# truth's guideline sources stay what the citation itself names).
_SECTIONS = (
    "Opioids for Chronic Pain", "Opioids, criteria for use", "Opioids, long-term assessment",
    "Weaning of Medications", "Muscle relaxants (for pain)", "Topical Analgesics",
    "Anti-inflammatory medications", "Physical Medicine", "Introduction",
    "Functional improvement measures", "Chronic pain programs", "Pain Outcomes and Endpoints",
)  # fmt: skip
_CRITERIA = (
    "Prescriptions from a single practitioner, taken as directed.",
    "Ongoing review and documentation of pain relief and functional status.",
    "A written treatment plan with measurable goals.",
    "Failure of a trial of first-line treatment.",
    "Documentation of objective functional improvement after the initial trial.",
    "Evidence of a home exercise program to continue the gains.",
    "No evidence of drug-seeking behavior.",
    "A reassessment of the treatment plan at each visit.",
    "Time-limited use, with a plan to taper.",
    "Clear clinical findings that support the diagnosis.",
)
_LEADS = (
    "The guidelines list the following criteria:",
    "Before this treatment is continued, the guidelines call for:",
    "The criteria for this treatment include:",
    "The following are recommended:",
)
_QUOTE_LEADS = (
    "The cited guideline states the following:",
    "Regarding this treatment, the guideline states:",
    "Per the guidelines:",
)
_QUOTES = (
    "Continued use is recommended only where there is documented improvement in function and "
    "a reduction in the dependency on continued medical treatment.",
    "Treatment beyond the initial trial requires evidence of objective functional gains.",
    "The treatment is not recommended as a first-line option and is reserved for selected "
    "patients.",
)


def guideline_blocks(rng: random.Random, text: str) -> list[Block]:
    """A guideline paragraph whose cited sections are numbered, each on its own line:
    "... Section(s):" / "3. Opioids for Chronic Pain" (the last line ends the citation)."""
    if rng.random() < 0.6:
        return [("P", text)]
    k = rint(rng, 1, 3)
    first = rint(rng, 1, 6)
    secs = sample(rng, _SECTIONS, k)
    lines: list[Block] = [("P", f"{text.rstrip('.')} Section(s):")]
    for i, sec in enumerate(secs):
        lines.append(("L", f"{first + i}. {sec}{'.' if i == k - 1 else ','}"))
    return lines


def rationale_blocks(rng: random.Random, label: str, text: str) -> list[Block]:
    """A rationale paragraph, sometimes with a numbered list of criteria or a quotation after
    a line ending in a colon, both inside it (they belong to the rationale)."""
    r = rng.random()
    if r < 0.45:
        return [("P", f"{label}{text}")]
    cut = text.find(". ") + 1 or len(text)
    head, tail = text[:cut], text[cut:].strip()
    out: list[Block] = [("P", f"{label}{head}")]
    if r < 0.8:
        out.append(("L", pick(rng, _LEADS)))
        fmt = pick(rng, ("{i}. ", "{i}) ", "({i}) "))
        for i, c in enumerate(sample(rng, _CRITERIA, rint(rng, 2, 4)), 1):
            out.append(("L", f"{fmt.format(i=i)}{c}"))
    else:
        out += [("L", pick(rng, _QUOTE_LEADS)), ("P", pick(rng, _QUOTES))]
    if tail:
        out.append(("P", tail))
    return out


# ---------------------------------------------------------------------------- credentials


def wrap_credentials(rng: random.Random, blocks: list[Block]) -> list[Block]:
    """Credential lines as a narrow PDF column prints them: a long specialty runs on to the
    next line ("Certification(s)/Specialty: Public Health & General Preventive" /
    "Medicine")."""
    out: list[Block] = []
    for kind, text in blocks:
        label, sep, value = text.partition("\x01")
        words = value.split(" ")
        if sep and label.startswith("Certification") and len(words) >= 2 and rng.random() < 0.6:
            cut = rint(rng, 1, len(words) - 1)
            out += [(kind, f"{label}\x01{' '.join(words[:cut])}"), ("L", " ".join(words[cut:]))]
        else:
            out.append((kind, text))
    return out
