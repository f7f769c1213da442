"""What a question asks for, read from plain English question forms (any corpus)."""

from __future__ import annotations

import pytest

from rag.answering.question import Slot, asked_slot


@pytest.mark.parametrize(
    ("question", "slot"),
    [
        ("How many Japanese died in the Tonghua incident?", Slot.NUMBER),
        ("How long were the internees held?", Slot.NUMBER),
        ("What percentage of the population was Christian?", Slot.NUMBER),
        ("How much did the Huludao repatriation cost?", Slot.MONEY),
        ("What did the government pay each internee in compensation?", Slot.MONEY),
        ("In what year did the museum open?", Slot.DATE),
        ("When was the Duchy of Normandy founded?", Slot.DATE),
        ("In which century did the Normans reach Italy?", Slot.DATE),
        ("Who was the captain of the Shinyō Maru?", Slot.PERSON),
        ("Which king granted the land to Rollo?", Slot.PERSON),
        ("What was the name of the Soviet commandant of the camp?", Slot.PERSON),
        ("In what country is Normandy located?", Slot.PLACE),
        ("To which port did the repatriates go?", Slot.PLACE),
        ("Where did the repatriation ships land?", Slot.PLACE),
        ("Which ship was the first to arrive at Maizuru?", Slot.NAME),
        ("Why did the Chinese Communists keep Japanese technicians?", Slot.REASON),
        ("What did TIME report they sang when they landed?", None),
        ("Describe the democratic movement in the camps.", None),
    ],
)
def test_asked_slot(question, slot):
    assert asked_slot(question) == slot


def test_two_part_question_has_a_facet_for_its_second_slot(tmp_path):
    from rag.answering.question import analyse

    class _Index:
        def __len__(self):
            return 100

        def doc_freq(self, tok):
            return 3

    asked = analyse("When was the Treaty of Portsmouth signed, and who mediated it?", _Index())
    assert asked.slot is Slot.DATE
    assert [f.slot for f in asked.facets if f.slot] == [Slot.DATE, Slot.PERSON]
    assert [t.word for t in asked.facets[1].terms] == ["mediated"]  # the clause's own words
    halt = analyse("Why did the Soviets halt repatriation on 1 December 1947, and when did it resume?", _Index())
    (when,) = halt.facets
    assert when.slot is Slot.DATE and [t.word for t in when.terms] == ["resume"]
    # Each part of a two-part question is a facet, the first one too: the sentence that answers
    # best may hold the second part only.
    signed = analyse("When was the Treaty of Portsmouth signed, and who mediated it?", _Index())
    assert [(f.slot, [t.word for t in f.terms]) for f in signed.facets] == [
        (Slot.DATE, ["treaty", "portsmouth", "signed"]),
        (Slot.PERSON, ["mediated"]),
    ]
    cmp = analyse("How did Soviet and Chinese treatment of the Japanese differ?", _Index())
    assert cmp.comparison
    assert {f.label for f in cmp.facets} == {"Soviet", "Chinese"}
    # Sides after a preposition, sides of "compare with", and a side named by several words.
    for question, sides in [
        ("How did the top rainfall totals in Cuba and in Canada compare?", {"Cuba", "Canada"}),
        ("How did the warnings in Cuba compare with those on the northern Gulf coast?", {"Cuba", "Gulf"}),
        ("How does the biomass of eukaryotes compare with that of prokaryotes?", {"eukaryotes", "prokaryotes"}),
        ("How did the homecomings of Swatoslaus and of John Zimisces differ?", {"Swatoslaus", "John Zimisces"}),
    ]:
        assert {f.label for f in analyse(question, _Index()).facets} == sides, question


def test_spacy_loads_without_importing_torch():
    """thinc would import torch (seconds of a cold ask) though spaCy's CPU pipeline never uses it."""
    import subprocess
    import sys

    code = (
        "import sys\nfrom rag.answering import nlp\n"
        "doc = nlp.annotate('When was the Treaty of Portsmouth signed?')\n"
        "print('torch' in sys.modules, bool(doc))"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=120, check=True)
    assert out.stdout.split() == ["False", "True"], out.stdout + out.stderr


@pytest.mark.parametrize(
    ("question", "parts"),
    [
        ("When and where did Ida make landfall in Louisiana?", [Slot.DATE, Slot.PLACE]),
        ("What is the software called, and in what year was it tested on the station?", [Slot.DATE]),
        ("Who was tried at Khabarovsk, and what were they charged with?", [Slot.PERSON, None]),
        ("When did the war begin, and when did it end?", [Slot.DATE, Slot.DATE]),
        ("Which port did they sail from, and in which city did they land?", [Slot.PLACE, Slot.PLACE]),
        ("What did Gibbon write of the Bulgarians, in which he praised them?", []),  # a relative clause
        ("Who led the revolt and why?", [Slot.PERSON, Slot.REASON]),
    ],
)
def test_every_part_of_a_compound_question_is_a_facet(question, parts):
    from rag.answering.question import analyse

    class _Index:
        def __len__(self):
            return 100

        def doc_freq(self, tok):
            return 3

    assert [f.slot for f in analyse(question, _Index()).facets] == parts
