"""Datasets over the element table.

A :class:`Dataset` is a view of one dataset (the top level, or one item of a
sequence) in a :class:`fastdicom.Tokens` table; nothing is decoded until asked.
"""
from __future__ import annotations

from typing import Any, Iterator, NamedTuple

from fastdicom import _core
from fastdicom.tag import Tag


class RawElement(NamedTuple):
    """An element as found in the data: tag, VR, declared length, value bytes
    (a ``Sequence`` for SQ), offset of its value, and its record index."""

    tag: Tag
    VR: str
    length: int
    value: Any
    value_offset: int
    index: int


class Dataset:
    """Read-only view of a dataset: top level (``parent=-1``) or one item."""

    def __init__(self, tokens: _core.Tokens, parent: int = -1, only: frozenset | None = None):
        self._tokens = tokens
        self._parent = parent
        kids = tokens.children(parent)
        if only is not None:
            tags = tokens.records["tag"]
            kids = [int(i) for i in kids if int(tags[i]) in only]
        self._kids = kids

    @property
    def tokens(self) -> _core.Tokens:
        return self._tokens

    def __len__(self) -> int:
        return len(self._kids)

    def __iter__(self) -> Iterator[Tag]:
        tags = self._tokens.records["tag"]
        for i in self._kids:
            yield Tag(int(tags[i]))

    def _index(self, tag: Any) -> int:
        t = int(Tag(tag))
        i = self._tokens.find(t, self._parent)
        if i < 0 or i not in self._kids:
            raise KeyError(Tag(t))
        return i

    def __contains__(self, tag: Any) -> bool:
        try:
            self._index(tag)
        except (KeyError, ValueError, TypeError, OverflowError):
            return False
        return True

    def raw_element(self, index: int) -> RawElement:
        tok = self._tokens
        rec = tok.records[index]
        vr = rec["vr"].decode("latin-1")
        if int(rec["flags"]) & _core.F_SEQUENCE:
            value: Any = [Dataset(tok, int(i)) for i in tok.children(index)]
        else:
            value = bytes(tok.value(index))
        return RawElement(Tag(int(rec["tag"])), vr, int(rec["raw_length"]), value,
                          int(rec["value_offset"]), index)

    def __getitem__(self, tag: Any) -> RawElement:
        return self.raw_element(self._index(tag))

    def elements(self) -> Iterator[RawElement]:
        for i in self._kids:
            yield self.raw_element(int(i))


class FileDataset(Dataset):
    """The top-level dataset of a file, with its file meta and encoding."""

    def __init__(self, tokens: _core.Tokens, *, meta_tokens: _core.Tokens | None, preamble: bytes | None,
                 filename: str | None, transfer_syntax_uid: str | None, implicit_vr: bool,
                 little_endian: bool,
                 deflated: bool = False, specific_tags: list[int] | None = None):
        only = None
        if specific_tags is not None:
            only = frozenset(specific_tags) | {0x00080005}
        super().__init__(tokens, -1, only)
        self.file_meta = Dataset(meta_tokens) if meta_tokens is not None else None
        self.preamble = preamble
        self.filename = filename
        self.transfer_syntax_uid = transfer_syntax_uid
        self.is_little_endian = little_endian
        # as in pydicom: the encoding the transfer syntax names (tokens.root_explicit_vr
        # tells what the data really used)
        self.is_implicit_VR = implicit_vr
        self.is_deflated = deflated
