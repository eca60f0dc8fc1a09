"""Type stubs for the compiled core (fastdicom/_core.pyx)."""
from typing import Any

import numpy as np
import numpy.typing as npt

RECORD_DTYPE: np.dtype[Any]
F_UNDEFINED: int
F_SEQUENCE: int
F_ITEM: int
F_ITEM_DELIM: int
F_SEQ_DELIM: int
F_ENCAPSULATED: int
F_FRAGMENT: int
F_OFFSET_TABLE: int
F_IMPLICIT: int
F_BIG_ENDIAN: int
F_VR_DICT: int
F_VR_UNKNOWN: int
F_UN_SEQUENCE: int
F_OUTSIDE: int
STOP_NONE: int
STOP_PIXELS: int
STOP_AFTER_TAG: int
STOP_GROUP: int

def dictionary_vr(tag: int) -> str: ...

class _FileTail:
    @property
    def size(self) -> int: ...

class Tokens:
    offset: int
    explicit_vr: bool
    little_endian: bool
    def __len__(self) -> int: ...
    @property
    def obj(self) -> Any: ...
    @property
    def tail(self) -> _FileTail | None: ...
    def is_outside(self, i: int) -> bool: ...
    def read_outside(self, i: int, out: Any = None, start: int = 0,
                     length: int | None = None) -> Any: ...
    @property
    def records(self) -> npt.NDArray[np.void]: ...
    @property
    def end_offset(self) -> int: ...
    @property
    def stop_reason(self) -> int: ...
    @property
    def root_explicit_vr(self) -> bool: ...
    @property
    def trailing(self) -> int: ...
    def tag(self, i: int) -> int: ...
    def vr(self, i: int) -> str: ...
    def flags(self, i: int) -> int: ...
    def next(self, i: int) -> int: ...
    def parent(self, i: int) -> int: ...
    def value(self, i: int) -> memoryview: ...
    def children(self, parent: int = -1) -> npt.NDArray[np.int32]: ...
    def find(self, tag: int, parent: int = -1) -> int: ...

def tokenize(
    obj: Any,
    offset: int = 0,
    *,
    implicit_vr: bool = False,
    little_endian: bool = True,
    stop_before_pixels: bool = False,
    stop_after_tag: int | None = None,
    only_group: int | None = None,
    max_depth: int = 64,
    detect_vr: bool = True,
    max_records: int = 0,
) -> Tokens: ...

def rle_decode_frame(data: Any, rows: int, cols: int, samples: int, bits_allocated: int,
                     error: Any = None, out: Any = None) -> npt.NDArray[Any]: ...
def encodings_at(tok: Tokens, ds_idx: int) -> list[str]: ...
def read_tokens(buf: Any, stop_before_pixels: bool = False, stop_after_tag: int | None = None,
                max_depth: int = 64) -> tuple[Tokens, Tokens, str, Any] | None: ...
def read_path_header(path: str, stop_before_pixels: bool, stop_after_tag: int | None,
                     only: frozenset[int] | None, max_depth: int) -> Any: ...
def new_file_dataset(cls: type, tokens: Tokens, meta_tokens: Tokens | None, preamble: bytes | None,
                     filename: str | None, transfer_syntax_uid: str | None, implicit_vr: bool,
                     little_endian: bool, deflated: bool, only: frozenset[int] | None) -> Any: ...
