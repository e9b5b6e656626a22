"""Render this chart's own templates without helm (no helm binary exists here).

A small subset of Go templates, exactly what ``helm/astrohub/templates`` uses: ``define``/``include``,
``if``/``else``/``end`` on a value, ``.Values``/``.Release``/``.Chart`` paths, string literals, and the
``quote``, ``nindent N`` and ``toYaml`` functions, with ``{{-``/``-}}`` whitespace trimming. Anything else
raises, so a template using more fails here instead of rendering wrongly."""

from __future__ import annotations

import json
import re
from pathlib import Path

import yaml

TOKEN = re.compile(r"\{\{(-?)\s*(.*?)\s*(-?)\}\}", re.S)


def _tokens(text: str) -> list[tuple[str, str]]:
    """("text", s) and ("action", s) in order, with Go's whitespace trimming applied."""
    out: list[list[str]] = []
    pos = 0
    trim_next = False
    for m in TOKEN.finditer(text):
        chunk = text[pos:m.start()]
        if trim_next:
            chunk = chunk.lstrip()
        if m.group(1):
            chunk = chunk.rstrip()
        out.append(["text", chunk])
        out.append(["action", m.group(2)])
        trim_next = bool(m.group(3))
        pos = m.end()
    chunk = text[pos:]
    out.append(["text", chunk.lstrip() if trim_next else chunk])
    return [(k, v) for k, v in out]


def _parse(tokens, i=0, stop=("end",)):
    """A list of nodes until one of ``stop``; returns (nodes, index of the stop token, the stop word)."""
    nodes = []
    while i < len(tokens):
        kind, val = tokens[i]
        if kind == "text":
            nodes.append(("text", val))
            i += 1
            continue
        word = val.split()[0] if val else ""
        if word in stop:
            return nodes, i, word
        if word == "if":
            body, i, w = _parse(tokens, i + 1, ("else", "end"))
            other = []
            if w == "else":
                other, i, _ = _parse(tokens, i + 1, ("end",))
            nodes.append(("if", val[3:].strip(), body, other))
            i += 1
        elif word == "define":
            body, i, _ = _parse(tokens, i + 1, ("end",))
            nodes.append(("define", json.loads(val.split(None, 1)[1]), body))
            i += 1
        elif word.startswith("/*"):
            i += 1
        else:
            nodes.append(("expr", val))
            i += 1
    return nodes, i, None


class Chart:
    def __init__(self, chart_dir: Path, values: dict, release: str = "astrohub", namespace: str = "science"):
        meta = yaml.safe_load((chart_dir / "Chart.yaml").read_text())
        self.ctx = {"Values": values, "Release": {"Name": release, "Namespace": namespace},
                    "Chart": {"Name": meta["name"], "Version": meta["version"], "AppVersion": meta["appVersion"]}}
        self.defines: dict[str, list] = {}
        self.dir = chart_dir / "templates"
        for helper in sorted(self.dir.glob("_*.tpl")):
            self._eval(_parse(_tokens(helper.read_text()))[0])

    def _value(self, term: str):
        if term.startswith('"'):
            return json.loads(term)
        if term.startswith("."):
            v = self.ctx
            for part in term[1:].split("."):
                v = v[part]
            return v
        raise NotImplementedError(f"template term {term!r}")

    def _pipeline(self, expr: str):
        stages = [s.strip() for s in expr.split("|")]
        head = stages[0].split()
        if head[0] == "include":
            v = self._eval(self.defines[json.loads(head[1])])
        elif head[0] == "toYaml":
            v = yaml.safe_dump(self._value(head[1]), default_flow_style=False, sort_keys=False).rstrip("\n")
        elif len(head) == 1:
            v = self._value(head[0])
        else:
            raise NotImplementedError(f"template action {expr!r}")
        for stage in stages[1:]:
            fn, *args = stage.split()
            if fn == "quote":
                v = json.dumps(str(v))
            elif fn == "nindent":
                pad = " " * int(args[0])
                v = "\n" + "\n".join(pad + line if line else line for line in str(v).split("\n"))
            else:
                raise NotImplementedError(f"template function {fn!r}")
        return v

    def _eval(self, nodes) -> str:
        out = []
        for node in nodes:
            if node[0] == "text":
                out.append(node[1])
            elif node[0] == "define":
                self.defines[node[1]] = node[2]
            elif node[0] == "if":
                out.append(self._eval(node[2] if self._pipeline(node[1]) else node[3]))
            else:
                v = self._pipeline(node[1])
                out.append(str(v).lower() if isinstance(v, bool) else str(v))
        return "".join(out)

    def render(self, name: str) -> list[dict]:
        """The manifests ``templates/name`` renders to (empty documents dropped)."""
        text = self._eval(_parse(_tokens((self.dir / name).read_text()))[0])
        return [d for d in yaml.safe_load_all(text) if d]
