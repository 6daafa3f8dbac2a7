"""Reading a typed quiz answer by Korean morphology (kiwipiepy, offline).

`dlcourse.quiz.parse` hands a cleaned answer (NFKC, at most `MAX_TEXT` characters) to one reader
here per question kind; each returns a `Reading`: the value, or why it could not be read and what was
understood.  The readers know no answer key: they work on the typed text and the public question only,
so the notebook's format check and the grade agree (the grader calls the same `parse`).

How Korean is read: Kiwi splits the answer into morphemes with tags (`GPU/SL 를/JKO 쓰/VV ᆸ니다/EF`);
the readers keep what carries the answer (letters, numbers, nouns, the stems 맞-/틀리-/옳-/그르-) and drop
what only frames it (particles J*, endings E*, the copula 이다, plural 들, "정답은", "…라고 합니다",
hedges such as "아마" and "… 같아요").  What changes the meaning is never dropped: a negation (안, 않-,
아니-, 말고, 빼고), "또는", a second letter, number or verdict.  Such an answer is refused with a
message, never guessed.

Kiwi is created once per process, on the first answer that has Hangul in it (1.5–5 s, ~270 MB; the
model is read from the installed `kiwipiepy_model` package and nothing is written).  A plain letter,
number or O/X, and any answer without Hangul, is read by a small tokenizer here without loading it.
Every reader takes time linear in the answer (no backtracking regular expression, bounded loops).
"""
from __future__ import annotations

import re
import threading
import time
import unicodedata
from dataclasses import dataclass, field
from functools import lru_cache

HANGUL = re.compile(r"[\uac00-\ud7a3\u1100-\u11ff\u3131-\u318e]")
LOAD_SECONDS: float | None = None        # how long this process took to load Kiwi (None: not loaded)

_kiwi = None
_lock = threading.Lock()


def kiwi():
    """The process's one Kiwi analyser, loaded on first use (thread-safe)."""
    global _kiwi, LOAD_SECONDS
    if _kiwi is None:
        with _lock:
            if _kiwi is None:
                import warnings

                from kiwipiepy import Kiwi
                start = time.perf_counter()
                with warnings.catch_warnings():
                    warnings.simplefilter("ignore")
                    # no typo and multi-word dictionaries: an answer is read as typed, not "corrected"
                    analyser = Kiwi(num_workers=1, load_typo_dict=False, load_multi_dict=False)
                LOAD_SECONDS = time.perf_counter() - start
                _kiwi = analyser
    return _kiwi


def loaded() -> bool:
    return _kiwi is not None


# ── tokens ─────────────────────────────────────────────────────────────────
@dataclass(frozen=True)
class Tok:
    form: str           # the morpheme (Kiwi's form; for ASCII text the piece itself)
    tag: str            # Sejong tag as Kiwi gives it: NNG, SL, SN, JKO, EF, VV, ...
    start: int          # span in the analysed text
    end: int
    word: int           # index of the space-separated word (어절) it belongs to

    @property
    def low(self) -> str:
        return self.form.casefold()


_ASCII_TOKEN = re.compile(r"[^\W\d_]+|\d+(?:[.,]\d+)*|\S")


def tokens(text: str) -> tuple[Tok, ...]:
    """Morphemes of `text` (already cleaned and bounded by the caller). Kiwi only when there is Hangul."""
    return _tokens(text)


@lru_cache(maxsize=512)
def _tokens(text: str) -> tuple[Tok, ...]:
    words = _word_index(text)
    if not HANGUL.search(text):
        out = []
        for m in _ASCII_TOKEN.finditer(text):
            piece = m.group()
            tag = "SL" if piece[0].isalpha() else "SN" if piece[0].isdigit() else "SW"
            out.append(Tok(piece, tag, m.start(), m.end(), words[m.start()]))
        return tuple(out)
    out = []
    for t in kiwi().tokenize(text):
        start = min(max(t.start, 0), max(len(text) - 1, 0))
        out.append(Tok(t.form, t.tag, t.start, t.end, words[start] if text else 0))
    return tuple(out)


def _word_index(text: str) -> list[int]:
    index, word, space = [], 0, False
    for ch in text:
        if ch.isspace():
            space = True
        elif space:
            word, space = word + 1, False
        index.append(word)
    return index or [0]


# ── morpheme classes (meanings, not spellings: every inflected form of a stem is the stem) ──
def is_particle(t: Tok) -> bool:
    return t.tag.startswith("J")


def is_ending(t: Tok) -> bool:
    return t.tag.startswith("E") or t.tag == "VCP"


def is_plural(t: Tok) -> bool:
    return t.tag == "XSN" and t.form == "들"


NOMINAL = {"NNG", "NNP", "NNB", "NR", "NP", "SL", "SN", "SH", "XSN", "XR", "XPN", "W_EMOJI", "W_SERIAL",
           "W_HASHTAG", "W_MENTION", "W_URL", "W_EMAIL"}
PUNCT = {"SF", "SP", "SS", "SSO", "SSC", "SE", "SO", "SW", "SB"}
NEGATION = {("안", "MAG"), ("못", "MAG"), ("않", "VX"), ("못하", "VX"), ("말", "VX"), ("말", "VV"), ("빼", "VV"),
            ("제외", "NNG"), ("제외하", "VV")}
LATIN_NEGATION = {"not", "no", "except", "without"}
OR_WORDS = {"또는", "혹은", "아니면", "or"}
HEDGE_ADVERBS = {"아마", "아마도", "혹시", "아무래도", "probably", "maybe", "perhaps"}
HEDGE_PREDICATES = {("같", "VA"), ("듯", "NNB"), ("듯하", "VA"), ("생각", "NNG"), ("생각하", "VV")}
# nouns that only frame an answer: "정답은 B번", "B 보기", "답: 784"
FRAME_NOUNS = {"정답", "답", "답안", "보기", "선택지", "선택", "번", "째", "번째", "것", "거", "표", "쪽"}
FRAME_VERBS = {("고르", "VV"), ("선택하", "VV"), ("하", "XSV"), ("하", "VV"), ("이", "VCP"), ("맞", "VV"), ("옳", "VA")}
SPEAKER = {"저", "제", "나", "내"}          # "제 답은 B", "저는 B"
WRONG_STEMS = {("틀리", "VV"), ("틀리", "VA"), ("그르", "VA")}    # "B 틀려요": says what is not the answer
LATIN_FRAME = {"answer", "ans", "is", "the", "and", "option", "options", "choice", "choices", "my", "i", "think",
               "choose", "pick", "it", "s"}
ALL_WORDS = {"다", "모두", "전부", "둘다", "셋다", "all", "both"}


def negation(t: Tok) -> bool:
    return (t.form, t.tag) in NEGATION or (t.tag == "SL" and t.low in LATIN_NEGATION)


def conjecture(toks, k: int) -> bool:
    """'B 아닐까요?', 'B 아닐까': 아니- with the conjectural ending -ㄹ까 asks "might it be B?", i.e. B."""
    nxt = toks[k + 1] if k + 1 < len(toks) else None
    return toks[k].tag == "VCN" and nxt is not None and nxt.tag == "EF" and nxt.form.lstrip("ᆯ").startswith("까")


QUESTION_ENDINGS = ("까", "나요", "가요", "니", "냐", "죠", "지요")


def is_or(t: Tok) -> bool:
    return t.low in OR_WORDS or (t.tag == "JC" and t.form in ("나", "이나", "거나", "이거나", "든", "든지"))


def hedge(t: Tok) -> bool:
    return t.low in HEDGE_ADVERBS or (t.form, t.tag) in HEDGE_PREDICATES


# ── numbers written in Korean ───────────────────────────────────────────────
SINO_DIGITS = {"영": 0, "공": 0, "일": 1, "이": 2, "삼": 3, "사": 4, "오": 5, "육": 6, "륙": 6, "칠": 7, "팔": 8, "구": 9}
SINO_UNITS = {"십": 10, "백": 100, "천": 1000}
BIG_UNITS = {"만": 10 ** 4, "억": 10 ** 8, "조": 10 ** 12}
NATIVE_ONES = {"하나": 1, "한": 1, "첫": 1, "둘": 2, "두": 2, "셋": 3, "세": 3, "석": 3, "서": 3, "넷": 4, "네": 4,
               "넉": 4, "너": 4, "다섯": 5, "닷": 5, "여섯": 6, "엿": 6, "일곱": 7, "여덟": 8, "아홉": 9}
NATIVE_TENS = {"열": 10, "스물": 20, "스무": 20, "서른": 30, "마흔": 40, "쉰": 50, "예순": 60, "일흔": 70, "여든": 80,
               "아흔": 90}
DETERMINER_NUMERALS = {"한", "두", "세", "석", "서", "네", "넉", "너", "스무", "첫"}   # need a counter after them
MAX_NUMBER = 10 ** 15


def native_value(word: str) -> int | None:
    """'여덟' → 8, '스물다섯' → 25, '열두' → 12, '다섯째' → 5, '첫째' → 1; None when it is not one."""
    word = word.removesuffix("째")
    if word == "첫":
        return 1
    tens = 0
    for name, value in sorted(NATIVE_TENS.items(), key=lambda kv: -len(kv[0])):
        if word.startswith(name):
            tens, word = value, word[len(name):]
            break
    if not word:
        return tens or None
    ones = NATIVE_ONES.get(word)
    if ones is None or (word == "첫" and tens):
        return None
    return tens + ones


def sino_value(pieces: list[str]) -> int | None:
    """Sino-Korean numerals and digit groups: ['백', '이', '십', '팔'] → 128, ['10', '만', '480'] → 100480.

    Units must come in descending order within each 만-group and the groups must descend too:
    '십백' or '만만' is not a number.  Linear in the number of pieces."""
    total, section, current, last_big, last_small = 0, 0, None, None, None
    for piece in pieces:
        if piece.isdigit():
            if current is not None or len(piece) > 16:
                return None
            current = int(piece)
        elif piece in SINO_DIGITS:
            if current is not None:
                return None
            current = SINO_DIGITS[piece]
        elif piece in SINO_UNITS:
            unit = SINO_UNITS[piece]
            if (last_small is not None and unit >= last_small) or (current is not None and current >= 10):
                return None
            section += (1 if current is None else current) * unit
            current, last_small = None, unit
        elif piece in BIG_UNITS:
            unit = BIG_UNITS[piece]
            if last_big is not None and unit >= last_big:
                return None
            group = section + (current or 0)
            total += (group or 1) * unit
            section, current, last_big, last_small = 0, None, unit, None
        else:
            return None
    value = total + section + (current or 0)
    return value if value <= MAX_NUMBER else None


def sino_pieces(form: str) -> list[str] | None:
    """'백이십팔' → ['백', '이', '십', '팔'] when every syllable is a numeral (None otherwise)."""
    if not form or not all(ch in SINO_DIGITS or ch in SINO_UNITS or ch in BIG_UNITS for ch in form):
        return None
    return list(form)


@dataclass
class Reading:
    value: object = None            # what was read (None: nothing certain)
    why: str | None = None          # why it is not certain: a code the caller words (see quiz.py)
    seen: object = None             # what was understood, or the pieces that were not read
    extra: dict = field(default_factory=dict)


# ── numbers ────────────────────────────────────────────────────────────────
_ASCII_NUMBER = re.compile(r"[-+]?(?:\d{1,3}(?:,\d{3})+(?!\d)|\d+)(?:\.\d+)?(?:[eE][-+]?\d+)?|[-+]?\.\d+(?:[eE][-+]?\d+)?")
PERCENT_WORDS = {"%", "퍼센트", "프로", "percent", "pct", "퍼"}
APPROX_WORDS = {"약", "대략", "정도", "쯤", "가량", "총", "모두", "전부", "합계", "합", "about", "approx",
                "approximately", "total", "around"}
BOUND_WORDS = {"이상", "이하", "미만", "초과", "넘", "보다", "까지", "부터", "안팎", "내외", "남짓", "중", "배", "분"}
ARITH = set("+-*/×x·÷=^()")


def read_number(text: str, line: bool = False) -> Reading:
    """One number in a Korean sentence: '784개입니다', '여덟 번째 줄', '네 에폭', '10만 480', '백이십팔',
    '784 (28x28)'.  Refused: two numbers, a bound ('784 이상'), a negation, a verb, a bare native numeral
    ('여덟': write 8), an all-Hangul number of 만 or more ('십만사백팔십': write 100480 or '10만 480')."""
    toks = tokens(text)
    numbers, percent, unread, gloss_ok = [], False, [], True
    i, n = 0, len(toks)
    while i < n:
        t = toks[i]
        # a number written with digits: take the whole literal ("100,480", "1e3", "-3") from the text
        if t.tag == "SN" or (t.form in "-+." and i + 1 < n and toks[i + 1].tag == "SN" and toks[i + 1].start == t.end):
            m = _ASCII_NUMBER.match(text, t.start)
            if not m:
                unread.append(t.form)
                i += 1
                continue
            j = i
            while j < n and toks[j].start < m.end():
                j += 1
            if toks[j - 1].end > m.end() and toks[j - 1].tag == "SN":      # "1,5개", "1,00,480": not one number
                return Reading(None, "comma", [toks[j - 1].form])
            group = [("digits", m.group(), toks[i:j])]
            i = j
            i, value, kind = _number_group(toks, text, i, group)
            numbers.append((value, kind, group))
            continue
        if t.tag == "NR" or (t.tag in ("MM", "IC", "NP", "NNG", "NR") and (native_value(t.form) is not None
                                                                            or sino_pieces(t.form))):
            value_here = native_value(t.form)
            nxt = toks[i + 1] if i + 1 < n else None
            if t.tag != "NR" and t.form in DETERMINER_NUMERALS or (t.tag in ("MM", "IC", "NP") and value_here):
                # 한/두/세/네/첫: a number only with a counter after it ("네 에폭", "두 번째 줄")
                if nxt is None or nxt.tag not in ("NNB", "NNG", "XSN", "SL"):
                    unread.append(t.form)
                    i += 1
                    continue
            i, value, kind = _number_group(toks, text, i, [])
            numbers.append((value, kind, None))
            continue
        if t.form in ("(", "[") and numbers:
            # "784 (28x28)": the working in brackets after the number; it must agree with the number
            close = next((k for k in range(i + 1, n) if toks[k].form in (")", "]")), None)
            inner = text[t.end:toks[close].start] if close is not None else ""
            if close is not None and any(ch.isdigit() for ch in inner):
                if numbers[-1][0] is None or not _working_agrees(inner, numbers[-1][0]):
                    return Reading(None, "two_numbers", [text[t.start:toks[close].end]])
                i = close + 1
                continue
            if close is not None:                 # "784 (픽셀 수)", "8 (loss 줄)": words about the number
                i = close + 1
                continue
            i += 1
            continue
        low = t.low
        if conjecture(toks, i):
            i += 2
            continue
        if negation(t) or t.tag == "VCN":
            return Reading(None, "negation", [t.form])
        if is_or(t):
            return Reading(None, "two_numbers", [t.form])
        if low in PERCENT_WORDS:
            percent = True
        elif low in BOUND_WORDS and not line:
            return Reading(None, "bound", [t.form])
        elif (is_particle(t) or is_ending(t) or t.tag in PUNCT or low in APPROX_WORDS or low in FRAME_NOUNS
              or t.tag in ("NNB", "XSN", "MAJ") or hedge(t) or t.tag == "MM" and low in APPROX_WORDS):
            pass
        elif t.tag in ("NNG", "NNP", "SL") and numbers:
            pass                      # a unit after the number: "784 픽셀", "4 에폭", "5 epochs", "8번 줄"
        elif (t.form, t.tag) in (("되", "VV"), ("나오", "VV")) and numbers:
            pass                      # "1이 됩니다", "784개가 나옵니다": the number is the answer
        elif t.tag in ("NNG", "NNP", "SL") and low in ("line", "l", "줄", "행", "라인"):
            pass                      # "line 8", "줄 8"
        else:
            unread.append(t.form)
        i += 1
    if len(numbers) > 1:
        return Reading(None, "two_numbers", [str(v) for v, _, _ in numbers])
    if unread:
        return Reading(None, "unread", unread)
    if not numbers:
        return Reading(None, "no_number", [])
    value, kind, group = numbers[0]
    if value is None:
        return Reading(None, "unread", [text])
    if kind == "bare_native" and line:
        return Reading(None, "spell_digits", value)
    if kind == "long_hangul":
        return Reading(None, "spell_digits", value)
    return Reading(value, None, value, {"percent": percent})


def _number_group(toks, text, i, group):
    """Read the numeral that starts at toks[i] (or continues `group`): digits with 만/억 units, Sino
    numerals, native numerals and ordinals.  Returns (next index, value or None, kind)."""
    n = len(toks)
    pieces, native, hangul_only, ordinal = [], None, True, False
    if group:
        pieces.append(group[0][1].replace(",", ""))
        hangul_only = False
    while i < n:
        t = toks[i]
        glued = pieces and (t.start == toks[i - 1].end or (pieces[-1] in BIG_UNITS or pieces[-1] in SINO_UNITS))
        if pieces and not glued:
            break
        if t.tag == "SN" and _ASCII_NUMBER.fullmatch(t.form) and t.form.isdigit() and (not pieces or pieces[-1] in BIG_UNITS or pieces[-1] in SINO_UNITS):
            pieces.append(t.form)
            hangul_only = False
            i += 1
            continue
        sp = sino_pieces(t.form) if t.tag in ("NR", "NNG", "NP", "MM", "SN") or t.form in BIG_UNITS else None
        if sp and native is None and (pieces or t.tag == "NR" or len(t.form) > 1):
            pieces.extend(sp)
            i += 1
            continue
        nv = native_value(t.form)
        if nv is not None and not pieces and native is None:
            native = nv
            ordinal = t.form.endswith("째")
            i += 1
            # "열 두", "스물 다섯": a native number may be typed in two pieces
            if i < n and toks[i].tag in ("NR", "MM") and native_value(toks[i].form) and native % 10 == 0 \
                    and native_value(toks[i].form) < 10:
                native += native_value(toks[i].form)
                i += 1
            break
        break
    if native is not None:
        counter = i < n and (toks[i].tag in ("NNB", "NNG", "XSN", "SL") and toks[i].form not in BOUND_WORDS)
        return i, native, ("native" if counter or ordinal else "bare_native")
    if not pieces:
        return i + 1, None, "none"
    if len(pieces) == 1 and not hangul_only:
        text_value = pieces[0]
        try:
            value = float(text_value) if any(c in text_value for c in ".eE") else int(text_value)
        except ValueError:
            value = None
        return i, value, "digits"
    value = sino_value(pieces)
    if value is not None and hangul_only and value >= 10 ** 4:
        return i, value, "long_hangul"
    return i, value, ("hangul" if hangul_only else "mixed")


def _arithmetic(expr: str) -> float | None:
    """Value of a short working such as '28x28', '784×128+128', '28 * 28 = 784' (None if it is not one).
    Numbers, + - * / × x ÷ and '='; every side of '=' must agree. At most 80 characters."""
    if len(expr) > 80:
        return None
    values = []
    for side in expr.split("="):
        side = side.strip()
        if side.endswith("%") and re.fullmatch(r"[\d.,]+%", side):        # "1 (100%)": the same number in %
            try:
                values.append(float(side[:-1].replace(",", "")) / 100)
            except ValueError:
                return None
            continue
        side = side.replace("×", "*").replace("x", "*").replace("X", "*").replace("·", "*").replace("÷", "/")
        side = side.replace(",", "").replace(" ", "")
        if not side or not re.fullmatch(r"[\d.*/+\-]+", side):
            return None
        values.append(_eval_flat(side))
    if any(v is None for v in values) or any(abs(v - values[0]) > 1e-9 * max(1, abs(v)) for v in values):
        return None
    return values[0]


_WORKING = re.compile(r"[\d.,]+(?:\s{0,3}[x×*/+\-÷·=]\s{0,3}[\d.,]+)*%?")


def _working_agrees(inner: str, value: float) -> bool:
    """Whether every number or working in a bracket after the answer comes to the answer: '28x28',
    '784*128+128', 'softmax라서 합이 1', '100%' (for 1).  Linear: one scan, each run evaluated once."""
    runs = [m.group() for m in _WORKING.finditer(inner[:80]) if any(ch.isdigit() for ch in m.group())]
    if not runs:
        return True
    for run in runs:
        worked = _arithmetic(run)
        if worked is None or abs(worked - value) > 1e-9 * max(1.0, abs(value)):
            return False
    return True


def _eval_flat(expr: str) -> float | None:
    """'784*128+128' without brackets: products first, then sums. Linear; None when malformed."""
    total = 0.0
    parts = re.findall(r"[+\-]?[^+\-]+", expr)
    if "".join(parts) != expr:
        return None
    for part in parts:
        sign = -1 if part.startswith("-") else 1
        factors = re.split(r"([*/])", part.lstrip("+-"))
        try:
            value = float(factors[0])
            for op, num in zip(factors[1::2], factors[2::2]):
                value = value * float(num) if op == "*" else value / float(num)
        except (ValueError, ZeroDivisionError):
            return None
        total += sign * value
    return total


# ── O / X ──────────────────────────────────────────────────────────────────
TRUE_SIGNS = {"o", "○", "◯", "⭕", "〇", "✔", "✔️", "✓", "☑", "☑️", "✅", "🙆", "⭕️", "true", "t", "yes", "y",
              "correct", "right", "오", "참", "네", "예", "응", "동그라미", "맞음", "맞다", "옳음", "옳다"}
FALSE_SIGNS = {"x", "×", "✕", "✖", "✖️", "✗", "✘", "❌", "❎", "🙅", "false", "f", "no", "n", "wrong", "incorrect",
               "엑스", "거짓", "가위표", "아니요", "아니오", "아뇨", "아니", "틀림", "틀리다", "그르다"}
TRUE_STEMS = {"맞", "옳", "그렇"}
FALSE_STEMS = {"틀리", "그르"}
VERDICT_NOUNS = {"설명", "말", "문장", "내용", "답", "정답", "진술", "것", "거", "표", "서술"}


def read_verdict(text: str) -> Reading:
    """O or X from '맞아요', '틀린 설명', '그렇습니다', '아님', '엑스', '오', 'O (맞다)'.  Refused: both verdicts,
    a negated verdict ('안 맞아요', '참이 아니다'), anything else.  Each bracketed or comma-separated piece is
    analysed on its own (Kiwi reads '(맞다)' as a name in context)."""
    verdicts, unread = [], []
    for piece in re.split(r"[()\[\]{},/:;]", text):
        if not piece.strip():
            continue
        got = _verdict_piece(piece.strip())
        if got.why:
            return got
        verdicts += got.value
    if not verdicts:
        return Reading(None, "unread", [text])
    if len(set(verdicts)) > 1:
        return Reading(None, "both", None)
    return Reading(verdicts[0], None, verdicts[0])


def _verdict_piece(piece: str) -> Reading:
    whole = re.sub(r"[\s.!?~'\"`]+", "", piece.casefold())
    if whole in TRUE_SIGNS:
        return Reading([True])
    if whole in FALSE_SIGNS:
        return Reading([False])
    toks = tokens(piece)
    found, unread, complement, negations = [], [], False, []
    question = "?" in piece or any(t.tag == "EF" and t.form.endswith(QUESTION_ENDINGS) for t in toks)
    for k, t in enumerate(toks):
        low = t.low
        if negation(t):
            negations.append(t.form)           # "안 맞아요", "맞지 않다", "그렇지 않습니다"
            continue
        if t.tag == "VCN":
            if complement or found:            # "참이 아니다", "맞는 말이 아니다": a negated statement
                negations.append(t.form)
                continue
            found.append(False)                # "아님", "아닙니다": no
            continue
        if t.tag.startswith("V") and t.form in TRUE_STEMS:
            found.append(True)
        elif t.tag.startswith("V") and t.form in FALSE_STEMS:
            found.append(False)
        elif low in TRUE_SIGNS:
            found.append(True)
        elif low in FALSE_SIGNS:
            found.append(False)
        elif t.tag == "JKC":
            complement = True
        elif (is_particle(t) or is_ending(t) or t.tag in PUNCT or hedge(t) or low in VERDICT_NOUNS
              or t.tag == "XSN" or (t.tag == "NP" and t.form == "이")):
            pass
        else:
            unread.append(t.form)
    if unread:
        return Reading(None, "unread", unread)
    if negations:
        # one negation of one verdict is its opposite ("맞지 않다" = X, "틀리지 않다" = O); two negations,
        # two verdicts or a negated question ("맞지 않나요?" may mean O) are not guessed
        if len(negations) > 1 or len(set(found)) != 1 or question:
            return Reading(None, "negation", negations)
        return Reading([not found[0]])
    return Reading(found)


# ── letters of a choice ─────────────────────────────────────────────────────
def read_choice(text: str, n: int, options: list[dict] | None = None, several: bool = False) -> Reading:
    """Option letters from 'B', '정답은 B번입니다', 'A랑 D', 'A~C', 'A, C 둘 다', '아마 B', 'D 같아요', or the
    option's own text ('Google', '자연어 처리', 'C - 병렬 처리').  `options`: the options' ko/en text in the
    order this student sees them (letter A first).  Refused: 'A 또는 C', a negation ('B 말고'), numbers
    instead of letters, a count that disagrees ('A, C 셋 다'), a text that names another option than its
    letter, a text that names no option."""
    from .quiz import LETTERS          # one alphabet for both
    allowed = LETTERS[:n]
    if options:
        exact = _exact_option(text, options)
        if exact is not None:
            return Reading([LETTERS[exact]], None, [LETTERS[exact]])
        pieces = [p.strip() for p in re.split(r"[,;、]", text) if p.strip()]
        if several and len(pieces) > 1:          # "고양이 사진, 고객센터 통화 녹음": each an option's own text
            named = [_exact_option(p, options) for p in pieces]
            if all(k is not None for k in named):
                letters = [LETTERS[k] for k in named]
                return Reading(letters, None, letters)
    toks = tokens(text)
    letters, count, numbers, extra, pieces = [], None, [], [], []
    i = 0
    while i < len(toks):
        t = toks[i]
        low = t.low
        if t.tag == "SL" and low in LATIN_FRAME:
            i += 1
            continue
        if t.tag == "SL" and all(ch in allowed for ch in t.form.upper()):
            # a range "A~C" (a dash between two letters could be a range or a list: refused)
            if (i + 2 < len(toks) and len(t.form) == 1 and toks[i + 1].form in ("~", "∼", "〜", "～")
                    and toks[i + 2].tag == "SL" and len(toks[i + 2].form) == 1 and toks[i + 2].form.upper() in allowed):
                a, b = allowed.index(t.form.upper()), allowed.index(toks[i + 2].form.upper())
                if a >= b:
                    return Reading(None, "unread", [text[t.start:toks[i + 2].end]])
                letters.extend(allowed[a:b + 1])
                i += 3
                continue
            if (i + 2 < len(toks) and toks[i + 1].form in ("-", "–", "—") and toks[i + 2].tag == "SL"
                    and all(ch in allowed for ch in toks[i + 2].form.upper())
                    and toks[i + 1].start == t.end and toks[i + 2].start == toks[i + 1].end):
                return Reading(None, "dash", [text[t.start:toks[i + 2].end]])
            letters.extend(t.form.upper())
            pieces.append(("letter", t.form.upper()))
            i += 1
            continue
        if conjecture(toks, i):                 # "B 아닐까요?": B
            i += 2
            continue
        if negation(t) or t.tag == "VCN" or (t.form, t.tag) in WRONG_STEMS:
            return Reading(None, "negation", [t.form])
        if is_or(t):
            return Reading(None, "or", [t.form])
        if t.tag in ("NP", "MM") and t.form in SPEAKER:
            i += 1
            continue
        if t.tag in ("NR", "SN", "MM") and (native_value(t.form) or t.form.isdigit() or sino_pieces(t.form)):
            # "둘 다", "세 개 다", "A, C 둘 다": a count of the letters; otherwise a number instead of a letter
            k = i + 1
            if k < len(toks) and toks[k].tag == "NNB":
                k += 1
            value = native_value(t.form) or (int(t.form) if t.form.isdigit() else sino_value(list(t.form)))
            if k < len(toks) and toks[k].low in ALL_WORDS:
                count = value
                i = k + 1
                continue
            numbers.append(t.form)
            i += 1
            continue
        if low in ALL_WORDS:
            i += 1
            continue
        if (is_particle(t) or is_ending(t) or t.tag in PUNCT or t.tag == "MAJ" or hedge(t) or low in FRAME_NOUNS
                or (t.form, t.tag) in FRAME_VERBS or t.tag == "XSN" or low in ("그리고", "및", "and", "&")
                or (t.tag == "NP" and t.form == "이")):
            i += 1
            continue
        extra.append(t)
        i += 1
    if numbers and not letters and not extra:
        return Reading(None, "numbers", numbers)
    if numbers:
        extra_words = numbers + [t.form for t in extra]
        return Reading(None, "unread", extra_words)
    if extra:
        said = text[extra[0].start:extra[-1].end]
        if options is None:
            return Reading(None, "unread", [said])
        named = _named_option(said, options)
        if not letters:
            if named is not None and named[1] == "sure":
                letters = [LETTERS[named[0]]]
            elif named is not None:
                return Reading(None, "looks_like", LETTERS[named[0]], {"said": said})
            else:
                return Reading(None, "unread", [said])
        elif len(set(letters)) == 1 and not several:
            if named is None:
                return Reading(None, "unread", [said])
            if LETTERS[named[0]] != letters[0]:
                return Reading(None, "contradiction", [letters[0], said], {"named": LETTERS[named[0]]})
        else:
            return Reading(None, "unread", [said])
    if not letters:
        return Reading(None, "no_letter", [])
    if count is not None and count != len(set(letters)):
        return Reading(None, "count", [count, len(set(letters))])
    return Reading(letters, None, letters)


def _norm(text: str) -> str:
    return re.sub(r"[\W_]+", "", unicodedata.normalize("NFKC", text).casefold())


def _main(text: str) -> str:
    return re.sub(r"\s*[(\[][^()\[\]]*[)\]]\s*", " ", text).strip()


def _exact_option(text: str, options: list[dict]) -> int | None:
    """The option whose whole text (or its text before a bracket) is what was typed, if exactly one."""
    typed = _norm(text)
    if len(typed) < 2:
        return None
    hits = {i for i, o in enumerate(options)
            for name in (o.get("ko"), o.get("en")) if name and typed in (_norm(name), _norm(_main(name)))}
    return hits.pop() if len(hits) == 1 else None


def content_words(text: str) -> set[str]:
    """The meaning-bearing morphemes of a text: nouns, stems, foreign words and numbers (casefolded)."""
    keep = {"NNG", "NNP", "SL", "SN", "SH", "XR", "VV", "VA", "NR"}
    return {t.low for t in tokens(text[:400]) if t.tag in keep or t.tag.startswith("VA") or t.tag.startswith("VV")}


def _named_option(said: str, options: list[dict]) -> tuple[int, str] | None:
    """Which option a paraphrase names: (index, 'sure') when it is an option's text, (index, 'likely') when
    its content words occur in one option only, None when it names none or several."""
    exact = _exact_option(said, options)
    if exact is not None:
        return exact, "sure"
    words = content_words(said)
    if not words:
        return None
    scores = []
    for i, o in enumerate(options):
        theirs = set()
        for name in (o.get("ko"), o.get("en")):
            if name:
                theirs |= content_words(name)
        scores.append(len(words & theirs))
    best = max(scores)
    if best == 0 or scores.count(best) > 1:
        return None
    return scores.index(best), "likely"


# ── a term: short answers and matching values ───────────────────────────────
@dataclass
class Term:
    text: str                   # the term as typed, frame dropped ("GPU를 씁니다" → "GPU 쓰"? no: see `clause`)
    forms: set                  # spellings to compare (normalised): as typed and with particles/endings dropped
    clause: bool = False        # what is left is not a noun phrase (a verb, a negation, a sentence)
    negated: bool = False


def reduce_term(text: str) -> Term:
    """A term with its frame dropped: '은닉층이요' → 은닉층, '은닉층들' → 은닉층, 'transformers의 pipeline' →
    transformers pipeline, '은닉층이라고 합니다' → 은닉층, '아마 은닉층' → 은닉층, 'GPU를 씁니다' → a clause.

    `forms` holds the normalised spellings (as typed, and reduced); `clause` says that what is left is
    not a noun phrase: it has a predicate, a negation or a case particle inside it."""
    raw = _norm(text)
    if not HANGUL.search(text):
        return Term(text.strip(), {raw} - {""})
    toks = list(tokens(text))
    # drop a leading "정답은 / 답:" and hedging adverbs
    while toks and (toks[0].low in ("정답", "답") or (is_particle(toks[0]) and toks[0].word == 0)
                    or toks[0].tag in ("SP",) or toks[0].low in HEDGE_ADVERBS):
        if toks[0].low in ("정답", "답") and len(toks) > 1 and not (is_particle(toks[1]) or toks[1].tag == "SP"):
            break
        toks.pop(0)
    # drop the tail: endings, copula, particles, plural 들, "…라고 합니다 / 부릅니다", "… 같아요", "…일 거예요"
    changed = True
    while toks and changed:
        changed = False
        last = toks[-1]
        if is_ending(last) or is_particle(last) or is_plural(last) or last.tag in ("SF", "SE"):
            toks.pop()
            changed = True
        elif (last.tag.startswith("V") or last.tag == "XSV") and (last.form in ("하", "부르", "말하", "생각하")
                                                                 or (last.form, last.tag) in HEDGE_PREDICATES) \
                and len(toks) >= 2 and (toks[-2].form in ("라고", "고", "이라고") or toks[-2].tag in ("EC", "ETM", "NNB", "NNG")
                                        or toks[-2].word < last.word):
            toks.pop()
            changed = True
        elif last.tag == "NNB" and last.form in ("것", "거", "듯") and len(toks) >= 2 and toks[-2].tag == "ETM":
            toks.pop()
            changed = True
        elif last.tag == "NNG" and last.form == "생각" and len(toks) >= 2:
            toks.pop()
            changed = True
    if not toks:
        return Term(text.strip(), {raw} - {""}, clause=True)
    negated = any(negation(t) or t.tag == "VCN" for t in toks)
    # a noun phrase: ends in a nominal; verbs only as modifiers (숨은 층); particles only inside a word
    # or the genitive 의 between words
    clause = negated or not (toks[-1].tag in NOMINAL or toks[-1].tag in ("SSC", "SW"))
    for k, t in enumerate(toks):
        nxt = toks[k + 1] if k + 1 < len(toks) else None
        if t.tag.startswith(("EF", "EC")):
            clause = True
        if t.tag.startswith("V") and t.tag != "VCP":
            after = toks[k + 1:k + 3]
            modifier = any(a.tag == "ETM" for a in after if a.word == t.word)      # 숨은 층, 맞는 말
            if not modifier:
                clause = True
        if is_particle(t) and t.tag not in ("JKG", "JC") and nxt is not None and nxt.word != t.word:
            clause = True
    kept = text[toks[0].start:toks[-1].end].strip() if toks else text.strip()
    # the same spelling without particles/endings inside ("transformers의 pipeline" → transformerspipeline)
    bare = "".join(t.form for t in toks if not (is_particle(t) or is_ending(t) or is_plural(t)))
    forms = {raw, _norm(kept), _norm(bare)} - {""}
    return Term(kept, forms, clause=clause, negated=negated)


def split_terms(text: str) -> list[str]:
    """'은닉층과 출력층' → ['은닉층', '출력층']: a conjunctive particle (와/과/랑/하고) between words joins two
    terms.  Texts without Hangul are returned whole."""
    if not HANGUL.search(text):
        return [text]
    toks = tokens(text)
    cuts = [t for t in toks if t.tag == "JC" and t.form not in ("나", "이나", "거나", "이거나", "든", "든지")]
    if not cuts:
        return [text]
    out, start = [], 0
    for c in cuts:
        out.append(text[start:c.start])
        start = c.end
    out.append(text[start:])
    return [p.strip() for p in out if p.strip()]


def noun_part(text: str) -> str:
    """The first run of nominal morphemes of a text ('GPU를 씁니다' → 'GPU'), for a message."""
    if not HANGUL.search(text):
        return text.strip()
    runs, run = [], []
    for t in tokens(text):
        if t.tag in NOMINAL and not is_plural(t):
            run.append(t)
        elif run:
            runs.append(text[run[0].start:run[-1].end])
            run = []
    if run:
        runs.append(text[run[0].start:run[-1].end])
    return " ".join(runs)


def _script(text: str) -> str:
    hangul, latin = bool(HANGUL.search(text)), bool(re.search(r"[A-Za-z]", text))
    return "mix" if hangul and latin else "ko" if hangul else "en" if latin else "other"


QUALIFIERS = {"옛", "구", "예전", "현", "현재", "지금", "前", "former", "formerly", "now", "old"}


def gloss_doubtful(main: str, gloss: str) -> bool:
    """Whether a bracketed gloss may be a second candidate rather than another spelling of the main
    term: it is in the same script ('은닉층(출력층)', 'Meta (옛 Facebook)') or it is a clause.  A gloss in
    the other script ('은닉층(hidden layer)', 'GPU(그래픽 처리 장치)') is the course's own style."""
    core = " ".join(w for w in gloss.split() if w.casefold() not in QUALIFIERS)
    if not core:
        return True
    if HANGUL.search(core) and reduce_term(core).clause:
        return True
    a, b = _script(main), _script(core)
    return a == b or "mix" in (a, b) or "other" in (a, b)


def sentence_term(text: str) -> str | None:
    """The one noun phrase of a short sentence that names a term: 'GPU를 씁니다' → GPU, '메타에서 만들었어요' →
    메타, 'pipeline 함수를 쓰면 돼요' → pipeline 함수.  None when there is a negation or not exactly one
    noun phrase ('GPU를 사용': GPU and 사용; '숨은 층' as Kiwi reads it)."""
    if not HANGUL.search(text):
        return None
    toks = tokens(text)
    if any((negation(t) or t.tag == "VCN") and not conjecture(toks, k) for k, t in enumerate(toks)):
        return None
    groups, current = [], []
    for k, t in enumerate(toks):
        nxt = toks[k + 1] if k + 1 < len(toks) else None
        predicate = nxt is not None and nxt.tag in ("XSV", "XSA") and nxt.start == t.end   # 사용+하다, 호출+하다
        joins = (t.tag in NOMINAL and not is_plural(t) and not predicate and t.form not in FRAME_NOUNS) or (
            current and t.tag in ("SSO", "SSC", "SF", "SO") and t.start == current[-1].end)
        if joins:
            current.append(t)
        elif current:
            groups.append(current)
            current = []
    if current:
        groups.append(current)
    if len(groups) != 1:
        return None
    group = groups[0]
    return text[group[0].start:group[-1].end].strip() or None
