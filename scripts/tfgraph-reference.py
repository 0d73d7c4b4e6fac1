#!/usr/bin/python3
"""Independent NumPy evaluation of a TF.js graph model, for checking
engine/tfgraph against something that is not its own output.

It reads model.json and its weight shards, evaluates the graph in float64
with NumPy (plain TensorFlow op semantics written from the TF docs, no code
shared with the Go runtime), and writes the values of the requested nodes as
a JSON fixture. It implements only the ops MobileFaceNet's graph uses.

    /usr/bin/python3 scripts/tfgraph-reference.py MODEL.json INPUT.f32 OUT.json \
        [--repair] node [node ...]

INPUT.f32 is the little-endian float32 input tensor (1x112x112x3 for
MobileFaceNet); descriptor's TestMobileFaceNetMatchesNumPy writes it for a
test photo when FACEKIT_WRITE_REFERENCE_INPUT names a file. --repair applies
the two fixes descriptor.MobileFaceNet needs (see descriptor/graphfix.go):
a Relu fused into a convolution whose raw output an Abs also reads is taken
out again and given only to the PReLU's Add, and every PReLU's x - |x| is
swapped to |x| - x. Needs python3-numpy (Debian).
"""
import base64
import json
import os
import sys

import numpy as np


def load(path):
    with open(path) as f:
        doc = json.load(f)
    consts = {}
    base = os.path.dirname(path)
    for group in doc["weightsManifest"]:
        data = b"".join(open(os.path.join(base, p), "rb").read() for p in group["paths"])
        off = 0
        for w in group["weights"]:
            n = int(np.prod(w["shape"])) if w["shape"] else 1
            if "quantization" in w:
                raise SystemExit("quantized weights are not implemented")
            dt = {"float32": "<f4", "int32": "<i4"}[w["dtype"]]
            a = np.frombuffer(data, dtype=dt, count=n, offset=off)
            consts[w["name"]] = a.reshape(w["shape"]).astype(np.float64 if dt == "<f4" else np.int64)
            off += 4 * n
    return doc, consts


def attr_list(node, key):
    return [int(v) for v in node.get("attr", {}).get(key, {}).get("list", {}).get("i", [])]


def attr_s(node, key):
    return base64.b64decode(node.get("attr", {}).get(key, {}).get("s", "")).decode()


def fused_ops(node):
    s = node.get("attr", {}).get("fused_ops", {}).get("list", {}).get("s", [])
    return [base64.b64decode(v).decode() for v in s]


def pad_same(x, kh, kw, sh, sw, padding):
    """Zero-pads NHWC x per TF's SAME rule (odd pixel bottom/right)."""
    if padding == "VALID":
        return x
    h, w = x.shape[1], x.shape[2]
    oh, ow = -(-h // sh), -(-w // sw)
    ph = max((oh - 1) * sh + kh - h, 0)
    pw = max((ow - 1) * sw + kw - w, 0)
    return np.pad(x, ((0, 0), (ph // 2, ph - ph // 2), (pw // 2, pw - pw // 2), (0, 0)))


def windows(x, kh, kw, sh, sw):
    """All kh x kw windows: shape N, OH, OW, KH, KW, C."""
    n, h, w, c = x.shape
    oh, ow = (h - kh) // sh + 1, (w - kw) // sw + 1
    out = np.empty((n, oh, ow, kh, kw, c))
    for ky in range(kh):
        for kx in range(kw):
            out[:, :, :, ky, kx, :] = x[:, ky:ky + sh * (oh - 1) + 1:sh, kx:kx + sw * (ow - 1) + 1:sw, :]
    return out


def conv2d(x, f, strides, padding):
    kh, kw = f.shape[0], f.shape[1]
    sh, sw = strides[1], strides[2]
    win = windows(pad_same(x, kh, kw, sh, sw, padding), kh, kw, sh, sw)
    return np.einsum("nhwyxc,yxco->nhwo", win, f)


def depthwise(x, f, strides, padding):
    kh, kw, c, mult = f.shape
    if mult != 1:
        raise SystemExit("depthwise multiplier != 1 is not implemented")
    sh, sw = strides[1], strides[2]
    win = windows(pad_same(x, kh, kw, sh, sw, padding), kh, kw, sh, sw)
    return np.einsum("nhwyxc,yxc->nhwc", win, f[:, :, :, 0])


def repair(nodes):
    by_name = {n["name"]: n for n in nodes}
    readers = {}
    for n in nodes:
        for i in n.get("input", []):
            readers.setdefault(i, []).append(n)
    for n in nodes:  # |x| - x instead of x - |x|
        ins = n.get("input", [])
        if n["op"] == "Sub" and len(ins) == 2:
            a = by_name.get(ins[1])
            if a is not None and a["op"] == "Abs" and a["input"] == [ins[0]]:
                n["input"] = [ins[1], ins[0]]
    extra = []
    for n in nodes:  # unfuse the Relu the PReLU's Abs needs the input of
        if n["op"] not in ("FusedDepthwiseConv2dNative", "_FusedConv2D") or fused_ops(n) != ["BiasAdd", "Relu"]:
            continue
        rs = readers.get(n["name"], [])
        adds = [r for r in rs if r["op"] in ("Add", "AddV2")]
        if not any(r["op"] == "Abs" for r in rs) or not adds:
            continue
        n["attr"]["fused_ops"]["list"]["s"] = [base64.b64encode(b"BiasAdd").decode()]
        relu = {"name": n["name"] + "/prelu_positive", "op": "Relu", "input": [n["name"]]}
        extra.append(relu)
        adds[0]["input"] = [relu["name"] if i == n["name"] else i for i in adds[0]["input"]]
    return nodes + extra


def evaluate(nodes, consts, feed, wanted):
    by_name = {n["name"]: n for n in nodes}
    vals = {}

    def val(name):
        name = name.split(":")[0]
        if name in vals:
            return vals[name]
        n = by_name[name]
        op = n["op"]
        ins = [val(i) for i in n.get("input", []) if not i.startswith("^")]
        if op == "Const":
            v = consts[name]
        elif op == "Placeholder":
            v = feed
        elif op in ("_FusedConv2D", "FusedDepthwiseConv2dNative"):
            strides, padding = attr_list(n, "strides"), attr_s(n, "padding")
            v = (conv2d if op == "_FusedConv2D" else depthwise)(ins[0], ins[1], strides, padding)
            extra = ins[2:]
            for f in fused_ops(n):
                if f == "BiasAdd":
                    v = v + extra.pop(0)
                elif f == "Relu":
                    v = np.maximum(v, 0)
                else:
                    raise SystemExit("fused op %s is not implemented" % f)
        elif op == "Relu":
            v = np.maximum(ins[0], 0)
        elif op == "Abs":
            v = np.abs(ins[0])
        elif op == "Sub":
            v = ins[0] - ins[1]
        elif op == "Mul":
            v = ins[0] * ins[1]
        elif op in ("Add", "AddV2"):
            v = ins[0] + ins[1]
        elif op == "Maximum":
            v = np.maximum(ins[0], ins[1])
        elif op == "Square":
            v = ins[0] * ins[0]
        elif op == "Rsqrt":
            v = 1 / np.sqrt(ins[0])
        elif op == "Sum":
            keep = n.get("attr", {}).get("keep_dims", {}).get("b", False)
            v = np.sum(ins[0], axis=tuple(int(a) for a in np.atleast_1d(ins[1])), keepdims=keep)
        elif op == "Squeeze":
            dims = attr_list(n, "squeeze_dims")
            v = np.squeeze(ins[0], axis=tuple(dims)) if dims else np.squeeze(ins[0])
        else:
            raise SystemExit("op %s is not implemented" % op)
        vals[name] = v
        return v

    return {w: val(w) for w in wanted}


def main():
    args = sys.argv[1:]
    do_repair = "--repair" in args
    args = [a for a in args if a != "--repair"]
    if len(args) < 4:
        raise SystemExit(__doc__)
    model, inpath, outpath, wanted = args[0], args[1], args[2], args[3:]
    doc, consts = load(model)
    nodes = doc["modelTopology"]["node"]
    for n in nodes:  # inline constants (shapes, axes, PReLU slopes)
        if n["op"] == "Const" and n["name"] not in consts:
            t = n["attr"]["value"]["tensor"]
            dims = [int(d.get("size", 0)) for d in t.get("tensorShape", {}).get("dim", [])]
            if "floatVal" in t:
                a = np.array(t["floatVal"], dtype=np.float64)
            else:
                a = np.array([int(v) for v in t.get("intVal", [])], dtype=np.int64)
            consts[n["name"]] = np.broadcast_to(a, dims).copy() if dims else a.reshape(()) if a.size == 1 else a
    if do_repair:
        nodes = repair(nodes)
    shape = [abs(int(d.get("size", 1))) for d in
             next(n for n in nodes if n["op"] == "Placeholder")["attr"]["shape"]["shape"]["dim"]]
    shape[0] = 1
    feed = np.fromfile(inpath, dtype="<f4").astype(np.float64).reshape(shape)
    out = evaluate(nodes, consts, feed, wanted)
    fixture = {
        "model": os.path.basename(model),
        "repaired": do_repair,
        "input": {"shape": shape, "sum": float(feed.sum()), "sumsq": float((feed * feed).sum())},
        "nodes": [{"name": w, "shape": list(out[w].shape), "values": [float(v) for v in out[w].ravel()[:192]],
                   "sum": float(out[w].sum()), "sumabs": float(np.abs(out[w]).sum())} for w in wanted],
    }
    with open(outpath, "w") as f:
        json.dump(fixture, f, indent=1)
        f.write("\n")


if __name__ == "__main__":
    main()
