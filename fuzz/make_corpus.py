#!/usr/bin/env python3
"""Writes the seed corpus of the fuzz targets: fuzz/corpus/<target>/<name>.

    python3 fuzz/make_corpus.py          # rewrite fuzz/corpus (the generated files are committed)
    python3 fuzz/make_corpus.py --check  # exit 1 if the committed files differ from what it writes

Plain python3, no third-party modules, deterministic (gzip with mtime 0), so the corpus can be
regenerated and reviewed. Each file is an input in the format its target's entry expects
(fuzz/fuzz_entries.hpp, docs/fuzzing.md):

    fuzz_idx          2-byte little-endian split, image file bytes, label file bytes
    fuzz_csv          1 options byte, then the CSV text
    fuzz_safetensors  the file
    fuzz_model        the file
    fuzz_onnx         the file

Files named valid_* must be accepted by the target's main reader; tests/fuzz_corpus_test.cpp
checks that, and that nothing but backprop::Error comes out of any file. Everything else is
broken or hostile on purpose. Keep files under 4 KB and fewer than 100 per target.
"""

import gzip
import json
import os
import struct
import sys

HERE = os.path.dirname(os.path.abspath(__file__))
ROOT = os.path.join(HERE, "corpus")
REGRESSIONS = os.path.join(HERE, "regressions")
MAX_FILE_BYTES = 4096
MAX_FILES = 100

corpus = {}  # target -> {name: bytes}
regressions = {}  # target -> {name: bytes}: crafted reproducers of reported bugs


def add_regression(target, name, data):
    """A reproducer for a bug found while fuzzing, kept in fuzz/regressions/<target>/. These
    may exceed the seed size limit (some bugs need a large input). Files the fuzzers found are
    added there by hand; this script never deletes anything in fuzz/regressions."""
    files = regressions.setdefault(target, {})
    assert name not in files, (target, name)
    files[name] = bytes(data)


def add(target, name, data):
    files = corpus.setdefault(target, {})
    assert name not in files, (target, name)
    assert len(data) < MAX_FILE_BYTES, (target, name, len(data))
    files[name] = bytes(data)


def gz(data):
    return gzip.compress(data, compresslevel=9, mtime=0)


# ---- IDX ---------------------------------------------------------------------------------


def idx(dims, data, type_code=0x08):
    header = bytes([0, 0, type_code, len(dims)])
    for d in dims:
        header += struct.pack(">I", d)
    return header + bytes(data)


def idx_input(images, labels):
    return struct.pack("<H", len(images)) + images + labels


def idx_seeds():
    t = "fuzz_idx"
    pixels = bytes(range(3 * 2 * 2))
    images = idx([3, 2, 2], pixels)
    labels = idx([3], [0, 2, 1])
    add(t, "valid_3_images_2x2", idx_input(images, labels))
    add(t, "valid_2d_features", idx_input(idx([2, 5], range(10)), idx([2], [1, 0])))
    add(t, "valid_one_pixel", idx_input(idx([1, 1, 1], [255]), idx([1], [9])))
    add(t, "valid_label_255", idx_input(idx([2, 1, 3], range(6)), idx([2], [255, 0])))
    add(t, "valid_gzip_both", idx_input(gz(images), gz(labels)))
    add(t, "valid_gzip_images_only", idx_input(gz(images), labels))
    add(t, "valid_gzip_concatenated_members",
        idx_input(gz(images[:7]) + gz(images[7:]), labels))
    mnist_like = idx([4, 4, 4], [(i * 37) % 256 for i in range(64)])
    add(t, "valid_gzip_4_images_4x4", idx_input(gz(mnist_like), gz(idx([4], [7, 1, 0, 9]))))

    add(t, "empty", b"")
    add(t, "split_only", b"\x10\x00")
    add(t, "bad_magic", idx_input(b"\x01\x00" + images[2:], labels))
    add(t, "type_float32", idx_input(idx([3, 2, 2], bytes(48), 0x0D), labels))
    add(t, "type_unknown", idx_input(idx([3, 2, 2], pixels, 0x42), labels))
    add(t, "labels_and_images_swapped", idx_input(labels, images))
    add(t, "rank_4", idx_input(idx([3, 1, 2, 2], pixels), labels))
    add(t, "count_mismatch", idx_input(images, idx([2], [0, 1])))
    add(t, "images_truncated", idx_input(images[:-1], labels))
    add(t, "images_trailing_byte", idx_input(images + b"\x00", labels))
    add(t, "labels_truncated", idx_input(images, labels[:-1]))
    add(t, "header_truncated", idx_input(images[:9], labels))
    add(t, "zero_images", idx_input(idx([0, 2, 2], b""), idx([0], b"")))
    add(t, "zero_rows", idx_input(idx([3, 0, 2], b""), labels))
    add(t, "dims_overflow", idx_input(idx([0xFFFFFFFF] * 3, b""), idx([0xFFFFFFFF], b"")))
    add(t, "dims_huge_product", idx_input(idx([0x10000, 0x10000, 0x10000], pixels), labels))
    add(t, "labels_empty", idx_input(images, b""))
    add(t, "magic_only", idx_input(images[:4], labels[:4]))
    add(t, "gzip_truncated", idx_input(gz(images)[:-6], labels))
    add(t, "gzip_trailing_garbage", idx_input(gz(images) + b"xyz", labels))
    add(t, "gzip_corrupt", idx_input(gz(images)[:12] + b"\xff" * 8 + gz(images)[20:], labels))
    add(t, "gzip_magic_only", idx_input(b"\x1f\x8b", labels))
    # 2 MiB of zeros in ~2 KB: over the 1 MiB inflate limit of the fuzz entry.
    bomb = gz(idx([2, 1024, 1024], bytes(2 * 1024 * 1024)))
    add(t, "gzip_bomb", idx_input(bomb, labels))


# ---- CSV ---------------------------------------------------------------------------------

HEADER_AUTO, HEADER_YES, HEADER_NO = 0, 1, 2
LABEL_LAST, LABEL_INDEX_0, LABEL_NAME_Y, LABEL_INDEX_2 = 0, 1 << 2, 2 << 2, 3 << 2
TASK_CLASSIFICATION, TASK_REGRESSION = 0x10, 0x30
ID_COLUMN, IGNORE_NOTE = 0x40, 0x80


def csv_input(config, text):
    return bytes([config]) + (text.encode("utf-8") if isinstance(text, str) else text)


def csv_seeds():
    t = "fuzz_csv"
    basic = "x1,x2,y\n1,2,0\n3,4,1\n5,6,cat\n"
    add(t, "valid_header_auto", csv_input(HEADER_AUTO, basic))
    add(t, "valid_header_yes", csv_input(HEADER_YES, basic))
    add(t, "valid_no_header", csv_input(HEADER_NO, "1,2,0\n3,4,1\n5,6,2\n"))
    add(t, "valid_no_header_auto", csv_input(HEADER_AUTO, "1,2,0\n3,4,1\n"))
    add(t, "valid_crlf", csv_input(HEADER_AUTO, basic.replace("\n", "\r\n")))
    add(t, "valid_lone_cr", csv_input(HEADER_AUTO, basic.replace("\n", "\r")))
    add(t, "valid_bom", csv_input(HEADER_AUTO, "\ufeff" + basic))
    add(t, "valid_no_final_newline", csv_input(HEADER_AUTO, basic.rstrip("\n")))
    add(t, "valid_trailing_blank_lines", csv_input(HEADER_AUTO, basic + "\n \n\t\r\n"))
    add(t, "valid_quotes",
        csv_input(HEADER_AUTO,
                  '"x1","x2","y"\n"1","2","a, b"\n3,"4"  ,"say ""hi"""\n5,6,"two\nlines"\n'))
    add(t, "valid_quoted_crlf_in_field",
        csv_input(HEADER_AUTO, 'x1,x2,y\r\n1,2,"l1\r\nl2"\r\n3,4,b\r\n'))
    add(t, "valid_string_labels",
        csv_input(HEADER_AUTO,
                  "sepal,petal,species\n5.1,1.4,setosa\n7.0,4.7,versicolor\n6.3,6.0,virginica\n"
                  "4.9,1.4,setosa\n"))
    add(t, "valid_regression_auto",
        csv_input(HEADER_AUTO, "x1,x2,y\n1,2,0.5\n3,4,-1.25\n5,6,1e3\n"))
    add(t, "valid_regression_forced",
        csv_input(HEADER_AUTO | TASK_REGRESSION, "x1,x2,y\n1,2,0\n3,4,1\n"))
    add(t, "valid_classification_forced",
        csv_input(HEADER_AUTO | TASK_CLASSIFICATION, "x1,x2,y\n1,2,0.5\n3,4,7.25\n"))
    add(t, "valid_label_by_index",
        csv_input(HEADER_YES | LABEL_INDEX_0, "y,x1,x2\n0,1,2\n1,3,4\n"))
    add(t, "valid_label_by_name",
        csv_input(HEADER_AUTO | LABEL_NAME_Y, "x1,y,x2\n1,0,2\n3,1,4\n"))
    add(t, "valid_label_index_no_header",
        csv_input(HEADER_NO | LABEL_INDEX_2, "1,2,0,9\n3,4,1,8\n"))
    add(t, "valid_id_column",
        csv_input(HEADER_AUTO | ID_COLUMN, "id,x1,x2,y\nr1,1,2,0\nr2,3,4,1\n"))
    add(t, "valid_ignore_column",
        csv_input(HEADER_AUTO | IGNORE_NOTE, "x1,note,x2,y\n1,hello,2,0\n3,world,4,1\n"))
    add(t, "valid_id_and_ignore",
        csv_input(HEADER_YES | ID_COLUMN | IGNORE_NOTE | LABEL_NAME_Y,
                  "note,y,id,x1,x2\nn,0,a,1,2\nm,1,b,3,4\n"))
    add(t, "valid_number_spellings",
        csv_input(HEADER_AUTO, "x1,x2,y\n.5,+2,0\n-1e-3, 4 ,1\n\t7\t,1E2,0\n"))
    add(t, "valid_pandas_index_header", csv_input(HEADER_AUTO, ",x1,y\n0,1.5,0\n1,2.5,1\n"))
    add(t, "valid_eval_column_order",
        csv_input(HEADER_AUTO | LABEL_NAME_Y, "y,x2,extra,x1\ncat,2,9,1\n0,4,9,3\n"))
    add(t, "valid_many_classes",
        csv_input(HEADER_AUTO, "x1,x2,y\n" + "".join(f"{i},{i},{i}\n" for i in range(25))))
    add(t, "valid_numeric_class_spellings",
        csv_input(HEADER_AUTO | TASK_CLASSIFICATION, "x1,x2,y\n1,2,1\n3,4,1.0\n5,6,01\n7,8,2\n"))
    add(t, "valid_single_column_label_only_features",
        csv_input(HEADER_NO, "1,0\n2,1\n"))
    add(t, "valid_decimal_comma_detected",
        csv_input(HEADER_AUTO, "x1;x2;y\n1,5;2;0\n-0,25;4;1\n3,0e-1; 6 ;cat\n"))
    # (byte 0 / 3) % 4 == 3 forces decimal commas: 9 is HEADER_YES | LABEL_NAME_Y.
    decimal_comma = HEADER_YES | LABEL_NAME_Y
    add(t, "valid_decimal_comma_forced_quoted",
        csv_input(decimal_comma, 'x1,x2,y\n"1,5",2,0\n"2,5",4,1\n'))
    add(t, "decimal_comma_thousands",
        csv_input(decimal_comma, "x1;x2;y\n1,5;2;0\n1.234,5;4;1\n"))

    add(t, "empty", csv_input(HEADER_AUTO, ""))
    add(t, "only_config_byte_yes", csv_input(HEADER_YES, ""))
    add(t, "blank_lines_only", csv_input(HEADER_AUTO, "\n\n  \n"))
    add(t, "header_only", csv_input(HEADER_AUTO, "x1,x2,y\n"))
    add(t, "one_numeric_line", csv_input(HEADER_AUTO, "1,2,3\n"))
    add(t, "one_column", csv_input(HEADER_AUTO, "y\n1\n2\n"))
    add(t, "unterminated_quote", csv_input(HEADER_AUTO, 'x1,x2,y\n1,2,"abc\n3,4,1\n'))
    add(t, "text_after_quote", csv_input(HEADER_AUTO, 'x1,x2,y\n1,2,"a"b\n'))
    add(t, "field_count", csv_input(HEADER_AUTO, "x1,x2,y\n1,2,0\n3,4\n"))
    add(t, "blank_line_middle", csv_input(HEADER_AUTO, "x1,x2,y\n1,2,0\n\n3,4,1\n"))
    add(t, "not_a_number", csv_input(HEADER_AUTO, "x1,x2,y\n1,2,0\n3,4a,1\n"))
    add(t, "missing_values", csv_input(HEADER_AUTO, "x1,x2,y\n1,NA,0\n3,,1\n"))
    add(t, "missing_label", csv_input(HEADER_AUTO, "x1,x2,y\n1,2,?\n3,4,1\n"))
    add(t, "infinite", csv_input(HEADER_AUTO, "x1,x2,y\n1,inf,0\n3,4,1\n"))
    add(t, "float_out_of_range", csv_input(HEADER_AUTO, "x1,x2,y\n1,1e39,0\n3,1e400,1\n"))
    add(t, "regression_target_text",
        csv_input(HEADER_AUTO | TASK_REGRESSION, "x1,x2,y\n1,2,a\n3,4,1\n"))
    add(t, "duplicate_header", csv_input(HEADER_YES, "x1,x1,y\n1,2,0\n"))
    add(t, "label_index_out_of_range", csv_input(HEADER_AUTO | LABEL_INDEX_2, "x1,y\n1,0\n2,1\n"))
    add(t, "label_name_missing", csv_input(HEADER_NO | LABEL_NAME_Y, "1,2,0\n3,4,1\n"))
    add(t, "id_is_label", csv_input(HEADER_AUTO | ID_COLUMN, "x1,x2,id\n1,2,0\n3,4,1\n"))
    add(t, "ignore_is_label", csv_input(HEADER_AUTO | IGNORE_NOTE, "x1,x2,note\n1,2,0\n3,4,1\n"))
    add(t, "no_features_left",
        csv_input(HEADER_AUTO | ID_COLUMN | IGNORE_NOTE, "id,note,y\na,b,0\nc,d,1\n"))
    add(t, "eval_label_not_a_class", csv_input(HEADER_AUTO, "x1,x2,y\n1,2,dog\n"))
    add(t, "invalid_utf8", csv_input(HEADER_AUTO, b"x1,x2,\xff\xfe\n1,2,\xc3\x28\n3,4,\x80\n"))
    add(t, "nul_bytes", csv_input(HEADER_AUTO, b"x1,x2,y\n1,2\x00,0\n3,4,\x00\n"))
    add(t, "bom_only", csv_input(HEADER_AUTO, "\ufeff"))
    add(t, "quote_only", csv_input(HEADER_AUTO, '"'))
    add(t, "long_cell", csv_input(HEADER_AUTO, "x1,x2,y\n1," + "9" * 500 + ",0\n3,4,1\n"))
    # Reproducers of the bugs reported from fuzzing (docs/fuzzing.md, "Findings"): one line of
    # n empty fields, n line ends, one more line. reserve_rows() reserves (lines x features)
    # floats before any row is checked: ~n^2 * 4 bytes, 1 TB here, from a 1 MB text that
    # gzips to ~1 KB.
    n = 500000
    bomb = "," * n + "\n" * n + "1\n"
    add_regression(t, "reserve_lines_times_columns_gz", csv_input(HEADER_NO, gz(bomb.encode())))
    add(t, "many_columns",
        csv_input(HEADER_AUTO, ",".join(f"f{j}" for j in range(200)) + "\n" +
                  ",".join("1" for _ in range(200)) + "\n"))


# ---- safetensors -------------------------------------------------------------------------


def f32(values):
    return b"".join(struct.pack("<f", v) for v in values)


def safetensors_raw(header_text, data=b"", pad=True):
    """A file from a header given as text (bytes or str), padded with spaces to 8 bytes."""
    if isinstance(header_text, str):
        header_text = header_text.encode("utf-8")
    if pad:
        header_text += b" " * ((8 - len(header_text) % 8) % 8)
    return struct.pack("<Q", len(header_text)) + header_text + data


def safetensors(tensors, metadata=None):
    """tensors: list of (name, shape, values); laid out in order, F32."""
    header = {}
    if metadata is not None:
        header["__metadata__"] = metadata
    data = b""
    for name, shape, values in tensors:
        begin = len(data)
        data += f32(values)
        header[name] = {"dtype": "F32", "shape": shape, "data_offsets": [begin, len(data)]}
    return safetensors_raw(json.dumps(header, separators=(",", ":")), data)


def split_form(raw):
    """The '{' form the safetensors and model entries also accept: header JSON, NUL, data
    (the entry computes the length prefix), so mutations of the JSON keep the file readable."""
    (n,) = struct.unpack("<Q", raw[:8])
    assert raw[8:9] == b"{" and b"\0" not in raw[8:8 + n]
    return raw[8:8 + n] + b"\0" + raw[8 + n:]


def safetensors_seeds():
    t = "fuzz_safetensors"
    add(t, "valid_one_tensor", safetensors([("W1", [2, 3], [0.5] * 6)]))
    add(t, "valid_two_tensors", safetensors([("W1", [2, 2], [1, 2, 3, 4]), ("b1", [2], [5, 6])]))
    add(t, "valid_scalar", safetensors([("s", [], [3.25])]))
    add(t, "valid_empty_tensor", safetensors([("e", [0], []), ("x", [1], [1])]))
    add(t, "valid_zero_in_shape", safetensors([("e", [4, 0, 7], [])]))
    add(t, "valid_metadata",
        safetensors([("W1", [1], [1])], {"format": "backprop", "note": "caf\u00e9 \u2603"}))
    add(t, "valid_no_tensors", safetensors_raw("{}"))
    add(t, "valid_metadata_only", safetensors_raw('{"__metadata__":{"a":"b"}}'))
    add(t, "valid_keys_out_of_order",
        safetensors_raw('{"b":{"data_offsets":[4,8],"shape":[1],"dtype":"F32"},'
                        '"a":{"shape":[1],"dtype":"F32","data_offsets":[0,4]}}', f32([1, 2])))
    add(t, "valid_unpadded_header",
        safetensors_raw('{"a":{"dtype":"F32","shape":[1],"data_offsets":[0,4]}}', f32([7]),
                        pad=False))
    add(t, "valid_whitespace_padding",
        safetensors_raw('{"a":{"dtype":"F32","shape":[1],"data_offsets":[0,4]}}\n\t\r   ',
                        f32([7]), pad=False))
    add(t, "valid_extra_entry_keys",
        safetensors_raw('{"a":{"dtype":"F32","shape":[1],"data_offsets":[0,4],"x":[1,{}]}}',
                        f32([7])))
    add(t, "valid_unicode_names", safetensors([("\u00e9\u20ac\U0001f600", [1], [1])]))
    add(t, "valid_nan_inf_values",
        safetensors_raw('{"a":{"dtype":"F32","shape":[3],"data_offsets":[0,12]}}',
                        struct.pack("<III", 0x7FC00001, 0x7F800000, 0x80000000)))
    add(t, "valid_100_elements", safetensors([("big", [10, 10], list(range(100)))]))
    add(t, "valid_four_tensors",
        safetensors([("a", [1], [1]), ("b", [1], [2]), ("c", [1], [3]), ("d", [1], [4])]))
    add(t, "valid_negative_zero_dim",
        safetensors_raw('{"a":{"dtype":"F32","shape":[-0],"data_offsets":[-0,0]}}'))

    one = '"a":{"dtype":"F32","shape":[1],"data_offsets":[0,4]}'
    add(t, "empty", b"")
    add(t, "short", b"\x08\x00\x00")
    add(t, "header_length_zero", struct.pack("<Q", 0))
    add(t, "header_length_huge", struct.pack("<Q", 0xFFFFFFFFFFFFFFFF) + b"{}")
    add(t, "header_length_2_40", struct.pack("<Q", 1 << 40) + b"{}      ")
    add(t, "header_length_past_end", struct.pack("<Q", 100) + b"{}")
    add(t, "header_length_gzip_magic", struct.pack("<Q", 0x8B1F) + b"{}")
    add(t, "header_not_object", safetensors_raw("[1,2]"))
    add(t, "header_not_json", safetensors_raw("{not json"))
    add(t, "header_truncated_json", safetensors_raw('{"a":{"dtype":"F3'))
    add(t, "header_nul_byte", safetensors_raw(b'{"a\x00":{}}'))
    add(t, "header_invalid_utf8", safetensors_raw(b'{"\xff\xfe":{}}'))
    add(t, "header_nested_deep", safetensors_raw('{"a":' + "[" * 40 + "]" * 40 + "}"))
    add(t, "dtype_f16",
        safetensors_raw('{"a":{"dtype":"F16","shape":[2],"data_offsets":[0,4]}}', b"\x00" * 4))
    add(t, "dtype_bf16",
        safetensors_raw('{"a":{"dtype":"BF16","shape":[2],"data_offsets":[0,4]}}', b"\x00" * 4))
    add(t, "dtype_unknown",
        safetensors_raw('{"a":{"dtype":"F31\\u001b[31m","shape":[1],"data_offsets":[0,4]}}',
                        f32([1])))
    add(t, "dtype_not_string",
        safetensors_raw('{"a":{"dtype":32,"shape":[1],"data_offsets":[0,4]}}', f32([1])))
    add(t, "offsets_overlap",
        safetensors_raw('{"a":{"dtype":"F32","shape":[2],"data_offsets":[0,8]},'
                        '"b":{"dtype":"F32","shape":[2],"data_offsets":[4,12]}}', f32([1, 2, 3])))
    add(t, "offsets_same_range",
        safetensors_raw('{"a":{"dtype":"F32","shape":[1],"data_offsets":[0,4]},'
                        '"b":{"dtype":"F32","shape":[1],"data_offsets":[0,4]}}', f32([1])))
    add(t, "offsets_hole",
        safetensors_raw('{"a":{"dtype":"F32","shape":[1],"data_offsets":[0,4]},'
                        '"b":{"dtype":"F32","shape":[1],"data_offsets":[8,12]}}', f32([1, 2, 3])))
    add(t, "offsets_start_late",
        safetensors_raw('{"a":{"dtype":"F32","shape":[1],"data_offsets":[4,8]}}', f32([1, 2])))
    add(t, "offsets_trailing_bytes", safetensors_raw("{" + one + "}", f32([1, 2])))
    add(t, "offsets_past_end",
        safetensors_raw('{"a":{"dtype":"F32","shape":[1],"data_offsets":[0,4000000000]}}',
                        f32([1])))
    add(t, "offsets_reversed",
        safetensors_raw('{"a":{"dtype":"F32","shape":[1],"data_offsets":[4,0]}}', f32([1])))
    add(t, "offsets_negative",
        safetensors_raw('{"a":{"dtype":"F32","shape":[1],"data_offsets":[-4,0]}}', f32([1])))
    add(t, "offsets_three",
        safetensors_raw('{"a":{"dtype":"F32","shape":[1],"data_offsets":[0,4,8]}}', f32([1])))
    add(t, "offsets_u64_max",
        safetensors_raw('{"a":{"dtype":"F32","shape":[1],"data_offsets":'
                        '[18446744073709551612,18446744073709551615]}}', f32([1])))
    add(t, "size_mismatch",
        safetensors_raw('{"a":{"dtype":"F32","shape":[2],"data_offsets":[0,4]}}', f32([1])))
    add(t, "shape_negative",
        safetensors_raw('{"a":{"dtype":"F32","shape":[-1],"data_offsets":[0,4]}}', f32([1])))
    add(t, "shape_float",
        safetensors_raw('{"a":{"dtype":"F32","shape":[1.0],"data_offsets":[0,4]}}', f32([1])))
    add(t, "shape_string",
        safetensors_raw('{"a":{"dtype":"F32","shape":["1"],"data_offsets":[0,4]}}', f32([1])))
    add(t, "shape_not_array",
        safetensors_raw('{"a":{"dtype":"F32","shape":1,"data_offsets":[0,4]}}', f32([1])))
    add(t, "shape_product_overflow",
        safetensors_raw('{"a":{"dtype":"F32","shape":[4294967296,4294967296,16],'
                        '"data_offsets":[0,4]}}', f32([1])))
    add(t, "shape_2_63",
        safetensors_raw('{"a":{"dtype":"F32","shape":[9223372036854775808],'
                        '"data_offsets":[0,4]}}', f32([1])))
    add(t, "shape_overflow_then_zero",
        safetensors_raw('{"a":{"dtype":"F32","shape":[4294967296,4294967296,0],'
                        '"data_offsets":[0,0]}}'))
    add(t, "shape_wraps_to_one",
        safetensors_raw('{"a":{"dtype":"F32","shape":[4294967296,4294967296,1],'
                        '"data_offsets":[0,4]}}', f32([1])))
    add(t, "duplicate_tensor",
        safetensors_raw("{" + one + "," + one + "}", f32([1, 2])))
    add(t, "duplicate_metadata",
        safetensors_raw('{"__metadata__":{},"__metadata__":{}}'))
    add(t, "duplicate_entry_key",
        safetensors_raw('{"a":{"dtype":"F32","dtype":"F32","shape":[1],"data_offsets":[0,4]}}',
                        f32([1])))
    add(t, "duplicate_metadata_key", safetensors_raw('{"__metadata__":{"k":"1","k":"2"}}'))
    add(t, "metadata_not_object", safetensors_raw('{"__metadata__":[]}'))
    add(t, "metadata_number_value", safetensors_raw('{"__metadata__":{"k":1}}'))
    add(t, "metadata_nul_escape", safetensors_raw('{"__metadata__":{"k\\u0000":"v\\u0000w"}}'))
    add(t, "entry_not_object", safetensors_raw('{"a":[1,2]}'))
    add(t, "entry_missing_dtype", safetensors_raw('{"a":{"shape":[1],"data_offsets":[0,4]}}',
                                                  f32([1])))
    add(t, "entry_missing_offsets", safetensors_raw('{"a":{"dtype":"F32","shape":[1]}}', f32([1])))
    # Reproducer of a reported bug: the reader accepts a tensor named "", which the encoder
    # refuses, so such a file can be read but not written back.
    add_regression(t, "empty_tensor_name",
                   safetensors_raw('{"":{"dtype":"F32","shape":[1],"data_offsets":[0,4]}}',
                                   f32([1])))
    add(t, "tensor_name_escape",
        safetensors_raw('{"\\u001b]0;x\\u0007":{"dtype":"F32","shape":[1],"data_offsets":[0,4]}}',
                        f32([1])))
    for name in ("valid_one_tensor", "valid_two_tensors", "valid_metadata", "valid_scalar",
                 "valid_four_tensors", "offsets_overlap", "dtype_f16", "shape_product_overflow",
                 "duplicate_tensor", "metadata_number_value"):
        add(t, name + "_split", split_form(corpus[t][name]))
    add(t, "split_no_nul", b'{"a":{"dtype":"F32","shape":[0],"data_offsets":[0,0]}}')
    add(t, "many_tensors",
        safetensors([(f"t{i}", [1], [i]) for i in range(40)]))
    add(t, "over_small_header_limit",
        safetensors([("a_long_tensor_name_" + str(i), [1], [i]) for i in range(6)]))


# ---- model files -------------------------------------------------------------------------


def model_file(widths, activations, loss="cross_entropy", task="classification",
               classes=None, features=None, label="", input_info=None, training=None,
               preprocessing="standard", extra_tensors=(), drop_tensors=(), shape_fix=None,
               metadata_fix=None, architecture_text=None, dropout=0.0, leaky_slope=0.01):
    """A model file as backprop's save_model writes it (metadata keys and tensor names)."""
    tensors = []
    for l in range(len(widths) - 1):
        i, o = widths[l], widths[l + 1]
        tensors.append((f"W{l + 1}", [i, o], [((k * 7) % 11 - 5) / 10 for k in range(i * o)]))
        tensors.append((f"b{l + 1}", [o], [0.1 * k for k in range(o)]))
    p = widths[0]
    tensors.append(("input.offset", [p], [0.5] * p))
    tensors.append(("input.scale", [p], [2.0] * p))
    if task == "regression":
        tensors.append(("target.offset", [1], [10.0]))
        tensors.append(("target.scale", [1], [0.25]))
    tensors = [tt for tt in tensors if tt[0] not in drop_tensors]
    tensors += list(extra_tensors)
    if shape_fix:
        tensors = [(n, shape_fix.get(n, s), v) for n, s, v in tensors]
    arch = {"widths": widths, "activations": activations, "loss": loss, "dropout": dropout,
            "leaky_slope": leaky_slope}
    meta = {
        "format": "backprop",
        "format_version": "1",
        "architecture": architecture_text or json.dumps(arch, sort_keys=True,
                                                        separators=(",", ":")),
        "preprocessing": preprocessing,
        "task": task,
        "features": json.dumps(features or []),
        "label": label,
        "input": json.dumps(input_info or {"format": "idx", "header": True, "columns": 0}),
        "training": json.dumps(training or {}),
    }
    if task == "classification":
        meta["classes"] = json.dumps(classes if classes is not None
                                     else [str(k) for k in range(widths[-1])])
    if metadata_fix:
        for k, v in metadata_fix.items():
            if v is None:
                meta.pop(k, None)
            else:
                meta[k] = v
    return safetensors(tensors, meta)


def model_seeds():
    t = "fuzz_model"
    add(t, "valid_2_3_2_sigmoid", model_file([2, 3, 2], ["sigmoid"]))
    add(t, "valid_regression_linear", model_file([3, 1], [], loss="mse", task="regression",
                                                 preprocessing="none"))
    add(t, "valid_deep_mixed",
        model_file([3, 4, 4, 2], ["relu", "tanh"], preprocessing="minmax",
                   training={"optimizer": "adam", "epochs": 3, "accuracy": 0.5}))
    add(t, "valid_csv_model",
        model_file([2, 2, 3], ["leaky_relu"], classes=["0", "1", "cat"], features=["x1", "x2"],
                   label="y", input_info={"format": "csv", "header": True, "columns": 3},
                   leaky_slope=0.2, dropout=0.25))
    add(t, "valid_unit_range", model_file([4, 2], [], preprocessing="unit"))
    add(t, "valid_no_optional_metadata",
        model_file([2, 2], [], metadata_fix={"input": None, "training": None, "features": None,
                                             "label": None}))
    add(t, "valid_linear_hidden", model_file([1, 1, 2], ["linear"]))

    base = dict(widths=[2, 3, 2], activations=["sigmoid"])
    add(t, "not_safetensors", b"\x00" * 16)
    add(t, "no_metadata", safetensors([("W1", [2, 2], [0] * 4)]))
    add(t, "format_other", model_file(**base, metadata_fix={"format": "onnx"}))
    add(t, "version_2", model_file(**base, metadata_fix={"format_version": "2"}))
    add(t, "architecture_missing", model_file(**base, metadata_fix={"architecture": None}))
    add(t, "architecture_not_json", model_file(**base, architecture_text="{widths"))
    add(t, "architecture_not_object", model_file(**base, architecture_text="[2,3,2]"))
    add(t, "architecture_widths_not_array",
        model_file(**base, architecture_text='{"widths":2,"activations":[],"loss":"mse"}'))
    add(t, "architecture_widths_string",
        model_file(**base, architecture_text='{"widths":"2,3,2","activations":["sigmoid"],'
                                             '"loss":"cross_entropy"}'))
    add(t, "architecture_width_zero", model_file([2, 0, 2], ["sigmoid"]))
    add(t, "architecture_width_float",
        model_file(**base, architecture_text='{"widths":[2,3.0,2],"activations":["sigmoid"],'
                                             '"loss":"cross_entropy"}'))
    add(t, "architecture_width_huge",
        model_file(**base, architecture_text='{"widths":[1048576,1048576,2],'
                                             '"activations":["sigmoid"],"loss":"cross_entropy"}'))
    add(t, "architecture_width_u64",
        model_file(**base, architecture_text='{"widths":[18446744073709551615,3,2],'
                                             '"activations":["sigmoid"],"loss":"cross_entropy"}'))
    add(t, "architecture_one_width",
        model_file(**base, architecture_text='{"widths":[2],"activations":[],"loss":"mse"}'))
    add(t, "architecture_no_loss",
        model_file(**base, architecture_text='{"widths":[2,3,2],"activations":["sigmoid"]}'))
    add(t, "architecture_dropout_huge",
        model_file(**base, architecture_text='{"widths":[2,3,2],"activations":["sigmoid"],'
                                             '"loss":"cross_entropy","dropout":1e300}'))
    add(t, "architecture_dropout_string",
        model_file(**base, architecture_text='{"widths":[2,3,2],"activations":["sigmoid"],'
                                             '"loss":"cross_entropy","dropout":"0.5"}'))
    add(t, "dropout_one", model_file(**base, dropout=1.0))
    add(t, "leaky_slope_negative", model_file([2, 3, 2], ["leaky_relu"], leaky_slope=-1))
    add(t, "activation_unknown", model_file([2, 3, 2], ["swish"]))
    add(t, "activation_count", model_file([2, 3, 2], ["relu", "relu"]))
    add(t, "activation_not_string", model_file([2, 3, 2], [1]))
    add(t, "loss_unknown", model_file(**base, loss="hinge"))
    add(t, "task_loss_mismatch", model_file(**base, task="regression"))
    add(t, "task_unknown", model_file(**base, task="ranking", classes=["0", "1"]))
    add(t, "softmax_one_output", model_file([2, 1], []))
    add(t, "classes_count", model_file(**base, classes=["a", "b", "c"]))
    add(t, "classes_not_list", model_file(**base, metadata_fix={"classes": '{"a":1}'}))
    add(t, "classes_not_strings", model_file(**base, metadata_fix={"classes": "[0,1]"}))
    add(t, "classes_missing", model_file(**base, metadata_fix={"classes": None}))
    add(t, "features_count", model_file(**base, features=["x1", "x2", "x3"]))
    add(t, "preprocessing_unknown", model_file(**base, preprocessing="zscore"))
    add(t, "input_format_unknown",
        model_file(**base, input_info={"format": "parquet", "header": True, "columns": 3}))
    add(t, "input_not_object", model_file(**base, metadata_fix={"input": "[1]"}))
    add(t, "input_header_string",
        model_file(**base, input_info={"format": "csv", "header": "yes", "columns": 3}))
    add(t, "input_columns_negative",
        model_file(**base, input_info={"format": "csv", "header": False, "columns": -5}))
    add(t, "input_columns_huge",
        model_file(**base, input_info={"format": "csv", "header": False,
                                       "columns": 18446744073709551615}))
    add(t, "training_not_object", model_file(**base, metadata_fix={"training": "[1,2]"}))
    add(t, "training_nested",
        model_file(**base, metadata_fix={"training": '{"a":' + "[" * 200 + "]" * 200 + "}"}))
    add(t, "training_deeply_nested",
        model_file(**base, metadata_fix={"training": '{"a":' + "[" * 1500 + "]" * 1500 + "}"}))
    add(t, "metadata_json_deeply_nested",
        model_file(**base, metadata_fix={"classes": "[" * 1500 + "]" * 1500}))
    add(t, "tensor_missing", model_file(**base, drop_tensors=("b2",)))
    add(t, "input_scale_missing", model_file(**base, drop_tensors=("input.scale",)))
    add(t, "tensor_extra", model_file(**base, extra_tensors=[("W3", [2, 2], [0] * 4)]))
    add(t, "tensor_extra_unknown", model_file(**base, extra_tensors=[("zz", [1], [0])]))
    reg = dict(widths=[2, 1], activations=[], loss="mse", task="regression")
    add(t, "target_scale_missing", model_file(**reg, drop_tensors=("target.scale",)))
    add(t, "target_offset_shape", model_file(**reg, shape_fix={"target.offset": [2]}))
    add(t, "checkpoint_extra_tensor",
        model_file(**base, extra_tensors=[("adam.m", [1], [0])],
                   metadata_fix={"checkpoint": "{}"}))
    add(t, "classification_with_target_tensors",
        model_file(**base, extra_tensors=[("target.offset", [1], [0]),
                                          ("target.scale", [1], [1])]))
    add(t, "tensor_extra_empty_name", model_file(**base, extra_tensors=[("", [1], [0])]))
    add(t, "tensor_shape_transposed", model_file(**base, shape_fix={"W1": [3, 2]}))
    add(t, "tensor_shape_flat", model_file(**base, shape_fix={"W1": [6]}))
    add(t, "bias_shape_2d", model_file(**base, shape_fix={"b1": [1, 3]}))
    add(t, "input_offset_shape", model_file(**base, shape_fix={"input.offset": [1, 2]}))
    add(t, "many_layers",
        model_file([1] * 20 + [2], ["relu"] * 19))
    for name in sorted(corpus[t]):
        if name.startswith("valid_") or name in (
                "architecture_width_huge", "architecture_dropout_huge", "input_columns_negative",
                "training_nested", "tensor_shape_transposed", "classes_count",
                "input_format_unknown", "tensor_extra", "version_2"):
            add(t, name + "_split", split_form(corpus[t][name]))

    # Reproducers of the bugs reported from fuzzing (docs/fuzzing.md, "Findings").
    add_regression(t, "input_columns_1e300",
                   model_file(**base, metadata_fix={
                       "input": '{"format":"csv","header":true,"columns":1e300}'}))
    # Found by fuzz_model: an integer literal beyond uint64 is a double to nlohmann.
    add_regression(t, "input_columns_beyond_uint64",
                   model_file(**base, metadata_fix={
                       "input": '{"format":"csv","header":false,"columns":18446744073709551616}'}))
    add_regression(t, "input_columns_fraction",
                   model_file(**base, metadata_fix={
                       "input": '{"format":"csv","header":false,"columns":2.5}'}))
    depth = 60000  # overflows an 8 MB stack in both the gcc and the ASan builds
    add_regression(t, "training_metadata_nested_60000_deep",
                   model_file(**base, metadata_fix={
                       "training": '{"a":' + "[" * depth + "]" * depth + "}"}))


# ---- fuzz_onnx: protobuf written by hand (onnx.proto field numbers, docs/onnx.md) ----------

def pb_varint(v):
    v &= (1 << 64) - 1
    out = bytearray()
    while v >= 0x80:
        out.append((v & 0x7F) | 0x80)
        v >>= 7
    out.append(v)
    return bytes(out)


def pb_int(field, v):
    return pb_varint(field << 3) + pb_varint(v)


def pb_bytes(field, data):
    if isinstance(data, str):
        data = data.encode()
    return pb_varint(field << 3 | 2) + pb_varint(len(data)) + data


def pb_float(field, v):
    return pb_varint(field << 3 | 5) + struct.pack("<f", v)


FLOAT, INT64, STRING, DOUBLE = 1, 7, 8, 11


def onnx_tensor(name, dims, values, dtype=FLOAT, form="raw"):
    """A TensorProto: raw_data, or the typed field ("typed": one field per value; "packed")."""
    t = b"".join(pb_int(1, d) for d in dims) + pb_int(2, dtype) + pb_bytes(8, name)
    if dtype == STRING:
        return t + b"".join(pb_bytes(6, v) for v in values)
    code, field = {FLOAT: ("<f", 4), DOUBLE: ("<d", 10), INT64: ("<q", 7)}[dtype]
    if form == "raw":
        return t + pb_bytes(9, b"".join(struct.pack(code, v) for v in values))
    if dtype == INT64:
        items = [pb_varint(v) for v in values]
    else:
        items = [struct.pack(code, v) for v in values]
    if form == "packed":
        return t + pb_bytes(field, b"".join(items))
    wire = 0 if dtype == INT64 else (5 if dtype == FLOAT else 1)
    return t + b"".join(pb_varint(field << 3 | wire) + item for item in items)


def onnx_attr(name, value):
    a = pb_bytes(1, name)
    if isinstance(value, float):
        return a + pb_float(2, value) + pb_int(20, 1)
    if isinstance(value, int):
        return a + pb_int(3, value) + pb_int(20, 2)
    if isinstance(value, bytes):  # a TensorProto
        return a + pb_bytes(5, value) + pb_int(20, 4)
    if value and isinstance(value[0], float):
        return a + b"".join(pb_float(7, v) for v in value) + pb_int(20, 6)
    return a + b"".join(pb_bytes(9, v) for v in value) + pb_int(20, 8)


def onnx_node(op, inputs, outputs, name="", domain="", **attrs):
    n = b"".join(pb_bytes(1, i) for i in inputs) + b"".join(pb_bytes(2, o) for o in outputs)
    n += pb_bytes(3, name or op) + pb_bytes(4, op)
    n += b"".join(pb_bytes(5, onnx_attr(k, v)) for k, v in attrs.items())
    return n + (pb_bytes(7, domain) if domain else b"")


def onnx_value(name, elem=FLOAT, dims=("batch", 2)):
    shape = b"".join(pb_bytes(1, pb_bytes(2, d) if isinstance(d, str) else pb_int(1, d))
                     for d in dims)
    tensor_type = pb_int(1, elem) + pb_bytes(2, shape)
    return pb_bytes(1, name) + pb_bytes(2, pb_bytes(1, tensor_type))


def onnx_model(nodes, initializers, inputs, outputs, opset=13, metadata=None, ml=False):
    g = b"".join(pb_bytes(1, n) for n in nodes) + pb_bytes(2, "g")
    g += b"".join(pb_bytes(5, t) for t in initializers)
    g += b"".join(pb_bytes(11, v) for v in inputs) + b"".join(pb_bytes(12, v) for v in outputs)
    m = pb_int(1, 7) + pb_bytes(2, "make_corpus") + pb_bytes(7, g)
    m += pb_bytes(8, pb_int(2, opset))
    if ml:
        m += pb_bytes(8, pb_bytes(1, "ai.onnx.ml") + pb_int(2, 1))
    for k, v in (metadata or {}).items():
        m += pb_bytes(14, pb_bytes(1, k) + pb_bytes(2, v))
    return m


def weights(i, o, seed=0):
    return [(((k + seed) * 7) % 11 - 5) / 10 for k in range(i * o)]


def backprop_export(task="classification", activation="Tanh", alpha=None):
    """The layout backprop's exporter writes: 2-3-2 (or 2-3-1 for regression)."""
    out = 2 if task == "classification" else 1
    attrs = {"alpha": alpha} if alpha is not None else {}
    nodes = [onnx_node("Sub", ["input", "input.offset"], ["input/Sub"]),
             onnx_node("Mul", ["input/Sub", "input.scale"], ["input/Mul"]),
             onnx_node("MatMul", ["input/Mul", "W1"], ["layer1/MatMul"]),
             onnx_node("Add", ["layer1/MatMul", "b1"], ["layer1/Add"]),
             onnx_node(activation, ["layer1/Add"], ["layer1/act"], **attrs),
             onnx_node("MatMul", ["layer1/act", "W2"], ["layer2/MatMul"]),
             onnx_node("Add", ["layer2/MatMul", "b2"], ["layer2/Add"])]
    inits = [onnx_tensor("input.offset", [2], [0.5, -1.0]),
             onnx_tensor("input.scale", [2], [2.0, 0.25]),
             onnx_tensor("W1", [2, 3], weights(2, 3)), onnx_tensor("b1", [3], [0.1, 0.2, 0.3]),
             onnx_tensor("W2", [3, out], weights(3, out, 1)),
             onnx_tensor("b2", [out], [0.0] * out)]
    meta = {"backprop_format_version": "1", "features": '["a","b"]',
            "input": '{"columns":3,"format":"csv","header":true}', "label": "y",
            "preprocessing": "standard", "task": task}
    if task == "classification":
        nodes += [onnx_node("Softmax", ["layer2/Add"], ["probabilities"], axis=-1),
                  onnx_node("ArgMax", ["probabilities"], ["class_index"], axis=1, keepdims=0)]
        outputs = [onnx_value("probabilities", FLOAT, ("batch", 2)),
                   onnx_value("class_index", INT64, ("batch",))]
        meta["classes"] = '["no","yes"]'
    else:
        nodes += [onnx_node("Div", ["layer2/Add", "target.scale"], ["target/Div"]),
                  onnx_node("Add", ["target/Div", "target.offset"], ["predictions"])]
        inits += [onnx_tensor("target.scale", [1], [0.5]),
                  onnx_tensor("target.offset", [1], [3.0])]
        outputs = [onnx_value("predictions", FLOAT, ("batch", 1))]
    return onnx_model(nodes, inits, [onnx_value("input")], outputs, metadata=meta)


def torch_like(opset=9):
    """torch.onnx.export of Flatten, Linear, Sigmoid, Linear, Softmax with
    keep_initializers_as_inputs: Gemm with transB=1, weights listed as graph inputs."""
    nodes = [onnx_node("Flatten", ["x"], ["f"], axis=1),
             onnx_node("Gemm", ["f", "0.weight", "0.bias"], ["g1"], alpha=1.0, beta=1.0,
                       transB=1),
             onnx_node("Sigmoid", ["g1"], ["s1"]),
             onnx_node("Gemm", ["s1", "2.weight", "2.bias"], ["g2"], transB=1),
             onnx_node("Softmax", ["g2"], ["y"], axis=1)]
    inits = [onnx_tensor("0.weight", [3, 2], weights(3, 2)), onnx_tensor("0.bias", [3], [0.1] * 3),
             onnx_tensor("2.weight", [2, 3], weights(2, 3, 2)), onnx_tensor("2.bias", [2], [0.0, 0.5])]
    inputs = [onnx_value("x")] + [onnx_value(n, FLOAT, d) for n, d in
                                  [("0.weight", (3, 2)), ("0.bias", (3,)),
                                   ("2.weight", (2, 3)), ("2.bias", (2,))]]
    return onnx_model(nodes, inits, inputs, [onnx_value("y", FLOAT, ("batch", 2))], opset=opset)


def onnx_seeds():
    t = "fuzz_onnx"
    add(t, "valid_backprop_classifier", backprop_export())
    add(t, "valid_backprop_regressor", backprop_export("regression", "LeakyRelu", 0.2))
    add(t, "valid_backprop_relu", backprop_export(activation="Relu"))
    add(t, "valid_torch_gemm_opset9", torch_like(9))
    # (x - mean) / std as Constant nodes, Gemm with alpha and beta, linear output.
    add(t, "valid_constants_sub_div_gemm", onnx_model(
        [onnx_node("Constant", [], ["mean"], value=onnx_tensor("m", [2], [1.0, -2.0])),
         onnx_node("Constant", [], ["std"], value_floats=[2.0, 0.5]),
         onnx_node("Sub", ["x", "mean"], ["c"]), onnx_node("Div", ["c", "std"], ["n"]),
         onnx_node("Gemm", ["n", "w", "b"], ["z"], alpha=0.5, beta=2.0),
         onnx_node("Sigmoid", ["z"], ["h"]), onnx_node("MatMul", ["h", "w2"], ["y"])],
        [onnx_tensor("w", [2, 3], weights(2, 3), DOUBLE, "packed"),
         onnx_tensor("b", [1, 3], [0.5, 0.0, -0.5], DOUBLE, "typed"),
         onnx_tensor("w2", [3, 1], [1.0, -1.0, 0.5], FLOAT, "typed")],
        [onnx_value("x")], [onnx_value("y", FLOAT, ("batch", 1))], opset=14))
    # skl2onnx's MLPClassifier: Scaler, Cast, bias on the left, label branch with ZipMap.
    add(t, "valid_scaler_label_branch", onnx_model(
        [onnx_node("Scaler", ["x"], ["s"], domain="ai.onnx.ml", offset=[0.5, 1.0],
                   scale=[2.0, 4.0]),
         onnx_node("Cast", ["s"], ["c"], to=FLOAT),
         onnx_node("MatMul", ["c", "w"], ["m"]), onnx_node("Add", ["b", "m"], ["a"]),
         onnx_node("Relu", ["a"], ["h"]), onnx_node("MatMul", ["h", "w2"], ["m2"]),
         onnx_node("Add", ["m2", "b2"], ["z"]), onnx_node("Softmax", ["z"], ["p"], axis=1),
         onnx_node("ArgMax", ["p"], ["i"], axis=1),
         onnx_node("ArrayFeatureExtractor", ["classes", "i"], ["label"], domain="ai.onnx.ml"),
         onnx_node("ZipMap", ["p"], ["probs"], domain="ai.onnx.ml",
                   classlabels_strings=[b"cat", b"dog"])],
        [onnx_tensor("w", [2, 3], weights(2, 3)), onnx_tensor("b", [1, 3], [0.1] * 3),
         onnx_tensor("w2", [3, 2], weights(3, 2, 4)), onnx_tensor("b2", [1, 2], [0.0, 0.1]),
         onnx_tensor("classes", [2], [b"cat", b"dog"], STRING)],
        [onnx_value("x")], [onnx_value("label", STRING, ("batch",))], ml=True))
    # A Keras converter: Reshape to [0, F] by a Constant, Identity, Dropout, Tanh.
    add(t, "valid_reshape_identity_dropout", onnx_model(
        [onnx_node("Constant", [], ["shape"], value=onnx_tensor("s", [2], [0, 2], INT64)),
         onnx_node("Reshape", ["x", "shape"], ["r"]), onnx_node("Identity", ["r"], ["i"]),
         onnx_node("MatMul", ["i", "w"], ["m"]), onnx_node("Add", ["m", "b"], ["a"]),
         onnx_node("Tanh", ["a"], ["h"]), onnx_node("Dropout", ["h"], ["d"]),
         onnx_node("MatMul", ["d", "w2"], ["m2"]), onnx_node("Add", ["m2", "b2"], ["z"]),
         onnx_node("Softmax", ["z"], ["y"])],
        [onnx_tensor("w", [2, 3], weights(2, 3)), onnx_tensor("b", [3], [0.1] * 3),
         onnx_tensor("w2", [3, 2], weights(3, 2, 3), FLOAT, "packed"),
         onnx_tensor("b2", [2], [0.0, 0.1])],
        [onnx_value("x", FLOAT, ("N", 2))], [onnx_value("y", FLOAT, ("N", 2))]))

    whole = backprop_export()
    add(t, "empty", b"")
    add(t, "truncated_half", whole[:len(whole) // 2])
    add(t, "truncated_one_byte", whole[:-1])
    add(t, "varint_eleven_bytes", b"\x08" + b"\xff" * 10 + b"\x01")
    add(t, "varint_overflow", b"\x08" + b"\xff" * 9 + b"\x02")
    add(t, "length_beyond_end", b"\x3a\xff\xff\xff\xff\x0f")
    add(t, "group_wire_type", b"\x0b\x0c")
    add(t, "not_onnx_text", b"hello, world\n")
    x = [onnx_value("x")]
    y = [onnx_value("y", FLOAT, ("batch", 2))]

    def one_layer(w_tensor, extra_nodes=(), op="MatMul", **attrs):
        return onnx_model([onnx_node(op, ["x", "w"], ["y"], **attrs)] + list(extra_nodes),
                          [w_tensor], x, y)

    add(t, "dims_huge", one_layer(onnx_tensor("w", [1 << 40, 1 << 40], [1.0] * 4)))
    add(t, "dims_negative", one_layer(onnx_tensor("w", [-2, 2], [1.0] * 4)))
    add(t, "dims_int64_max", one_layer(onnx_tensor("w", [(1 << 63) - 1, 2], [1.0] * 4)))
    add(t, "dims_too_many", one_layer(onnx_tensor("w", [1] * 12, [1.0])))
    add(t, "raw_data_short", one_layer(onnx_tensor("w", [2, 2], [1.0] * 3)))
    add(t, "raw_data_long", one_layer(onnx_tensor("w", [2, 2], [1.0] * 5)))
    add(t, "typed_data_short", one_layer(onnx_tensor("w", [2, 2], [1.0] * 3, FLOAT, "typed")))
    add(t, "packed_float_ragged", one_layer(
        pb_int(1, 2) + pb_int(1, 2) + pb_int(2, FLOAT) + pb_bytes(8, "w") + pb_bytes(4, b"\0" * 7)))
    add(t, "string_weights", one_layer(onnx_tensor("w", [2, 2], [b"a", b"b", b"c", b"d"], STRING)))
    for name, location in [("external_parent", "../../etc/passwd"),
                           ("external_absolute", "/etc/passwd"),
                           ("external_relative", "weights.bin")]:
        tensor = (pb_int(1, 2) + pb_int(1, 2) + pb_int(2, FLOAT) + pb_bytes(8, "w") +
                  pb_bytes(13, pb_bytes(1, "location") + pb_bytes(2, location)) + pb_int(14, 1))
        add(t, name, one_layer(tensor))
    w = onnx_tensor("w", [2, 2], weights(2, 2))
    add(t, "op_conv", one_layer(w, op="Conv"))
    add(t, "gemm_trans_a", one_layer(w, op="Gemm", transA=1))
    add(t, "gemm_b_left_out", onnx_model([onnx_node("Gemm", ["x", "", "w"], ["y"])], [w], x, y))
    add(t, "softmax_axis_0", one_layer(w, [onnx_node("Softmax", ["y"], ["p"], axis=0)]))
    add(t, "activation_last", one_layer(w, [onnx_node("Relu", ["y"], ["r"])]))
    add(t, "no_layer", onnx_model([onnx_node("Relu", ["x"], ["y"])], [], x, y))
    add(t, "branch", onnx_model(
        [onnx_node("MatMul", ["x", "w"], ["a"]), onnx_node("MatMul", ["x", "w"], ["y"])],
        [w], x, y))
    add(t, "two_inputs", onnx_model([onnx_node("Add", ["x", "x2"], ["y"])], [], x +
                                    [onnx_value("x2")], y))
    add(t, "input_rank_1", onnx_model([onnx_node("MatMul", ["x", "w"], ["y"])], [w],
                                      [onnx_value("x", FLOAT, ("batch",))], y))
    add(t, "opset_99", onnx_model([onnx_node("MatMul", ["x", "w"], ["y"])], [w], x, y, opset=99))
    add(t, "width_mismatch", one_layer(onnx_tensor("w", [3, 2], weights(3, 2))))
    add(t, "metadata_bad_version", onnx_model(
        [onnx_node("MatMul", ["x", "w"], ["y"])], [w], x, y,
        metadata={"backprop_format_version": "9"}))
    add(t, "metadata_classes_not_json", onnx_model(
        [onnx_node("MatMul", ["x", "w"], ["z"]), onnx_node("Softmax", ["z"], ["y"])], [w], x, y,
        metadata={"classes": "[[[[[[[[[[[[[[[[[[[[[[[[[["}))


def write(check):
    changed = []
    for target in sorted(corpus):
        files = corpus[target]
        assert len(files) < MAX_FILES, (target, len(files))
        directory = os.path.join(ROOT, target)
        if not check:
            os.makedirs(directory, exist_ok=True)
        existing = set(os.listdir(directory)) if os.path.isdir(directory) else set()
        for name in sorted(existing - set(files)):
            changed.append(os.path.join(target, name) + " (not generated)")
            if not check:
                os.remove(os.path.join(directory, name))
        for name, data in sorted(files.items()):
            path = os.path.join(directory, name)
            old = open(path, "rb").read() if os.path.exists(path) else None
            if old != data:
                changed.append(os.path.join(target, name))
                if not check:
                    with open(path, "wb") as f:
                        f.write(data)
    for target in sorted(regressions):
        directory = os.path.join(REGRESSIONS, target)
        if not check:
            os.makedirs(directory, exist_ok=True)
        for name, data in sorted(regressions[target].items()):
            path = os.path.join(directory, name)
            old = open(path, "rb").read() if os.path.exists(path) else None
            if old != data:
                changed.append(os.path.join("regressions", target, name))
                if not check:
                    with open(path, "wb") as f:
                        f.write(data)
    return changed


def main():
    check = "--check" in sys.argv[1:]
    idx_seeds()
    csv_seeds()
    safetensors_seeds()
    model_seeds()
    onnx_seeds()
    changed = write(check)
    for target in sorted(corpus):
        print(f"{target}: {len(corpus[target])} files")
    if check and changed:
        print("out of date:", *changed, sep="\n  ")
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
