import json
import os
import pickle
import struct
import zlib

import numpy as np
import pytest

from fastw2v import native


@pytest.fixture
def arrays(rng):
    return {
        "vectors": rng.normal(size=(5, 3)).astype(np.float32),
        "counts": np.arange(5, dtype=np.int64),
        "mask": np.array([True, False, True]),
        "big_endian": np.arange(4, dtype=">i4"),
        "strided": np.arange(20, dtype=np.float64).reshape(4, 5)[:, ::2],
        "complex": np.array([1 + 2j], np.complex64),
        "empty": np.zeros((0, 7), np.uint16),
        "scalar": np.array(2.5),
    }


META = {"config": {"vector_size": 3, "alpha": 0.025, "name": "é"}, "epochs": [1, 2],
        "none": None}


def header_of(path):
    data = open(path, "rb").read()
    n = struct.unpack_from("<Q", data, 16)[0]
    return json.loads(data[32:32 + n])


def rewrite_header(path, header):
    """Replace the JSON header (same length, valid CRC): a crafted file."""
    data = bytearray(open(path, "rb").read())
    n = struct.unpack_from("<Q", data, 16)[0]
    text = json.dumps(header, separators=(",", ":")).encode()
    assert len(text) <= n
    text = text + b" " * (n - len(text))
    data[32:32 + n] = text
    struct.pack_into("<I", data, 24, zlib.crc32(text))
    open(path, "wb").write(bytes(data))


def test_save_arrays_round_trip_in_memory(tmp_path, arrays):
    path = tmp_path / "a.fw2v"
    native.save_arrays(path, arrays, META, kind="test")
    loaded, meta = native.load_arrays(path, kind="test")
    assert meta == META
    assert list(loaded) == list(arrays)
    for name, a in arrays.items():
        assert loaded[name].shape == a.shape
        assert loaded[name].dtype == a.dtype.newbyteorder("<")
        np.testing.assert_array_equal(loaded[name], a)
        assert loaded[name].flags.writeable


@pytest.mark.parametrize("mode", ["r", "c"])
def test_load_arrays_memory_maps(tmp_path, arrays, mode):
    path = tmp_path / "a.fw2v"
    native.save_arrays(path, arrays, META, kind="test")
    loaded, _ = native.load_arrays(path, mmap=mode)
    v = loaded["vectors"]
    assert isinstance(v, np.memmap)
    np.testing.assert_array_equal(v, arrays["vectors"])
    assert v.flags.writeable == (mode == "c")
    if mode == "c":
        v[0, 0] = 99                     # copy-on-write: the file does not change
        np.testing.assert_array_equal(native.load_arrays(path)[0]["vectors"],
                                      arrays["vectors"])


def test_layout_is_aligned_npy_records(tmp_path, arrays):
    path = tmp_path / "a.fw2v"
    native.save_arrays(path, arrays, META, kind="test")
    raw = open(path, "rb").read()
    assert raw.startswith(native.MAGIC)
    header = header_of(path)
    for name, e in header["arrays"].items():
        assert e["offset"] % 64 == 0 and e["npy_offset"] % 64 == 0
        with open(path, "rb") as f:          # each array reads back with plain numpy
            f.seek(e["npy_offset"])
            np.testing.assert_array_equal(np.load(f, allow_pickle=False), arrays[name])
        mapped = np.memmap(path, dtype=e["dtype"], mode="r", offset=e["offset"],
                           shape=tuple(e["shape"])) if e["nbytes"] else None
        if mapped is not None:
            np.testing.assert_array_equal(mapped, arrays[name])


def test_save_arrays_refuses_object_string_and_bad_meta(tmp_path):
    path = tmp_path / "a.fw2v"
    for bad in (np.array(["a", "b"]), np.array([{}, 1], dtype=object),
                np.zeros(2, dtype=[("x", "f4")]), np.array(["2020-01-01"], "M8[D]")):
        with pytest.raises(TypeError, match="only bool and numeric"):
            native.save_arrays(path, {"x": bad}, {}, kind="test")
    with pytest.raises(TypeError, match="JSON-serialisable"):
        native.save_arrays(path, {}, {"f": object()}, kind="test")
    with pytest.raises(TypeError, match="JSON-serialisable"):
        native.save_arrays(path, {}, {"x": float("nan")}, kind="test")
    with pytest.raises(ValueError, match="round trip"):
        native.save_arrays(path, {}, {"t": (1, 2)}, kind="test")
    with pytest.raises(ValueError, match="round trip"):
        native.save_arrays(path, {}, {"d": {1: "a"}}, kind="test")
    with pytest.raises(TypeError, match="kind"):
        native.save_arrays(path, {}, {}, kind="")
    assert not os.path.exists(path)


def test_load_arrays_wrong_kind_names_the_loader(tmp_path, arrays):
    path = tmp_path / "m.fw2v"
    native.save_arrays(path, arrays, {}, kind="word2vec")
    with pytest.raises(ValueError, match=r"holds a 'word2vec' file, not 'keyedvectors'.*"
                                         r"Word2Vec.load"):
        native.load_arrays(path, kind="keyedvectors")


def test_load_arrays_not_a_fastw2v_file(tmp_path):
    path = tmp_path / "x"
    path.write_bytes(b"hello world, not ours" * 3)
    with pytest.raises(ValueError, match="not a fastw2v file"):
        native.load_arrays(path)
    path.write_bytes(b"")
    with pytest.raises(ValueError, match="not a fastw2v file"):
        native.load_arrays(path)
    path.write_bytes(b"3 2\nw 1 2\n")
    with pytest.raises(ValueError, match="load_word2vec_format"):
        native.load_arrays(path)


class _Evil:
    def __reduce__(self):
        return (os.system, ("touch PWNED",))


def test_pickle_payload_is_never_unpickled(tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    path = tmp_path / "evil.model"
    path.write_bytes(pickle.dumps(_Evil()))
    with pytest.raises(ValueError, match="looks like a pickle.*never loads"):
        native.load_arrays(path)
    assert not (tmp_path / "PWNED").exists()
    # the same payload behind our magic, in place of the header: rejected, not run
    payload = pickle.dumps(_Evil())
    path.write_bytes(struct.pack("<12sIQII", native.MAGIC, 1, len(payload),
                                 zlib.crc32(payload), 0) + payload)
    with pytest.raises(ValueError, match="not valid JSON"):
        native.load_arrays(path)
    assert not (tmp_path / "PWNED").exists()


def test_crafted_offsets_past_eof_fail_before_allocating(tmp_path, arrays):
    path = tmp_path / "a.fw2v"
    native.save_arrays(path, arrays, {}, kind="test")
    header = header_of(path)
    e = header["arrays"]["vectors"]
    huge = 10 ** 12                                  # 4 TB of float32: never allocated
    header["arrays"] = {"vectors": {**e, "shape": [huge, 1], "nbytes": 4 * huge}}
    rewrite_header(path, header)
    with pytest.raises(ValueError, match=r"array 'vectors'.*extends past the end of the file"):
        native.load_arrays(path)
    header["arrays"] = {"vectors": {**e, "offset": e["offset"] + 64 * 10 ** 9}}
    rewrite_header(path, header)
    with pytest.raises(ValueError, match="outside the data section"):
        native.load_arrays(path)


@pytest.mark.parametrize("change, message", [
    ({"dtype": "|O"}, "not a bool or numeric dtype"),
    ({"dtype": "<U3"}, "not a bool or numeric dtype"),
    ({"shape": [-1, 3]}, "non-negative ints"),
    ({"shape": "5,3"}, "non-negative ints"),
    ({"nbytes": 4}, "header says 4"),
    ({"offset": 1}, "not a multiple of 64"),
])
def test_crafted_array_entries_are_rejected(tmp_path, arrays, change, message):
    path = tmp_path / "a.fw2v"
    native.save_arrays(path, arrays, {}, kind="test")
    header = header_of(path)
    header["arrays"]["vectors"].update(change)
    rewrite_header(path, header)
    with pytest.raises(ValueError, match=message):
        native.load_arrays(path)


def test_overlapping_or_inconsistent_npy_record_is_rejected(tmp_path, arrays):
    path = tmp_path / "a.fw2v"
    native.save_arrays(path, arrays, {}, kind="test")
    header = header_of(path)
    first, second = header["arrays"]["vectors"], header["arrays"]["counts"]
    header["arrays"]["counts"] = {**second, "npy_offset": first["npy_offset"],
                                  "offset": first["offset"]}
    rewrite_header(path, header)
    with pytest.raises(ValueError, match="overlaps"):
        native.load_arrays(path)
    header["arrays"] = {"vectors": {**first, "shape": [3, 5]}}   # same bytes, other shape
    rewrite_header(path, header)
    with pytest.raises(ValueError, match=r"\.npy record of array 'vectors'"):
        native.load_arrays(path)


def test_truncated_file_says_where(tmp_path, arrays):
    path = tmp_path / "a.fw2v"
    native.save_arrays(path, arrays, {}, kind="test")
    data = open(path, "rb").read()
    for cut in (20, 40, len(data) - 100):
        path.write_bytes(data[:cut])
        with pytest.raises(ValueError, match="truncated"):
            native.load_arrays(path)


def test_corrupt_header_and_data_fail_their_checksums(tmp_path, arrays):
    path = tmp_path / "a.fw2v"
    native.save_arrays(path, arrays, {}, kind="test")
    good = open(path, "rb").read()
    bad = bytearray(good)
    bad[40] ^= 0x01                                   # a bit flip in the JSON header
    path.write_bytes(bytes(bad))
    with pytest.raises(ValueError, match="header .*CRC-32"):
        native.load_arrays(path)
    bad = bytearray(good)
    bad[header_of_bytes(good)["arrays"]["vectors"]["offset"]] ^= 0x01   # in the data
    path.write_bytes(bytes(bad))
    with pytest.raises(ValueError, match="array 'vectors'.*CRC-32"):
        native.load_arrays(path)
    bad = bytearray(good)
    struct.pack_into("<I", bad, 12, 99)              # from the future
    path.write_bytes(bytes(bad))
    with pytest.raises(ValueError, match="version 99.*upgrade"):
        native.load_arrays(path)


def header_of_bytes(data):
    n = struct.unpack_from("<Q", data, 16)[0]
    return json.loads(data[32:32 + n])


def test_failed_write_keeps_old_file_and_leaves_no_temp(tmp_path, arrays, monkeypatch):
    path = tmp_path / "a.fw2v"
    native.save_arrays(path, arrays, {"version": "old"}, kind="test")
    before = open(path, "rb").read()
    calls = []

    def failing_write(f, data):
        calls.append(1)
        if len(calls) == 4:                          # mid-file: after some array bytes
            raise OSError(28, "No space left on device")
        f.write(data)

    monkeypatch.setattr(native, "_write_all", failing_write)
    with pytest.raises(OSError, match="No space left"):
        native.save_arrays(path, arrays, {"version": "new"}, kind="test")
    assert open(path, "rb").read() == before
    assert sorted(os.listdir(tmp_path)) == ["a.fw2v"]
    monkeypatch.undo()

    def failing_fsync(fd):
        raise OSError(5, "Input/output error")

    monkeypatch.setattr(native.os, "fsync", failing_fsync)
    with pytest.raises(OSError, match="Input/output"):
        native.save_arrays(path, arrays, {"version": "new"}, kind="test")
    assert open(path, "rb").read() == before
    assert sorted(os.listdir(tmp_path)) == ["a.fw2v"]


def test_arrays_changing_while_saved_give_a_file_that_loads(tmp_path, monkeypatch):
    # the CRC was computed before the bytes were written: weights trained meanwhile (in
    # another thread) gave a file that failed its check on load
    a = np.arange(3 * 50_000, dtype=np.float32).reshape(-1, 3)
    b = np.ones(7, np.int64)
    writes = []

    def write_then_train(f, data):
        f.write(data)
        writes.append(len(data))
        a[:] += 1                               # after every write: never still
        b[:] += 1

    monkeypatch.setattr(native, "_write_all", write_then_train)
    monkeypatch.setattr(native, "_WRITE_BLOCK", 8192)
    native.save_arrays(tmp_path / "a.fw2v", {"a": a, "b": b}, {}, kind="test")
    got, _ = native.load_arrays(tmp_path / "a.fw2v", kind="test")   # the CRCs hold
    assert writes.count(8192) > 10                    # a was written block by block
    rows = got["a"].reshape(-1)
    # each block is as it was when written, so the values rise from block to block
    assert (np.diff(rows) >= 1).all() and rows[0] >= 1
    assert len(set(got["b"].tolist())) == 1


def test_save_arrays_replaces_existing_file(tmp_path, arrays):
    path = tmp_path / "a.fw2v"
    native.save_arrays(path, arrays, {"v": 1}, kind="test")
    native.save_arrays(path, {"x": np.ones(3)}, {"v": 2}, kind="test")
    loaded, meta = native.load_arrays(path)
    assert meta == {"v": 2} and list(loaded) == ["x"]
    assert sorted(os.listdir(tmp_path)) == ["a.fw2v"]


def test_atomic_write_errors_name_the_problem(tmp_path):
    with pytest.raises(FileNotFoundError, match="does not exist"):
        with native.atomic_write(tmp_path / "missing" / "a"):
            pass
    with pytest.raises(IsADirectoryError, match="is a directory"):
        with native.atomic_write(tmp_path):
            pass


def test_atomic_write_refuses_an_empty_name_and_names_a_folder_it_cannot_write(
        tmp_path, monkeypatch):
    with pytest.raises(ValueError, match="empty name"):
        with native.atomic_write(""):
            pass

    def no_permission(*args):
        raise PermissionError(13, "Permission denied")

    monkeypatch.setattr(native.os, "open", no_permission)
    with pytest.raises(PermissionError, match=r"cannot write .*a\.txt.*no permission"):
        with native.atomic_write(tmp_path / "a.txt"):
            pass


def test_atomic_write_writes_through_a_symbolic_link(tmp_path):
    target = tmp_path / "real.txt"
    target.write_bytes(b"old")
    link = tmp_path / "link.txt"
    link.symlink_to(target)
    with native.atomic_write(link) as f:
        f.write(b"new")
    assert link.is_symlink() and target.read_bytes() == b"new"


@pytest.mark.skipif(not hasattr(os, "mkfifo"), reason="named pipes are POSIX")
def test_atomic_write_writes_into_a_named_pipe_rather_than_replacing_it(tmp_path):
    # as /dev/null or /dev/stdout: a rename over it would put a plain file in its place
    import stat
    import threading
    fifo = tmp_path / "pipe"
    os.mkfifo(fifo)
    link = tmp_path / "link"
    link.symlink_to(fifo)
    for target in (fifo, link):
        got = []
        reader = threading.Thread(target=lambda: got.append(fifo.read_bytes()), daemon=True)
        reader.start()
        with native.atomic_write(target) as f:
            f.write(b"through the pipe")
        reader.join(10)
        assert got == [b"through the pipe"]
        assert stat.S_ISFIFO(os.stat(fifo).st_mode) and link.is_symlink()
    assert sorted(p.name for p in tmp_path.iterdir()) == ["link", "pipe"]   # no temp file


@pytest.mark.parametrize("keys, encoding", [
    (["a", "é", "日本", "", "x y\n", "\udcff"], "utf8"),
    ([3, -1, np.int64(2 ** 40)], "int64"),
    ([1, "a", (1, "x"), None, True, 2.5, (1, (2, "z")), 2 ** 70], "json"),
])
def test_pack_keys_round_trip(keys, encoding):
    arrays, enc = native.pack_keys(keys)
    assert enc == encoding
    assert all(a.dtype.kind in "iu" for a in arrays.values())
    back = native.unpack_keys(arrays, enc)
    assert back == list(keys)
    assert [type(k) for k in back] == [type(k) if not isinstance(k, np.integer) else int
                                       for k in keys]


def test_pack_keys_refuses_unstorable_keys():
    with pytest.raises(TypeError, match="bytes cannot be stored.*map your keys to str.*pickle"):
        native.pack_keys(["a", b"b"])
    with pytest.raises(TypeError, match="non-finite"):
        native.pack_keys([1, float("nan")])


def test_unpack_keys_rejects_inconsistent_arrays():
    arrays, enc = native.pack_keys(["ab", "c"])
    arrays["keys_offsets"] = np.array([0, 5, 3], np.int64)
    with pytest.raises(ValueError, match="keys_offsets"):
        native.unpack_keys(arrays, enc)
    with pytest.raises(ValueError, match="unknown key encoding"):
        native.unpack_keys(arrays, "pickle")
    with pytest.raises(ValueError, match="not valid JSON"):
        native.unpack_keys({"keys_json": np.frombuffer(b"[1, ", np.uint8)}, "json")


# ---- property tests: hostile bytes never crash the loader ----

def test_a_matrix_of_padded_rows_is_written_in_blocks_not_copied_whole(tmp_path,
                                                                        monkeypatch):
    # the padded output rows of a model: saving copied each matrix whole (20 MB at dim
    # 100 on 42k words, GBs on big vocabularies) before writing it block by block
    monkeypatch.setattr(native, "_WRITE_BLOCK", 1000)      # several blocks of rows
    rows = native.aligned_zeros((300, 16), np.float32)[:, :13]
    rows[:] = np.arange(300 * 13, dtype=np.float32).reshape(300, 13)
    assert native._prepare_array("m", rows) is rows
    others = {"f": np.asfortranarray(rows), "be": rows.astype(">f4"), "step": rows[::2],
              "back": rows[::-1]}
    native.save_arrays(tmp_path / "a.fw2v", {"m": rows, **others}, {}, kind="test")
    arrays, _ = native.load_arrays(tmp_path / "a.fw2v", kind="test")   # CRCs checked
    np.testing.assert_array_equal(arrays["m"], rows)
    for name, a in others.items():
        np.testing.assert_array_equal(arrays[name], a)
        assert arrays[name].flags.c_contiguous


from hypothesis import HealthCheck, given, settings, strategies as st  # noqa: E402


@settings(max_examples=150, deadline=None,
          suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(data=st.data())
def test_mutated_native_files_raise_valueerror(tmp_path, arrays, data):
    path = tmp_path / "m.fw2v"
    native.save_arrays(path, arrays, {"note": "x"}, kind="keyedvectors")
    blob = bytearray(path.read_bytes())
    action = data.draw(st.sampled_from(["cut", "flip", "junk"]))
    if action == "cut":
        blob = blob[:data.draw(st.integers(0, len(blob) - 1))]
    elif action == "flip":
        for _ in range(data.draw(st.integers(1, 4))):
            i = data.draw(st.integers(0, len(blob) - 1))
            blob[i] ^= data.draw(st.integers(1, 255))
    else:
        blob = bytearray(data.draw(st.binary(max_size=400)))
    path.write_bytes(bytes(blob))
    mmap = data.draw(st.sampled_from([None, "r"]))
    try:
        got, meta = native.load_arrays(path, mmap=mmap, kind="keyedvectors")
    except ValueError:
        return
    # the header is always checksummed; array data is checksummed when read into memory
    # (a memory map is not: that would read the whole file), so what loads into memory
    # is exactly what was saved, and a memory map has the saved shapes and dtypes
    assert meta == {"note": "x"}
    for name, a in arrays.items():
        assert got[name].shape == a.shape and got[name].dtype.kind == a.dtype.kind
        if mmap is None:
            np.testing.assert_array_equal(got[name], a)


def test_aligned_empty_of_an_impossible_size_names_it():
    # the byte count in Python ints: an int64 product would wrap around to a small size
    with pytest.raises(ValueError, match="more than an array can hold"):
        native.aligned_empty((2**33, 2**31), np.float32)
    assert native.aligned_copy(np.arange(6.0).reshape(2, 3), np.float32).ctypes.data % 64 == 0


@pytest.mark.parametrize("shape", [(0,), (0, 100), (7, 0), (3,), (5, 7), ()])
@pytest.mark.parametrize("dtype", [np.float32, np.float64, np.int32])
def test_aligned_empty_starts_on_a_cache_line_whatever_the_shape(shape, dtype):
    a = native.aligned_empty(shape, dtype)
    assert a.shape == shape and a.dtype == dtype and a.flags.c_contiguous
    assert a.flags.writeable and a.ctypes.data % native.ALIGN == 0
    a[...] = 1
    assert np.all(a == 1)


def test_aligned_arrays_take_a_shape_as_np_empty_does():
    for shape in (3, np.int64(3)):                     # an int is a 1-D shape
        assert native.aligned_zeros(shape, np.float32).shape == (3,)
    with pytest.raises(TypeError):
        native.aligned_empty((2.5,), np.float32)
