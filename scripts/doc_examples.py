#!/usr/bin/env python3
"""Count the public methods of the crate and which of them have an example.

    python3 scripts/doc_examples.py          # summary and the methods without one
    python3 scripts/doc_examples.py --all    # every public method, with or without

Prints "N of M public methods have an example", lists the ones without, and
exits 1 below 100 %.

Counted: every `pub fn` (also `const`, `async`, `unsafe`) of the public API
under src/, that is
- the methods of inherent `impl` blocks of public types, and
- free functions at module level that are public,
whatever the features (the scan reads the source, so `std`, `alloc`, `capi`,
`critical-section`, `spin` and `async` items are all counted).

A type or function is public when lib.rs re-exports it by name (`pub use`),
or when it is declared `pub` in a `pub mod` reachable from lib.rs (or
re-exported there by `pub use`, also with `*`). Not counted: `pub(crate)`,
`pub(super)` and `pub(in ...)` items, items of private modules that are not
re-exported, `#[doc(hidden)]` items, trait impls (documented by the trait),
trait declarations, `extern "C"` functions (documented in include/tardy.h),
`#[cfg(test)]` modules, and function templates inside `macro_rules!`.

An example is a fenced code block in the item's doc comment whose fence is
``` or a Rust one (```rust, ```no_run, ```should_panic, ```compile_fail,
```edition2021, ...). ```text, ```sh, ```c, ```toml and ```ignore blocks are
not examples: rustdoc does not run them.

The scan needs no build and no nightly toolchain (rustdoc's JSON output,
which lists the same items, is nightly-only); it reads Rust source with a
small lexer (comments, strings, raw strings, char literals and lifetimes) and
brace matching.
"""

from __future__ import annotations

import os
import re
import sys
from dataclasses import dataclass, field

ROOT = os.path.normpath(os.path.join(os.path.dirname(os.path.abspath(__file__)), ".."))
SRC = os.path.join(ROOT, "src")

# Fence info strings that rustdoc compiles or runs as Rust.
RUST_FENCE_WORDS = {
    "",
    "rust",
    "no_run",
    "should_panic",
    "compile_fail",
    "edition2015",
    "edition2018",
    "edition2021",
    "edition2024",
    "standalone_crate",
}


def mask(text: str) -> str:
    """`text` with comments and the contents of string and char literals
    replaced by spaces (newlines kept), so braces, semicolons and keywords
    in the result are code."""
    out = list(text)
    i, n = 0, len(text)

    def blank(a: int, b: int) -> None:
        for k in range(a, min(b, n)):
            if out[k] != "\n":
                out[k] = " "

    while i < n:
        c = text[i]
        if text.startswith("//", i):
            j = text.find("\n", i)
            j = n if j < 0 else j
            blank(i, j)
            i = j
        elif text.startswith("/*", i):
            depth, j = 1, i + 2
            while j < n and depth:
                if text.startswith("/*", j):
                    depth, j = depth + 1, j + 2
                elif text.startswith("*/", j):
                    depth, j = depth - 1, j + 2
                else:
                    j += 1
            blank(i, j)
            i = j
        elif re.match(r'b?r#*"', text[i : i + 260]) and (i == 0 or not (text[i - 1].isalnum() or text[i - 1] == "_")):
            m = re.match(r'(b?r)(#*)"', text[i:])
            hashes = m.group(2)
            start = i + len(m.group(0))
            end = text.find('"' + hashes, start)
            end = n if end < 0 else end + 1 + len(hashes)
            blank(start, end - 1 - len(hashes))
            i = end
        elif c == '"' or (c == "b" and text.startswith('b"', i) and (i == 0 or not text[i - 1].isalnum())):
            j = i + (2 if c == "b" else 1)
            while j < n and text[j] != '"':
                j += 2 if text[j] == "\\" else 1
            blank(i + (2 if c == "b" else 1), j)
            i = j + 1
        elif c == "'":
            # A char literal ('a', '\n', '\u{1F600}', '{') or a lifetime ('a).
            m = re.match(r"'(\\(u\{[0-9a-fA-F]+\}|x[0-9a-fA-F]{2}|.)|[^\\'])'", text[i : i + 16])
            if m:
                blank(i + 1, i + len(m.group(0)) - 1)
                i += len(m.group(0))
            else:
                i += 1
        else:
            i += 1
    return "".join(out)


@dataclass
class Frame:
    kind: str  # "mod", "impl", "trait_impl", "fn", "macro", "other"
    name: str = ""
    skip: bool = False  # inside a cfg(test) module, a fn body or a macro


@dataclass
class Method:
    path: str
    line: int
    owner: str  # the type of an inherent impl, "" for a free function
    name: str
    has_example: bool


@dataclass
class Module:
    path: str  # file
    public: bool  # reachable from the crate root through `pub mod`s only
    children: list = field(default_factory=list)


def strip_generics(s: str) -> str:
    """Remove balanced <...> groups (`->` is not a bracket)."""
    out, depth, i = [], 0, 0
    while i < len(s):
        if s.startswith("->", i):
            if depth == 0:
                out.append("->")
            i += 2
            continue
        c = s[i]
        if c == "<":
            depth += 1
        elif c == ">" and depth:
            depth -= 1
        elif depth == 0:
            out.append(c)
        i += 1
    return "".join(out)


ATTR_RE = re.compile(r"#!?\[")


def strip_attributes(masked_header: str) -> str:
    """Remove `#[...]` attributes (balanced brackets) from a masked header."""
    out, i = [], 0
    while i < len(masked_header):
        m = ATTR_RE.match(masked_header, i)
        if m:
            depth, j = 1, m.end()
            while j < len(masked_header) and depth:
                if masked_header[j] == "[":
                    depth += 1
                elif masked_header[j] == "]":
                    depth -= 1
                j += 1
            i = j
        else:
            out.append(masked_header[i])
            i += 1
    return "".join(out)


def doc_lines(raw_header: str) -> list[str]:
    lines = []
    for line in raw_header.splitlines():
        s = line.strip()
        if s.startswith("///") and not s.startswith("////"):
            lines.append(s[3:][1:] if s[3:].startswith(" ") else s[3:])
    return lines


def has_rust_example(docs: list[str]) -> bool:
    for line in docs:
        m = re.match(r"\s*(```+|~~~+)\s*(.*)$", line)
        if not m:
            continue
        words = {w.strip() for w in re.split(r"[,\s]+", m.group(2).strip())}
        words.discard("")
        if not words:
            return True
        if "ignore" in words:
            continue
        if all(w in RUST_FENCE_WORDS or w.startswith("edition") for w in words):
            return True
        # Fences are opened and closed by the same line; a closing fence has
        # no info string, handled above. Anything else (text, sh, c) is skipped.
    return False


PUB_FN_RE = re.compile(
    r"\bpub\s+(?:(?:const|async|unsafe|default)\s+)*(extern\s+(?:\"\s*\"\s+)?)?fn\s+([A-Za-z_][A-Za-z0-9_]*)"
)
MOD_RE = re.compile(r"^(pub(?:\s*\([^)]*\))?\s+)?mod\s+([A-Za-z_][A-Za-z0-9_]*)$")
PUB_ITEM_RE = re.compile(
    r"^\s*pub\s+(?:(?:const|async|unsafe)\s+)*(?:extern\s+(?:\"\s*\"\s+)?)?"
    r"(struct|enum|union|type|trait|fn)\s+([A-Za-z_][A-Za-z0-9_]*)"
)
USE_RE = re.compile(r"^\s*(pub(\s*\([^)]*\))?\s+)?use\b")
PUB_USE_RE = re.compile(r"^\s*pub\s+use\s+([^;]+);", re.S)


def statements(masked: str):
    """Top-level scan of a masked file: yields (kind, start, end) where kind is
    "{" for a block opened at `end` (header masked[start:end]) or ";" for a
    statement masked[start:end] ending at `end`, and "}" for a block closing.
    """
    start, use_depth = 0, 0
    for i, c in enumerate(masked):
        if c == "{" and (use_depth or USE_RE.match(strip_attributes(masked[start:i]))):
            use_depth += 1  # a use tree: `use a::{b, c};` is one statement
        elif c == "}" and use_depth:
            use_depth -= 1
        elif c == "{":
            yield "{", start, i
            start = i + 1
        elif c == ";":
            yield ";", start, i
            start = i + 1
        elif c == "}":
            yield "}", start, i
            start = i + 1


def is_cfg_test(masked_header: str) -> bool:
    return bool(re.search(r"#\[\s*cfg\s*\(\s*test\s*\)\s*\]", masked_header))


class Scanner:
    def __init__(self) -> None:
        self.methods: list[Method] = []
        self.pub_types: set[str] = set()  # declared `pub` somewhere (struct/enum/type/union/trait)
        self.exported: set[str] = set()  # re-exported by lib.rs or declared/re-exported in a pub mod
        self.visited: set[str] = set()

    # Module tree ---------------------------------------------------------

    def module_file(self, parent_file: str, name: str) -> str | None:
        base = os.path.dirname(parent_file)
        stem = os.path.splitext(os.path.basename(parent_file))[0]
        if stem not in ("lib", "mod", "main"):
            base = os.path.join(base, stem)
        for cand in (os.path.join(base, name + ".rs"), os.path.join(base, name, "mod.rs")):
            if os.path.exists(cand):
                return cand
        return None

    def scan_file(self, path: str, public: bool) -> None:
        if path in self.visited:
            return
        self.visited.add(path)
        with open(path, encoding="utf-8") as f:
            raw = f.read()
        masked = mask(raw)
        stack: list[Frame] = [Frame("mod", skip=False)]
        # Public-ness of the inline module frames: parallel to `stack`.
        pub_stack: list[bool] = [public]
        # Names declared `pub` per module frame, and `pub use` globs, to
        # resolve `pub use child::*` in public modules.
        for kind, start, end in statements(masked):
            header_m = masked[start:end]
            header_raw = raw[start:end]
            top = stack[-1]
            if kind == "}":
                if len(stack) > 1:
                    stack.pop()
                    pub_stack.pop()
                continue
            if top.skip:
                if kind == "{":
                    stack.append(Frame("other", skip=True))
                    pub_stack.append(False)
                continue
            code = strip_attributes(header_m).strip()
            if kind == ";":
                self.statement(path, code, header_m, top, pub_stack[-1])
                continue
            # A block opens.
            frame = self.classify(code, header_m, header_raw, raw, start, path, top, pub_stack[-1])
            stack.append(frame)
            if frame.kind == "mod":
                pub_stack.append(pub_stack[-1] and code.startswith("pub ") and not code.startswith("pub("))
            else:
                pub_stack.append(pub_stack[-1])

    def statement(self, path: str, code: str, header_m: str, top: Frame, public: bool) -> None:
        if top.kind != "mod":
            return
        m = MOD_RE.match(code)
        if m and not is_cfg_test(header_m):
            vis = (m.group(1) or "").strip()
            child = self.module_file(path, m.group(2))
            if child:
                self.scan_file(child, public and vis == "pub")
            return
        m = PUB_USE_RE.match(code + ";")
        if m:
            names = re.findall(r"([A-Za-z_][A-Za-z0-9_]*|\*)\s*(?=[,}]|$)", m.group(1).replace("\n", " "))
            # `a as b`: the exported name is b, the last identifier before , or }.
            is_root = os.path.basename(path) == "lib.rs"
            if is_root or public:
                for n in names:
                    if n == "*":
                        # Glob re-export in a public module: every `pub` item
                        # of the named module is public.
                        target = re.sub(r"::\*$", "", m.group(1).strip()).split("::")[-1]
                        child = self.module_file(path, target)
                        if child:
                            self.glob_exports(child)
                    else:
                        self.exported.add(n)
            return
        m = PUB_ITEM_RE.match(code)
        if m and public:
            self.exported.add(m.group(2))
        if m and m.group(1) != "fn":
            self.pub_types.add(m.group(2))

    def glob_exports(self, path: str) -> None:
        with open(path, encoding="utf-8") as f:
            masked = mask(f.read())
        depth = 0
        for kind, start, _end in statements(masked):
            if kind == "}":
                depth -= 1
                continue
            if depth == 0:
                m = PUB_ITEM_RE.match(strip_attributes(masked[start:_end]).strip())
                if m:
                    self.exported.add(m.group(2))
            if kind == "{":
                depth += 1

    def classify(self, code, header_m, header_raw, raw, start, path, top, public) -> Frame:
        words = code.split()
        if re.search(r"\bmacro_rules\s*!", code):
            return Frame("macro", skip=True)
        if top.kind == "mod":
            m = MOD_RE.match(code)
            if m:
                return Frame("mod", m.group(2), skip=is_cfg_test(header_m))
            if re.match(r"^(unsafe\s+)?impl\b", code):
                rest = strip_generics(re.sub(r"^(unsafe\s+)?impl", "", code, count=1))
                before_where = re.split(r"\bwhere\b", rest)[0]
                if re.search(r"\bfor\b", before_where):
                    return Frame("trait_impl", skip=True)
                idents = re.findall(r"[A-Za-z_][A-Za-z0-9_]*", before_where)
                idents = [i for i in idents if i not in ("dyn", "mut", "const")]
                return Frame("impl", idents[-1] if idents else "?")
            m = PUB_ITEM_RE.match(code)
            if m and m.group(1) != "fn":
                if public:
                    self.exported.add(m.group(2))
                self.pub_types.add(m.group(2))
        if re.search(r"\bfn\s+[A-Za-z_]", code):
            if top.kind in ("mod", "impl"):
                self.function(code, header_m, header_raw, raw, start, path, top)
            return Frame("fn", skip=True)
        if top.kind == "mod" and re.match(r"^(pub\s+)?trait\b", code):
            return Frame("other", skip=True)
        return Frame("other", skip=top.kind not in ("mod",))

    def function(self, code, header_m, header_raw, raw, start, path, top) -> None:
        m = PUB_FN_RE.match(code)
        if not m or m.group(1):  # not plain `pub`, or extern "C"
            return
        if re.search(r"#\[\s*doc\s*\(\s*hidden\s*\)\s*\]", header_m):
            return
        # The line of `fn name`, for the report.
        pos = max(header_m.find("fn " + m.group(2)), 0)
        line = raw.count("\n", 0, start + pos) + 1
        self.methods.append(
            Method(
                os.path.relpath(path, ROOT),
                line,
                top.name if top.kind == "impl" else "",
                m.group(2),
                has_rust_example(doc_lines(header_raw)),
            )
        )

    # Result --------------------------------------------------------------

    def public_methods(self) -> list[Method]:
        out = []
        for meth in self.methods:
            if meth.owner:
                if meth.owner in self.exported and meth.owner in self.pub_types:
                    out.append(meth)
            elif meth.name in self.exported:
                out.append(meth)
        return out


def main() -> int:
    show_all = "--all" in sys.argv[1:]
    scanner = Scanner()
    scanner.scan_file(os.path.join(SRC, "lib.rs"), True)
    methods = sorted(scanner.public_methods(), key=lambda m: (m.path, m.line))
    with_example = [m for m in methods if m.has_example]
    missing = [m for m in methods if not m.has_example]
    for meth in methods if show_all else missing:
        name = f"{meth.owner}::{meth.name}" if meth.owner else meth.name
        mark = "" if not show_all else ("ok       " if meth.has_example else "missing  ")
        print(f"{mark}{meth.path}:{meth.line}: {name}")
    total = len(methods)
    pct = 100.0 * len(with_example) / total if total else 100.0
    print(f"{len(with_example)} of {total} public methods have an example ({pct:.0f} %)")
    if total == 0:
        print("no public methods found: the scan is broken", file=sys.stderr)
        return 2
    return 0 if not missing else 1


if __name__ == "__main__":
    sys.exit(main())
