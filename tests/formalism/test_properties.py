"""Property-based tests: the parser never raises, and model -> text -> model is the identity."""
import string

from hypothesis import given, settings
from hypothesis import strategies as st

from vcr_core.formalism import Edge, Explanation, Node, catalogue, parse_text, to_text

TEXT = st.text(alphabet=st.characters(blacklist_categories=("Cs",), blacklist_characters="<>"), max_size=40)
IDS = st.from_regex(r"[A-Za-z][A-Za-z0-9_]{0,6}", fullmatch=True)
SCALARS = st.one_of(TEXT, st.integers(-10**6, 10**6), st.floats(allow_nan=False, allow_infinity=False, width=32))
VALUES = st.one_of(SCALARS, st.lists(st.one_of(TEXT, st.integers(-1000, 1000)), max_size=4))
ARGNAMES = st.from_regex(r"[a-z][a-z_]{0,10}", fullmatch=True).filter(lambda k: k not in ("id", "via", "confidence"))
PRIMS = st.sampled_from([p for p in catalogue() if p != "set_context"])


@settings(max_examples=300, deadline=None)
@given(st.text(max_size=400))
def test_parser_never_raises_on_arbitrary_text(text):
    result = parse_text(text)
    assert result.raw == text


@settings(max_examples=200, deadline=None)
@given(st.text(alphabet=string.printable + "µβ→", max_size=300))
def test_parser_never_raises_inside_tags(body):
    parse_text(f"<explain>\n{body}\n</explain>\n<dag>\n{body}\n</dag>")


@st.composite
def explanations(draw):
    ids = draw(st.lists(IDS, min_size=1, max_size=6, unique=True))
    nodes = [Node(id=i, action=draw(PRIMS), args=draw(st.dictionaries(ARGNAMES, VALUES, max_size=4)),
                  via=draw(st.one_of(st.none(), TEXT)), confidence=draw(st.one_of(st.none(), st.floats(0, 1))))
             for i in ids]
    edges = []
    for _ in range(draw(st.integers(0, 6))):
        a, b = draw(st.sampled_from(ids)), draw(st.sampled_from(ids))
        edges.append(Edge(source=a, target=b, relation=draw(st.sampled_from(["causal", "correlative"]))))
    answer = draw(st.one_of(st.none(), TEXT.map(str.strip).filter(bool)))
    return Explanation(context=draw(st.dictionaries(ARGNAMES, VALUES, max_size=3)), nodes=nodes, edges=edges,
                       answer=answer, has_context=True)


@settings(max_examples=300, deadline=None)
@given(explanations())
def test_model_text_model_is_identity(expl):
    again = parse_text(to_text(expl)).explanation
    assert again.model_dump() == expl.model_dump()
