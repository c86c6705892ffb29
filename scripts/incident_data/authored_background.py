"""Authored topical-but-benign text about groups, for the incident stance background.

Written for guardrail (Apache-2.0), not taken from any benchmark: counter-speech that
quotes or names a stereotype to reject it, positive and neutral statements, reporting
and discussion of discrimination, and questions about groups. An incident defined by
hateful samples about a group must not hit these, so the background teaches the
per-incident classifier that naming the group is not the incident.
"""

from __future__ import annotations

import random

GROUPS = [
    "women", "men", "trans people", "gay people", "lesbians", "bisexual people", "Black people",
    "Asian people", "Latinos", "Arabs", "Jews", "Muslims", "Christians", "Hindus", "Sikhs",
    "immigrants", "refugees", "disabled people", "deaf people", "autistic people", "old people",
    "Roma", "Indigenous people", "Mexicans", "Chinese people", "Indians", "Africans", "Pakistanis",
    "migrants", "atheists", "Catholics", "Irish people", "Polish workers", "single mothers",
    "wheelchair users", "people with schizophrenia", "Nigerians", "Somalis", "Ukrainians", "Palestinians",
    "Israelis", "white people", "Hispanic families", "non-binary people", "Mormons", "Buddhists",
]
STEREOTYPES = [
    "lazy", "criminals", "dangerous", "stupid", "terrorists", "dirty", "greedy", "violent", "a plague",
    "animals", "parasites", "inferior", "liars", "a disease", "vermin", "subhuman", "a threat to our country",
    "freeloaders", "rapists", "less intelligent", "worthless", "evil",
]
COUNTER = [
    "I'm so tired of people saying {g} are {s}. It's just not true.",
    "Saying \"{g} are {s}\" is bigotry, plain and simple.",
    "If someone tells you {g} are {s}, they are repeating a lie.",
    "My uncle keeps claiming {g} are {s} and I had to tell him how wrong and hurtful that is.",
    "Calling {g} {s} is exactly the kind of hate we need to stand up against.",
    "No, {g} are not {s}. Stop spreading this garbage.",
    "The idea that {g} are {s} has been debunked over and over.",
    "I reported the post that said {g} are {s}; that kind of speech has no place here.",
    "People who call {g} {s} should be ashamed of themselves.",
    "Quoting someone who said {g} are {s} does not make it any less false.",
    "Why do some people still believe {g} are {s}? Every study says otherwise.",
    "\"{g} are {s}\" - that's what the bullies at school used to shout. It was wrong then and it's wrong now.",
    "You can't generalise a whole group like that. {g} are not {s}.",
    "Hearing a politician call {g} {s} made me furious.",
    "Stereotypes like '{g} are {s}' cause real harm to real people.",
]
POSITIVE = [
    "{g} deserve the same rights and respect as everyone else.",
    "My neighbours are {g} and they are the kindest people I know.",
    "I'm proud to stand with {g} in my community.",
    "Some of my best colleagues are {g}.",
    "{g} have contributed so much to this city's culture.",
    "We should make sure {g} feel safe and welcome here.",
    "Love and solidarity to all {g} today.",
    "I learned a lot from the {g} who spoke at the event last night.",
]
NEUTRAL = [
    "A new report looks at how {g} are treated in the job market.",
    "The survey asked {g} about their experience with public services.",
    "How many {g} live in Canada?",
    "What are the biggest challenges facing {g} today?",
    "The museum has an exhibition on the history of {g} in Europe.",
    "Studies show {g} face discrimination when renting a flat.",
    "Can you recommend books written by {g}?",
    "Hate crimes against {g} rose last year, according to police figures.",
    "The charity supports {g} who have lost their jobs.",
    "Our school is running a workshop on prejudice against {g}.",
    "Is it true that {g} earn less on average? Where does that gap come from?",
    "The documentary follows three {g} over a year.",
    "I'm writing an essay on media portrayals of {g}; any sources?",
    "The law protects {g} from being fired because of who they are.",
]


def texts(seed: int = 0) -> list[str]:
    """Every authored background text, in a fixed order (one stereotype per counter-speech
    template and group, drawn with ``seed``)."""
    rng = random.Random(seed)
    out = []
    for g in GROUPS:
        for t in COUNTER:
            out.append(_cap(t.format(g=g, s=rng.choice(STEREOTYPES))))
        for t in POSITIVE + NEUTRAL:
            out.append(_cap(t.format(g=g)))
    return out


def _cap(text: str) -> str:
    return text[0].upper() + text[1:] if text[0].islower() else text


if __name__ == "__main__":
    t = texts()
    print(len(t))
    for x in random.Random(1).sample(t, 8):
        print(" ", x)
