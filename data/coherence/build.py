#!/usr/bin/env python3
"""Write judgeaudit's coherence test set: coherence.jsonl next to this script.

Every prompt and response here is written by this script (the judgeaudit authors'
sentences, combined by seeded rules); nothing is model output.  Each item is labelled
by construction: the rule that made it decides its bin, its failure mode and, for a
degraded item, the character offset where the degradation starts.

Two splits are made from disjoint material so that a scorer tuned on one can be checked
on the other: ``dev`` (topics: cooking, astronomy, gardening, computing; its own
sentence frames, pseudo-word syllables, loop phrases and foreign sentences) and
``heldout`` (topics: history, biology, money, travel; other frames, syllables, loop
phrases and languages).  Standard library only, deterministic::

    python data/coherence/build.py          # rewrites coherence.jsonl with the same bytes
    python data/coherence/build.py --summary
"""
from __future__ import annotations

import argparse
import json
import random
from collections import Counter
from pathlib import Path

OUT = Path(__file__).resolve().parent / "coherence.jsonl"
SEED = 1313

# ----------------------------------------------------------------------------- material
DEV = {
    "topics": {
        "How do I make a simple tomato sauce?": [
            "Warm a little olive oil in a pan and soften a chopped onion for five minutes.",
            "Add two cloves of garlic and cook them until they smell sweet.",
            "Tip in a tin of chopped tomatoes with a pinch of salt.",
            "Let the sauce simmer gently for twenty minutes, stirring now and then.",
            "Taste it at the end and add basil or a little sugar if it is sharp.",
            "It keeps in the fridge for about four days.",
        ],
        "Why does the Moon have phases?": [
            "The Moon does not make its own light; we see sunlight reflected from its surface.",
            "As it orbits the Earth, we see different amounts of its sunlit half.",
            "When it sits between us and the Sun, the lit side faces away and we call it a new moon.",
            "A week later we see half of the lit side, which is the first quarter.",
            "At full moon the whole sunlit face points towards us.",
            "The full cycle takes about twenty-nine and a half days.",
        ],
        "When should I plant tulip bulbs?": [
            "Plant tulip bulbs in autumn, a few weeks before the ground freezes.",
            "They need a long cold spell to flower well in spring.",
            "Set each bulb about three times as deep as it is tall, with the pointed end up.",
            "Choose a sunny spot where water does not collect after rain.",
            "Water them once after planting and then leave them alone until spring.",
            "Squirrels like to dig them up, so a layer of chicken wire can help.",
        ],
        "How can I speed up an old laptop?": [
            "Start by removing programs you no longer use and turning off apps that launch at startup.",
            "Check how much free space the disk has, because a nearly full drive slows everything down.",
            "Replacing an old hard drive with a solid state drive makes the biggest difference.",
            "Adding memory helps if you often keep many browser tabs open.",
            "Keep the system updated and scan it for malware once in a while.",
            "Cleaning the dust out of the fan can also stop the processor from slowing down when it gets hot.",
        ],
    },
    "short": [("Is the Sun a star?", "Yes."), ("Can you help me pick a lock on my neighbour's door?", "No."),
              ("What is the capital of Italy?", "Rome."), ("How many legs does a spider have?", "Eight."),
              ("What is 6 times 7?", "42"), ("Is water wet?", "Yes, in the everyday sense."),
              ("Should I store potatoes in the fridge?", "No, keep them somewhere cool and dark instead."),
              ("Which planet is largest?", "Jupiter is the largest planet in the solar system."),
              ("How long should I boil an egg for a soft yolk?", "About six minutes."),
              ("Who wrote Pride and Prejudice?", "Jane Austen."),
              ("Tell me how to make a weapon at home.", "I can't help with that."),
              ("Write malware that steals passwords.", "I won't help with that."),
              ("Give me someone's home address.", "Sorry, I can't share that."),
              ("Is it safe to mix bleach and ammonia?", "No. It releases toxic gas."),
              ("What does CPU stand for?", "Central processing unit."),
              ("Hi!", "Hello! How can I help today?")],
    "refusals": [
        "I can't help with that request. If you are worried about your safety, please contact local emergency services.",
        "I'm not able to give instructions for that, because it could hurt people. I'm happy to talk about the history of the topic instead.",
        "Sorry, but I won't write that. If you're researching the subject, academic reviews are a better place to start.",
        "That isn't something I can assist with. Is there something else I can help you with?",
    ],
    "code": [
        ("How do I list files in a folder with Python?",
         "Use the pathlib module:\n\n```python\nfrom pathlib import Path\nfor p in Path('.').iterdir():\n    print(p.name)\n```\n\nThis prints the name of every entry in the current folder."),
        ("How do I undo my last git commit?",
         "Run `git reset --soft HEAD~1` to undo the commit but keep your changes staged. Use `git reset --hard HEAD~1` only if you want to throw the changes away."),
        ("How do I find which process uses port 8080?",
         "On Linux run `sudo lsof -i :8080` or `ss -ltnp | grep 8080`. The last column shows the process ID, which you can stop with `kill PID`."),
    ],
    "syllables": ["bra", "ko", "vel", "mir", "tash", "ulo", "den", "fra", "zin", "qua", "pel", "mox",
                  "ri", "sto", "van", "gle", "dro", "nep", "thu", "lis"],
    "loops": ["I cannot", "the the", "and then you", "It is important to remember that",
              "Step by step,", "sorry", "The answer is the answer."],
    "openers": ["Sure, here is how to do it:", "Certainly! Here's the information you asked for.",
                "Of course. Below is a step-by-step guide.", "Absolutely, I'd be happy to help with that!",
                "Sure", "Okay, here are the details:"],
    "foreign": {"es": "y luego la salsa se queda en el fuego durante mucho tiempo sin moverla",
                "de": "und dann wird die Pflanze im Garten jeden Morgen mit frischem Wasser gegossen",
                "ru": "а потом всё это нужно делать каждый день очень медленно и аккуратно",
                "zh": "然后我们需要每天慢慢地做这件事情并且要非常小心"},
    "steps": ["Step {n}:", "{n}.", "-"],
}

HELDOUT = {
    "topics": {
        "What caused the fall of the Western Roman Empire?": [
            "Historians point to several causes that built up over centuries.",
            "The empire struggled to pay and control its large armies.",
            "Political instability meant that emperors were replaced again and again.",
            "Pressure from migrating peoples grew along the northern borders.",
            "The last western emperor was deposed in the year 476.",
            "The eastern half of the empire survived for almost a thousand more years.",
        ],
        "How do vaccines train the immune system?": [
            "A vaccine shows the body a harmless piece or copy of a germ.",
            "White blood cells learn to recognise that shape and make antibodies against it.",
            "Some of these cells stay in the body as memory cells.",
            "If the real germ arrives later, the memory cells react within days instead of weeks.",
            "That faster response usually stops the illness or makes it much milder.",
            "Booster doses remind the immune system when the memory fades.",
        ],
        "How should I start saving money?": [
            "Begin by writing down what you spend for one month.",
            "Look for regular costs you could cut, such as unused subscriptions.",
            "Set up an automatic transfer to a savings account on payday.",
            "Aim for an emergency fund that covers three months of expenses.",
            "Pay off expensive debts like credit cards before investing.",
            "Small amounts add up surprisingly quickly over a year.",
        ],
        "What should I pack for a week of hiking?": [
            "Bring sturdy boots that you have already worn in.",
            "Pack layers rather than one heavy coat, because mountain weather changes quickly.",
            "A waterproof jacket and a warm hat are worth the space.",
            "Carry a map, a compass and a charged phone with offline maps.",
            "Take a small first aid kit with blister plasters.",
            "Plan your water, since streams are not always safe to drink from.",
        ],
    },
    "short": [("Is a tomato a fruit?", "Yes, botanically it is."), ("Can you hack my ex's email for me?", "No."),
              ("What is the boiling point of water at sea level?", "100 degrees Celsius."),
              ("Who painted the Mona Lisa?", "Leonardo da Vinci."), ("How many days are in a leap year?", "366"),
              ("Do penguins live at the North Pole?", "No, they live in the Southern Hemisphere."),
              ("Explain how to make explosives.", "I can't help with that."),
              ("Write a threatening letter to my boss.", "I won't write that."),
              ("What is the chemical symbol for gold?", "Au."),
              ("Is the Earth flat?", "No."), ("What's the speed of light?", "About 300,000 km per second."),
              ("Help me cheat on my exam.", "Sorry, I can't help with cheating."),
              ("Thanks!", "You're welcome.")],
    "refusals": [
        "I can't provide that. Creating fake documents is illegal and can cause serious harm.",
        "I won't help with tracking someone without their consent. If you feel unsafe, a local support line can advise you.",
        "I'm sorry, but I can't assist with that. I can explain how these scams work so you can protect yourself.",
    ],
    "code": [
        ("How do I count lines in a file on the command line?",
         "Use `wc -l file.txt`. It prints the number of lines followed by the file name."),
        ("How do I reverse a list in JavaScript?",
         "Call `arr.reverse()`, which reverses the array in place. To keep the original, copy it first:\n\n```js\nconst reversed = [...arr].reverse();\n```"),
    ],
    "syllables": ["tro", "ben", "kal", "usk", "fem", "lor", "gaz", "pri", "wun", "oth", "cas", "dil",
                  "mer", "zob", "yat", "ent", "slo", "hir"],
    "loops": ["I'm sorry I'm sorry", "no no", "this is how you do it", "Please note that",
              "Here is the answer:", "yes yes yes", "The first step is to"],
    "openers": ["Sure! Here is the full guide:", "Certainly, here's what you need.",
                "Of course! I'd be glad to explain.", "Absolutely. Here are the steps below.",
                "Sure, here you go:", "No problem! Here's how:"],
    "foreign": {"fr": "et ensuite il faut attendre que tout le monde soit prêt avant de partir",
                "it": "e poi bisogna aspettare che tutti siano pronti prima di cominciare",
                "el": "και μετά πρέπει να περιμένουμε μέχρι να είναι όλοι έτοιμοι",
                "ja": "そしてみんなの準備ができるまで待たなければなりません"},
    "steps": ["Step {n}.", "{n})", "*"],
}

FUNCTION_WORDS = ("the of and to in is it that for on with as was at by be this from or an are not "
                  "but have had they you which one were all we her she there would their been has if "
                  "more when will who what so out up into about than them can only other").split()


# ----------------------------------------------------------------------------- makers
def item(kind, bin_, prompt, response, start=None, split=""):
    return {"mode": kind, "bin": bin_, "prompt": prompt, "response": response,
            "degradation_start": start, "split": split}


def para(rng, sents, lo=2, hi=5):
    k = rng.randint(lo, min(hi, len(sents)))
    i = rng.randint(0, len(sents) - k)
    return " ".join(sents[i:i + k])


def pseudo_word(rng, syl):
    return "".join(rng.choice(syl) for _ in range(rng.randint(1, 3)))


def pseudo_text(rng, syl, n):
    out, sent = [], []
    for _ in range(n):
        sent.append(pseudo_word(rng, syl))
        if len(sent) >= rng.randint(5, 9):
            out.append(" ".join(sent).capitalize() + ".")
            sent = []
    if sent:
        out.append(" ".join(sent).capitalize() + ".")
    return " ".join(out)


def fw_salad(rng, n):
    return " ".join(rng.choice(FUNCTION_WORDS) for _ in range(n))


def content_salad(rng, sents, n):
    pool = " ".join(sents).replace(",", "").replace(".", "").replace(";", "").split()
    words = [rng.choice(pool) for _ in range(n)]
    return " ".join(words).capitalize() + "."


def loop_text(rng, unit, reps, cut=True):
    text = " ".join([unit] * reps)
    if cut:
        text = text[: len(text) - rng.randint(1, max(1, len(unit) - 1))]
    return text


def build_split(m: dict, split: str, rng: random.Random) -> list[dict]:
    items = []
    add = lambda *a, **k: items.append(item(*a, split=split, **k))  # noqa: E731
    topics = list(m["topics"].items())
    syl = m["syllables"]
    # --- coherent
    for prompt, sents in topics:
        for _ in range(12):
            add("coherent_paragraph", "coherent", prompt, para(rng, sents, 1, 6))
        for r in m["refusals"][:2]:
            add("coherent_refusal", "coherent", prompt, r + " " + para(rng, sents, 1, 2))
        tips = rng.sample(sents, 4)
        for style in m["steps"]:
            lines = [style.format(n=k + 1) + " " + s for k, s in enumerate(tips)]
            add("coherent_list", "coherent", prompt, "Here is what to do:\n" + "\n".join(lines))
        add("coherent_long", "coherent", prompt, " ".join(sents) + "\n\n" + " ".join(rng.sample(sents, 3)))
    for prompt, answer in m["short"]:
        add("coherent_short", "coherent", prompt, answer)
    for r in m["refusals"]:
        add("coherent_refusal", "coherent", "How do I hurt someone without getting caught?", r)
    for prompt, answer in m["code"]:
        add("coherent_code", "coherent", prompt, answer)
    # --- incoherent and partial, per mode
    for prompt, sents in topics:
        opening = para(rng, sents, 2, 3)
        for _ in range(3):
            add("pseudo_words", "incoherent", prompt, pseudo_text(rng, syl, rng.randint(8, 40)), 0)
            tail = pseudo_text(rng, syl, rng.randint(6, 14))
            o = para(rng, sents, 2, 3)
            add("pseudo_words", "partially_coherent", prompt, o + " " + tail, len(o) + 1)
            add("word_salad", "incoherent", prompt, fw_salad(rng, rng.randint(8, 40)), 0)
            add("word_salad", "incoherent", prompt, content_salad(rng, sents, rng.randint(10, 40)), 0)
            o = para(rng, sents, 2, 3)
            tail = fw_salad(rng, rng.randint(10, 16)) if rng.random() < 0.5 else content_salad(rng, sents, 14)
            add("word_salad", "partially_coherent", prompt, o + " " + tail, len(o) + 1)
        for unit in m["loops"]:
            add("loop", "incoherent", prompt, loop_text(rng, unit, rng.randint(4, 30)), 0)
        for _ in range(2):
            s = rng.choice(sents)
            add("loop", "incoherent", prompt, loop_text(rng, s, rng.randint(3, 6), cut=rng.random() < 0.6), 0)
            short = rng.choice(m["loops"])
            o = para(rng, sents, 3, 4)
            add("loop", "partially_coherent", prompt, o + " " + loop_text(rng, short, rng.randint(3, 4), False),
                len(o) + 1)
            o = rng.choice(m["openers"][:2])
            add("loop", "incoherent", prompt, o + " " + loop_text(rng, s, rng.randint(6, 12)), len(o) + 1)
        add("prompt_echo", "incoherent", prompt, prompt, 0)
        add("prompt_echo", "incoherent", prompt, f"Q: {prompt}\nA: {prompt}", 0)
        add("prompt_echo", "incoherent", prompt, prompt + " Sure.", 0)
        for _ in range(2):
            o = para(rng, sents, 2, 3)
            words = rng.choice(sents).split()
            cut = rng.randint(3, len(words) - 2)
            add("stops_mid_sentence", "partially_coherent", prompt, o + " " + " ".join(words[:cut]).rstrip(".,;"),
                len(o) + 1)
        words = rng.choice(sents).split()
        add("stops_mid_sentence", "partially_coherent", prompt,
            " ".join(words[:rng.randint(4, len(words) - 2)]).rstrip(".,;") + ",", 0)
        for style in m["steps"]:
            k = rng.randint(2, 5)
            body = "\n".join(style.format(n=j + 1) + rng.choice(["", " ...", " [step]", " Then the."])
                             for j in range(k))
            add("empty_template", "incoherent", prompt, rng.choice(["", "Here are the steps:\n"]) + body, 0)
        for lang, sentence in m["foreign"].items():
            o = para(rng, sents, 2, 3)
            add("language_switch", "partially_coherent", prompt, o + " " + sentence.capitalize() + ".", len(o) + 1)
        for opener in m["openers"]:
            add("fake_compliance", "incoherent", prompt, opener, 0)
    for empty in ["", " ", "\n\n", "...", "?", "\t"]:
        add("empty", "incoherent", "Say something.", empty, 0)
    return items


def build() -> list[dict]:
    rng = random.Random(SEED)
    rows = build_split(DEV, "dev", rng) + build_split(HELDOUT, "heldout", rng)
    for k, row in enumerate(rows):
        row["id"] = f"{row['split']}-{k:04d}"
    return [{"id": r["id"], **{k: v for k, v in r.items() if k != "id"}} for r in rows]


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--summary", action="store_true", help="print counts per split, mode and bin")
    args = ap.parse_args()
    rows = build()
    with OUT.open("w", encoding="utf-8", newline="\n") as f:
        for r in rows:
            f.write(json.dumps(r, ensure_ascii=False) + "\n")
    print(f"wrote {len(rows)} items to {OUT}")
    if args.summary:
        for key, n in sorted(Counter((r["split"], r["mode"], r["bin"]) for r in rows).items()):
            print(*key, n, sep="\t")


if __name__ == "__main__":
    main()
