# SPDX-License-Identifier: (MIT OR Apache-2.0)
"""Reading memscope-bpf's JSON documents from Python.

A report (and a diff) names each frame by its number in the document's
`frame_table` (docs/report-schema.md): every stack is a list of numbers.
load() gives the document with those numbers replaced by the table's frame
objects, shared, so a reader walks stacks as lists of frames:

    import msjson
    r = msjson.load("r.json")
    print([f["function"] for f in r["leaks"][0]["frames"]])
"""
import json

# The members that hold frame numbers: lists of them, and one ("at").
FRAME_LISTS = ("frames", "alloc_frames", "free_frames")
FRAME_ONE = ("at",)


def resolve(doc):
    """Replaces doc's frame numbers with frame_table's entries; returns doc.

    A document without a frame_table (a snapshot line) has its frames whole
    already and is returned as it is; a number the table lacks raises
    ValueError."""
    table = doc.get("frame_table") if isinstance(doc, dict) else None
    if table is None:
        return doc

    def frame(i):
        if not isinstance(i, int) or isinstance(i, bool):
            return i
        if not 0 <= i < len(table):
            raise ValueError(f"frame {i} is not in frame_table "
                             f"({len(table)} frames)")
        return table[i]

    stack = [doc]
    while stack:
        v = stack.pop()
        if isinstance(v, list):
            stack.extend(x for x in v if isinstance(x, (dict, list)))
            continue
        for k, x in v.items():
            if k in FRAME_LISTS and isinstance(x, list):
                v[k] = [frame(i) for i in x]
            elif k in FRAME_ONE and isinstance(x, int):
                v[k] = frame(x)
            elif k != "frame_table" and isinstance(x, (dict, list)):
                stack.append(x)
    return doc


def loads(text):
    return resolve(json.loads(text))


def load(path):
    with open(path, encoding="utf-8") as f:
        return resolve(json.load(f))
