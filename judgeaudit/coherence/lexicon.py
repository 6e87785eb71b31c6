"""Word and word-pair frequencies and language identification for the degeneracy scorer.

Three packages of the ``coherence`` extra (``pip install 'judgeaudit[coherence]'``)
supply what a list of our own could not:

============================  ==================================================  ===========
package                       used for                                             licence
============================  ==================================================  ===========
``wordfreq``                  is this a word anyone writes? (``large``/``best``    Apache-2.0
                              word lists, 40+ languages)                           code; data
                                                                                   CC BY-SA 4.0
``symspellpy``                do these two words ever follow each other?           MIT
                              (English unigram and bigram counts it ships)
``lingua-language-detector``  which language is this stretch of text?             Apache-2.0
============================  ==================================================  ===========

All three ship their data inside the wheel and never touch the network.  They are
loaded once per process, lazily, on first use (about 1 s).  :func:`load_lexicon`
returns ``None`` when the extra is missing and ``mode="auto"``; the scorer then works
without the lexical checks (see :mod:`judgeaudit.coherence.analysis`, "Fallback").
"""

from __future__ import annotations

import math
import threading
from dataclasses import dataclass, field

from judgeaudit.errors import ConfigError, MissingExtraError

__all__ = ["LEXICON_MODES", "PMI_BAD", "PMI_UNINFORMATIVE", "Lexicon", "lexicon_available", "load_lexicon"]

#: A pair of common words with PMI below this is a word-salad pair (fluent English
#: answers: ~1.5 % of their pairs; the same words shuffled: ~30 %).
PMI_BAD = 2.5
#: An unlisted pair whose PMI could still be this high (its words are rare enough
#: that the list's floor hides it) says nothing; between this and PMI_BAD its
#: badness falls linearly from 1 to 0.
PMI_UNINFORMATIVE = 6.0

#: ``auto``: use the extra when installed, else fall back; ``required``: raise when it
#: is missing; ``off``: never use it (the fallback, on purpose).
LEXICON_MODES = ("auto", "required", "off")

#: Latin-script languages that both wordfreq and lingua know: the candidates when a
#: stretch of Latin text is not English.  Other scripts are told apart by script.
_LATIN_LANGUAGES = ("en", "es", "fr", "de", "it", "pt", "nl", "ca", "pl", "cs", "sv", "fi",
                    "nb", "da", "id", "ms", "tr", "ro", "hu", "lt", "lv", "sk", "sl", "hr")

_LOCK = threading.Lock()
_CACHE: dict = {}


def lexicon_available() -> bool:
    """True when wordfreq, symspellpy and lingua can all be imported."""
    try:
        import lingua  # noqa: F401
        import symspellpy  # noqa: F401
        import wordfreq  # noqa: F401
    except ImportError:
        return False
    return True


def _read_counts(name: str, pairs: bool) -> dict:
    from importlib import resources

    counts: dict = {}
    text = (resources.files("symspellpy") / name).read_text(encoding="utf-8")
    for line in text.splitlines():
        parts = line.split(" ")
        if pairs and len(parts) == 3:
            counts[(parts[0], parts[1])] = int(parts[2])
        elif not pairs and len(parts) == 2:
            counts[parts[0]] = int(parts[1])
    return counts


@dataclass
class Lexicon:
    """Frequencies and a language detector, loaded once (see the module notes).

    Attributes
    ----------
    unigrams, bigrams:
        symspellpy's English word and word-pair counts (Google Books derived).
    total:
        Sum of the unigram counts (the normaliser of the pointwise mutual information).
    bigram_floor:
        The smallest bigram count in the list: a pair that is absent occurred fewer
        times than this.
    """

    unigrams: dict
    bigrams: dict
    total: float
    bigram_floor: float
    bad_product: float = 0.0
    good_pairs: frozenset = frozenset()
    _words: dict = field(default_factory=dict)
    _pairs: dict = field(default_factory=dict)
    _common: dict = field(default_factory=dict)
    _detector: object = None

    def __post_init__(self) -> None:
        # a pair is a salad pair when its PMI is below PMI_BAD: listed pairs are
        # sorted once; an unlisted pair (count < bigram_floor) is one exactly when
        # c(a) c(b) > bigram_floor * N / exp(PMI_BAD)
        self.bad_product = self.bigram_floor * self.total / math.exp(PMI_BAD)
        self.good_pairs = frozenset(
            f"{a} {b}" for (a, b), c in self.bigrams.items()
            if a in self.unigrams and b in self.unigrams
            and math.log(c * self.total / (self.unigrams[a] * self.unigrams[b])) >= PMI_BAD)

    def words(self, lang: str) -> dict:
        """wordfreq's frequency list of ``lang`` (word -> frequency), loaded on demand."""
        if lang not in self._words:
            import wordfreq

            with _LOCK:
                wordlist = "large" if lang in wordfreq.available_languages("large") else "best"
                self._words[lang] = wordfreq.get_frequency_dict(lang, wordlist)
        return self._words[lang]

    def common(self, lang: str) -> frozenset:
        """Words of ``lang`` with a Zipf frequency of at least 3 (once per million words)."""
        if lang not in self._common:
            self._common[lang] = frozenset(w for w, f in self.words(lang).items() if f >= 1e-6)
        return self._common[lang]

    def is_salad_pair(self, a: str, b: str) -> bool:
        """True when both words are in the unigram list and their PMI (an upper bound
        when the pair is unlisted) is below :data:`PMI_BAD`."""
        ca = self.unigrams.get(a)
        if ca is None:
            return False
        cb = self.unigrams.get(b)
        if cb is None or f"{a} {b}" in self.good_pairs:
            return False
        return (a, b) in self.bigrams or ca * cb > self.bad_product

    def pair_badness(self, a: str, b: str) -> float | None:
        """Salad evidence of the adjacent pair ``a b`` in [0, 1]: 0 for a listed pair
        with PMI >= :data:`PMI_BAD`, 1 below it; for an unlisted pair the upper bound
        of its PMI mapped from [PMI_BAD, PMI_UNINFORMATIVE] onto [1, 0].  ``None``
        when either word is not in the unigram list."""
        key = f"{a} {b}"
        hit = self._pairs.get(key, False)
        if hit is not False:
            return hit
        if len(self._pairs) > 1_000_000:
            self._pairs.clear()
        self._pairs[key] = value = self._pair_badness(a, b, key)
        return value

    def _pair_badness(self, a: str, b: str, key: str) -> float | None:
        ca = self.unigrams.get(a)
        if ca is None:
            return None
        cb = self.unigrams.get(b)
        if cb is None:
            return None
        if key in self.good_pairs:
            return 0.0
        if (a, b) in self.bigrams:
            return 1.0
        bound = math.log(self.bigram_floor * self.total / (ca * cb))
        return min(1.0, max(0.0, (PMI_UNINFORMATIVE - bound) / (PMI_UNINFORMATIVE - PMI_BAD)))

    def pair_pmi(self, a: str, b: str) -> float | None:
        """Pointwise mutual information ``log(c(ab) N / (c(a) c(b)))`` of two adjacent
        lower-case words, an upper bound from :attr:`bigram_floor` when the pair is not
        listed; ``None`` when either word is not in the unigram list."""
        ca = self.unigrams.get(a)
        cb = self.unigrams.get(b)
        if ca is None or cb is None:
            return None
        c = self.bigrams.get((a, b))
        return math.log((c if c is not None else self.bigram_floor) * self.total / (ca * cb))

    def detect(self, text: str) -> tuple[str | None, float]:
        """``(ISO 639-1 code, confidence)`` of ``text`` among the Latin-script
        languages, or ``(None, 0.0)`` when lingua cannot tell."""
        if self._detector is None:
            from lingua import IsoCode639_1, LanguageDetectorBuilder

            codes = [getattr(IsoCode639_1, c.upper()) for c in _LATIN_LANGUAGES
                     if hasattr(IsoCode639_1, c.upper())]
            with _LOCK:
                # low-accuracy mode (trigram models): about 30x faster per call and
                # quick to load; the scorer asks only about clauses of 4+ words and
                # checks the answer against word frequencies
                self._detector = (LanguageDetectorBuilder.from_iso_codes_639_1(*codes)
                                  .with_low_accuracy_mode().build())
        values = self._detector.compute_language_confidence_values(text)
        if not values:
            return None, 0.0
        best = values[0]
        return best.language.iso_code_639_1.name.lower(), float(best.value)


def load_lexicon(mode: str = "auto") -> Lexicon | None:
    """The process-wide :class:`Lexicon`, or ``None`` (``mode="off"``, or ``"auto"``
    without the ``coherence`` extra).

    Raises
    ------
    judgeaudit.errors.MissingExtraError
        With ``mode="required"`` when a package of the extra is missing.
    judgeaudit.errors.ConfigError
        When ``mode`` is not one of :data:`LEXICON_MODES`.
    """
    if mode not in LEXICON_MODES:
        raise ConfigError(f"lexicon must be one of {', '.join(LEXICON_MODES)}, got {mode!r}")
    if mode == "off":
        return None
    if "lexicon" in _CACHE:
        return _CACHE["lexicon"]
    try:
        import lingua  # noqa: F401
        import symspellpy  # noqa: F401
        import wordfreq  # noqa: F401
    except ImportError as exc:
        if mode == "required":
            raise MissingExtraError(exc.name or "wordfreq", "coherence") from None
        return None
    with _LOCK:
        if "lexicon" not in _CACHE:
            unigrams = _read_counts("frequency_dictionary_en_82_765.txt", pairs=False)
            bigrams = _read_counts("frequency_bigramdictionary_en_243_342.txt", pairs=True)
            _CACHE["lexicon"] = Lexicon(unigrams=unigrams, bigrams=bigrams,
                                        total=float(sum(unigrams.values())),
                                        bigram_floor=float(min(bigrams.values())))
    return _CACHE["lexicon"]
