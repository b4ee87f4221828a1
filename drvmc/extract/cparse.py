"""C source → `cast.Unit`, with tree-sitter's C grammar.

tree-sitter is an error-tolerant parser: kernel macros it does not know and missing headers give
ERROR nodes around the part it could not read, the rest of the file is still a tree. Each such
node is recorded (file, line, text) for the summary and its readable children are still walked,
so a file the parser cannot fully read still yields what it can. tree-sitter stays in this
module; the extractor sees only `cast` values.
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from typing import TYPE_CHECKING

from drvmc.extract import cast as C

if TYPE_CHECKING:
    from tree_sitter import Node, Parser

# a recursion guard: deeper nesting than this is not driver code worth modelling
MAX_DEPTH = 64


def _parser() -> Parser:
    import tree_sitter_c
    from tree_sitter import Language, Parser

    return Parser(Language(tree_sitter_c.language()))


def parse_files(sources: list[tuple[str, str]]) -> C.Unit:
    """Parse each (file name, text) and merge what they define."""
    parser = _parser()
    parts: list[C.Unit] = []
    errors: list[tuple[str, int, str]] = []
    for name, text in sources:
        root = parser.parse(_blank_annotations(text).encode("utf-8", "replace")).root_node
        parts.append(_Reader(name).unit(root))
        errors += _unreadable(name, root)
    return C.Unit(
        functions=tuple(f for p in parts for f in p.functions),
        structs=tuple(s for p in parts for s in p.structs),
        globals=tuple(g for p in parts for g in p.globals),
        macros=tuple(m for p in parts for m in p.macros),
        skipped=tuple(errors),
    )


# kernel annotations that expand to nothing (or to attributes) in a driver: the C grammar does
# not know them, so they are blanked (same length: lines and columns stay) before parsing
ANNOTATIONS = re.compile(
    r"\b(?:__iomem|__user|__rcu|__percpu|__force|__must_check|__init|__exit|__initdata|"
    r"__maybe_unused|__always_unused|__cold|__ro_after_init|__packed|__read_mostly|"
    r"__always_inline|noinline|__attribute__\s*\(\([^()]*\)\))")


def _blank_annotations(text: str) -> str:
    return ANNOTATIONS.sub(lambda m: " " * len(m.group(0)), text)


# macros that take a type as an argument: the parser reads it as an error, the extractor does
# not need it
TYPE_ARG_MACROS = frozenset({"container_of", "from_timer", "timer_container_of", "offsetof",
                             "sizeof_field", "list_entry", "list_first_entry", "devm_kzalloc",
                             "kzalloc", "kcalloc", "devm_kcalloc", "struct_size"})


def _unreadable(file: str, root: Node) -> list[tuple[str, int, str]]:
    """Every outermost part of the tree the parser could not read (ERROR) or had to make up
    (MISSING), but for the type arguments of TYPE_ARG_MACROS."""
    out: list[tuple[str, int, str]] = []
    stack: list[tuple[Node, bool]] = [(root, False)]
    while stack:
        n, in_type_macro = stack.pop()
        if not n.has_error and not n.is_missing:
            continue
        if n.type == "ERROR" or n.is_missing:
            if not in_type_macro:
                what = f"missing {n.type}" if n.is_missing else _short(_text(n))
                out.append((file, _line(n), what))
            continue
        if n.type == "call_expression":
            fn = n.child_by_field_name("function")
            in_type_macro = in_type_macro or _text(fn) in TYPE_ARG_MACROS
        stack.extend((c, in_type_macro) for c in reversed(n.children))
    return out


def _text(n: Node | None) -> str:
    if n is None or n.text is None:
        return ""
    return n.text.decode("utf-8", "replace")


def _line(n: Node) -> int:
    return n.start_point[0] + 1


def _short(text: str) -> str:
    one = " ".join(text.split())
    return one if len(one) <= 60 else one[:57] + "..."


class _Reader:
    """Walks one file's tree; collects what it could not read in `skipped`."""

    def __init__(self, file: str) -> None:
        self.file = file
        self.skipped: list[tuple[str, int, str]] = []

    # ---- top level ---------------------------------------------------------------------------

    def unit(self, root: Node) -> C.Unit:
        functions: list[C.Function] = []
        structs: list[C.StructDef] = []
        globals_: list[C.Global] = []
        macros: list[C.Macro] = []
        for n in self._top_nodes(root, 0):
            if n.type == "function_definition":
                f = self._function(n)
                if f is not None:
                    functions.append(f)
            elif n.type == "declaration":
                g = self._global(n)
                if g is not None:
                    globals_.append(g)
                m = self._decl_macro(n)
                if m is not None:
                    macros.append(m)
            elif n.type == "expression_statement":
                call = n.named_children[0] if n.named_children else None
                if call is not None and call.type == "call_expression":
                    macros.append(C.Macro(_text(call.child_by_field_name("function")),
                                          self._arg_texts(call), _line(n)))
            structs.extend(self._structs(n, 0))
        return C.Unit(tuple(functions), tuple(structs), tuple(globals_), tuple(macros),
                      tuple(self.skipped))

    def _top_nodes(self, n: Node, depth: int) -> Iterator[Node]:
        """File-scope items, looking through preprocessor conditionals and ERROR nodes."""
        for c in n.named_children:
            if c.type == "ERROR":
                self.skipped.append((self.file, _line(c), _short(_text(c))))
            if c.type == "ERROR" or c.type.startswith("preproc_if") or c.type in (
                    "preproc_else", "preproc_elif", "linkage_specification",
                    "declaration_list"):
                if depth < MAX_DEPTH:
                    yield from self._top_nodes(c, depth + 1)
            else:
                yield c

    def _structs(self, n: Node, depth: int) -> Iterator[C.StructDef]:
        if depth > MAX_DEPTH or n.type == "function_definition":
            return
        if n.type == "struct_specifier":
            body = n.child_by_field_name("body")
            name = _text(n.child_by_field_name("name"))
            if body is not None and name:
                fields: list[C.Field] = []
                for fd in body.named_children:
                    if fd.type != "field_declaration":
                        continue
                    base = self._base_type(fd.child_by_field_name("type"))
                    for d in fd.children_by_field_name("declarator"):
                        fname, pointer = self._declarator(d)
                        if fname:
                            fields.append(C.Field(fname, C.CType(base.name, base.struct,
                                                                 pointer)))
                yield C.StructDef(name, tuple(fields))
        for c in n.named_children:
            yield from self._structs(c, depth + 1)

    def _base_type(self, t: Node | None) -> C.CType:
        if t is None:
            return C.CType("")
        if t.type in ("struct_specifier", "union_specifier", "enum_specifier"):
            return C.CType(_text(t.child_by_field_name("name")), struct=t.type != "enum_specifier")
        return C.CType(_text(t))

    def _declarator(self, d: Node | None) -> tuple[str, bool]:
        """The declared name and whether it is a pointer (array declarators count as
        pointers: the object is reached through them)."""
        pointer = False
        depth = 0
        while d is not None and depth < MAX_DEPTH:
            depth += 1
            if d.type in ("identifier", "field_identifier", "type_identifier"):
                return _text(d), pointer
            if d.type in ("pointer_declarator", "abstract_pointer_declarator",
                          "array_declarator"):
                pointer = True
            nxt = d.child_by_field_name("declarator")
            if nxt is None:
                named = [c for c in d.named_children if c.type != "type_qualifier"]
                nxt = named[0] if named else None
            d = nxt
        return "", pointer

    def _function(self, n: Node) -> C.Function | None:
        d = n.child_by_field_name("declarator")
        depth = 0
        while d is not None and d.type != "function_declarator" and depth < MAX_DEPTH:
            depth += 1
            d = d.child_by_field_name("declarator")
        if d is None:
            return None
        name = _text(d.child_by_field_name("declarator"))
        params: list[C.Param] = []
        plist = d.child_by_field_name("parameters")
        for p in plist.named_children if plist is not None else []:
            if p.type != "parameter_declaration":
                continue
            base = self._base_type(p.child_by_field_name("type"))
            pname, pointer = self._declarator(p.child_by_field_name("declarator"))
            params.append(C.Param(pname, C.CType(base.name, base.struct, pointer)))
        body = n.child_by_field_name("body")
        stmts = tuple(self._stmts(body, 0)) if body is not None else ()
        return C.Function(name, _line(n), self.file, tuple(params), stmts)

    def _global(self, n: Node) -> C.Global | None:
        base = self._base_type(n.child_by_field_name("type"))
        for d in n.children_by_field_name("declarator"):
            if d.type != "init_declarator":
                continue
            value = d.child_by_field_name("value")
            if value is None or value.type != "initializer_list":
                continue
            name, _ = self._declarator(d.child_by_field_name("declarator"))
            entries = tuple(self._init_entries(value, (), 0))
            array = tuple(self._expr(c, 0) for c in value.named_children
                          if c.type not in ("initializer_pair", "comment"))
            return C.Global(name, base.name, _line(n), entries, array)
        return None

    def _init_entries(self, lst: Node, path: tuple[str, ...],
                      depth: int) -> Iterator[C.InitEntry]:
        for c in lst.named_children:
            if c.type == "initializer_pair":
                designators = c.children_by_field_name("designator")
                names = tuple(_text(x).lstrip(".").strip() for x in designators)
                value = c.child_by_field_name("value")
                if value is None:
                    continue
                if value.type == "initializer_list" and depth < MAX_DEPTH:
                    yield from self._init_entries(value, path + names, depth + 1)
                else:
                    yield C.InitEntry(path + names, self._expr(value, 0))
            elif c.type == "call_expression":
                yield C.InitEntry(path, self._expr(c, 0))

    def _decl_macro(self, n: Node) -> C.Macro | None:
        """`static DEVICE_ATTR_RO(foo);` reads as a declaration of `foo` with type
        DEVICE_ATTR_RO; `static SIMPLE_DEV_PM_OPS(x, a, b);` similarly."""
        t = n.child_by_field_name("type")
        if t is None or t.type != "type_identifier":
            return None
        for d in n.children_by_field_name("declarator"):
            if d.type in ("parenthesized_declarator", "function_declarator"):
                inner = _text(d).strip()
                if inner.startswith(("(",)) or d.type == "function_declarator":
                    args = inner[inner.find("(") + 1:inner.rfind(")")] if "(" in inner else inner
                    if d.type == "function_declarator":
                        args = _text(d.child_by_field_name("parameters"))[1:-1]
                        args = _text(d.child_by_field_name("declarator")) + "," + args
                    return C.Macro(_text(t), tuple(a.strip() for a in args.split(",")
                                                   if a.strip()), _line(n))
        return None

    def _arg_texts(self, call: Node) -> tuple[str, ...]:
        args = call.child_by_field_name("arguments")
        if args is None:
            return ()
        return tuple(_text(a) for a in args.named_children if a.type != "comment")

    # ---- statements --------------------------------------------------------------------------

    def _stmts(self, n: Node, depth: int) -> Iterator[C.Stmt]:
        """The statements of a block (or a single statement), blocks flattened."""
        if depth > MAX_DEPTH:
            self.skipped.append((self.file, _line(n), "nesting too deep"))
            yield C.Skipped(_line(n), "nesting too deep")
            return
        line = _line(n)
        match n.type:
            case "compound_statement" | "preproc_ifdef" | "preproc_if" | "preproc_else" \
                    | "preproc_elif":
                for c in n.named_children:
                    if c.type in ("comment", "identifier", "preproc_arg") \
                            and n.type != "compound_statement":
                        continue
                    if c.type == "comment":
                        continue
                    yield from self._stmts(c, depth + 1)
            case "declaration":
                base = self._base_type(n.child_by_field_name("type"))
                for d in n.children_by_field_name("declarator"):
                    init = None
                    target = d
                    if d.type == "init_declarator":
                        v = d.child_by_field_name("value")
                        init = self._expr(v, 0) if v is not None else None
                        target = d.child_by_field_name("declarator") or d
                    name, pointer = self._declarator(target)
                    yield C.Decl(line, C.CType(base.name, base.struct, pointer), name, init)
            case "expression_statement":
                if n.named_children:
                    yield C.ExprStmt(line, self._expr(n.named_children[0], 0))
            case "if_statement":
                cond = n.child_by_field_name("condition")
                cons = n.child_by_field_name("consequence")
                alt = n.child_by_field_name("alternative")
                if alt is not None and alt.type == "else_clause":
                    alt = alt.named_children[0] if alt.named_children else None
                yield C.If(line, self._expr(cond, 0) if cond is not None else C.Other("", ()),
                           tuple(self._stmts(cons, depth + 1)) if cons is not None else (),
                           tuple(self._stmts(alt, depth + 1)) if alt is not None else ())
            case "return_statement":
                v = n.named_children[0] if n.named_children else None
                yield C.Return(line, self._expr(v, 0) if v is not None else None)
            case "goto_statement":
                yield C.Goto(line, _text(n.child_by_field_name("label")))
            case "labeled_statement":
                yield C.Label(line, _text(n.child_by_field_name("label")))
                for c in n.named_children[1:]:
                    yield from self._stmts(c, depth + 1)
            case "for_statement" | "while_statement" | "do_statement":
                body = n.child_by_field_name("body")
                head = _short(_text(n).split("{", 1)[0])
                yield C.Loop(line, head,
                             tuple(self._stmts(body, depth + 1)) if body is not None else ())
            case "comment" | "preproc_call" | "preproc_def" | "preproc_function_def" \
                    | "preproc_include":
                return
            case "ERROR":
                self.skipped.append((self.file, line, _short(_text(n))))
                yield C.Skipped(line, "unreadable: " + _short(_text(n)))
            case _:
                yield C.Skipped(line, _short(_text(n)))

    # ---- expressions -------------------------------------------------------------------------

    def _expr(self, n: Node, depth: int) -> C.Expr:
        if depth > MAX_DEPTH:
            return C.Other("...", ())
        d = depth + 1
        match n.type:
            case "identifier" | "field_identifier":
                return C.Ident(_text(n))
            case "number_literal" | "string_literal" | "concatenated_string" | "char_literal" \
                    | "null" | "true" | "false":
                return C.Literal(_text(n))
            case "call_expression":
                fn = n.child_by_field_name("function")
                args = n.child_by_field_name("arguments")
                name = _text(fn) if fn is not None and fn.type == "identifier" else ""
                argv = tuple(self._expr(a, d) for a in args.named_children
                             if a.type not in ("comment", "ERROR")) if args is not None else ()
                if not name and fn is not None:
                    argv = (self._expr(fn, d), *argv)
                return C.Call(name, argv, _line(n))
            case "field_expression":
                base = n.child_by_field_name("argument")
                op = n.child_by_field_name("operator")
                return C.Member(self._expr(base, d) if base is not None else C.Other("", ()),
                                _text(n.child_by_field_name("field")), _text(op) == "->")
            case "subscript_expression":
                base = n.child_by_field_name("argument")
                idx = n.child_by_field_name("index")
                if base is None and n.named_children:
                    base = n.named_children[0]
                return C.Index(self._expr(base, d) if base is not None else C.Other("", ()),
                               self._expr(idx, d) if idx is not None else C.Other("", ()))
            case "pointer_expression" | "unary_expression" | "update_expression":
                arg = n.child_by_field_name("argument")
                uop = _text(n.child_by_field_name("operator"))
                return C.Unary(uop, self._expr(arg, d) if arg is not None else C.Other("", ()))
            case "binary_expression":
                left = n.child_by_field_name("left")
                right = n.child_by_field_name("right")
                if left is None or right is None:
                    return C.Other(_text(n), ())
                return C.Binary(_text(n.child_by_field_name("operator")), self._expr(left, d),
                                self._expr(right, d))
            case "assignment_expression":
                left = n.child_by_field_name("left")
                right = n.child_by_field_name("right")
                if left is None or right is None:
                    return C.Other(_text(n), ())
                return C.Assign(self._expr(left, d), _text(n.child_by_field_name("operator")),
                                self._expr(right, d))
            case "parenthesized_expression":
                inner = [c for c in n.named_children if c.type != "comment"]
                return self._expr(inner[0], d) if len(inner) == 1 else C.Other(_text(n), ())
            case "cast_expression":
                v = n.child_by_field_name("value")
                return self._expr(v, d) if v is not None else C.Other(_text(n), ())
            case "sizeof_expression" | "alignof_expression" | "offsetof_expression":
                return C.Other(_text(n), ())  # not evaluated: no dereference
            case _:
                return C.Other(_short(_text(n)),
                               tuple(self._expr(c, d) for c in n.named_children
                                     if c.type not in ("comment", "ERROR", "type_descriptor")))
