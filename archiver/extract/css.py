"""A small CSS matcher over a per-page index, for the selectors of :mod:`archiver.extract.selectors`.

Why: on a 2-core machine each lxml XPath evaluation of a class selector costs about as much as
walking the whole subtree in Python, and extraction asks some 40 questions per page. One pass
over the article container builds an index (class token → elements, tag → elements, in document
order); each question is then answered from the index. Supported: type, ``.class``, ``#id``,
``[attr]``, ``[attr=v]``, ``[attr*=v]``, ``[attr^=v]``, ``[attr$=v]``, ``:not(.class)``, the
descendant and child combinators and selector groups; anything else falls back to lxml's
``cssselect``. Like ``cssselect``'s ``descendant-or-self``, the scope element itself can match.
"""

from __future__ import annotations

import re
from bisect import bisect_left, bisect_right
from dataclasses import dataclass
from functools import cache

from lxml import etree

from archiver.extract.dom import HtmlElement, classes, select, tag

_COMPOUND_RE = re.compile(
    r"""^(?P<tag>[a-zA-Z][a-zA-Z0-9-]*|\*)?(?P<rest>(?:[.#][\w-]+|\[[^\]]+\]|:not\(\.[\w-]+\))*)$""")
_PART_RE = re.compile(r"""[.#][\w-]+|\[[^\]]+\]|:not\(\.[\w-]+\)""")
_ATTR_RE = re.compile(r"""^\[\s*([\w:-]+)\s*(?:([*^$]?=)\s*(?:"([^"]*)"|'([^']*)'|([^\]\s]*)))?\s*\]$""")


@dataclass(frozen=True)
class Compound:
    """One compound selector (``div.adetail[itemprop=x]:not(.y)``)."""

    tag: str = ""
    classes: frozenset[str] = frozenset()
    not_classes: frozenset[str] = frozenset()
    id: str = ""
    attrs: tuple[tuple[str, str, str], ...] = ()  # (name, operator or "", value)

    def matches(self, element: HtmlElement, tokens: frozenset[str] | None = None,
                name: str | None = None) -> bool:
        """Whether ``element`` matches (``tokens``: its class tokens, ``name`` its tag, when the caller
        has them)."""
        if self.tag and (tag(element) if name is None else name) != self.tag:
            return False
        if self.classes or self.not_classes:
            if tokens is None:
                tokens = classes(element)
            if not self.classes <= tokens or self.not_classes & tokens:
                return False
        if self.id and element.get("id") != self.id:
            return False
        # a loop, not all() over a generator: this runs ~300 times a page, the generator cost more
        for attr, op, value in self.attrs:  # noqa: SIM110
            if not _attr_matches(element.get(attr), op, value):
                return False
        return True


@dataclass(frozen=True)
class Chain:
    """Compounds joined by combinators (``" "`` descendant, ``">"`` child), left to right."""

    compounds: tuple[Compound, ...]
    combinators: tuple[str, ...]


def _attr_matches(actual: str | None, op: str, value: str) -> bool:
    if actual is None:
        return False
    if not op:
        return True
    if op == "=":
        return actual == value
    if op == "*=":
        return bool(value) and value in actual
    if op == "^=":
        return bool(value) and actual.startswith(value)
    return bool(value) and actual.endswith(value)


@cache
def parse(query: str) -> tuple[Chain, ...] | None:
    """The selector group, or ``None`` when it uses syntax this matcher does not support."""
    chains = []
    for group in query.split(","):
        tokens = group.replace(">", " > ").split()
        compounds: list[Compound] = []
        combinators: list[str] = []
        pending = " "
        for token in tokens:
            if token == ">":
                pending = ">"
                continue
            compound = _compound(token)
            if compound is None:
                return None
            if compounds:
                combinators.append(pending)
            compounds.append(compound)
            pending = " "
        if not compounds:
            return None
        chains.append(Chain(tuple(compounds), tuple(combinators)))
    return tuple(chains)


def _compound(token: str) -> Compound | None:
    match = _COMPOUND_RE.match(token)
    if not match:
        return None
    name = (match.group("tag") or "").lower()
    found_classes, not_classes, attrs, ident = set(), set(), [], ""
    for part in _PART_RE.findall(match.group("rest")):
        if part.startswith("."):
            found_classes.add(part[1:])
        elif part.startswith("#"):
            ident = part[1:]
        elif part.startswith(":not("):
            not_classes.add(part[6:-1])
        else:
            attr = _ATTR_RE.match(part)
            if not attr:
                return None
            value = next((v for v in attr.group(3, 4, 5) if v is not None), "")
            attrs.append((attr.group(1), attr.group(2) or "", value))
    return Compound("" if name == "*" else name, frozenset(found_classes), frozenset(not_classes), ident,
                    tuple(attrs))


_NO_CLASSES: frozenset[str] = frozenset()
_ATTR_NAME_RE = re.compile(r"^[A-Za-z][A-Za-z0-9-]*$")


def select_each(root: HtmlElement, queries: tuple[str, ...]) -> list[list[HtmlElement]]:
    """``[select(root, query) for query in queries]``, in one walk when every query is one attribute
    test (``[id$=tdArticle]``, ``[itemtype*='schema.org/Article']``: a ladder a page without its
    container tries to the end): one XPath finds the elements that have any of the attributes, and
    each query is asked of those few."""
    compounds = _attribute_tests(queries)
    if compounds is None:
        return [select(root, query) for query in queries]
    having = [e for e in _having_any(tuple(sorted({c.attrs[0][0] for c in compounds})))(root)
              if isinstance(e, HtmlElement)]
    tests = [compound.attrs[0] for compound in compounds]  # each query is this one test alone
    return [[e for e in having if _attr_matches(e.get(name), op, value)] for name, op, value in tests]


@cache
def _attribute_tests(queries: tuple[str, ...]) -> tuple[Compound, ...] | None:
    found: list[Compound] = []
    for query in queries:
        chains = parse(query)
        if chains is None or len(chains) != 1 or len(chains[0].compounds) != 1:
            return None
        compound = chains[0].compounds[0]
        if compound != Compound(attrs=compound.attrs) or len(compound.attrs) != 1 \
                or not _ATTR_NAME_RE.match(compound.attrs[0][0]):
            return None
        found.append(compound)
    return tuple(found)


@cache
def _having_any(names: tuple[str, ...]) -> etree.XPath:
    return etree.XPath("descendant-or-self::*[" + " or ".join(f"@{name}" for name in names) + "]")


class Index:
    """Class token / tag → elements (document order) of one subtree, built in one pass; each
    element's preorder position and last descendant's position make "inside scope" a range test."""

    def __init__(self, root: HtmlElement) -> None:
        self.root = root
        self.elements: list[HtmlElement] = [e for e in root.iter() if isinstance(e, HtmlElement)]
        self.position: dict[HtmlElement, int] = {e: i for i, e in enumerate(self.elements)}
        self.tokens: dict[HtmlElement, frozenset[str]] = {}
        self.tags: dict[HtmlElement, str] = {}
        self.by_class: dict[str, list[int]] = {}
        self.by_tag: dict[str, list[int]] = {}
        tags, tokens_of, by_tag, by_class = self.tags, self.tokens, self.by_tag, self.by_class
        for i, element in enumerate(self.elements):  # tag() and classes() inlined: ~900 elements a page
            name = element.tag
            name = tags[element] = name.lower() if isinstance(name, str) else ""
            found = by_tag.get(name)
            if found is None:
                by_tag[name] = [i]
            else:
                found.append(i)
            value = element.get("class")
            tokens = tokens_of[element] = frozenset(value.split()) if value else _NO_CLASSES
            for token in tokens:
                found = by_class.get(token)
                if found is None:
                    by_class[token] = [i]
                else:
                    found.append(i)
        self.end = self._subtree_ends()
        #: attribute name → positions of the elements that have it (built on the first question)
        self.by_attr: dict[str, list[int]] = {}
        #: answers already given, by (scope, query): the ladders ask some questions more than once
        #: (the canonical URL, the date), and the tree does not change once indexed
        self._answers: dict[tuple[HtmlElement, str], tuple[HtmlElement, ...]] = {}

    def _subtree_ends(self) -> list[int]:
        """Position of each element's last descendant (itself when it has none)."""
        end = list(range(len(self.elements)))
        for i in range(len(self.elements) - 1, -1, -1):
            parent = self.elements[i].getparent()
            j = self.position.get(parent) if parent is not None else None
            if j is not None and end[i] > end[j]:
                end[j] = end[i]
        return end

    def select(self, scope: HtmlElement, query: str) -> list[HtmlElement]:
        """Elements of ``scope`` (itself included) matching ``query``, in document order."""
        key = (scope, query)
        answer = self._answers.get(key)
        if answer is None:
            answer = self._answers[key] = tuple(self._select(scope, query))
        return list(answer)

    def _select(self, scope: HtmlElement, query: str) -> list[HtmlElement]:
        chains = parse(query)
        first = self.position.get(scope)
        if chains is None or first is None:
            return select(scope, query)
        last = self.end[first]
        elements = self.elements
        if len(chains) == 1:  # candidates are in document order already, each once
            chain = chains[0]
            candidates, exact = self._candidates(chain.compounds[-1], first, last)
            if exact and len(chain.compounds) == 1:
                return [elements[i] for i in candidates]
            return [elements[i] for i in candidates if self._chain_matches(chain, elements[i], scope, exact)]
        found: set[int] = set()
        for chain in chains:
            candidates, exact = self._candidates(chain.compounds[-1], first, last)
            for i in candidates:
                if i not in found and self._chain_matches(chain, elements[i], scope, exact):
                    found.add(i)
        return [elements[i] for i in sorted(found)]

    def first(self, scope: HtmlElement, query: str) -> HtmlElement | None:
        found = self.select(scope, query)
        return found[0] if found else None

    def _candidates(self, compound: Compound, first: int, last: int) -> tuple[list[int], bool]:
        """Positions in ``first..last`` of elements that may match ``compound``, and whether they all
        do (``compound`` is the one class or the tag they were looked up by, nothing else)."""
        if compound.classes:
            positions = min((self.by_class.get(c, []) for c in compound.classes), key=len)
            exact = len(compound.classes) == 1 and _is_only(compound, "classes")
        elif compound.tag:
            positions = self.by_tag.get(compound.tag, [])
            exact = _is_only(compound, "tag")
        elif compound.attrs:  # ``[itemprop=x]``: the ladders ask several of one attribute
            positions, exact = self._with_attr(compound.attrs[0][0]), False
        else:
            return list(range(first, last + 1)), False
        return positions[bisect_left(positions, first):bisect_right(positions, last)], exact

    def _with_attr(self, name: str) -> list[int]:
        found = self.by_attr.get(name)
        if found is None:
            found = self.by_attr[name] = [i for i, e in enumerate(self.elements) if e.get(name) is not None]
        return found

    def _chain_matches(self, chain: Chain, element: HtmlElement, scope: HtmlElement,
                       exact: bool = False) -> bool:
        """Whether ``element`` matches ``chain`` within ``scope`` (``exact``: its last compound is
        known to match)."""
        last = chain.compounds[-1]
        if not exact and not last.matches(element, self.tokens.get(element), self.tags.get(element)):
            return False
        return _match_left(chain, len(chain.compounds) - 2, element, scope, self)


@cache
def _is_only(compound: Compound, part: str) -> bool:
    """Whether ``compound`` says nothing but its ``part`` (``tag`` or ``classes``)."""
    return compound == Compound(**{part: getattr(compound, part)})


def _match_left(chain: Chain, index: int, element: HtmlElement, scope: HtmlElement, index_of: Index) -> bool:
    """Whether compounds ``0..index`` match ancestors of ``element`` up to ``scope`` (inclusive);
    ``element`` is inside ``scope``, so every ancestor up to ``scope`` is too."""
    if index < 0:
        return True
    if element is scope:
        return False
    compound = chain.compounds[index]
    tokens, tags = index_of.tokens, index_of.tags
    parent = element.getparent()
    if chain.combinators[index] == ">":
        return (parent is not None and compound.matches(parent, tokens.get(parent), tags.get(parent))
                and _match_left(chain, index - 1, parent, scope, index_of))
    while parent is not None:
        if compound.matches(parent, tokens.get(parent), tags.get(parent)) and _match_left(
                chain, index - 1, parent, scope, index_of):
            return True
        if parent is scope:
            break
        parent = parent.getparent()
    return False
