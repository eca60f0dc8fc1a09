"""``PersonName``: the value of a PN element, with pydicom's semantics
(re-exported by :mod:`fastdicom.valuerep`)."""
from __future__ import annotations

from typing import Any, Iterator, Sequence

from fastdicom.charset import PN_DELIMS, decode_bytes, encode_string

__all__ = ["PersonName"]

_object_new = object.__new__


def _split_components(text: str) -> tuple[str, ...]:
    comps = text.split("=")
    while comps and not comps[-1]:
        comps.pop()
    return tuple(comps)


def _decode_personname(groups: Sequence[bytes], encodings: Sequence[str]) -> tuple[str, ...]:
    comps = [decode_bytes(g, encodings, PN_DELIMS) for g in groups]
    while comps and not comps[-1]:
        comps.pop()
    return tuple(comps)


def _encode_personname(components: Sequence[str], encodings: Sequence[str]) -> bytes:
    encoded = [b"^".join([encode_string(g, encodings) for g in comp.split("^")])
               for comp in components]
    while encoded and not encoded[-1]:
        encoded.pop()
    return b"=".join(encoded)


def _as_encodings(encodings: Any) -> tuple[str, ...] | None:
    if encodings is None:
        return None
    if isinstance(encodings, str):
        return (encodings,)
    return tuple(encodings)


_DEFAULT_ENCODINGS = ("iso8859",)


class PersonName:
    """A PN value: up to three component groups (alphabetic, ideographic,
    phonetic, separated by ``=``), each of up to five ``^``-separated
    components. Compares equal to its text; ``str()`` is the decoded name."""

    __slots__ = ("_original", "_pending", "_components", "encodings", "__weakref__")
    validation_mode = None

    def __new__(cls, *args: Any, **kwargs: Any):
        if args and args[0] is None:
            return None
        return super().__new__(cls)

    def __init__(self, val: "bytes | str | PersonName", encodings: Any = None,
                 original_string: bytes | None = None, validation_mode: int | None = None) -> None:
        self._pending = False  # original_string still to be made by encoding the text
        if isinstance(val, PersonName):
            encodings = val.encodings
            self._original = val.original_string
            self._components = tuple(str(val).split("="))
        elif isinstance(val, bytes):
            self._original = val
            self._components = None  # decoded on demand
        else:
            self._original = original_string
            self._components = _split_components(val)
        self.encodings = _as_encodings(encodings)

    @classmethod
    def _from_text(cls, text: str, encodings: tuple[str, ...]) -> "PersonName":
        """A name read from a file: the decoded ``text``; as in pydicom, its
        ``original_string`` is the text encoded again (made when first asked)."""
        self = _object_new(cls)
        self._original = None
        self._pending = True
        if "=" in text:
            comps = text.split("=")
            while comps and not comps[-1]:
                comps.pop()
            self._components = tuple(comps)
        else:
            self._components = (text,) if text else ()
        self.encodings = encodings
        return self

    @property
    def original_string(self) -> bytes | None:
        if self._pending:
            self._original = _encode_personname(self._components, self.encodings or _DEFAULT_ENCODINGS)
            self._pending = False
        return self._original

    @original_string.setter
    def original_string(self, value: bytes | None) -> None:
        self._original = value
        self._pending = False

    @property
    def components(self) -> tuple[str, ...]:
        """The decoded (alphabetic, ideographic, phonetic) groups present."""
        if self._components is None:
            self._components = _decode_personname(self._original.split(b"="),
                                                  self.encodings or _DEFAULT_ENCODINGS)
        return self._components

    def _name_part(self, i: int) -> str:
        try:
            return self.components[0].split("^")[i]
        except IndexError:
            return ""

    family_name = property(lambda self: self._name_part(0), doc="Family name (alphabetic group)")
    given_name = property(lambda self: self._name_part(1), doc="Given name (alphabetic group)")
    middle_name = property(lambda self: self._name_part(2), doc="Middle name (alphabetic group)")
    name_prefix = property(lambda self: self._name_part(3), doc="Name prefix (alphabetic group)")
    name_suffix = property(lambda self: self._name_part(4), doc="Name suffix (alphabetic group)")

    def _group(self, i: int) -> str:
        comps = self.components
        return comps[i] if i < len(comps) else ""

    alphabetic = property(lambda self: self._group(0), doc="The alphabetic group")
    ideographic = property(lambda self: self._group(1), doc="The ideographic group")
    phonetic = property(lambda self: self._group(2), doc="The phonetic group")

    def __eq__(self, other: Any) -> Any:
        return str(self) == other

    def __ne__(self, other: Any) -> Any:
        return not self == other

    def __str__(self) -> str:
        return "=".join(self.components)

    def __repr__(self) -> str:
        return repr("=".join(self.components))

    def __iter__(self) -> Iterator[str]:
        return iter(str(self))

    def __len__(self) -> int:
        return len(str(self))

    def __contains__(self, x: Any) -> bool:
        return x in str(self)

    def __hash__(self) -> int:
        return hash(self.components)

    def __bool__(self) -> bool:
        if self._pending:
            return bool(self._components)
        if not self._original:
            comps = self.components
            return bool(comps) and (len(comps) > 1 or bool(comps[0]))
        return True

    def decode(self, encodings: Any = None) -> "PersonName":
        """This name decoded with ``encodings`` (``self`` if they are unchanged)."""
        if encodings is None or _as_encodings(encodings) == self.encodings:
            return self
        original = self.original_string
        if original is None:
            original = self._original = _encode_personname(self.components,
                                                           self.encodings or _DEFAULT_ENCODINGS)
        return PersonName(original, encodings)

    def encode(self, encodings: Any = None) -> bytes:
        """The name encoded with ``encodings`` (default: its own; then the bytes read)."""
        encodings = _as_encodings(encodings) or self.encodings
        if encodings != self.encodings and self.encodings is not None:
            return _encode_personname(self.components, encodings)
        if self.original_string is None:
            self.original_string = _encode_personname(self.components, encodings or _DEFAULT_ENCODINGS)
        return self.original_string

    def family_comma_given(self) -> str:
        return f"{self.family_name}, {self.given_name}"

    def formatted(self, format_str: str) -> str:
        """``format_str % {family_name, given_name, middle_name, name_prefix,
        name_suffix, ideographic, phonetic}``."""
        names = ("family_name", "given_name", "middle_name", "name_prefix", "name_suffix",
                 "ideographic", "phonetic")
        return format_str % {n: getattr(self, n) for n in names}

    def __getstate__(self) -> dict:
        original = self.original_string
        return {"_original": original, "_pending": False, "_components": self._components,
                "encodings": self.encodings}

    def __setstate__(self, state: dict) -> None:
        for key, value in state.items():
            setattr(self, key, value)

    @staticmethod
    def _encode_component_groups(alphabetic: Sequence[Any], ideographic: Sequence[Any],
                                 phonetic: Sequence[Any], encodings: Any = None) -> bytes:
        encs = list(encodings) if encodings else list(_DEFAULT_ENCODINGS)
        comp_sep = encode_string("^", encs)
        group_sep = encode_string("=", encs)

        def standardize(val: Any) -> bytes:
            if isinstance(val, bytes):
                enc, dec = val, decode_bytes(val, encs, set())
            else:
                enc, dec = encode_string(val, encs), val
            for c in ("\\", "=", "^"):
                if c in dec:
                    raise ValueError(f"Strings may not contain the {c} character")
            return enc

        groups = [comp_sep.join([standardize(c) for c in g]).rstrip(comp_sep)
                  for g in (alphabetic, ideographic, phonetic)]
        return group_sep.join(groups).rstrip(group_sep)

    @classmethod
    def from_named_components(cls, family_name: Any = "", given_name: Any = "", middle_name: Any = "",
                              name_prefix: Any = "", name_suffix: Any = "",
                              family_name_ideographic: Any = "", given_name_ideographic: Any = "",
                              middle_name_ideographic: Any = "", name_prefix_ideographic: Any = "",
                              name_suffix_ideographic: Any = "", family_name_phonetic: Any = "",
                              given_name_phonetic: Any = "", middle_name_phonetic: Any = "",
                              name_prefix_phonetic: Any = "", name_suffix_phonetic: Any = "",
                              encodings: Any = None) -> "PersonName":
        """A name made of the named components of its three groups."""
        value = cls._encode_component_groups(
            [family_name, given_name, middle_name, name_prefix, name_suffix],
            [family_name_ideographic, given_name_ideographic, middle_name_ideographic,
             name_prefix_ideographic, name_suffix_ideographic],
            [family_name_phonetic, given_name_phonetic, middle_name_phonetic,
             name_prefix_phonetic, name_suffix_phonetic], encodings)
        return cls(value, encodings=encodings)

    @classmethod
    def from_named_components_veterinary(cls, responsible_party_name: Any = "", patient_name: Any = "",
                                         responsible_party_name_ideographic: Any = "",
                                         patient_name_ideographic: Any = "",
                                         responsible_party_name_phonetic: Any = "",
                                         patient_name_phonetic: Any = "",
                                         encodings: Any = None) -> "PersonName":
        """A veterinary name: responsible party, then patient, in each group."""
        value = cls._encode_component_groups(
            [responsible_party_name, patient_name],
            [responsible_party_name_ideographic, patient_name_ideographic],
            [responsible_party_name_phonetic, patient_name_phonetic], encodings)
        return cls(value, encodings=encodings)
