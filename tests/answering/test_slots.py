"""The answer slot: what a question asks for, and whether one sentence fills it with its subject."""

from __future__ import annotations

import pytest

from rag.answering.slots import Slot, asked_slot, fillers, predicate_words, slot_fit
from rag.answering.terms import Term


@pytest.mark.parametrize(
    ("question", "slot"),
    [
        ("How many Japanese died in the Tonghua incident?", Slot.NUMBER),
        ("How much did the Huludao repatriation cost?", Slot.MONEY),
        ("What did the government pay each internee in compensation?", Slot.MONEY),
        ("In what year did the museum open?", Slot.DATE),
        ("Who was the captain of the Shinyō Maru?", Slot.PERSON),
        ("What was the name of the Soviet commandant of the camp?", Slot.PERSON),
        ("To which port did the repatriates go?", Slot.PLACE),
        ("Which ship was the first to arrive at Maizuru?", Slot.NAME),
        ("What did TIME report they sang when they landed?", None),
    ],
)
def test_asked_slot(question, slot):
    assert asked_slot(question) == slot


def test_count_fillers_skip_years_days_and_labels():
    q = "How many Japanese died in Camp No. 48?"
    assert fillers("Camp No. 48 held them until 1956, from 3 May.", Slot.NUMBER, q) == []
    assert "1,500" in fillers("More than 1,500 Japanese died there.", Slot.NUMBER, q)


def test_money_needs_a_currency():
    q = "How much did the repatriation cost?"
    assert fillers("It carried 1.05 million people.", Slot.MONEY, q) == []
    assert fillers("It cost 2 million dollars.", Slot.MONEY, q)


def test_person_fillers_are_names_not_the_question_or_places():
    q = "Who was the chief editor of Nihon Shimbun?"
    assert fillers("Lt. Col. Ivan Kovalenko was the chief editor of Nihon Shimbun.", Slot.PERSON, q)
    assert fillers("The Yomiuri account and Northeast Asia were cited by Nihon Shimbun.", Slot.PERSON, q) == []


class _NoParaphrase:
    def best_match(self, word, candidates):
        return 0.0


def test_slot_fit_needs_entity_attribute_and_filler_in_one_sentence():
    q = "How many Japanese died in Ivanovo?"
    terms = [Term("die", 2.7, False, True, "died"), Term("ivanovo", 4.3, True, True, "ivanovo")]
    apart = ["More than 1,500 Japanese were held in Ivanovo.", "About 55,000 Japanese died in the USSR."]
    assert slot_fit(q, terms, apart, _NoParaphrase()).fit == 0.0
    together = [*apart, "In Ivanovo 300 Japanese died."]
    fit = slot_fit(q, terms, together, _NoParaphrase())
    assert fit.fit == 1.0 and fit.slot is Slot.NUMBER


@pytest.mark.parametrize(
    ("question", "verbs"),
    [
        ("How many Soviet soldiers were killed in the invasion of Manchuria?", {"killed"}),
        ("How many Japanese died in the Tonghua incident?", {"died"}),
        ("Who led the Japanese uprising in Tonghua?", {"led"}),
        ("What did Japan gain from Russia under the Treaty of Portsmouth?", {"gain"}),
        ("How many generals did the Soviet tally of 8 December 1945 record among the POWs?", {"record"}),
        ("What did the Soviet and Japanese Red Cross societies agree in Moscow?", {"agree"}),
    ],
)
def test_predicate_words(question, verbs):
    assert predicate_words(question) == verbs


def test_slot_fit_needs_the_questions_verb():
    q = "How many Japanese prisoners died in Tashkent?"
    terms = [Term("prison", 2.3, False, True, "prisoners"), Term("die", 2.7, False, True, "died"),
             Term("tashkent", 3.9, True, True, "tashkent")]
    sent = ["Some 25,000 Japanese prisoners were sent to Tashkent."]
    assert slot_fit(q, terms, sent, _NoParaphrase()).fit == 0.0
    assert slot_fit(q, terms, ["In Tashkent 300 Japanese prisoners died."], _NoParaphrase()).fit == 1.0


def test_country_of_a_nationality_in_the_question_is_no_name():
    q = "What were the names of the ships that carried Japanese to Hakata?"
    assert fillers("Most of them landed at Hakata in Japan.", Slot.NAME, q) == []
