"""search.normalize: drugs, states, specialties, guidelines, pages, strength, quantity, category."""

from __future__ import annotations

import json
from importlib import resources

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from search.engine.searcher import SearchIndex
from search.fields import CATEGORIES, GUIDELINE_SOURCES, REGIONS
from search.parse.normalize import (
    CATEGORY_FAMILIES,
    DrugMatch,
    body_regions,
    categorize,
    category_family,
    drug_class,
    drug_synonyms,
    find_drug,
    find_states,
    guideline_sources,
    ingredients,
    mtus_pages,
    normalize_category,
    normalize_specialty,
    normalize_state,
    parse_quantity,
    parse_strength,
    split_specialties,
)
from search.results import SearchRequest


def data(name: str) -> str:
    """A data file as installed with the package."""
    return resources.files("search.parse.data").joinpath(name).read_text(encoding="utf-8")


# --- drugs -------------------------------------------------------------------------------

DRUGS = [
    # (request, generic, as written, class)
    (
        "TIZANIDINE 4MG Q PRN/ QHS/PRN FOR SEVERE MUSCLE SPASMS",
        "tizanidine",
        "TIZANIDINE",
        "muscle relaxant",
    ),
    (
        "1 PRESCRIPTION OF ZANAFLEX 4 MG # 30 WITH 1 REFILL",
        "tizanidine",
        "ZANAFLEX",
        "muscle relaxant",
    ),
    ("Norco 10/325 mg #30", "hydrocodone/acetaminophen", "Norco", "opioid"),
    ("30 Tablets of Tizanidine HCL 2mg", "tizanidine", "Tizanidine", "muscle relaxant"),
    ("1 Tube of Voltaren Gel 1%", "diclofenac", "Voltaren Gel", "topical NSAID"),
    ("Voltaren XR 100mg #30", "diclofenac", "Voltaren XR", "NSAID"),
    ("Voltaren 1% gel 100g", "diclofenac", "Voltaren", "topical NSAID"),
    ("Flector patch 1.3% #30", "diclofenac", "Flector patch", "topical NSAID"),
    ("Pennsaid 2% solution", "diclofenac", "Pennsaid", "topical NSAID"),
    ("Diclofenac Sodium ER 100mg", "diclofenac", "Diclofenac Sodium ER", "NSAID"),
    ("Diclofenac Sodium Gel 1%", "diclofenac", "Diclofenac Sodium Gel", "topical NSAID"),
    (
        "Retrospective request for Terocin patches #30",
        "lidocaine/menthol",
        "Terocin patches",
        "compounded topical",
    ),
    (
        "Terocin lotion 120ml",
        "methyl salicylate/capsaicin/menthol/lidocaine",
        "Terocin lotion",
        "compounded topical",
    ),
    (
        "LidoPro ointment",
        "methyl salicylate/capsaicin/menthol/lidocaine",
        "LidoPro ointment",
        "compounded topical",
    ),
    (
        "Medrox patches #30",
        "methyl salicylate/menthol/capsaicin",
        "Medrox patches",
        "compounded topical",
    ),
    ("Menthoderm gel 120gm", "methyl salicylate/menthol", "Menthoderm gel", "compounded topical"),
    (
        "Flurbiprofen 20%/Cyclobenzaprine 10% cream 180gm",
        "flurbiprofen/cyclobenzaprine",
        "Flurbiprofen/Cyclobenzaprine",
        "compounded topical",
    ),
    (
        "Flurbiprofen 20%/Cyclobenzaprine 10%/Lidocaine 5% cream",
        "flurbiprofen/cyclobenzaprine/lidocaine",
        "Flurbiprofen/Cyclobenzaprine/Lidocaine",
        "compounded topical",
    ),
    (
        "Gabapentin 10%, Ketoprofen 20%, Lidocaine 5% cream",
        "gabapentin/ketoprofen/lidocaine",
        "Gabapentin/Ketoprofen/Lidocaine",
        "compounded topical",
    ),
    (
        "Capsaicin 0.025%/Menthol 2%/Camphor 2%",
        "capsaicin/menthol/camphor",
        "Capsaicin/Menthol/Camphor",
        "compounded topical",
    ),
    ("Compound cream: Ketoprofen 20%", "ketoprofen", "Ketoprofen", "topical NSAID"),
    ("Gabapentin 10% cream", "gabapentin", "Gabapentin", "compounded topical"),
    ("Compounded topical cream", "compounded topical", "Compounded topical", "compounded topical"),
    ("Hydrocodone/APAP 10/325 #90", "hydrocodone/acetaminophen", "Hydrocodone/APAP", "opioid"),
    (
        "hydrocodone bitartrate/acetaminophen 5/325mg",
        "hydrocodone/acetaminophen",
        "hydrocodone bitartrate/acetaminophen",
        "opioid",
    ),
    (
        "Hydrocodone-Acetaminophen 7.5/325mg",
        "hydrocodone/acetaminophen",
        "Hydrocodone-Acetaminophen",
        "opioid",
    ),
    ("Hydrocodone 10/325mg #60", "hydrocodone/acetaminophen", "Hydrocodone", "opioid"),
    ("Hysingla ER 20mg", "hydrocodone", "Hysingla ER", "opioid"),
    ("Zohydro ER 10 mg", "hydrocodone", "Zohydro ER", "opioid"),
    ("Percocet 10/325 #120", "oxycodone/acetaminophen", "Percocet", "opioid"),
    ("Oxycodone 10mg #150", "oxycodone", "Oxycodone", "opioid"),
    ("OxyContin 20mg", "oxycodone", "OxyContin", "opioid"),
    ("Ultram ER 150mg #30", "tramadol", "Ultram ER", "opioid"),
    ("Tramadol ER 150 mg", "tramadol", "Tramadol ER", "opioid"),
    ("Ultracet 37.5/325 mg", "tramadol/acetaminophen", "Ultracet", "opioid"),
    ("Tramadol/APAP 37.5/325mg", "tramadol/acetaminophen", "Tramadol/APAP", "opioid"),
    ("Tylenol #3 #60", "acetaminophen/codeine", "Tylenol #3", "opioid"),
    ("Tylenol with Codeine 300/30mg", "acetaminophen/codeine", "Tylenol with Codeine", "opioid"),
    ("Tylenol 500mg", "acetaminophen", "Tylenol", "analgesic"),
    ("APAP 500 mg", "acetaminophen", "APAP", "analgesic"),
    ("MS Contin 30mg", "morphine", "MS Contin", "opioid"),
    ("Morphine Sulfate ER 30mg", "morphine", "Morphine", "opioid"),
    ("Fentanyl patch 25mcg/hr #10", "fentanyl", "Fentanyl", "opioid"),
    ("Butrans 10mcg/hr patch", "buprenorphine", "Butrans", "opioid"),
    ("Suboxone 8/2mg film", "buprenorphine/naloxone", "Suboxone", "opioid"),
    ("Nucynta ER 100mg", "tapentadol", "Nucynta ER", "opioid"),
    ("Soma 350mg #60", "carisoprodol", "Soma", "muscle relaxant"),
    ("Norflex ER 100mg", "orphenadrine", "Norflex ER", "muscle relaxant"),
    ("Orphenadrine Citrate ER 100mg", "orphenadrine", "Orphenadrine", "muscle relaxant"),
    ("Fexmid 7.5mg #90", "cyclobenzaprine", "Fexmid", "muscle relaxant"),
    ("Cyclobenzaprine 7.5 mg #60", "cyclobenzaprine", "Cyclobenzaprine", "muscle relaxant"),
    ("Cyclobenza-\nprine 10mg", "cyclobenzaprine", "Cyclobenzaprine", "muscle relaxant"),
    ("Cyclobenzeprine 10 mg", "cyclobenzaprine", "Cyclobenzeprine", "muscle relaxant"),
    ("Zanaflex (tizanidine) 4mg", "tizanidine", "Zanaflex", "muscle relaxant"),
    ("Tizanidine/Zanaflex 4mg", "tizanidine", "Tizanidine", "muscle relaxant"),
    ("Parafon Forte 500mg", "chlorzoxazone", "Parafon Forte", "muscle relaxant"),
    ("Gabapentin 600 mg #90 with 2 refills", "gabapentin", "Gabapentin", "anticonvulsant"),
    ("Neurontin 300mg", "gabapentin", "Neurontin", "anticonvulsant"),
    ("Lyrica 75mg", "pregabalin", "Lyrica", "anticonvulsant"),
    ("Cymbalta 60mg #30", "duloxetine", "Cymbalta", "antidepressant"),
    ("Trazodone 50mg", "trazodone", "Trazodone", "antidepressant"),
    ("Diazepam 10mg #60", "diazepam", "Diazepam", "benzodiazepine"),
    ("Ambien CR 12.5mg", "zolpidem", "Ambien CR", "hypnotic"),
    ("Naproxen sodium 550mg", "naproxen", "Naproxen sodium", "NSAID"),
    ("Anaprox DS 550mg #60", "naproxen", "Anaprox DS", "NSAID"),
    ("Motrin 800mg", "ibuprofen", "Motrin", "NSAID"),
    ("Lidoderm 5% patch #30", "lidocaine", "Lidoderm", "topical anesthetic"),
    ("Lidoderm patches", "lidocaine", "Lidoderm patches", "topical anesthetic"),
    ("Lidocaine 5% ointment", "lidocaine", "Lidocaine", "topical anesthetic"),
    ("Omeprazole DR 20mg", "omeprazole", "Omeprazole DR", "proton pump inhibitor"),
    ("Prilosec 20mg", "omeprazole", "Prilosec", "proton pump inhibitor"),
    ("Zofran ODT 8mg", "ondansetron", "Zofran ODT", "antiemetic"),
    ("Senokot-S #60", "sennosides/docusate", "Senokot-S", "laxative"),
    (
        "Butalbital/APAP/Caffeine 50/325/40mg",
        "butalbital/acetaminophen/caffeine",
        "Butalbital/APAP/Caffeine",
        "barbiturate combination",
    ),
    ("Fioricet #30", "butalbital/acetaminophen/caffeine", "Fioricet", "barbiturate combination"),
    ("Theramine #90", "theramine", "Theramine", "medical food"),
    ("Sentra PM #60", "sentra pm", "Sentra PM", "medical food"),
    ("Medrol Dosepak", "methylprednisolone", "Medrol Dosepak", "corticosteroid"),
    ("AndroGel 1.62%", "testosterone", "AndroGel", "androgen"),
    ("Naproxen and omeprazole", "naproxen", "Naproxen", "NSAID"),
    ("Naproxen/omeprazole", "naproxen/omeprazole", "Naproxen/omeprazole", "combination"),
    ("Tramadol and Norco", "tramadol", "Tramadol", "opioid"),
    ("Norco/Soma", "hydrocodone/acetaminophen", "Norco", "opioid"),
    ("Tramadol with acetaminophen", "tramadol/acetaminophen", "Tramadol/acetaminophen", "opioid"),
    ("  Norco   10/325 ", "hydrocodone/acetaminophen", "Norco", "opioid"),
    # compounds: every ingredient kept, unknown ones as written, in the written order
    (
        "Flurbiprofen 10%/Dextromethorphan 5%/Lidocaine 5%",
        "flurbiprofen/dextromethorphan/lidocaine",
        "Flurbiprofen/Dextromethorphan/Lidocaine",
        "compounded topical",
    ),
    (
        "Flurbiprofen 20%/Zylomorphan 5%/Lidocaine 5% cream 180gm",
        "flurbiprofen/zylomorphan/lidocaine",
        "Flurbiprofen/Zylomorphan/Lidocaine",
        "compounded topical",
    ),
    (
        "Compound: Quaxetine 10%, Gabapentin 6%, Frobocaine HCl 2%",
        "quaxetine/gabapentin/frobocaine",
        "Quaxetine/Gabapentin/Frobocaine",
        "compounded topical",
    ),
    (
        "Ketoprofen 20%, Cyclobenzaprine 2% and Hyaluronic Acid 0.2% in Lipoderm base",
        "ketoprofen/cyclobenzaprine/hyaluronic acid",
        "Ketoprofen/Cyclobenzaprine/Hyaluronic Acid",
        "compounded topical",
    ),
    (
        "Amitriptyline HCl 10%/Dextromethorphan HBr 10%/Tramadol HCl 5% 240gm",
        "amitriptyline/dextromethorphan/tramadol",
        "Amitriptyline/Dextromethorphan/Tramadol",
        "compounded topical",
    ),
    (
        "Flurbiprofen/Plorimine/Lidocaine cream",
        "flurbiprofen/plorimine/lidocaine",
        "Flurbiprofen/Plorimine/Lidocaine cream",
        "compounded topical",
    ),
    (
        "Cyclo/Keto/Lido cream",
        "cyclobenzaprine/ketoprofen/lidocaine",
        "Cyclo/Keto/Lido",
        "compounded topical",
    ),
    ("Lidocaine 5% patch / left knee", "lidocaine", "Lidocaine", "topical anesthetic"),
    ("Gabapentin 300mg, Vitamin C 500mg", "gabapentin", "Gabapentin", "anticonvulsant"),
    ("Norco 10/325 #90 and Unknownol 5mg", "hydrocodone/acetaminophen", "Norco", "opioid"),
    # compounding-pharmacy and less common brands, combination generics
    ("Ketophene 20% cream 120gm", "ketoprofen", "Ketophene", "topical NSAID"),
    ("Cyclophene 5% cream", "cyclobenzaprine", "Cyclophene", "compounded topical"),
    ("Anecream 5% 30gm", "lidocaine", "Anecream", "topical anesthetic"),
    ("Trezix #60", "acetaminophen/caffeine/dihydrocodeine", "Trezix", "opioid"),
    (
        "Acetaminophen/caffeine/dihydrocodeine 320.5/30/16mg",
        "acetaminophen/caffeine/dihydrocodeine",
        "Acetaminophen/caffeine/dihydrocodeine",
        "opioid",
    ),
    ("Lenzapatch #15", "lidocaine/menthol", "Lenzapatch", "compounded topical"),
    ("Nalfon 400mg #60", "fenoprofen", "Nalfon", "NSAID"),
    ("Fenortho 200mg", "fenoprofen", "Fenortho", "NSAID"),
    ("Synera patch", "lidocaine/tetracaine", "Synera", "topical anesthetic"),
    ("Theramine #120", "theramine", "Theramine", "medical food"),
    ("Sentra A.M. #60", "sentra am", "Sentra A.M", "medical food"),
    ("Trepadone #120", "trepadone", "Trepadone", "medical food"),
    ("Genicin 500mg #90", "glucosamine", "Genicin", "dietary supplement"),
    ("Dayvigo 5mg", "lemborexant", "Dayvigo", "hypnotic"),
]


@pytest.mark.parametrize(("text", "generic", "written", "klass"), DRUGS)
def test_find_drug(text: str, generic: str, written: str, klass: str) -> None:
    assert find_drug(text) == DrugMatch(generic, written, klass)


NO_DRUG = [
    "MRI of the lumbar spine",
    "Physical therapy 2x4 for the left knee",
    "Lumbar epidural steroid injection L4-5",
    "Urine drug screen",
    "Ultrasound of the right shoulder",
    "somatic dysfunction of the lumbar spine",
    "Chiropractic manipulation x 6 sessions",
    "TENS unit rental x 30 days",
    "Medication management",
    "Pain management consultation",
    "Functional restoration program x 10 days",
    "H-wave device",
    "Home health aide 3 times a week",
    "EMG/NCV of the bilateral upper extremities",
    "",
    "   ",
]


@pytest.mark.parametrize("text", NO_DRUG)
def test_no_drug(text: str) -> None:
    assert find_drug(text) is None


@pytest.mark.parametrize(
    ("name", "klass"),
    [
        ("tizanidine", "muscle relaxant"),
        ("hydrocodone/acetaminophen", "opioid"),
        ("Hydrocodone/Acetaminophen", "opioid"),
        ("diclofenac", "NSAID"),
        ("voltaren gel", "topical NSAID"),
        ("norco", "opioid"),
        ("lidocaine", "local anesthetic"),
        ("flurbiprofen/cyclobenzaprine", "compounded topical"),
        ("gabapentin/ketoprofen/lidocaine", "compounded topical"),
        ("naproxen/omeprazole", "combination"),
        ("compounded topical", "compounded topical"),
        ("theramine", "medical food"),
        ("nonsense", None),
        ("tizanidine/nonsense", None),
        ("", None),
    ],
)
def test_drug_class(name: str, klass: str | None) -> None:
    assert drug_class(name) == klass


def test_drug_synonyms_brand_and_generic_both_ways() -> None:
    syn = drug_synonyms()
    assert syn["norco"][0] == "hydrocodone/acetaminophen"
    assert "norco" in syn["hydrocodone/acetaminophen"]
    assert "vicodin" in syn["norco"]
    assert {"zanaflex", "tizanidine"} <= set(syn["tizanidine"])
    assert syn["voltaren gel"] == syn["diclofenac"] and "flector" in syn["voltaren"]
    assert "ms contin" in syn and syn["ms contin"][0] == "morphine"
    assert "lidoderm" in syn["lidocaine"] and "terocin" not in syn["lidocaine"]


def test_drug_synonyms_are_closed_and_lowercase() -> None:
    syn = drug_synonyms()
    for name, names in syn.items():
        assert name == name.lower() == " ".join(name.split())
        assert name in names and len(set(names)) == len(names)
        assert all(syn[other] == names for other in names)
    syn.clear()  # a copy: clearing it changes nothing
    assert drug_synonyms()


def test_drug_vocabulary_has_no_conflicting_names() -> None:
    owner: dict[str, str] = {}
    generics = set()
    for line in data("drugs.tsv").splitlines():
        if not line.strip() or line.startswith("#"):
            continue
        cells = line.split("\t")
        assert len(cells) == 5, line
        generic, klass, flags, aliases, brands = cells
        assert generic == generic.lower() and klass and flags in ("-", "t", "p")
        generics.add(generic)
        for name in [*aliases.split("|"), *brands.split("|")]:
            if name != "-":
                key = " ".join(name.lower().split())
                assert owner.setdefault(key, generic) == generic, f"{name} is two drugs"
    assert len(generics) >= 280


@pytest.mark.parametrize(
    ("name", "parts"),
    [
        ("hydrocodone/acetaminophen", ("hydrocodone", "acetaminophen")),
        ("Norco", ("hydrocodone", "acetaminophen")),
        ("Trezix", ("acetaminophen", "caffeine", "dihydrocodeine")),
        (
            "flurbiprofen/dextromethorphan/lidocaine",
            ("flurbiprofen", "dextromethorphan", "lidocaine"),
        ),
        ("tizanidine", ("tizanidine",)),
        ("Terocin", ("methyl salicylate", "capsaicin", "menthol", "lidocaine")),
        ("compounded topical", ()),
        ("hyaluronic acid", ("hyaluronic acid",)),
        ("a/a/b", ("a", "b")),
        ("", ()),
    ],
)
def test_ingredients(name: str, parts: tuple[str, ...]) -> None:
    assert ingredients(name) == parts


def test_every_found_compound_splits_into_its_ingredients() -> None:
    for text, generic, _written, _klass in DRUGS:
        parts = ingredients(generic)
        assert "/".join(parts) == generic or (not parts and generic == "compounded topical"), text


def _rows() -> list[list[str]]:
    """The rows of drugs.tsv."""
    lines = data("drugs.tsv").splitlines()
    return [line.split("\t") for line in lines if line.strip() and not line.startswith("#")]


def test_every_brand_maps_to_a_generic_the_class_table_knows() -> None:
    names = 0
    for generic, klass, _flags, _aliases, brands in _rows():
        for brand in brands.split("|"):
            if brand == "-":
                continue
            names += 1
            match = find_drug(f"{brand} #30")
            assert match is not None and match.generic == generic, brand
            assert drug_class(match.generic) is not None, brand
            assert match.drug_class == klass or drug_class(brand) == klass, brand
            assert all(drug_class(part) is not None for part in ingredients(generic)) or (
                klass in ("compounded topical", "convenience kit", "medical food")
            ), brand
    assert names >= 400


# --- states ------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("text", "state"),
    [
        ("CA", "California"),
        ("Calif.", "California"),
        ("california", "California"),
        ("CALIFORNIA", "California"),
        (" State of California ", "California"),
        ("N.Y.", "New York"),
        ("W. Va.", "West Virginia"),
        ("DC", "District of Columbia"),
        ("Washington, D.C.", "District of Columbia"),
        ("Washington", "Washington"),
        ("PR", "Puerto Rico"),
        ("Nevada", "Nevada"),
        ("Atlantis", None),
        ("", None),
    ],
)
def test_normalize_state(text: str, state: str | None) -> None:
    assert normalize_state(text) == state


@pytest.mark.parametrize(
    ("text", "states"),
    [
        ("California", ("California",)),
        ("licensed to practice in California and Nevada", ("California", "Nevada")),
        ("is licensed to practice in CA", ("California",)),
        ("State(s) of Licensure: NV, Arizona", ("Nevada", "Arizona")),
        ("Maryland", ("Maryland",)),
        ("CA, NV, CA", ("California", "Nevada")),
        ("West Virginia and Virginia", ("West Virginia", "Virginia")),
        ("LICENSED TO PRACTICE IN OHIO", ("Ohio",)),
        ("licensed in Arkansas", ("Arkansas",)),
        ("in or me", ()),
        ("he/she has been in active clinical practice", ()),
        ("", ()),
    ],
)
def test_find_states(text: str, states: tuple[str, ...]) -> None:
    assert find_states(text) == states


def test_every_state_by_name_and_code() -> None:
    rows = json.loads(data("states.json"))["states"]
    assert len(rows) == 52
    for s in rows:
        assert normalize_state(s["name"]) == normalize_state(s["usps"]) == s["name"]
        assert all(normalize_state(a) == s["name"] for a in s["abbreviations"])
        assert find_states(f"licensed in {s['name']}") == (s["name"],)


# --- specialties -------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("text", "canonical"),
    [
        ("Anesthesia", "Anesthesiology"),
        ("Anesthesiology", "Anesthesiology"),
        ("Family Practice", "Family Medicine"),
        ("Physical Medicine & Rehabilitation", "Physical Medicine and Rehabilitation"),
        ("PM&R", "Physical Medicine and Rehabilitation"),
        ("Acupuncture & Pain Medicine", "Acupuncture and Pain Medicine"),
        ("Orthopaedic Surgery", "Orthopedic Surgery"),
        ("ORTHOPEDIC SURGERY.", "Orthopedic Surgery"),
        ("Board Certified in Internal Medicine", "Internal Medicine"),
        ("Neurosurgery", "Neurological Surgery"),
        ("Pain Management", "Pain Medicine"),
        ("Chiropractor", "Chiropractic"),
        ("Licensed Psychologist", "Psychology"),
        ("OB/GYN", "Obstetrics and Gynecology"),
        ("trauma surgery", "Trauma Surgery"),
        ("SLEEP DISORDERS", "Sleep Disorders"),
        ("", ""),
    ],
)
def test_normalize_specialty(text: str, canonical: str) -> None:
    assert normalize_specialty(text) == canonical


@pytest.mark.parametrize(
    ("text", "canonical"),
    [
        (
            "Public Health & General Preventive Medicine",
            "Public Health and General Preventive Medicine",
        ),
        (
            "PUBLIC HEALTH AND GENERAL PREVENTIVE MEDICINE",
            "Public Health and General Preventive Medicine",
        ),
        ("Occupatinal Medicine", "Occupational Medicine"),
        ("occupational medicine", "Occupational Medicine"),
        ("Physcial Medicine & Rehabilitaion", "Physical Medicine and Rehabilitation"),
        ("ANESTHESIOLGY", "Anesthesiology"),
        ("Orthopedic Surgey", "Orthopedic Surgery"),
        ("Rhuematology", "Rheumatology"),
        ("Pain Managment", "Pain Medicine"),
        ("Pediatric Rehabilitation Medicine", "Pediatric Rehabilitation Medicine"),
        # unknown names are not forced onto a near one
        ("Physican", "Physican"),
        ("Osteopathy", "Osteopathy"),
        ("Medicine", "Medicine"),
    ],
)
def test_specialty_typos_and_spellings(text: str, canonical: str) -> None:
    assert normalize_specialty(text) == canonical


def test_canonical_specialties_are_fixed_points() -> None:
    table = json.loads(data("specialties.json"))["specialties"]
    for canonical, variants in table.items():
        assert normalize_specialty(canonical) == canonical
        assert split_specialties(canonical) == (canonical,)
        assert all(normalize_specialty(v) == canonical for v in variants)


@pytest.mark.parametrize(
    ("text", "specialties"),
    [
        ("Internal Medicine, Rheumatology", ("Internal Medicine", "Rheumatology")),
        ("Orthopaedic Surgery; Sports Medicine", ("Orthopedic Surgery", "Sports Medicine")),
        ("Physical Medicine and Rehabilitation", ("Physical Medicine and Rehabilitation",)),
        (
            "Physical Medicine & Rehabilitation; Pain Medicine",
            ("Physical Medicine and Rehabilitation", "Pain Medicine"),
        ),
        ("Anesthesiology and Pain Medicine", ("Anesthesiology", "Pain Medicine")),
        (
            "Anesthesiology, has a subspecialty in Acupuncture and Pain Medicine",
            ("Anesthesiology", "Acupuncture and Pain Medicine"),
        ),
        ("Endocrinology, Diabetes & Metabolism", ("Endocrinology",)),
        ("Family Practice / Occupational Medicine", ("Family Medicine", "Occupational Medicine")),
        ("Preventive Medicine", ("Preventive Medicine",)),
        ("Internal\nMedicine, Rheumatology", ("Internal Medicine", "Rheumatology")),
        ("Psychiatry and Psychiatry", ("Psychiatry",)),
        (
            "Public Health & General Preventive Medicine, Occupational Medicine",
            ("Public Health and General Preventive Medicine", "Occupational Medicine"),
        ),
        (
            "Board Certified in Physcial Medicine and Rehabilitaion, Pain Managment",
            ("Physical Medicine and Rehabilitation", "Pain Medicine"),
        ),
        ("", ()),
    ],
)
def test_split_specialties(text: str, specialties: tuple[str, ...]) -> None:
    assert split_specialties(text) == specialties


# --- guidelines and pages ----------------------------------------------------------------


@pytest.mark.parametrize(
    ("text", "sources"),
    [
        ("Decision based on MTUS Chronic Pain Treatment Guidelines", ("MTUS",)),
        ("Official Disability Guidelines (ODG), Pain", ("ODG",)),
        ("American College of Occupational and Environmental\nMedicine", ("ACOEM",)),
        ("Chronic Pain Medical Treatment Guidelines, Lidoderm, page 56-57.", ("MTUS",)),
        ("Per MTUS CPMTG page 66", ("MTUS",)),
        ("Medical Treatment Utilization Schedule", ("MTUS",)),
        ("ACOEM, Chapter 9; Official Disability Guidelines (ODG)", ("ODG", "ACOEM")),
        ("MTUS/ACOEM Guidelines and ODG", ("MTUS", "ODG", "ACOEM")),
        (
            "The Claims Administrator did not base their decision on the MTUS. Decision based on "
            "Non-MTUS Citation Official Disability Guidelines (ODG), Tizanidine.",
            ("ODG",),
        ),
        ("Non-MTUS Citation ODG. Per the MTUS p66, ...", ("MTUS", "ODG")),
        ("codger, acoemia, mtuses", ()),
        ("", ()),
    ],
)
def test_guideline_sources(text: str, sources: tuple[str, ...]) -> None:
    assert guideline_sources(text) == sources


@pytest.mark.parametrize(
    ("text", "pages"),
    [
        ("Opioids Page(s): 78, 91.", ("78", "91")),
        ("Topical Analgesics Page(s): 63-68", ("63-68",)),
        ("Per the California MTUS p66 Tizanidine", ("66",)),
        ("MTUS CPMTG page 66", ("66",)),
        ("pages 56-57, 111-113", ("56-57", "111-113")),
        ("page 16 – 18 and page 16-18", ("16-18",)),
        ("pp. 78 and 80", ("78", "80")),
        ("Page 2 of 3", ()),
        ("Section(s): Opioids, criteria for use", ()),
        ("p < 0.05", ()),
        ("Medical Treatment 2009, Section(s): Muscle relaxants", ()),
        ("", ()),
    ],
)
def test_mtus_pages(text: str, pages: tuple[str, ...]) -> None:
    assert mtus_pages(text) == pages


# --- strength and quantity ---------------------------------------------------------------


@pytest.mark.parametrize(
    ("text", "strength"),
    [
        ("TIZANIDINE 4MG Q PRN", "4 mg"),
        ("Norco 10/325 mg #30", "10/325 mg"),
        ("Norco 10/325 #90", "10/325 mg"),
        ("Norco 10-325mg", "10/325 mg"),
        ("Hydrocodone 10mg/325mg", "10/325 mg"),
        ("Butalbital/APAP/Caffeine 50/325/40mg", "50/325/40 mg"),
        ("1 Tube of Voltaren Gel 1%", "1%"),
        ("Flurbiprofen 20%/Cyclobenzaprine 10% cream 180gm", "20%/10%"),
        ("Menthoderm 15%/10%", "15%/10%"),
        ("Capsaicin 0.025% cream", "0.025%"),
        ("Fentanyl 25mcg/hr patch", "25 mcg/hr"),
        ("Butrans 5 mcg/hour", "5 mcg/hr"),
        ("Cyclobenzaprine 7.5 mg #60", "7.5 mg"),
        ("Naproxen .5 mg", "0.5 mg"),
        ("Tylenol 1,000 mg", "1000 mg"),
        ("Vitamin D 50,000 IU", "50000 IU"),
        ("1 PRESCRIPTION OF ZANAFLEX 4 MG # 30 WITH 1 REFILL", "4 mg"),
        ("MRI of the lumbar spine", None),
        ("Physical therapy 2x4", None),
        ("date of injury 5/15/11", None),
        ("Terocin patches #30", None),
        ("", None),
    ],
)
def test_parse_strength(text: str, strength: str | None) -> None:
    assert parse_strength(text) == strength


@pytest.mark.parametrize(
    ("text", "quantity"),
    [
        ("Norco 10/325 mg #30", "30"),
        ("1 PRESCRIPTION OF ZANAFLEX 4 MG # 30 WITH 1 REFILL", "30"),
        ("Gabapentin 600 mg #120 with 2 refills", "120"),
        ("30 Tablets of Tizanidine HCL 2mg", "30"),
        ("1 Tube of Voltaren Gel 1%", "1"),
        ("Omeprazole 20mg Qty: 60", "60"),
        ("Tylenol #3 #60", "60"),
        ("Tylenol No. 3 qty 90", "90"),
        ("Physical therapy 2x4 for the left knee", "8"),
        ("Physical therapy 3 x 4 weeks", "12"),
        ("Psychotherapy once a week for six weeks", "6"),
        ("Physical therapy two times a week for six weeks", "12"),
        ("Chiropractic care twice weekly x 4 weeks", "8"),
        ("Acupuncture x 6 visits", "6"),
        ("12 sessions of physical therapy", "12"),
        ("Trigger point injections x 4", "4"),
        ("Flurbiprofen 20%/Cyclobenzaprine 10% cream 180gm", "180 g"),
        ("Terocin lotion 120 ml", "120 ml"),
        ("Zanaflex 4 mg", None),
        ("MRI of the lumbar spine", None),
        ("Lumbar epidural steroid injection L4-5", None),
        ("", None),
    ],
)
def test_parse_quantity(text: str, quantity: str | None) -> None:
    assert parse_quantity(text) == quantity


# --- categories --------------------------------------------------------------------------

SERVICES = [
    ("MRI of the lumbar spine", "diagnostic/imaging"),
    ("CT scan of the cervical spine", "diagnostic/imaging"),
    ("X-rays of the left knee", "diagnostic/imaging"),
    ("MR arthrogram of the right shoulder", "diagnostic/imaging"),
    ("Ultrasound of the left wrist", "diagnostic/imaging"),
    ("Bone scan", "diagnostic/imaging"),
    ("Physical therapy 2x4 for the left knee", "physical medicine/physical therapy"),
    ("Post-operative physical therapy x12 visits", "physical medicine/physical therapy"),
    ("Aquatic therapy 2x6", "physical medicine/physical therapy"),
    ("Physiotherapy 6 sessions", "physical medicine/physical therapy"),
    ("Chiropractic manipulation x 6 sessions", "physical medicine/chiropractic"),
    ("Acupuncture x 6 visits", "physical medicine/acupuncture"),
    ("Lumbar epidural steroid injection L4-5", "injections"),
    ("Right L5-S1 transforaminal ESI", "injections"),
    ("Facet joint injections at L4-L5 bilaterally", "injections"),
    ("Trigger point injections x 4", "injections"),
    ("Occipital nerve block", "injections"),
    ("Platelet rich plasma injection to the right elbow", "injections"),
    ("Cortisone injection right shoulder", "injections"),
    ("Kenalog injection to the right knee", "injections"),
    ("Right shoulder arthroscopy with subacromial decompression", "surgery"),
    ("L4-L5 posterior lumbar interbody fusion", "surgery"),
    ("Left carpal tunnel release", "surgery"),
    ("Right total knee arthroplasty", "surgery"),
    ("Lumbar laminectomy and discectomy at L4-5", "surgery"),
    ("Spinal cord stimulator trial", "surgery"),
    ("Manipulation under anesthesia", "surgery"),
    ("TENS unit rental x 30 days", "DMEPOS"),
    ("LSO back brace", "DMEPOS"),
    ("Front-wheeled walker", "DMEPOS"),
    ("Cold therapy unit", "DMEPOS"),
    ("Post-operative cold therapy unit for 7 days", "DMEPOS"),
    ("H-wave device", "DMEPOS"),
    ("Custom orthotics", "DMEPOS"),
    ("Wheelchair", "DMEPOS"),
    ("EMG/NCV of the bilateral upper extremities", "diagnostic/electrodiagnostic"),
    ("Functional capacity evaluation", "diagnostic/other"),
    ("Sleep study", "diagnostic/other"),
    ("Urine drug screen", "diagnostic/lab"),
    ("Quantitative urine drug testing", "diagnostic/lab"),
    ("Complete blood count", "diagnostic/lab"),
    ("Genetic testing for opioid metabolism", "diagnostic/lab"),
    ("Pain management consultation", "evaluation and management/consultation"),
    ("Orthopedic surgery consultation", "evaluation and management/consultation"),
    ("Referral to a hand surgeon", "evaluation and management/consultation"),
    ("Psychological evaluation", "behavioral health"),
    ("Cognitive behavioral therapy x 6 sessions", "behavioral health"),
    ("Biofeedback x 6 sessions", "physical medicine/modalities"),
    ("Home health aide 3 times a week", "home health"),
    ("Functional restoration program x 10 days", "programs"),
    ("HELP functional restoration program", "programs"),
    ("Follow-up visit with the treating physician", "evaluation and management/office visit"),
    ("Monthly follow-up visits x 3", "evaluation and management/office visit"),
    ("Gym membership x 6 months", "other"),
    ("Transportation to and from medical appointments", "other"),
    ("Compound cream 180gm", "pharmaceuticals"),
    ("Unknown topical cream", "pharmaceuticals"),
    ("Prescription medication refill", "pharmaceuticals"),
    ("Oxycontyn extended release 20mg tablets", "pharmaceuticals"),
    ("Unknown ingredient 10% solution", "pharmaceuticals"),
    # the known misclassifications, fixed by general rules
    ("Pre-operative PT/PTT", "diagnostic/lab"),
    ("Pre-op labs: CBC, PT/INR", "diagnostic/lab"),
    ("Myofascial release 2x4 to the cervical spine", "physical medicine/physical therapy"),
    ("Therapeutic ultrasound 6 sessions", "physical medicine/modalities"),
    ("Four sessions of electrical stimulation two times a week", "physical medicine/modalities"),
    ("Extracorporeal shockwave therapy x 3 to the left heel", "physical medicine/modalities"),
    ("ESWT right shoulder x 3", "physical medicine/modalities"),
    ("Four sessions of infrared therapy", "physical medicine/modalities"),
    ("Neuromuscular electrical stimulation (NMES) unit purchase", "DMEPOS"),
    ("Admission to an acute rehabilitation unit x 14 days", "programs"),
    ("Inpatient rehabilitation facility stay", "programs"),
    ("Associated surgical service: Ultrasling", "DMEPOS"),
    ("Associated surgical service: 2 leg wraps", "DMEPOS"),
    ("Associated surgical service: Assistant surgeon", "surgery"),
    ("Chiro with modalities 2 times a week for 6 weeks", "physical medicine/chiropractic"),
    ("Physical medicine and rehabilitation consultation", "evaluation and management/consultation"),
    ("Medication adjustment visit", "evaluation and management/office visit"),
    ("Ultrasound-guided aspiration of the right knee", "injections"),
    ("Ultrasound of the right shoulder", "diagnostic/imaging"),
    ("Nerve conduction studies of the left leg", "diagnostic/electrodiagnostic"),
    ("Psychiatric consultation", "behavioral health"),
    ("", "other"),
]


@pytest.mark.parametrize(("text", "category"), SERVICES)
def test_categorize_services(text: str, category: str) -> None:
    match = find_drug(text)
    assert categorize(text, match.generic if match else None) == category


@pytest.mark.parametrize(("text", "generic", "_written", "_klass"), DRUGS)
def test_categorize_drugs(text: str, generic: str, _written: str, _klass: str) -> None:
    assert categorize(text, generic) == "pharmaceuticals"


def test_categorize_trusts_the_drug_argument() -> None:
    assert categorize("Norco #90", None) == "other"
    assert categorize("Norco #90", "hydrocodone/acetaminophen") == "pharmaceuticals"
    assert categorize("Lumbar ESI with Depo-Medrol", "methylprednisolone") == "injections"
    assert categorize("Urine drug screen", "x") == "diagnostic/lab"
    assert categorize("Hyaluronic acid injection", "hyaluronic acid") == "injections"
    assert categorize("Ketoprofen 10%/Hyaluronic acid 0.2% cream", "a/b") == "pharmaceuticals"


@pytest.mark.parametrize(
    ("category", "family"),
    [
        ("pharmaceuticals", "pharmaceuticals"),
        ("diagnostic/imaging", "diagnostic"),
        ("physical medicine/modalities", "physical medicine"),
        ("evaluation and management/consultation", "evaluation and management"),
        ("DMEPOS", "DMEPOS"),
        ("other", "other"),
        # the older flat names (the real-letter labels)
        ("medication", "pharmaceuticals"),
        ("imaging", "diagnostic"),
        ("laboratory", "diagnostic"),
        ("diagnostic testing", "diagnostic"),
        ("physical therapy", "physical medicine"),
        ("chiropractic", "physical medicine"),
        ("acupuncture", "physical medicine"),
        ("injection", "injections"),
        ("durable medical equipment", "DMEPOS"),
        ("consultation", "evaluation and management"),
        ("office visit", "evaluation and management"),
        ("psychological services", "behavioral health"),
        ("functional restoration", "programs"),
        ("home health", "home health"),
        ("surgery", "surgery"),
    ],
)
def test_category_family(category: str, family: str) -> None:
    assert category_family(category) == family


def test_category_families_are_the_dwc_ones() -> None:
    assert CATEGORY_FAMILIES == (
        "pharmaceuticals", "DMEPOS", "diagnostic", "physical medicine", "surgery", "injections",
        "evaluation and management", "programs", "home health", "behavioral health", "other",
    )  # fmt: skip
    assert all(category_family(c) in CATEGORY_FAMILIES for c in CATEGORIES)
    with pytest.raises(ValueError, match="nonsense"):
        category_family("nonsense")


def test_every_category_has_a_rule() -> None:
    rules = json.loads(data("categories.json"))["rules"]
    named = {r["category"] for r in rules if "category" in r}
    assert named | {"pharmaceuticals", "other"} == set(CATEGORIES)


# --- no function raises ------------------------------------------------------------------


@settings(max_examples=300, deadline=None)
@given(st.text(max_size=200) | st.text(alphabet="NorcoTyl #%/-.,:;0123456789 xXmgML", max_size=60))
def test_nothing_raises_on_any_text(text: str) -> None:
    match = find_drug(text)
    assert match is None or (match.generic and match.as_written and match.drug_class)
    assert categorize(text, match.generic if match else None) in CATEGORIES
    assert categorize(text, None) in CATEGORIES
    assert drug_class(text) is None or isinstance(drug_class(text), str)
    assert normalize_state(text) is None or normalize_state(text) in find_states(
        f"licensed in {normalize_state(text)}"
    )
    states = find_states(text)
    assert len(set(states)) == len(states)
    assert isinstance(normalize_specialty(text), str)
    assert all(s for s in split_specialties(text))
    sources = guideline_sources(text)
    assert sources == tuple(s for s in GUIDELINE_SOURCES if s in sources)
    assert all(p.replace("-", "").isdigit() for p in mtus_pages(text))
    for value in (parse_strength(text), parse_quantity(text)):
        assert value is None or value.strip() == value != ""


# --- body regions --------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("text", "regions"),
    [
        ("MRI of the lumbar spine", ("lumbar spine",)),
        ("Physical therapy 2x6 for the low back and neck", ("lumbar spine", "cervical spine")),
        ("MRI of neck and right hand without contrast", ("cervical spine", "wrist/hand")),
        ("Right L5-S1 epidural steroid injection", ("lumbar spine",)),
        ("Cervical ESI at C5-C6", ("cervical spine",)),
        ("MRI Thoracic Spine", ("thoracic spine",)),
        ("Upper back pain", ("thoracic spine",)),
        ("low-back pain", ("lumbar spine",)),
        ("Lumbar back brace", ("lumbar spine",)),
        ("Left shoulder arthroscopy with Bankart repair", ("shoulder",)),
        ("Left carpal tunnel release", ("wrist/hand",)),
        ("De Quervain's tenosynovitis of the left wrist", ("wrist/hand",)),
        ("golfer's elbow", ("elbow",)),
        ("Femoral neck fracture", ("hip",)),
        ("Radial head fracture", ("elbow",)),
        ("knee and ankle pain with plantar fasciitis", ("knee", "ankle/foot")),
        ("EMG/NCV of the bilateral upper extremities", ("upper extremity",)),
        ("CT scan of the head", ("head",)),
        ("Post-concussive headaches", ("head",)),
        ("Psychotherapy x 6 sessions for depression", ("psychiatric",)),
        ("CT scan of abdomen and pelvis", ("other", "hip")),
        # "back" and "head" alone name nothing; "his back" is the low back
        ("The patient injured his back lifting boxes.", ("lumbar spine",)),
        ("He went back to work; back and forth", ()),
        ("On the other hand, the back of the hand was swollen.", ("wrist/hand",)),
        ("head of the bed elevated", ()),
        ("A right-hand dominant man injured his left knee", ("knee",)),
        ("T1-weighted images were reviewed", ()),
        # negations and radiating symptoms
        ("He denies neck pain. Knee swelling.", ("knee",)),
        ("No shoulder pain", ()),
        ("Low back pain radiating down the left leg", ("lumbar spine",)),
        ("MRI without contrast for the lumbar spine", ("lumbar spine",)),
        ("He did not improve with therapy for the low back", ("lumbar spine",)),
        ("Norco 10/325 #90", ()),
        ("", ()),
    ],
)
def test_body_regions(text: str, regions: tuple[str, ...]) -> None:
    assert body_regions(text) == regions


def test_region_data_names_every_region() -> None:
    table = json.loads(data("regions.json"))
    named = [entry["region"] for entry in table["regions"]]
    assert tuple(named) == REGIONS
    assert all(entry["phrases"] for entry in table["regions"])
    ignore_firsts = {p.split()[0].replace("'s", "") for p in table["ignore"]}
    words = {p.split()[0] for e in table["regions"] for p in e["phrases"]}
    words |= {c["word"] for c in table["context"]} | {"other", "arm"}
    assert ignore_firsts <= words, "an ignored phrase starts with a region word (speed)"


@given(st.text(max_size=300))
@settings(max_examples=200, deadline=None)
def test_body_regions_never_raise(text: str) -> None:
    assert set(body_regions(text)) <= set(REGIONS)


@pytest.mark.parametrize(
    ("value", "category"),
    [
        ("diagnostic/imaging", "diagnostic/imaging"),
        ("DMEPOS", "DMEPOS"),
        ("dmepos", "DMEPOS"),
        ("imaging", "diagnostic/imaging"),
        ("durable medical equipment", "DMEPOS"),
        ("medication", "pharmaceuticals"),
        ("lab", "diagnostic/lab"),
        ("acupuncture", "physical medicine/acupuncture"),
        ("other", "other"),
        ("diagnostic testing", None),  # electrodiagnostic or other: not one category
        ("diagnostic", None),
        ("nonsense", None),
    ],
)
def test_normalize_category(value: str, category: str | None) -> None:
    assert normalize_category(value) == category


def test_old_category_names_filter_like_the_new(search_index: SearchIndex) -> None:
    def decisions(value: str) -> int:
        return search_index.search(SearchRequest(filters={"category": (value,)})).total_decisions

    assert decisions("imaging") == decisions("diagnostic/imaging") > 0
    assert decisions("physical therapy") == decisions("physical medicine/physical therapy") > 0
