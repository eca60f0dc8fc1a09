"""dcmread(path) of a file ending in its native pixel data: the value is left in
the file (read straight into ``pixel_array``'s array, or the file mapped on any
other use), and everything behaves as when the whole file is read."""
from __future__ import annotations

import io
import mmap
import os
import threading
import warnings

import numpy as np
import pydicom
import pytest
from corpus import CORPUS, corpus_id
from pydicom.encaps import encapsulate
from test_pixels_native import EXPLICIT_BE, EXPLICIT_LE, IMPLICIT_LE, make_file

import fastdicom
from fastdicom import _core, pixels
from fastdicom.errors import InvalidDicomError, TruncatedDataError

RLE = "1.2.840.10008.1.2.5"
ROWS, COLUMNS = 160, 256  # 80 KB a frame at 16 bits: longer than the reads of the header


def make_data(pixel_bytes, *, ts=EXPLICIT_LE, long_header=False, trailing=False, **kw):
    """A file (bytes) of ROWS x COLUMNS pixel data (test_pixels_native.make_file);
    ``long_header``: with a header longer than the first read; ``trailing``:
    with an element after the pixel data."""
    kw.setdefault("rows", ROWS)
    kw.setdefault("columns", COLUMNS)
    kw.setdefault("stored", 12)
    kw.setdefault("rep", 1)
    data = make_file(pixel_bytes, ts=ts, extra={"PatientName": "DOE^JANE"}, **kw)
    if not (long_header or trailing):
        return data
    ds = pydicom.dcmread(io.BytesIO(data))
    if long_header:
        ds.add_new(0x00091010, "LO", "P")
        ds.add_new(0x00091011, "UT", "x" * 20000)
    if trailing:
        ds.add_new(0xFFFCFFFC, "OB", b"\0" * 8)  # Data Set Trailing Padding
    buf = io.BytesIO()
    ds.save_as(buf, enforce_file_format=True, implicit_vr=ts == IMPLICIT_LE,
               little_endian=ts != EXPLICIT_BE)
    return buf.getvalue()


RNG = np.random.default_rng(7)

CASES = {
    # name: (stored dtype, count per frame and sample, make_data kwargs)
    "i16_stored12": ("<u2", dict()),
    "u16_stored12": ("<u2", dict(rep=0)),
    "u16": ("<u2", dict(stored=16, rep=0)),
    "u8_2frames": ("u1", dict(bits=8, stored=8, rep=0, frames=2)),
    "rgb8_planar1": ("u1", dict(bits=8, stored=8, rep=0, spp=3, planar=1)),
    "i32_stored20_3frames": ("<u4", dict(bits=32, stored=20, frames=3)),
    "float": ("<f4", dict(bits=32, keyword="FloatPixelData")),
    "one_bit": ("u1", dict(bits=1, stored=1, rep=0, frames=16)),
}


def case_file(tmp_path, name, ts=EXPLICIT_LE, **over):
    dtype, kw = CASES[name]
    kw = {**kw, **over}
    dt = np.dtype(dtype)
    count = kw.get("rows", ROWS) * kw.get("columns", COLUMNS) * kw.get("spp", 1) * \
        kw.get("frames", 1)
    if kw.get("bits") == 1:
        count = -(-count // 8)
    if dt.kind == "f":
        arr = RNG.standard_normal(count).astype(dt)
    else:  # random high bits: masking and sign extension matter
        arr = RNG.integers(0, 1 << (8 * dt.itemsize), count, dtype=np.uint64).astype(dt)
    if ts == EXPLICIT_BE:
        arr = arr.astype(dt.newbyteorder(">"))
    data = make_data(arr.tobytes(), ts=ts, **kw)
    path = tmp_path / f"{name}.dcm"
    path.write_bytes(data)
    return str(path), data


def reference(data):
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        return pydicom.dcmread(io.BytesIO(data))


def assert_lazy(ds):
    assert ds.tokens.tail is not None, "the pixel data value should be left in the file"


@pytest.mark.parametrize("ts", [EXPLICIT_LE, IMPLICIT_LE, EXPLICIT_BE])
@pytest.mark.parametrize("name", sorted(CASES))
def test_pixel_array_reads_the_value_into_the_array(tmp_path, name, ts):
    path, data = case_file(tmp_path, name, ts)
    ds = fastdicom.dcmread(path)
    assert_lazy(ds)
    ref = reference(data)
    arr = ds.pixel_array
    assert ds.tokens.tail is not None  # read into the array: nothing mapped
    theirs = ref.pixel_array
    assert arr.shape == theirs.shape and arr.dtype == theirs.dtype.newbyteorder("=")
    assert np.array_equal(arr, theirs)
    assert arr.flags.writeable and arr.flags.c_contiguous
    arr[...] = 0  # the array is the caller's: a second one is read again
    assert np.array_equal(pixels.pixel_array(ds), theirs)
    # the same as reading the bytes
    assert np.array_equal(fastdicom.dcmread(data).pixel_array, theirs)


@pytest.mark.parametrize("ts", [EXPLICIT_LE, IMPLICIT_LE, EXPLICIT_BE])
def test_dataset_behaves_as_read_whole(tmp_path, ts):
    path, data = case_file(tmp_path, "i16_stored12", ts)
    ds = fastdicom.dcmread(path)
    whole = fastdicom.dcmread(data)
    ref = reference(data)
    assert_lazy(ds)
    assert "PixelData" in ds and 0x7FE00010 in ds
    assert len(ds) == len(whole) == len(ref)
    assert [int(t) for t in ds.keys()] == [int(t) for t in ref.keys()]
    assert dir(ds) == dir(whole)
    elem = ds["PixelData"]
    assert elem.VR == ref["PixelData"].VR
    assert ds.PatientName == "DOE^JANE" and ds.Rows == ROWS
    assert ds.tokens.tail is not None  # none of that needed the value
    assert str(ds) == str(whole)
    assert ds.to_json_dict(bulk_data_threshold=10, bulk_data_element_handler=lambda e: "x") == \
        whole.to_json_dict(bulk_data_threshold=10, bulk_data_element_handler=lambda e: "x")
    # the value: the file is mapped, once
    assert bytes(ds.PixelData) == ref.PixelData
    assert ds.tokens.tail is None and isinstance(ds.tokens.obj, mmap.mmap)
    assert bytes(ds["PixelData"].raw_bytes) == ref.PixelData
    assert np.array_equal(ds.pixel_array, ref.pixel_array)  # now from the mapping


@pytest.mark.parametrize("ts", [EXPLICIT_LE, EXPLICIT_BE])
def test_writing_back(tmp_path, ts):
    path, data = case_file(tmp_path, "u16_stored12", ts)
    ds = fastdicom.dcmread(path)
    assert_lazy(ds)
    ds.PatientName = "ROE^RICHARD"
    whole = fastdicom.dcmread(data)
    whole.PatientName = "ROE^RICHARD"
    out, expect = io.BytesIO(), io.BytesIO()
    ds.save_as(out)
    whole.save_as(expect)
    assert out.getvalue() == expect.getvalue()
    back = pydicom.dcmread(io.BytesIO(out.getvalue()))
    assert back.PatientName == "ROE^RICHARD"
    assert back.PixelData == reference(data).PixelData
    # to a path, unchanged: the file's bytes
    ds = fastdicom.dcmread(path)
    ds.save_as(tmp_path / "copy.dcm")
    assert (tmp_path / "copy.dcm").read_bytes() == data


def test_frames_views_and_info(tmp_path):
    path, data = case_file(tmp_path, "i32_stored20_3frames", rep=0, stored=32)
    ds = fastdicom.dcmread(path)
    assert_lazy(ds)
    whole = fastdicom.dcmread(data).pixel_array
    assert pixels.number_of_frames(ds) == 3
    assert np.array_equal(pixels.frame(ds, 1), whole[1])
    assert np.array_equal(np.stack(list(pixels.iter_frames(ds))), whole)
    view = pixels.native_view(ds)  # maps the file on demand
    assert not view.flags.writeable and np.array_equal(view, whole)
    assert isinstance(ds.tokens.obj, mmap.mmap)


def test_long_header_is_read_in_a_second_read(tmp_path):
    path, data = case_file(tmp_path, "i16_stored12", long_header=True)
    ds = fastdicom.dcmread(path)
    assert_lazy(ds)
    assert ds[0x00091011].value == "x" * 20000
    assert np.array_equal(ds.pixel_array, reference(data).pixel_array)


def test_file_shortened_after_reading(tmp_path):
    path, data = case_file(tmp_path, "i16_stored12")
    ds = fastdicom.dcmread(path)
    other = fastdicom.dcmread(path)
    assert_lazy(ds)
    os.truncate(path, len(data) - 100)
    with pytest.raises(TruncatedDataError):
        ds.pixel_array
    with pytest.raises(TruncatedDataError):  # mapping the file: the same check
        ds.PixelData
    with pytest.raises(TruncatedDataError):
        other["PixelData"].raw_bytes
    assert other.PatientName == "DOE^JANE"  # the header was read before
    os.truncate(path, 0)
    with pytest.raises(TruncatedDataError):
        other.pixel_array
    with open(path, "wb") as f:  # back, longer: the values at their offsets
        f.write(data + b"\0" * 10)
    assert np.array_equal(ds.pixel_array, reference(data).pixel_array)
    assert bytes(other.PixelData) == reference(data).PixelData


def test_file_removed_after_reading(tmp_path):
    path, data = case_file(tmp_path, "u16")
    ds = fastdicom.dcmread(path)
    mapped = fastdicom.dcmread(path)
    assert_lazy(ds)
    os.remove(path)  # the file stays open: its data is still there
    assert np.array_equal(ds.pixel_array, reference(data).pixel_array)
    assert bytes(mapped.PixelData) == reference(data).PixelData


def test_threads_share_a_lazy_dataset(tmp_path):
    path, data = case_file(tmp_path, "i16_stored12")
    expect = reference(data).pixel_array
    raw = reference(data).PixelData
    for _ in range(5):
        ds = fastdicom.dcmread(path)
        errors = []

        def work(k):
            try:
                for _ in range(4):
                    if k % 3 == 2:
                        assert bytes(ds.PixelData) == raw
                    else:
                        assert np.array_equal(ds.pixel_array, expect)
            except Exception as exc:  # noqa: BLE001 - reported below
                errors.append(exc)

        threads = [threading.Thread(target=work, args=(k,)) for k in range(6)]
        for t in threads:
            t.start()
        for t in threads:
            t.join()
        assert not errors, errors


# -- files that keep the general path -----------------------------------------------------
def test_element_after_the_pixel_data_maps_the_file(tmp_path):
    data = make_data(np.arange(ROWS * COLUMNS, dtype="<u2").tobytes(), stored=16, rep=0,
                     trailing=True)
    path = tmp_path / "trailing.dcm"
    path.write_bytes(data)
    ours = fastdicom.dcmread(path)
    assert ours.tokens.tail is None and isinstance(ours.tokens.obj, mmap.mmap)
    assert 0xFFFCFFFC in ours
    assert np.array_equal(ours.pixel_array, reference(data).pixel_array)
    # a few bytes after the value (too short to be an element): mapped too
    path.write_bytes(make_data(b"\1\0" * (ROWS * COLUMNS), stored=16, rep=0) + b"\0\0")
    ours = fastdicom.dcmread(path)
    assert ours.tokens.tail is None
    assert np.array_equal(ours.pixel_array, np.ones((ROWS, COLUMNS), np.uint16))


def test_encapsulated_pixel_data_maps_the_file(tmp_path):
    frames = [bytes([k]) * 70000 for k in range(2)]  # not decoded here: only the element
    data = make_data(encapsulate(frames), ts=RLE, bits=8, stored=8, rep=0, frames=2, vr="OB")
    path = tmp_path / "encapsulated.dcm"
    path.write_bytes(data)
    ours = fastdicom.dcmread(path)   # smaller than _core.SPARSE_FROM: mapped
    assert ours.tokens.tail is None and isinstance(ours.tokens.obj, mmap.mmap)
    assert [bytes(f) for f in pixels.encapsulated_frames(ours)] == frames


def _rss_kb():
    with open("/proc/self/status") as f:
        return next(int(line.split()[1]) for line in f if line.startswith("VmRSS"))


def _big_encapsulated(tmp_path, *, trailing=False, n=300, size=20_000):
    rng = np.random.default_rng(n)
    frames = [rng.bytes(size) for _ in range(n)]
    data = make_data(encapsulate(frames), ts=RLE, bits=8, stored=8, rep=0, frames=n, vr="OB",
                     trailing=trailing)
    path = tmp_path / f"big{int(trailing)}.dcm"
    path.write_bytes(data)
    return path, data, frames


@pytest.mark.parametrize("trailing", [False, True])
def test_large_compressed_file_is_opened_without_mapping_its_frames(tmp_path, trailing):
    """Its item headers are read one by one and tokenized as the whole file
    would be; the tokens keep the start of the file, the rest stays in it:
    same records (but for the flag), same values and frames, elements after
    the pixel data included, and the memory of a few frames."""
    path, data, frames = _big_encapsulated(tmp_path, trailing=trailing)
    assert len(data) > _core.SPARSE_FROM
    ours, whole = fastdicom.dcmread(path), fastdicom.dcmread(data)
    assert ours.tokens.tail is not None
    a, b = ours.tokens.records.copy(), whole.tokens.records
    a["flags"] &= np.uint16(0xFFFF & ~_core.F_OUTSIDE)
    assert np.array_equal(a, b) and str(ours) == str(whole)
    for i in (0, 1, 150, 299):
        assert bytes(pixels.encapsulated_frame(fastdicom.dcmread(path), i)) == frames[i]
    assert [bytes(f) for f in pixels.encapsulated_frames(ours)] == frames
    assert bytes(ours.PixelData) == bytes(whole.PixelData)
    if trailing:
        assert ours[0xFFFCFFFC].value == whole[0xFFFCFFFC].value
    before = _rss_kb()
    held = [fastdicom.dcmread(path) for _ in range(4)]
    assert _rss_kb() - before < 4_000 and all(h.tokens.tail is not None for h in held)


@pytest.mark.parametrize("cut", ["length", "tag", "truncated"])
def test_large_compressed_file_with_bad_items_reads_as_the_whole_file(tmp_path, cut):
    path, data, _frames = _big_encapsulated(tmp_path)
    data = bytearray(data)
    at = data.index(b"\xfe\xff\x00\xe0", data.index(b"\xe0\x7f\x10\x00") + 12 + 8 + 1200)
    if cut == "length":
        data[at + 4:at + 8] = (1 << 31).to_bytes(4, "little")
    elif cut == "tag":
        data[at:at + 4] = b"\x10\x00\x10\x00"
    else:
        del data[-30_000:]
    path.write_bytes(bytes(data))

    def outcome(src):
        try:
            ds = fastdicom.dcmread(src)
            return ("ok", str(ds), [bytes(f) for f in pixels.encapsulated_frames(ds)])
        except Exception as exc:  # noqa: BLE001 - compared, not hidden
            return ("error", type(exc))

    assert outcome(path) == outcome(bytes(data))


def test_a_length_past_the_end_of_the_file_is_not_trusted(tmp_path):
    pix = b"\1\0" * (ROWS * COLUMNS)
    data = make_data(pix, stored=16, rep=0)
    at = data.rindex(b"\xe0\x7f\x10\x00OW\x00\x00") + 8
    assert int.from_bytes(data[at:at + 4], "little") == len(pix)
    for length in (len(pix) + 2, len(pix) + 1000000, 0xFFFFFFFE):
        bad = data[:at] + length.to_bytes(4, "little") + data[at + 4:]
        path = tmp_path / "bad.dcm"
        path.write_bytes(bad)
        with pytest.raises(InvalidDicomError) as ours:
            fastdicom.dcmread(path)
        with pytest.raises(InvalidDicomError) as from_bytes:
            fastdicom.dcmread(bad)
        assert type(ours.value) is type(from_bytes.value)
    # shorter than the rest of the file: the bytes after it are an element
    bad = data[:at] + (len(pix) - 8).to_bytes(4, "little") + data[at + 4:]
    path.write_bytes(bad)
    try:
        whole = fastdicom.dcmread(bad)
    except InvalidDicomError as exc:
        with pytest.raises(type(exc)):
            fastdicom.dcmread(path)
    else:
        ours = fastdicom.dcmread(path)
        assert ours.tokens.tail is None and len(ours) == len(whole)


def test_small_files_are_read_whole_and_header_reads_unchanged(tmp_path):
    data = make_data(b"\1\0" * 64, stored=16, rep=0, rows=8, columns=8)
    path = tmp_path / "small.dcm"
    path.write_bytes(data)
    ds = fastdicom.dcmread(path)
    assert isinstance(ds.tokens.obj, bytes) and ds.tokens.tail is None
    assert ds.pixel_array.tolist() == reference(data).pixel_array.tolist()
    big, data = case_file(tmp_path, "u16")
    head = fastdicom.dcmread(big, stop_before_pixels=True)
    assert "PixelData" not in head and head.tokens.tail is None
    some = fastdicom.dcmread(big, specific_tags=["PatientName"])
    assert some.PatientName == "DOE^JANE" and some.tokens.tail is None
    assert _core.read_path_header(big, False, None, None, 64).tokens.tail is not None


# -- the corpus: by path as from its bytes ------------------------------------------------
def _outcome(read):
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        try:
            return read(), None
        except Exception as exc:  # noqa: BLE001 - compared below
            return None, type(exc)


@pytest.mark.parametrize("path", [p for p in CORPUS if os.path.getsize(p) > 65536],
                         ids=corpus_id)
def test_corpus_by_path_as_from_bytes(path):
    """Files longer than the reads of the header: the same table (but for the
    flag of a value left in the file), values, dump and pixels."""
    with open(path, "rb") as f:
        data = f.read()
    ours, err = _outcome(lambda: fastdicom.dcmread(path, force=True))
    whole, err_whole = _outcome(lambda: fastdicom.dcmread(data, force=True))
    assert err == err_whole
    if ours is None:
        return
    a, b = ours.tokens.records.copy(), whole.tokens.records
    a["flags"] &= np.uint16(0xFFFF & ~_core.F_OUTSIDE)
    assert np.array_equal(a, b)
    assert str(ours) == str(whole)
    arr, err = _outcome(lambda: pixels.pixel_array(ours))
    arr_whole, err_whole = _outcome(lambda: pixels.pixel_array(whole))
    assert err == err_whole
    if arr is not None:
        assert arr.dtype == arr_whole.dtype and np.array_equal(arr, arr_whole, equal_nan=True)
    elem = ours.get(0x7FE00010)
    if elem is not None:
        assert bytes(elem.raw_bytes) == bytes(whole[0x7FE00010].raw_bytes)


def test_one_frame_reads_only_that_frame(tmp_path):
    path, data = case_file(tmp_path, "u8_2frames")
    whole = fastdicom.dcmread(data).pixel_array
    ds = fastdicom.dcmread(path)
    for i in (0, 1, -1, -2):
        assert np.array_equal(pixels.frame(ds, i), whole[i])
    with pytest.raises(IndexError):
        pixels.frame(ds, 2)
    assert ds.tokens.tail is not None  # nothing mapped
    one = ds.tokens.read_outside(ds["PixelData"]._index, start=5, length=3)
    assert one.tobytes() == reference(data).PixelData[5:8]
    with pytest.raises(ValueError):
        ds.tokens.read_outside(ds["PixelData"]._index, start=1, length=len(whole.tobytes()))
    # 1-bit frames that do not start on a byte, pairs of bytes swapped: mapped
    path, data = case_file(tmp_path, "one_bit", rows=ROWS + 1, columns=COLUMNS + 1)
    ds = fastdicom.dcmread(path)
    assert ds.tokens.tail is not None
    assert np.array_equal(pixels.frame(ds, 1), reference(data).pixel_array[1])
    assert ds.tokens.tail is None
    path, data = case_file(tmp_path, "u8_2frames", ts=EXPLICIT_BE)
    ds = fastdicom.dcmread(path)
    assert ds["PixelData"].VR == "OB"
    assert np.array_equal(pixels.frame(ds, 1), reference(data).pixel_array[1])
    path, data = case_file(tmp_path, "u8_2frames", ts=EXPLICIT_BE, vr="OW")  # pairs swapped
    ds = fastdicom.dcmread(path)
    assert ds["PixelData"].VR == "OW" and ds.tokens.tail is not None
    assert np.array_equal(pixels.frame(ds, 1), reference(data).pixel_array[1])
    assert np.array_equal(pixels.pixel_array(ds), reference(data).pixel_array)


def test_mutated_headers_by_path_as_from_bytes(tmp_path):
    """Random bytes of the header changed: reading the path (the start, then
    maybe the value on demand) and the bytes agree: the same error, or the same
    table, dump and pixels."""
    _, data = case_file(tmp_path, "i16_stored12")
    pixel_at = data.rindex(b"\xe0\x7f\x10\x00")
    rng = np.random.default_rng(11)
    path = tmp_path / "mutated.dcm"
    for k in range(150):
        bad = bytearray(data)
        for at in rng.integers(132, pixel_at + 12, rng.integers(1, 4)):
            bad[at] = int(rng.integers(0, 256))
        bad = bytes(bad)
        path.write_bytes(bad)
        ours, err = _outcome(lambda: fastdicom.dcmread(str(path), force=True))
        whole, err_whole = _outcome(lambda: fastdicom.dcmread(bad, force=True))
        assert err == err_whole, k
        if ours is None:
            continue
        a, b = ours.tokens.records.copy(), whole.tokens.records
        a["flags"] &= np.uint16(0xFFFF & ~_core.F_OUTSIDE)
        assert np.array_equal(a, b), k
        arr, err = _outcome(lambda: pixels.pixel_array(ours))
        arr_whole, err_whole = _outcome(lambda: pixels.pixel_array(whole))
        assert err == err_whole, k
        if arr is not None:
            assert np.array_equal(arr, arr_whole), k
        assert str(ours) == str(whole), k


def _pixels_and_warnings(read):
    """(array or exception type, warning messages) of ``read().pixel_array``."""
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        try:
            result = read().pixel_array
        except Exception as exc:  # noqa: BLE001 - compared, not hidden
            result = type(exc)
    return result, sorted(str(w.message) for w in caught)


@pytest.mark.parametrize("case", ["float_bits16", "even_plus_padding", "odd_plus_padding",
                                  "extra_frame_bytes", "exact"])
def test_read_straight_into_the_array_only_where_it_equals_the_general_path(tmp_path, case):
    """Where the direct read declines (Bits Allocated not the dtype's, a length
    that is not exactly the expected one), the file path gives what the bytes
    path gives: same array or error, same warnings."""
    rng = np.random.default_rng(3)
    if case == "float_bits16":
        data = make_file(bytes(ROWS * COLUMNS * 2), bits=16, keyword="FloatPixelData",
                         vr="OF", rows=ROWS, columns=COLUMNS)
    elif case == "even_plus_padding":   # 90,000 bytes expected, 90,001 stored (+ pad)
        data = make_file(rng.bytes(90_001), bits=8, stored=8, rows=300, columns=300)
    elif case == "odd_plus_padding":    # 90,601 bytes expected, stored with its pad byte
        data = make_file(rng.bytes(90_602), bits=8, stored=8, rows=301, columns=301)
    elif case == "extra_frame_bytes":   # two whole frames where one is declared
        data = make_file(rng.bytes(180_000), bits=8, stored=8, rows=300, columns=300, frames=1)
    else:
        data = make_file(rng.bytes(180_000), bits=16, stored=12, rep=1, rows=300, columns=300)
    path = tmp_path / "f.dcm"
    path.write_bytes(data)
    assert_lazy(fastdicom.dcmread(path))
    by_path = _pixels_and_warnings(lambda: fastdicom.dcmread(path))
    by_bytes = _pixels_and_warnings(lambda: fastdicom.dcmread(io.BytesIO(data)))
    if isinstance(by_bytes[0], np.ndarray):
        assert isinstance(by_path[0], np.ndarray) and by_path[0].dtype == by_bytes[0].dtype
        assert np.array_equal(by_path[0], by_bytes[0])
    else:
        assert by_path[0] is by_bytes[0]
    assert by_path[1] == by_bytes[1]
