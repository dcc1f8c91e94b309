"""Vocabulary of the letter generator: drugs, services, states, specialties, stock sentences.

This table is the truth source of the generator (it deliberately does not import
``search.normalize``): a drug written as any of its names maps to its generic, lowercase.
Tables are kept as compact text and parsed once at import.
"""

from __future__ import annotations

import random
import re
from bisect import bisect
from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import date
from itertools import accumulate
from typing import TypeVar

from search.fields import CATEGORY_MEDICATION as MEDICATION

T = TypeVar("T")


@dataclass(frozen=True, slots=True)
class Drug:
    """One drug: generic (lowercase), class key, names as written, strengths, form, weight."""

    generic: str
    klass: str
    names: tuple[str, ...]
    strengths: tuple[str, ...]
    form: str  # tab | cap | patch | gel | cream | solution | film
    weight: int


# Fast deterministic draws (random.Random.choice/randint/sample are several times slower).
def pick(rng: random.Random, seq: Sequence[T]) -> T:
    """rng.choice, faster."""
    return seq[int(rng.random() * len(seq))]


def rint(rng: random.Random, a: int, b: int) -> int:
    """rng.randint, faster."""
    return a + int(rng.random() * (b - a + 1))


def wpick(rng: random.Random, seq: Sequence[T], cum: Sequence[int]) -> T:
    """rng.choices(seq, cum_weights=cum)[0], faster."""
    return seq[bisect(cum, rng.random() * cum[-1])]


def sample(rng: random.Random, seq: Sequence[T], k: int) -> list[T]:
    """k distinct elements of seq in random order (k <= len(seq)), faster than rng.sample."""
    n = len(seq)
    if 2 * k > n:
        lst = list(seq)
        for i in range(k):
            j = i + int(rng.random() * (n - i))
            lst[i], lst[j] = lst[j], lst[i]
        return lst[:k]
    seen: set[int] = set()
    out: list[T] = []
    while len(out) < k:
        i = int(rng.random() * n)
        if i not in seen:
            seen.add(i)
            out.append(seq[i])
    return out


def _rows(table: str) -> list[list[str]]:
    """Rows of a "|"-separated table; a line indented by two spaces continues the row above."""
    rows: list[str] = []
    for line in table.strip("\n").splitlines():
        if line.startswith("  ") and rows:
            rows[-1] += " " + line.strip()
        else:
            rows.append(line)
    return [[f.strip() for f in r.split("|")] for r in rows]


# generic | class | weight | form | names (brands and generic spellings) | strengths
_DRUGS = """
cyclobenzaprine|relaxant|9|tab|Flexeril,Fexmid,Amrix,Cyclobenzaprine,Cyclobenzaprine
  HCL,Cyclobenzaprine Hydrochloride|5mg,7.5mg,10mg
tizanidine|relaxant|5|tab|Zanaflex,Tizanidine,Tizanidine HCL|2mg,4mg
carisoprodol|relaxant|4|tab|Soma,Carisoprodol|250mg,350mg
methocarbamol|relaxant|2|tab|Robaxin,Methocarbamol|500mg,750mg
metaxalone|relaxant|2|tab|Skelaxin,Metaxalone|400mg,800mg
orphenadrine|relaxant|2|tab|Norflex,Orphenadrine,Orphenadrine Citrate ER|100mg
baclofen|relaxant|2|tab|Lioresal,Baclofen|10mg,20mg
chlorzoxazone|relaxant|1|tab|Parafon Forte,Chlorzoxazone|500mg
hydrocodone/acetaminophen|opioid|14|tab|Norco,Vicodin,Lortab,Hydrocodone/APAP,Hydrocodone/Acetaminophen,
  Hydrocodone-Acetaminophen,Hydrocodone
  Bitartrate/Acetaminophen|5/325mg,7.5/325mg,10/325mg
oxycodone/acetaminophen|opioid|4|tab|Percocet,Endocet,Oxycodone/APAP,Oxycodone/Acetaminophen|
  5/325mg,7.5/325mg,10/325mg
tramadol|opioid|8|tab|Ultram,Ultram ER,Tramadol,Tramadol ER,Tramadol HCL|50mg,100mg,150mg
tramadol/acetaminophen|opioid|2|tab|Ultracet,Tramadol/APAP,Tramadol/Acetaminophen|37.5/325mg
oxycodone|opioid|4|tab|OxyContin,Roxicodone,Oxycodone,Oxycodone HCL|10mg,15mg,20mg,30mg
morphine|opioid|2|tab|MS Contin,Kadian,Morphine Sulfate ER,Morphine Sulfate IR|15mg,30mg,60mg
hydromorphone|opioid|2|tab|Dilaudid,Hydromorphone|2mg,4mg,8mg
fentanyl|opioid|2|patch|Duragesic,Fentanyl|25mcg/hr,50mcg/hr,75mcg/hr
tapentadol|opioid|2|tab|Nucynta,Nucynta ER,Tapentadol|50mg,75mg,100mg
methadone|opioid|1|tab|Dolophine,Methadone|5mg,10mg
buprenorphine|opioid|1|patch|Butrans,Buprenorphine|5mcg/hr,10mcg/hr
buprenorphine/naloxone|opioid|1|film|Suboxone,Buprenorphine/Naloxone|8/2mg
oxymorphone|opioid|1|tab|Opana,Opana ER,Oxymorphone|10mg,20mg
acetaminophen/codeine|opioid|1|tab|Tylenol with
  Codeine,Acetaminophen/Codeine,APAP/Codeine|300/30mg,300/60mg
hydrocodone/ibuprofen|opioid|1|tab|Vicoprofen,Hydrocodone/Ibuprofen|7.5/200mg
gabapentin|anticonvulsant|7|cap|Neurontin,Gralise,Gabapentin|100mg,300mg,600mg,800mg
pregabalin|anticonvulsant|3|cap|Lyrica,Pregabalin|50mg,75mg,150mg
topiramate|anticonvulsant|2|tab|Topamax,Topiramate|25mg,50mg,100mg
carbamazepine|anticonvulsant|1|tab|Tegretol,Carbamazepine|200mg
lamotrigine|anticonvulsant|1|tab|Lamictal,Lamotrigine|25mg,100mg
amitriptyline|antidepressant|2|tab|Elavil,Amitriptyline|10mg,25mg,50mg
nortriptyline|antidepressant|1|cap|Pamelor,Nortriptyline|10mg,25mg
duloxetine|antidepressant|3|cap|Cymbalta,Duloxetine|30mg,60mg
venlafaxine|antidepressant|1|cap|Effexor,Effexor XR,Venlafaxine|37.5mg,75mg,150mg
sertraline|antidepressant|2|tab|Zoloft,Sertraline|50mg,100mg
trazodone|antidepressant|2|tab|Desyrel,Trazodone|50mg,100mg
bupropion|antidepressant|1|tab|Wellbutrin,Wellbutrin XL,Bupropion|150mg,300mg
citalopram|antidepressant|1|tab|Celexa,Citalopram|20mg,40mg
escitalopram|antidepressant|1|tab|Lexapro,Escitalopram|10mg,20mg
fluoxetine|antidepressant|1|cap|Prozac,Fluoxetine|20mg,40mg
diazepam|benzodiazepine|2|tab|Valium,Diazepam|5mg,10mg
alprazolam|benzodiazepine|2|tab|Xanax,Alprazolam|0.25mg,0.5mg,1mg
lorazepam|benzodiazepine|1|tab|Ativan,Lorazepam|0.5mg,1mg,2mg
clonazepam|benzodiazepine|1|tab|Klonopin,Clonazepam|0.5mg,1mg
temazepam|benzodiazepine|1|cap|Restoril,Temazepam|15mg,30mg
zolpidem|hypnotic|4|tab|Ambien,Ambien CR,Zolpidem,Zolpidem Tartrate|5mg,10mg,12.5mg
eszopiclone|hypnotic|1|tab|Lunesta,Eszopiclone|1mg,2mg,3mg
zaleplon|hypnotic|1|cap|Sonata,Zaleplon|5mg,10mg
ramelteon|hypnotic|1|tab|Rozerem,Ramelteon|8mg
naproxen|nsaid|8|tab|Naprosyn,Anaprox,Anaprox DS,Naproxen,Naproxen Sodium|275mg,500mg,550mg
ibuprofen|nsaid|3|tab|Motrin,Ibuprofen|600mg,800mg
meloxicam|nsaid|2|tab|Mobic,Meloxicam|7.5mg,15mg
celecoxib|nsaid|2|cap|Celebrex,Celecoxib|100mg,200mg
diclofenac|nsaid|2|tab|Voltaren XR,Diclofenac Sodium ER,Diclofenac Sodium|75mg,100mg
etodolac|nsaid|1|tab|Lodine,Etodolac,Etodolac ER|400mg,500mg
nabumetone|nsaid|1|tab|Relafen,Nabumetone|500mg,750mg
indomethacin|nsaid|1|cap|Indocin,Indomethacin|25mg,50mg
ketorolac|nsaid|1|tab|Toradol,Ketorolac|10mg
diclofenac|topical|3|gel|Voltaren Gel,Diclofenac Sodium Gel|1%
diclofenac|topical|1|patch|Flector|1.3%
diclofenac|topical|1|solution|Pennsaid|1.5%,2%
lidocaine|topical|6|patch|Lidoderm,Lidocaine|5%
capsaicin|topical|1|cream|Zostrix,Capsaicin|0.025%,0.075%
methyl salicylate/menthol|topical|1|cream|Menthoderm|15%/10%
omeprazole|ppi|7|cap|Prilosec,Omeprazole,Omeprazole DR|20mg,40mg
pantoprazole|ppi|3|tab|Protonix,Pantoprazole|20mg,40mg
esomeprazole|ppi|1|cap|Nexium,Esomeprazole|20mg,40mg
lansoprazole|ppi|1|cap|Prevacid,Lansoprazole|15mg,30mg
ranitidine|ppi|1|tab|Zantac,Ranitidine|150mg
ondansetron|antiemetic|3|tab|Zofran,Zofran ODT,Ondansetron,Ondansetron ODT|4mg,8mg
promethazine|antiemetic|1|tab|Phenergan,Promethazine|12.5mg,25mg
metoclopramide|antiemetic|1|tab|Reglan,Metoclopramide|10mg
docusate|misc|1|cap|Colace,Docusate Sodium|100mg,250mg
senna|misc|1|tab|Senokot,Senna|8.6mg
sumatriptan|misc|1|tab|Imitrex,Sumatriptan|50mg,100mg
methylprednisolone|misc|1|tab|Medrol Dosepak,Medrol,Methylprednisolone|4mg
prednisone|misc|1|tab|Deltasone,Prednisone|10mg,20mg
butalbital/acetaminophen/caffeine|misc|1|tab|Fioricet,Butalbital/APAP/Caffeine|50/325/40mg
modafinil|misc|1|tab|Provigil,Modafinil|100mg,200mg
armodafinil|misc|1|tab|Nuvigil,Armodafinil|150mg,250mg
hydroxyzine|misc|1|tab|Vistaril,Atarax,Hydroxyzine|25mg,50mg
quetiapine|misc|1|tab|Seroquel,Quetiapine|25mg,50mg
ketoprofen|topical|1|cream|Ketophene|20%
cyclobenzaprine|topical|1|cream|Cyclophene|5%
lidocaine|topical|1|cream|Anecream|4%,5%
acetaminophen/caffeine/dihydrocodeine|opioid|1|cap|Trezix,Panlor|320.5/30/16mg
lidocaine/menthol|topical|1|patch|Lenzapatch|4%/1%
fenoprofen|nsaid|1|cap|Nalfon,Fenortho,Fenoprofen Calcium|400mg,200mg
theramine|misc|1|cap|Theramine|355mg
glucosamine|misc|1|cap|Genicin|500mg
"""


def _drugs() -> tuple[Drug, ...]:
    out = []
    for generic, klass, weight, form, names, strengths in _rows(_DRUGS):
        split_names = tuple(n.strip() for n in names.split(","))
        split_strengths = tuple(x.strip() for x in strengths.split(","))
        out.append(Drug(generic, klass, split_names, split_strengths, form, int(weight)))
    return tuple(out)


DRUGS = _drugs()
DRUG_WEIGHTS = tuple(d.weight for d in DRUGS)
GENERICS = frozenset(d.generic for d in DRUGS)

# Ingredients of compounded topicals: (written name, strengths).
COMPOUND_INGREDIENTS = (
    ("Flurbiprofen", ("10%", "20%", "25%")),
    ("Cyclobenzaprine", ("2%", "4%", "10%")),
    ("Ketoprofen", ("10%", "20%")),
    ("Gabapentin", ("6%", "10%")),
    ("Lidocaine", ("2%", "5%")),
    ("Tramadol", ("8%", "15%", "20%")),
    ("Capsaicin", ("0.025%", "0.0375%")),
    ("Menthol", ("2%", "5%")),
    ("Camphor", ("2%",)),
    ("Baclofen", ("2%",)),
    ("Amitriptyline", ("4%", "10%")),
    ("Diclofenac", ("5%", "10%")),
)
# Real compounding ingredients the parser's vocabulary does not know: kept as written.
UNKNOWN_INGREDIENTS = (
    ("Guaifenesin", ("10%",)),
    ("Papaverine", ("0.5%",)),
    ("Resveratrol", ("1%",)),
    ("Tranilast", ("1%",)),
    ("Mannitol", ("5%",)),
    ("Ethoxy Diglycol", ("5%",)),
)

# Every word of every drug name, lowercase: never hyphenated by the noise.
DRUG_WORDS = (
    frozenset(w.lower() for d in DRUGS for n in d.names for w in re.split(r"[ /-]", n) if w)
    | frozenset(g for d in DRUGS for g in d.generic.split("/"))
    | frozenset(w.lower() for n, _ in UNKNOWN_INGREDIENTS for w in n.split())
)

# Services: category (one of search.fields.CATEGORIES) | template.
# Fields: {spine} {joint} {side} {Side} {freq} {freqw} {n} {days} {ll} {cl}
_SERVICES = """
diagnostic/imaging|MRI of the {spine}
diagnostic/imaging|MRI of the {side} {joint}
diagnostic/imaging|MRI {spine} without contrast
diagnostic/imaging|CT scan of the {spine}
diagnostic/imaging|X-rays of the {side} {joint}
diagnostic/imaging|3 view X-rays of the {spine}
diagnostic/imaging|MR arthrogram of the {side} {joint}
diagnostic/imaging|Ultrasound of the {side} {joint}
diagnostic/imaging|Repeat MRI of the {spine}
physical medicine/physical therapy|Physical therapy {freq} for the {spine}
physical medicine/physical therapy|Physical therapy {freq} {side} {joint}
physical medicine/physical therapy|{n} sessions of physical therapy for the {side} {joint}
physical medicine/physical therapy|Additional physical therapy {freqw} for the {spine}
physical medicine/physical therapy|Post-operative physical therapy x{n} visits
physical medicine/physical therapy|Aquatic therapy {freq}
physical medicine/chiropractic|Chiropractic treatment {freq} to the {spine}
physical medicine/chiropractic|Chiropractic manipulation x {n} sessions
physical medicine/chiropractic|Chiropractic care {freqw}
physical medicine/acupuncture|Acupuncture x {n} visits
physical medicine/acupuncture|Acupuncture {freq} for the {spine}
physical medicine/acupuncture|Additional acupuncture sessions ({n})
injections|Lumbar epidural steroid injection at {ll}
injections|{Side} {ll} transforaminal epidural steroid injection
injections|Cervical epidural steroid injection at {cl}
injections|Facet joint injections at {ll} bilaterally
injections|Medial branch block at {ll}
injections|Trigger point injections x {n}
injections|Radiofrequency ablation at {ll}
injections|{Side} sacroiliac joint injection
injections|Viscosupplementation injections to the {side} knee x 3
surgery|{Side} shoulder arthroscopy with subacromial decompression
surgery|{Side} knee arthroscopy with partial medial meniscectomy
surgery|{ll} posterior lumbar interbody fusion
surgery|Anterior cervical discectomy and fusion at {cl}
surgery|{Side} carpal tunnel release
surgery|{Side} cubital tunnel release
surgery|Lumbar laminectomy and discectomy at {ll}
surgery|{Side} total knee arthroplasty
surgery|{Side} trigger finger release
DMEPOS|TENS unit
DMEPOS|TENS unit rental x {days} days
DMEPOS|Purchase of a TENS unit
DMEPOS|LSO back brace
DMEPOS|Lumbar back brace
DMEPOS|Cold therapy unit
DMEPOS|Hot/cold therapy unit rental for {days} days
DMEPOS|Interferential stimulator unit
DMEPOS|{Side} wrist splint
DMEPOS|{Side} knee brace
DMEPOS|Continuous passive motion machine x 21 days
DMEPOS|Cervical traction unit for home use
DMEPOS|Front-wheeled walker
DMEPOS|H-wave device
diagnostic/electrodiagnostic|EMG/NCV of the bilateral upper extremities
diagnostic/electrodiagnostic|EMG/NCV of the bilateral lower extremities
diagnostic/electrodiagnostic|NCS of the {side} upper extremity
diagnostic/electrodiagnostic|EMG of the {side} lower extremity
diagnostic/other|Functional capacity evaluation
diagnostic/other|Sleep study
diagnostic/other|Lumbar discogram at {ll}
diagnostic/lab|Urine drug screen
diagnostic/lab|Urine toxicology screening
diagnostic/lab|Comprehensive metabolic panel
diagnostic/lab|Complete blood count
diagnostic/lab|Genetic testing for opioid metabolism
diagnostic/lab|Quantitative urine drug testing
evaluation and management/consultation|Pain management consultation
evaluation and management/consultation|Orthopedic surgery consultation
evaluation and management/consultation|Consultation with a spine surgeon
evaluation and management/consultation|Neurology consultation
evaluation and management/consultation|Referral to a hand surgeon
evaluation and management/consultation|Internal medicine consultation
behavioral health|Cognitive behavioral therapy x {n} sessions
behavioral health|Psychotherapy once a week for {n} weeks
physical medicine/modalities|Biofeedback x {n} sessions
behavioral health|Psychological evaluation
behavioral health|Psychological testing
home health|Home health care 4 hours a day, 5 days a week for {n} weeks
home health|Home health aide 3 times a week
home health|Home care assistance x {n} weeks
programs|Functional restoration program x {n} days
programs|HELP functional restoration program
programs|Multidisciplinary evaluation for a functional restoration program
evaluation and management/office visit|Follow-up visit with the treating physician
evaluation and management/office visit|Office visit in 4-6 weeks
evaluation and management/office visit|Monthly follow-up visits x 3
evaluation and management/office visit|Return office visit
physical medicine/modalities|Electrical stimulation {freq} for the {spine}
physical medicine/modalities|Extracorporeal shockwave therapy x 3 to the {side} {joint}
physical medicine/modalities|Therapeutic ultrasound {freq}
physical medicine/physical therapy|Myofascial release {freq} to the {spine}
diagnostic/lab|Pre-operative PT/PTT
diagnostic/lab|Pre-operative labs: CBC, BMP, PT/INR
programs|Admission to an acute rehabilitation unit x {days} days
DMEPOS|Associated surgical service: Ultrasling
surgery|Associated surgical service: Assistant surgeon
other|Gym membership x 6 months
programs|Weight loss program
other|Transportation to and from medical appointments
other|Pool membership for 3 months
"""
SERVICES: tuple[tuple[str, str], ...] = tuple((r[0], r[1]) for r in _rows(_SERVICES))
SPINES = ("lumbar spine", "cervical spine", "thoracic spine", "low back", "neck")
JOINTS = ("knee", "shoulder", "wrist", "hand", "elbow", "ankle", "hip", "foot")
SIDES = ("right", "left", "bilateral")
FREQS = ("2x6", "2 x 6", "2x4", "3x4", "x 12", "2x3", "3 x 4 weeks", "1x6")
FREQWS = ("two times a week for six weeks", "3 times a week for 4 weeks", "twice weekly x 4 weeks")
COUNTS = ("6", "8", "10", "12", "18", "24", "4")
LUMBAR_LEVELS = ("L4-L5", "L5-S1", "L4-5 and L5-S1", "L3-L4, L4-L5", "L4-S1")
CERVICAL_LEVELS = ("C5-C6", "C5-6", "C4-C5 and C5-C6", "C6-7")
ACOEM_CHAPTERS = {
    "neck": "Chapter 8 Neck and Upper Back Complaints, pages 177-179",
    "shoulder": "Chapter 9 Shoulder Complaints, pages 207-209",
    "elbow": "Chapter 10 Elbow Complaints, pages 33-35",
    "hand": "Chapter 11 Forearm, Wrist, and Hand Complaints, pages 268-270",
    "back": "Chapter 12 Low Back Complaints, pages 303-305",
    "knee": "Chapter 13 Knee Complaints, pages 341-343",
    "foot": "Chapter 14 Ankle and Foot Complaints, pages 372-374",
    "consult": "Chapter 7 Independent Medical Examinations and Consultations, page 127",
}

# Guideline topics per drug class / service category:
# key | MTUS section | MTUS pages | ODG chapter | ODG topic
_TOPICS = """
relaxant|Muscle relaxants (for pain)|63-66|Pain (Chronic)|Muscle relaxants
opioid|Opioids, criteria for use|78-80|Pain (Chronic)|Opioids
anticonvulsant|Antiepilepsy drugs (AEDs)|16-18|Pain (Chronic)|Anti-epilepsy drugs
antidepressant|Antidepressants for chronic pain|13-16|Mental Illness & Stress|Antidepressants
benzodiazepine|Benzodiazepines|24|Pain (Chronic)|Benzodiazepines
hypnotic|Insomnia treatment||Pain (Chronic)|Insomnia treatment
nsaid|NSAIDs (non-steroidal anti-inflammatory drugs)|67-68|Pain (Chronic)|NSAIDs
topical|Topical Analgesics|111-113|Pain (Chronic)|Topical analgesics
ppi|NSAIDs, GI symptoms & cardiovascular risk|68-69|Pain (Chronic)|Proton pump inhibitors (PPIs)
antiemetic|||Pain (Chronic)|Antiemetics (for opioid nausea)
misc|||Pain (Chronic)|Medications for chronic pain
imaging|||Low Back|MRIs (magnetic resonance imaging)
physical therapy|Physical Medicine|98-99|Low Back|Physical therapy
chiropractic|Manual therapy & manipulation|58-60|Low Back|Manipulation
acupuncture|Acupuncture Medical Treatment Guidelines||Pain (Chronic)|Acupuncture
injection|Epidural steroid injections (ESIs)|46|Low Back|Facet joint diagnostic blocks
surgery|||Knee & Leg|Meniscectomy
durable medical equipment|Transcutaneous electrotherapy|114-116|Knee & Leg|Continuous-flow
  cryotherapy
diagnostic testing|||Neck and Upper Back|Electromyography (EMG)
laboratory|Drug testing|43|Pain (Chronic)|Urine drug testing (UDT)
consultation|||Pain (Chronic)|Office visits
psychological services|Behavioral interventions|23|Mental Illness & Stress|Cognitive therapy
home health|Home health services|51|Low Back|Home health services
functional restoration|Chronic pain programs (functional restoration programs)|30-34|Pain
  (Chronic)|Functional restoration programs (FRPs)
office visit|||Pain (Chronic)|Office visits
other|||Low Back|Gym memberships
"""
TOPICS: dict[str, tuple[str, ...]] = {r[0]: tuple(r[1:]) for r in _rows(_TOPICS)}

# Rationale sentences: key | text. A sentence cites the sources it names (MTUS, ODG, ACOEM).
_SENTENCES = """
relaxant|Per the California MTUS, muscle relaxants are recommended with caution as a
  second-line option for short-term treatment of acute exacerbations in patients with chronic low
  back pain.
relaxant|The MTUS chronic pain guidelines state that, in general, muscle relaxants should not
  be used chronically.
relaxant|ODG notes that efficacy appears to diminish over time, and prolonged use of some
  medications in this class may lead to dependence.
relaxant|The medical records indicate that this medication has been prescribed for several
  months, well beyond the recommended 2-3 week duration.
opioid|The MTUS recommends ongoing review and documentation of pain relief, functional
  status, appropriate medication use, and side effects (the 4 A's).
opioid|Per MTUS Chronic Pain Medical Treatment Guidelines p78, four domains have been
  proposed as most relevant for ongoing monitoring of chronic pain patients on opioids.
opioid|The MTUS recommends discontinuing opioids if there is no overall improvement in
  function, unless there are extenuating circumstances.
opioid|ODG does not recommend opioids as a first-line treatment for chronic non-malignant pain.
opioid|There is no documentation of a signed opioid agreement, a recent urine drug screen, or a
  CURES report.
anticonvulsant|According to the MTUS, antiepilepsy drugs are recommended for neuropathic pain
  due to nerve damage.
anticonvulsant|A good response to the use of AEDs has been defined as a 50% reduction in
  pain, and a moderate response as a 30% reduction.
anticonvulsant|ODG recommends documentation of pain relief and improvement in function as well
  as side effects at each visit.
antidepressant|The MTUS recommends antidepressants as a first line option for neuropathic
  pain, and as a possibility for non-neuropathic pain.
antidepressant|ODG recommends antidepressants for the initial treatment of presentations of
  major depressive disorder that are moderate, severe, or psychotic.
antidepressant|The submitted records do not include an assessment of treatment efficacy,
  including changes in analgesic medication use or sleep quality.
benzodiazepine|The MTUS does not recommend benzodiazepines for long-term use because
  long-term efficacy is unproven and there is a risk of dependence.
benzodiazepine|Most guidelines limit use of benzodiazepines to 4 weeks.
benzodiazepine|ODG states that tolerance to the hypnotic effects develops rapidly.
hypnotic|ODG recommends that treatment of insomnia be based on the etiology, and
  pharmacological agents should only be used after careful evaluation of potential causes of sleep
  disturbance.
hypnotic|Zolpidem is a prescription short-acting non-benzodiazepine hypnotic approved for the
  short-term (usually two to six weeks) treatment of insomnia.
hypnotic|There is no documentation of the sleep hygiene measures attempted or of the response to
  this medication.
nsaid|The MTUS recommends NSAIDs at the lowest dose for the shortest period in patients with
  moderate to severe pain.
nsaid|Per the MTUS, there is no evidence of long-term effectiveness of NSAIDs for pain or
  function.
nsaid|ODG notes that NSAIDs are recommended as an option for short-term symptomatic relief.
topical|The MTUS states that topical analgesics are largely experimental in use with few
  randomized controlled trials to determine efficacy or safety.
topical|Any compounded product that contains at least one drug (or drug class) that is not
  recommended is not recommended.
topical|Topical lidocaine may be recommended for localized peripheral pain after there has
  been evidence of a trial of first-line therapy.
topical|ODG states that topical NSAIDs have not been evaluated for treatment of the spine, hip
  or shoulder.
ppi|The MTUS recommends a proton pump inhibitor for patients at intermediate risk for
  gastrointestinal events taking NSAIDs.
ppi|Risk factors include age over 65, a history of peptic ulcer, GI bleeding or perforation,
  and concurrent use of aspirin or corticosteroids.
ppi|ODG notes that long-term PPI use has been shown to increase the risk of hip fracture.
ppi|The records do not document any gastrointestinal complaints or risk factors for
  gastrointestinal events.
antiemetic|ODG does not recommend antiemetics for nausea and vomiting secondary to chronic
  opioid use.
antiemetic|Ondansetron is FDA-approved for nausea and vomiting secondary to chemotherapy and
  radiation treatment and for postoperative use.
misc|ODG recommends that medications be prescribed for a specific indication with documented
  functional benefit.
misc|The records do not describe the indication for this medication or the response to prior use.
imaging|The MTUS/ACOEM guidelines state that unequivocal objective findings that
  identify specific nerve compromise on the neurologic examination are sufficient evidence to
  warrant imaging.
imaging|ACOEM states that imaging is not recommended in the absence of red flags during the
  first four to six weeks of symptoms.
imaging|ODG states that repeat MRI is not routinely recommended and should be reserved for a
  significant change in symptoms.
physical therapy|The MTUS allows for fading of treatment frequency plus active self-directed
  home physical medicine, 9-10 visits over 8 weeks for myalgia and myositis.
physical therapy|ODG recommends a six-visit clinical trial with documented objective
  functional improvement prior to additional visits.
physical therapy|The number of prior sessions completed and the functional benefit obtained are
  not documented.
chiropractic|The MTUS recommends a trial of 6 visits over 2 weeks, with evidence of objective
  functional improvement, total of up to 18 visits over 6-8 weeks.
chiropractic|Manual therapy is not recommended for the ankle and foot, carpal tunnel
  syndrome, the forearm, wrist and hand, or the knee.
acupuncture|The MTUS Acupuncture Medical Treatment Guidelines state that the time to produce
  functional improvement is 3 to 6 treatments.
acupuncture|Acupuncture treatments may be extended if functional improvement is documented.
injection|The MTUS criteria for epidural steroid injections require that radiculopathy be
  documented by physical examination and corroborated by imaging or electrodiagnostic studies.
injection|ACOEM states that invasive techniques such as facet joint injections are of
  questionable merit.
injection|ODG criteria for diagnostic facet blocks include tenderness to palpation over the
  facet region and a normal sensory examination.
surgery|ACOEM recommends surgical consultation for patients with activity limitation for
  more than one month and failure of exercise programs.
surgery|ODG indications for surgery include failure of conservative care and imaging clinical
  findings consistent with the diagnosis.
surgery|There is no documentation of a recent comprehensive course of conservative care directed
  at this condition.
durable medical equipment|The MTUS does not recommend a TENS unit as a primary treatment
  modality, but a one-month home-based trial may be considered.
durable medical equipment|ODG recommends continuous-flow cryotherapy as an option after
  surgery, for up to 7 days.
durable medical equipment|ACOEM states that there is no evidence for the effectiveness of
  lumbar supports in preventing back pain.
diagnostic testing|ACOEM states that electromyography may be useful to identify subtle focal
  neurologic dysfunction in patients with symptoms lasting more than three or four weeks.
diagnostic testing|ODG does not recommend nerve conduction studies when a patient is presumed
  to have symptoms on the basis of radiculopathy.
laboratory|The MTUS recommends drug testing as an option to assess for the use or the
  presence of illegal drugs.
laboratory|ODG recommends yearly screening for patients at low risk of addiction or aberrant
  behavior.
consultation|ACOEM states that a referral may be appropriate if the diagnosis is uncertain
  or extremely complex.
consultation|The clinical rationale for the requested consultation is not documented.
psychological services|The MTUS recommends an initial trial of 3-4 psychotherapy visits over
  2 weeks.
psychological services|ODG recommends up to 13-20 visits over 7-20 weeks if progress is being
  made.
home health|The MTUS recommends home health services only for otherwise recommended medical
  treatment for patients who are homebound, on a part-time or intermittent basis.
home health|Medical treatment does not include homemaker services like shopping, cleaning, and
  laundry.
functional restoration|The MTUS criteria for a functional restoration program include an
  adequate and thorough evaluation and failure of previous methods of treating chronic pain.
functional restoration|Total treatment duration should generally not exceed 20 full-day
  sessions.
office visit|ODG states that the need for a clinical office visit with a health care provider
  is individualized based upon a review of the patient concerns, signs and symptoms.
office visit|The frequency of the requested visits is not supported by the documentation.
other|ODG does not recommend gym memberships unless a home exercise program has not been
  effective and there is a need for equipment.
generic|Review of the submitted documentation does not establish objective functional improvement.
generic|The documentation submitted for review did not include a current comprehensive physical
  examination.
generic|The records available for my review are limited.
generic|There is no evidence of a change in the injured worker's condition since the prior review.
generic|The treating physician's reports do not provide a rationale for this request.
generic|The injured worker continues to report pain rated 7/10.
"""


def _sentences() -> dict[str, tuple[tuple[tuple[str, ...], str], ...]]:
    table: dict[str, list[tuple[tuple[str, ...], str]]] = {}
    for key, text in _rows(_SENTENCES):
        sources = tuple(src for src in ("MTUS", "ODG", "ACOEM") if src in text)
        table.setdefault(key, []).append((sources, text))
    return {k: tuple(v) for k, v in table.items()}


SENTENCES = _sentences()

# All 50 states and DC with two-letter codes; weights favour California.
_STATES = (
    "Alabama AL,Alaska AK,Arizona AZ,Arkansas AR,California CA,Colorado CO,Connecticut CT,"
    "Delaware DE,District of Columbia DC,Florida FL,Georgia GA,Hawaii HI,Idaho ID,Illinois IL,"
    "Indiana IN,Iowa IA,Kansas KS,Kentucky KY,Louisiana LA,Maine ME,Maryland MD,Massachusetts MA,"
    "Michigan MI,Minnesota MN,Mississippi MS,Missouri MO,Montana MT,Nebraska NE,Nevada NV,"
    "New Hampshire NH,New Jersey NJ,New Mexico NM,New York NY,North Carolina NC,North Dakota ND,"
    "Ohio OH,Oklahoma OK,Oregon OR,Pennsylvania PA,Rhode Island RI,South Carolina SC,"
    "South Dakota SD,Tennessee TN,Texas TX,Utah UT,Vermont VT,Virginia VA,Washington WA,"
    "West Virginia WV,Wisconsin WI,Wyoming WY"
)
STATE_ABBR = {s.rsplit(" ", 1)[0]: s.rsplit(" ", 1)[1] for s in _STATES.split(",")}
STATES = tuple(STATE_ABBR)
_HEAVY = {"California": 120, "New York": 8, "Texas": 8, "Florida": 6, "Pennsylvania": 6}
_MEDIUM = ("Ohio", "Illinois", "Maryland", "Massachusetts", "Michigan", "Arizona", "Washington")
STATE_WEIGHTS = tuple(_HEAVY.get(s, 4 if s in _MEDIUM else 2) for s in STATES)

# Reviewer specialties as written -> canonical name (for loose comparison), weights, and the
# subspecialties that go with them. Prose form: "Board Certified in X" or "Licensed in X".
_SPECIALTIES = """
Anesthesiology|Anesthesiology|10|board|Pain Medicine,Acupuncture & Pain Medicine,Acupuncture and
  Pain Medicine
Anesthesia|Anesthesiology|4|board|Pain Medicine,Acupuncture & Pain Medicine
Orthopedic Surgery|Orthopedic Surgery|10|board|Spine Surgery,Sports Medicine,Hand Surgery
Orthopaedic Surgery|Orthopedic Surgery|4|board|Spine Surgery,Hand Surgery
Physical Medicine & Rehabilitation|Physical Medicine & Rehabilitation|8|board|Pain Medicine,Sports
  Medicine
Physical Medicine and Rehabilitation|Physical Medicine & Rehabilitation|3|board|Pain Medicine
Internal Medicine|Internal Medicine|7|board|Rheumatology,Pulmonary Disease,Gastroenterology
Family Practice|Family Medicine|6|board|Sports Medicine
Family Medicine|Family Medicine|3|board|Sports Medicine
Pain Medicine|Pain Medicine|3|board|
Neurology|Neurology|3|board|Pain Medicine,Neuromuscular Medicine
Psychiatry|Psychiatry|3|board|Addiction Medicine
Occupational Medicine|Occupational Medicine|3|board|
Preventive Medicine|Preventive Medicine|2|board|Occupational Medicine
Emergency Medicine|Emergency Medicine|2|board|
Rheumatology|Rheumatology|1|board|
Neurosurgery|Neurological Surgery|2|board|Spine Surgery
Neurological Surgery|Neurological Surgery|1|board|
Plastic Surgery|Plastic Surgery|1|board|Hand Surgery
Chiropractor|Chiropractic|3|licensed|Acupuncture
Chiropractic|Chiropractic|2|licensed|
Psychology|Psychology|2|licensed|
Physical Therapy|Physical Therapy|1|licensed|
Acupuncture|Acupuncture|1|licensed|
Podiatric Surgery|Podiatry|1|board|
Public Health & General Preventive Medicine|Public Health & General Preventive Medicine|2|board|
  Occupational Medicine
Public Health and General Preventive Medicine|Public Health & General Preventive Medicine|1|board|
"""
SPECIALTIES: tuple[tuple[str, ...], ...] = tuple(tuple(r) for r in _rows(_SPECIALTIES))
SPECIALTY_WEIGHTS = tuple(int(r[2]) for r in SPECIALTIES)
SPECIALTY_CANON = {r[0].lower(): r[1] for r in SPECIALTIES} | {
    "pain medicine": "Pain Medicine",
    "acupuncture & pain medicine": "Pain Medicine",
    "acupuncture and pain medicine": "Pain Medicine",
}

FIRST_NAMES = (
    "James", "Mary", "Robert", "Patricia", "John", "Jennifer", "Michael", "Linda", "David",
    "Elizabeth", "William", "Barbara", "Jose", "Maria", "Juan", "Rosa", "Carlos", "Ana", "Luis",
    "Guadalupe", "Daniel", "Susan", "Thomas", "Karen", "Anthony", "Lisa",
)  # fmt: skip
LAST_NAMES = (
    "Smith", "Garcia", "Johnson", "Martinez", "Williams", "Hernandez", "Brown", "Lopez", "Jones",
    "Gonzalez", "Miller", "Rodriguez", "Davis", "Perez", "Wilson", "Sanchez", "Anderson",
    "Ramirez", "Taylor", "Torres", "Nguyen", "Kim", "Patel", "Chen",
)  # fmt: skip
ADMINISTRATORS = (
    "State Compensation Insurance Fund", "Zenith Insurance Company", "Sedgwick CMS",
    "Liberty Mutual Insurance", "Travelers Indemnity", "Broadspire Services",
    "Gallagher Bassett Services", "ESIS, Inc.", "AIG Claims", "Republic Indemnity",
    "Employers Compensation Insurance", "County of Los Angeles", "City of San Diego",
)  # fmt: skip
DIAGNOSES = (
    "lumbar radiculopathy", "cervical strain", "lumbar disc displacement", "shoulder impingement",
    "carpal tunnel syndrome", "knee internal derangement", "chronic pain syndrome", "depression",
    "myofascial pain", "lumbar facet arthropathy", "cervical radiculitis", "insomnia",
    "thoracic sprain", "lateral epicondylitis", "plantar fasciitis", "anxiety",
)  # fmt: skip
TREATMENTS = (
    "physical therapy", "acupuncture", "chiropractic care", "epidural steroid injections",
    "medication management", "a home exercise program", "activity modification", "bracing",
    "trigger point injections", "psychotherapy", "a TENS unit", "surgery",
)  # fmt: skip
MECHANISMS = (
    "lifting a heavy box", "a fall from a ladder", "repetitive keyboard work",
    "a motor vehicle accident while on duty", "pulling a pallet jack", "slipping on a wet floor",
    "cumulative trauma", "restraining a patient",
)  # fmt: skip
DOCUMENTS = (
    "Application of Independent Medical Review", "Utilization Review Determination",
    "Medical records from the primary treating physician", "Progress reports",
    "Physical therapy notes", "Pharmacy records", "Agreed Medical Evaluation",
    "MRI report", "Electrodiagnostic study report", "Request for Authorization",
    "Qualified Medical Evaluation", "Operative report",
)  # fmt: skip
MONTHS = (
    "January", "February", "March", "April", "May", "June", "July", "August", "September",
    "October", "November", "December",
)  # fmt: skip

# ------------------------------------------------------------------ phrase builders
# How items, guideline lines, rationales, summaries and credentials are worded.

Block = tuple[str, str]  # (kind, text): L line, K line glued to the previous, H heading,
# P prose paragraph (wrappable), B blank. "\x01" = a field separator, "\x02" = a column gap.


@dataclass(slots=True)
class Item:
    """A disputed item being written: its request text and the facts behind it."""

    request: str
    outcome: str
    drug: str | None
    as_written: str | None
    category: str
    key: str  # TOPICS / SENTENCES key: drug class or service category
    part: str  # ACOEM_CHAPTERS key
    sources: set[str] = field(default_factory=set)
    # A partial approval (traps.make_partial): the original request, what UR authorized, and
    # the heading's sentences before the decided request ("" when UR did not modify it).
    original: str = ""
    authorized: str = ""
    lead: str = ""


def _cum(weights: Sequence[int]) -> tuple[int, ...]:
    return tuple(accumulate(weights))


_DRUG_CUM = _cum(DRUG_WEIGHTS)
_STATE_CUM = _cum(STATE_WEIGHTS)
_SPEC_CUM = _cum(SPECIALTY_WEIGHTS)
_ORAL = (
    ("{n} {s} #{q}", 14), ("{n} {s} # {q}", 2), ("{n} {s}, #{q}", 2), ("{n} {s} #{q} with {r}", 3),
    ("{q} {unit} of {n} {s}", 2), ("{n} {s} Qty {q}", 1), ("{n} {s} QTY {q}", 1),
    ("{n} {s} quantity {q}", 1), ("{n} {s} {q} count", 1), ("{n} {s}", 4), ("{n}", 2),
    ("Prescription of {n} {s} #{q}", 1), ("1 prescription of {n} {s} #{q}", 1),
    ("Retrospective request for {n} {s} #{q} (DOS {dos})", 1),
    ("Retrospective {n} {s} #{q} DOS {dos}", 1),
    ("{n} {s} {sig} #{q}", 2), ("Unknown prescription of {n}", 1),
    ("{n} (unspecified strength and quantity)", 1), ("{n} {s} {q} {unitl}", 1),
    ("Prospective request for 1 prescription of {n} {s} #{q}", 1), ("{n} {s} x{q}", 1),
)  # fmt: skip
_PATCH = (
    ("{n} {s} patch #{q}", 3), ("{n} patches {s} #{q}", 2), ("{n} {s} #{q}", 3),
    ("{n} patch {s}, #{q}", 1), ("{n} {s} patches x {q}", 1), ("{n} {s}", 1),
    ("{q} {n} {s} patches", 1), ("{n} patch", 1),
)  # fmt: skip
_TOPICAL = (("{n} {s} {amt}", 3), ("{n} {s}", 2), ("{n} {amt}", 1), ("1 Tube of {n} {s}", 1),
            ("{n} {s} {f} {amt}", 2))  # fmt: skip
_PATTERNS = {
    k: (tuple(p for p, _ in v), _cum([w for _, w in v]))
    for k, v in (("oral", _ORAL), ("patch", _PATCH), ("topical", _TOPICAL))
}
_QTY = ("10", "15", "20", "30", "30", "30", "60", "60", "90", "90", "120", "120", "150", "180")
_QTY_PATCH = ("10", "15", "30", "30", "60", "90")
_AMOUNTS = ("100gm", "120 grams", "#1 tube", "60ml", "x 2 tubes", "180g")
_SIGS = ("1 PO BID", "1 tab PO TID PRN", "q 8 hrs prn", "1 by mouth twice a day", "QHS", "BID",
         "one tablet every 6 hours as needed")  # fmt: skip
_REFILLS = ("1 refill", "one refill", "2 refills", "3 refills", "1 Refill")
_FORM_WORD = {"gel": "gel", "cream": "cream", "solution": "topical solution"}
_UNITS = {"tab": ("Tablets", "tablets"), "cap": ("Capsules", "capsules"), "film": ("Films", "film")}


def _strength(rng: random.Random, s: str) -> str:
    num = s.rstrip("abcdefghijklmnopqrstuvwxyz/")
    unit = s[len(num) :]
    r = rng.random()
    if not unit or r < 0.5:
        return s
    if r < 0.75:
        return f"{num} {unit}"
    if r < 0.87:
        return num + unit.upper()
    return num.replace("/", "-") + unit if "/" in num else s


def _fill(rng: random.Random, pat: str, name: str, s: str, q: str, form: str) -> str:
    kw = {"n": name, "s": s, "q": q}
    if "{r}" in pat:
        kw["r"] = pick(rng, _REFILLS)
    if "{sig}" in pat:
        kw["sig"] = pick(rng, _SIGS)
    if "{dos}" in pat:
        kw["dos"] = f"{rint(rng, 1, 12)}/{rint(rng, 1, 28)}/{rint(rng, 13, 24)}"
    if "{unit" in pat:
        kw["unit"], kw["unitl"] = _UNITS.get(form, _UNITS["tab"])
    if "{amt}" in pat:
        kw["amt"] = pick(rng, _AMOUNTS)
    if "{f}" in pat:
        kw["f"] = _FORM_WORD.get(form, form)
    return pat.format(**kw)


def _medication(rng: random.Random, outcome: str) -> Item:
    if rng.random() < 0.08:
        return _compound(rng, outcome)
    d = wpick(rng, DRUGS, _DRUG_CUM)
    name = pick(rng, d.names)
    kind = "patch" if d.form == "patch" else "topical" if d.form in _FORM_WORD else "oral"
    pats, cum = _PATTERNS[kind]
    pat = wpick(rng, pats, cum)
    if "{f}" in pat and _FORM_WORD[d.form].split()[-1] in name.lower():
        pat = "{n} {s} {amt}"
    q = pick(rng, _QTY_PATCH if kind == "patch" else _QTY)
    request = _fill(rng, pat, name, _strength(rng, pick(rng, d.strengths)), q, d.form)
    if rng.random() < 0.12:
        request, name = request.upper(), name.upper()
    return Item(request, outcome, d.generic, name, MEDICATION, d.klass, "back")


def _compound(rng: random.Random, outcome: str) -> Item:
    ings = sample(rng, COMPOUND_INGREDIENTS, pick(rng, (2, 2, 3)))
    if rng.random() < 0.3:  # one ingredient the parser does not know, anywhere in the list
        ings.insert(rint(rng, 0, len(ings)), pick(rng, UNKNOWN_INGREDIENTS))
    sep = pick(rng, ("/", "/", ", ", " / ", " + "))
    span = sep.join(f"{n} {pick(rng, s)}" for n, s in ings)
    prefix = pick(rng, ("", "", "", "Compounded ", "Compound ", "Topical compound "))
    suffix = pick(rng, (" cream", " topical cream", " 180gm", " cream 240g", "", " compound 60g"))
    if rng.random() < 0.12:
        span, prefix, suffix = span.upper(), prefix.upper(), suffix.upper()
    generic = "/".join(n.lower() for n, _ in ings)
    return Item(f"{prefix}{span}{suffix}", outcome, generic, span, MEDICATION, "topical", "back")


_PARTS = (
    (("cervical", "neck", "C5", "C6"), "neck"), (("shoulder",), "shoulder"),
    (("elbow", "cubital"), "elbow"), (("wrist", "hand", "carpal", "finger", "upper ext"), "hand"),
    (("knee", "hip"), "knee"), (("ankle", "foot"), "foot"), (("onsult", "eferral"), "consult"),
)  # fmt: skip
_SERVICE_FIELDS = {t: tuple(f for f in ("spine", "joint", "side", "Side", "freq", "freqw", "n",
                   "days", "ll", "cl") if "{" + f + "}" in t) for _, t in SERVICES}  # fmt: skip
_DRAW: dict[str, tuple[str, ...]] = {
    "spine": SPINES, "joint": JOINTS, "side": SIDES, "Side": ("Right", "Left", "Bilateral"),
    "freq": FREQS, "freqw": FREQWS, "n": COUNTS, "days": ("30", "60", "7", "14"),
    "ll": LUMBAR_LEVELS, "cl": CERVICAL_LEVELS,
}  # fmt: skip


# Service category -> its TOPICS / SENTENCES key.
_TOPIC_KEY = {
    "diagnostic/imaging": "imaging",
    "physical medicine/physical therapy": "physical therapy",
    "physical medicine/modalities": "physical therapy",
    "physical medicine/chiropractic": "chiropractic",
    "physical medicine/acupuncture": "acupuncture",
    "injections": "injection",
    "DMEPOS": "durable medical equipment",
    "diagnostic/electrodiagnostic": "diagnostic testing",
    "diagnostic/other": "diagnostic testing",
    "diagnostic/lab": "laboratory",
    "evaluation and management/consultation": "consultation",
    "evaluation and management/office visit": "office visit",
    "behavioral health": "psychological services",
    "programs": "functional restoration",
}


def _service(rng: random.Random, outcome: str) -> Item:
    cat, tpl = pick(rng, SERVICES)
    request = tpl.format(**{f: pick(rng, _DRAW[f]) for f in _SERVICE_FIELDS[tpl]})
    part = next((p for keys, p in _PARTS if any(k in request for k in keys)), "back")
    r = rng.random()
    if r < 0.1:
        request = pick(rng, ("Retrospective request for ", "Prospective request for ", "1 ")) + (
            request if request[:2].isupper() else request[0].lower() + request[1:]
        )
    elif r < 0.22:
        request = request.upper()
    return Item(request, outcome, None, None, cat, _TOPIC_KEY.get(cat, cat), part)


def draw_item(rng: random.Random, outcome: str) -> Item:
    """A disputed item: a medication (about 60%) or a service."""
    return _medication(rng, outcome) if rng.random() < 0.6 else _service(rng, outcome)


_ACOEM_CATS = frozenset(
    (
        "diagnostic/imaging",
        "surgery",
        "diagnostic/electrodiagnostic",
        "diagnostic/other",
        "evaluation and management/consultation",
        "injections",
    )
)


def guideline_line(
    rng: random.Random, item: Item, who: str, *, plain: bool = False
) -> tuple[str, set[str]]:
    """A guideline citation for an item and the sources it names as a basis. Plain: a bare
    citation ("Official Disability Guidelines (ODG), ..."), not "Decision based on ..."."""
    mtus, pages, odg_ch, odg_topic = TOPICS[item.key]
    odg = f"Official Disability Guidelines (ODG), {odg_ch}, {odg_topic}"
    r = rng.random()
    if item.category in _ACOEM_CATS and r < 0.35:
        chap = ACOEM_CHAPTERS[item.part]
        if rng.random() < 0.6:
            pre = "ACOEM Practice Guidelines" if plain else "Decision based on MTUS ACOEM Practice"
            return f"{pre} 2nd Edition (2004), {chap}.", {"ACOEM"} if plain else {"MTUS", "ACOEM"}
        pre = "" if plain else "Decision based on Non-MTUS Citation "
        return f"{pre}ACOEM Occupational Medicine Practice Guidelines, 3rd Edition.", {"ACOEM"}
    if mtus and r < 0.75:
        if plain:
            text = f"California MTUS Chronic Pain Medical Treatment Guidelines (2009), {mtus}"
            text += f", page(s) {pages}." if pages else "."
        elif pages and rng.random() < 0.5:
            text = f"Decision based on MTUS Chronic Pain Treatment Guidelines {mtus} "
            text += f"Page(s): {pages}."
        else:
            text = "Decision based on MTUS Chronic Pain Medical Treatment 2009, Section(s): "
            text += f"{mtus}."
        if rng.random() < 0.25:
            pre = " " if plain else " Decision based on Non-MTUS Citation "
            return f"{text}{pre}{odg}.", {"MTUS", "ODG"}
        return text, {"MTUS"}
    if plain:
        return f"{odg}.", {"ODG"}
    text = f"Decision based on Non-MTUS Citation {odg}."
    if rng.random() < 0.3:
        text = f"The {who} did not base their decision on the MTUS. {text}"
    return text, {"ODG"}


_SUPPORT = (
    "The records document objective functional improvement with this treatment.",
    "The injured worker reports 50% pain relief and improved ability to perform activities of "
    "daily living.",
    "The documentation indicates that the guideline criteria have been met.",
    "There is no evidence of aberrant behavior, and a recent urine drug screen was consistent.",
)
_COMPLAINTS = (
    "low back pain radiating to the left leg", "neck pain with radiation to the upper extremities",
    "right shoulder pain", "bilateral knee pain", "bilateral wrist pain with numbness",
)  # fmt: skip


def rationale(
    rng: random.Random, item: Item, age: int | None, sex: str | None, doi: date | None
) -> tuple[str, set[str]]:
    """Several sentences of guideline language ending in "is (not) medically necessary"."""
    out: list[str] = []
    srcs: set[str] = set()
    if age and sex and doi and rng.random() < 0.2:
        out.append(
            f"This {age} year old {sex} has complained of {pick(rng, _COMPLAINTS)} since date "
            f"of injury {date_any(rng, doi)}."
        )
    pool = SENTENCES[item.key]
    for s, text in sample(rng, pool, rint(rng, 1, min(3, len(pool)))):
        out.append(text)
        srcs.update(s)
    if item.outcome == "Overturned":
        out += sample(rng, _SUPPORT, rint(rng, 1, 2))
    else:
        out += [t for _, t in sample(rng, SENTENCES["generic"], rint(rng, 0, 2))]
    nec = "medically necessary" if item.outcome == "Overturned" else "not medically necessary"
    ref = item.as_written or "the requested treatment"
    r = rng.random()
    if r < 0.35:
        out.append(f"Therefore, the request for {item.request} is {nec}.")
    elif r < 0.55:
        out.append(f"{ref[0].upper()}{ref[1:]} is {nec}.")
    elif r < 0.8:
        out.append(f"{pick(rng, ('As such, the', 'Therefore, the', 'The'))} request is {nec}.")
    else:
        out.append(f"On the basis of the guidelines cited above, {ref} is {nec}.")
    return " ".join(out), srcs


def date_header(rng: random.Random, d: date) -> str:
    """A header date: 1/31/2014 or 01/31/2014."""
    if rng.random() < 0.7:
        return f"{d.month}/{d.day}/{d.year}"
    return f"{d.month:02d}/{d.day:02d}/{d.year}"


def date_any(rng: random.Random, d: date) -> str:
    """A date as written in prose: 5/15/11, 05/15/2011, 2-1-2009, January 5, 2012, ..."""
    r = int(rng.random() * 6)
    if r == 0:
        return f"{d.month}/{d.day}/{d.year % 100:02d}"
    if r == 1:
        return f"{d.month:02d}/{d.day:02d}/{d.year}"
    if r == 2:
        return f"{d.month}-{d.day}-{d.year}"
    if r == 3:
        return f"{d.month:02d}-{d.day:02d}-{d.year}"
    if r == 4:
        return f"{MONTHS[d.month - 1]} {d.day}, {d.year}"
    return f"{d.month}/{d.day}/{d.year}"


def article(word: str) -> str:
    """ "a" or "an" before word (ages included: an 18, an 80)."""
    return "an" if word[0] in "aeiouAEIOU8" or word.startswith("18") else "a"


_SEX_WORDS = {"male": ("male", "male", "man", "gentleman"), "female": ("female", "female", "woman")}
_INTRO_DOI = (
    "This is {a} {core} injured worker with date of injury {d} with related {c}.",
    "The employee is {a} {core} who sustained a work-related injury on {d}.",
    "The injured worker is {a} {core}, who sustained an industrial injury on {d}.",
    "The patient is {a} {core} who reported an industrial injury on {d} due to {m}.",
    "This {core} sustained an industrial injury on {d}.",
    "The applicant is {a} {core} who was injured on {d} as a result of {m}.",
    "The injured worker is {a} {core}. The date of injury is {d}.",
    "This is {a} {core} with a reported date of injury of {d}.",
)
_INTRO_NO_DOI = (
    "The employee is {a} {core} who sustained a work-related injury almost {y} years ago.",
    "The injured worker is {a} {core} who was injured in the course of employment.",
    "This {core} sustained an industrial injury as a result of {m}.",
)


def summary(
    rng: random.Random, age: int | None, sex: str | None, doi: date | None, ur: date | None,
    items: Sequence[Item], near: date, years: int,
) -> list[str]:  # fmt: skip
    """Clinical case summary paragraphs; states age, sex and date of injury (if given)."""
    agep = None
    if age is not None:
        agep = pick(rng, (f"{age} year old", f"{age}y/o", f"{age}-year-old", f"{age} yo"))
    word = pick(rng, _SEX_WORDS[sex]) if sex else pick(rng, ("individual", "claimant"))
    core = f"{agep} {word}" if agep else word
    pron = {"male": "He", "female": "She", None: "The injured worker"}[sex]
    intros = _INTRO_DOI if doi else _INTRO_NO_DOI
    intro = pick(rng, intros[1:] if sex is None else intros)
    m = pick(rng, MECHANISMS)
    d = date_any(rng, doi) if doi else ""
    out = [intro.format(a=article(core), core=core, d=d, c=pick(rng, _COMPLAINTS), m=m, y=years)]
    pool = [
        f"The mechanism of injury was {m}.",
        "Diagnoses include {}, {} and {}.".format(*sample(rng, DIAGNOSES, 3)),
        "Treatment to date has included {}, {}, and {}.".format(*sample(rng, TREATMENTS, 3)),
        "Physical examination revealed tenderness to palpation of the paraspinal muscles with "
        "decreased range of motion.",
        "Current medications include {}, {} and {}.".format(
            *(pick(rng, dd.names) for dd in sample(rng, DRUGS, 3))
        ),
        f"{pron} is currently working with restrictions.",
    ]
    out += sample(rng, pool, rint(rng, 2, len(pool)))
    seen = date.fromordinal(near.toordinal() - rint(rng, 5, 80))
    out.append(
        f"Per progress report dated {date_any(rng, seen)}, {pron[0].lower()}{pron[1:]} reported "
        f"pain rated {rint(rng, 4, 9)}/10."
    )
    reqs = ", ".join(it.request for it in items)
    if ur and rng.random() < 0.5:
        out.append(f"The original utilization review ({date_any(rng, ur)}) non-certified {reqs}.")
    elif rng.random() < 0.3:
        out.append(f"Utilization review non-certified the request for {reqs}.")
    if len(out) > 4 and rng.random() < 0.4:
        return [" ".join(out[:3]), " ".join(out[3:])]
    return [" ".join(out)]


def reviewer(rng: random.Random) -> tuple[tuple[str, ...], str, str | None, bool]:
    """States of licensure, specialty and subspecialty as written, "Licensed in" or not."""
    k = 1 if rng.random() < 0.94 else 2 if rng.random() < 0.85 else 3
    states: list[str] = []
    while len(states) < k:
        s = wpick(rng, STATES, _STATE_CUM)
        if s not in states:
            states.append(s)
    spec, _, _, kind, subs = wpick(rng, SPECIALTIES, _SPEC_CUM)
    sub = pick(rng, subs.split(",")) if subs and rng.random() < 0.35 else None
    return tuple(states), spec, sub, kind == "licensed"


def _join(names: Sequence[str]) -> str:
    return names[0] if len(names) == 1 else f"{', '.join(names[:-1])} and {names[-1]}"


def reviewer_prose(
    rng: random.Random, states: Sequence[str], spec: str, sub: str | None, licensed: bool,
    voice: str,
) -> str:  # fmt: skip
    """ "The expert reviewer is Board Certified in X, has a subspecialty in Y and is ..."."""
    if voice == "expert":
        who = pick(rng, ("The expert reviewer", "The expert reviewer", "The Expert Reviewer"))
        lic = "is licensed to practice in"
    else:
        who = pick(rng, ("The reviewer", "The physician reviewer", "This reviewer"))
        lic = pick(rng, ("is licensed in", "is licensed to practice in"))
    cert = f"Board Certified in {spec}"
    if licensed:
        cert = f"a Licensed {spec}" if spec.endswith("or") else f"Licensed in {spec}"
    subp = f", has a subspecialty in {sub}" if sub else ""
    return f"{who} is {cert}{subp} and {lic} {_join(states)}."


def reviewer_lines(
    rng: random.Random, states: Sequence[str], spec: str, sub: str | None
) -> list[Block]:
    """ "State(s) of Licensure: Maryland" / "Certification(s)/Specialty: Internal Medicine"."""
    abbr = rng.random() < 0.15
    st = ", ".join(STATE_ABBR[s] if abbr else s for s in states)
    specs = f"{spec}, {sub}" if sub else spec
    label = "State(s) of Licensure"
    if len(states) == 1 and rng.random() < 0.2:
        label = "State of Licensure"
    return [("L", f"{label}:\x01{st}"), ("L", f"Certification(s)/Specialty:\x01{specs}")]
