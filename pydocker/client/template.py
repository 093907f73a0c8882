"""The subset of Go's text/template that ``--format`` users rely on.

(One file over 400 lines: the lexer, parser and evaluator share their node types;
apart they would only import each other.)

Supported, with Go's semantics:

* Text and actions ``{{ ... }}``, with ``{{-``/``-}}`` trimming the
  whitespace beside them; comments ``{{/* ... */}}``.
* Operands: ``.`` (the current value), fields ``.A.B.C`` (dict keys or
  object attributes; a missing dict key gives ``<no value>``), ``$`` (the
  root) and variables ``$x`` / ``$x.Field``, string literals ``"..."``
  (with escapes) and raw ``` `...` ```, integers, floats, ``true``,
  ``false``, ``nil``, parenthesised pipelines.
* Pipelines ``a | b | c`` (the value flows in as the last argument);
  method calls with arguments, e.g. ``{{.Label "com.example"}}`` on table
  contexts; declarations ``{{$x := .Name}}`` and assignment ``{{$x = 1}}``.
* ``{{if p}} ... {{else if q}} ... {{else}} ... {{end}}``,
  ``{{range p}} ... {{else}} ... {{end}}`` (also ``range $v := p`` and
  ``range $k, $v := p``; maps iterate in sorted key order),
  ``{{with p}} ... {{else}} ... {{end}}``.
* Functions: ``json``, ``index``, ``join``, ``split``, ``upper``, ``lower``,
  ``title``, ``len``, ``print``, ``printf`` (Python %-style verbs ``%s %d
  %v %q``), ``println``, ``pad``, ``truncate``, ``eq``, ``ne``, ``lt``,
  ``le``, ``gt``, ``ge``, ``and``, ``or``, ``not``.
* The ``table`` prefix is handled by :mod:`pydocker.client.formatter`, not here.

Not supported: ``define``/``template``/``block``, ``break``/``continue``,
``call``, ``html``/``js``/``urlquery``. Values print as Go's ``%v`` would:
``map[k:v]``, ``[a b]``, ``<nil>``, ``true``.
"""

import json

__all__ = ["Template", "TemplateError", "go_str", "render"]


class TemplateError(Exception):
    """Bad template text, or a failure while executing it."""


NO_VALUE = type("NoValue", (), {"__repr__": lambda self: "<no value>"})()


# ----------------------------------------------------------------- lexing

def _split_actions(text):
    """Yield ("text", s) and ("action", s) pieces, applying trim markers."""
    pieces = []
    pos = 0
    while True:
        start = text.find("{{", pos)
        if start < 0:
            pieces.append(["text", text[pos:]])
            break
        pieces.append(["text", text[pos:start]])
        inner_start = start + 2
        trim_left = text.startswith("- ", inner_start) or text.startswith("-\t", inner_start)
        if trim_left:
            inner_start += 1
        end = _find_close(text, inner_start)
        if end < 0:
            raise TemplateError("unclosed action")
        inner_end = end
        trim_right = end > inner_start and text[end - 1] == "-" and text[end - 2:end - 1] in (" ", "\t")
        if trim_right:
            inner_end -= 1
        if trim_left:
            pieces[-1][1] = pieces[-1][1].rstrip()
        pieces.append(["action", text[inner_start:inner_end].strip(), trim_right])
        pos = end + 2
    result = []
    trim_next = False
    for piece in pieces:
        if piece[0] == "text":
            s = piece[1].lstrip() if trim_next else piece[1]
            if s:
                result.append(("text", s))
        else:
            trim_next = piece[2]
            if not piece[1].startswith("/*"):
                result.append(("action", piece[1]))
    return result


def _find_close(text, pos):
    """Index of the ``}}`` closing an action, skipping quoted strings."""
    i = pos
    while i < len(text):
        c = text[i]
        if c in "\"`'":
            close = text.find(c, i + 1)
            while c == '"' and close > 0 and _escaped(text, close):
                close = text.find(c, close + 1)
            if close < 0:
                raise TemplateError("unterminated quoted string")
            i = close + 1
            continue
        if text.startswith("}}", i):
            return i
        i += 1
    return -1


def _escaped(text, index):
    backslashes = 0
    while index - 1 - backslashes >= 0 and text[index - 1 - backslashes] == "\\":
        backslashes += 1
    return backslashes % 2 == 1


def _tokenize(action):
    tokens = []
    i = 0
    n = len(action)
    while i < n:
        c = action[i]
        if c.isspace():
            i += 1
        elif c in "|(),":
            tokens.append(("op", c))
            i += 1
        elif action.startswith(":=", i):
            tokens.append(("op", ":="))
            i += 2
        elif c == "=":
            tokens.append(("op", "="))
            i += 1
        elif c == '"':
            end = i + 1
            while end < n and (action[end] != '"' or _escaped(action, end)):
                end += 1
            try:
                tokens.append(("str", json.loads(action[i:end + 1])))
            except ValueError:
                raise TemplateError(f"bad string literal {action[i:end + 1]}") from None
            i = end + 1
        elif c == "`":
            end = action.index("`", i + 1)
            tokens.append(("str", action[i + 1:end]))
            i = end + 1
        elif c == "." or c == "$" or c.isalpha() or c == "_" or c.isdigit() or c == "-":
            end = i + 1
            while end < n and not action[end].isspace() and action[end] not in "|(),=:":
                end += 1
            tokens.append(_word(action[i:end]))
            i = end
        else:
            raise TemplateError(f"unexpected {c!r} in operand")
    return tokens


def _word(word):
    if word[0].isdigit() or (word[0] == "-" and len(word) > 1):
        try:
            return ("num", int(word))
        except ValueError:
            try:
                return ("num", float(word))
            except ValueError:
                raise TemplateError(f"bad number syntax: {word!r}") from None
    if word == ".":
        return ("dot", None)
    if word.startswith("."):
        return ("field", (None, word[1:].split(".")))
    if word.startswith("$"):
        name, _, rest = word.partition(".")
        return ("field", (name, rest.split(".") if rest else []))
    if word in ("true", "false"):
        return ("bool", word == "true")
    if word == "nil":
        return ("nil", None)
    if "." in word:
        raise TemplateError(f"unexpected {word!r}")
    return ("ident", word)


# ---------------------------------------------------------------- parsing

class _Pipeline:
    def __init__(self, decl, assign, commands):
        self.decl = decl          # variable names declared with :=
        self.assign = assign      # True for `$x = ...`
        self.commands = commands  # list of operand lists


def _parse_pipeline(tokens, allow_decl=True):
    decl, assign = [], False
    if allow_decl:
        # `$x :=`, `$k, $v :=` or `$x =`
        names = []
        j = 0
        while j < len(tokens) and tokens[j][0] == "field" and tokens[j][1][0] and not tokens[j][1][1]:
            names.append(tokens[j][1][0])
            j += 1
            if j < len(tokens) and tokens[j] == ("op", ","):
                j += 1
                continue
            break
        if names and j < len(tokens) and tokens[j] in (("op", ":="), ("op", "=")):
            decl, assign = names, tokens[j][1] == "="
            tokens = tokens[j + 1:]
    commands, current, depth, group = [], [], 0, []
    for tok in tokens:
        if depth:
            if tok == ("op", "("):
                depth += 1
            elif tok == ("op", ")"):
                depth -= 1
                if depth == 0:
                    current.append(("pipe", _parse_pipeline(group, allow_decl=False)))
                    group = []
                    continue
            group.append(tok)
        elif tok == ("op", "("):
            depth = 1
        elif tok == ("op", "|"):
            if not current:
                raise TemplateError("missing command before '|'")
            commands.append(current)
            current = []
        elif tok[0] == "op":
            raise TemplateError(f"unexpected {tok[1]!r} in command")
        else:
            current.append(tok)
    if depth:
        raise TemplateError("unclosed left paren")
    if current:
        commands.append(current)
    if not commands:
        raise TemplateError("missing value for command")
    return _Pipeline(decl, assign, commands)


class _Node:
    def __init__(self, kind, pipe=None, body=None, alt=None, text=None):
        self.kind, self.pipe, self.body, self.alt, self.text = kind, pipe, body, alt, text


def _parse(pieces):
    """Build the node tree; returns the top-level node list."""
    stack = [(None, [])]  # (open node, list being filled)
    for kind, value in pieces:
        nodes = stack[-1][1]
        if kind == "text":
            nodes.append(_Node("text", text=value))
            continue
        keyword = value.split(None, 1)[0] if value else ""
        rest = value[len(keyword):].strip()
        if keyword in ("if", "range", "with"):
            node = _Node(keyword, _parse_pipeline(_tokenize(rest)), [], None)
            nodes.append(node)
            stack.append((node, node.body))
        elif keyword == "else":
            node = stack[-1][0]
            if node is None or node.alt is not None:
                raise TemplateError("unexpected {{else}}")
            node.alt = []
            if rest.startswith("if ") or rest.startswith("with "):
                inner_kw, inner_rest = rest.split(None, 1)
                inner = _Node(inner_kw, _parse_pipeline(_tokenize(inner_rest)), [], None)
                inner.chained = True
                node.alt.append(inner)
                stack[-1] = (node, None)
                stack.append((inner, inner.body))
            else:
                stack[-1] = (node, node.alt)
        elif keyword == "end":
            if stack[-1][0] is None:
                raise TemplateError("unexpected {{end}}")
            while getattr(stack.pop()[0], "chained", False):
                pass
        elif keyword in ("define", "template", "block", "break", "continue"):
            raise TemplateError(f"{{{{{keyword}}}}} is not supported")
        else:
            if not value:
                raise TemplateError("missing value for command")
            nodes.append(_Node("action", _parse_pipeline(_tokenize(value))))
    if len(stack) > 1:
        raise TemplateError(f"unexpected EOF, missing {{{{end}}}} for {stack[-1][0].kind}")
    return stack[0][1]


# ------------------------------------------------------------- evaluation

def truth(value):
    if value is None or value is NO_VALUE:
        return False
    if isinstance(value, (bool, int, float, str, list, tuple, dict)):
        return bool(value)
    return True


def go_str(value):
    """Format ``value`` as Go's ``%v`` would."""
    if value is NO_VALUE:
        return "<no value>"
    if value is None:
        return "<nil>"
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, float):
        return str(int(value)) if value.is_integer() and abs(value) < 1e21 else repr(value)
    if isinstance(value, dict):
        return "map[" + " ".join(f"{go_str(k)}:{go_str(value[k])}" for k in sorted(value)) + "]"
    if isinstance(value, (list, tuple)):
        return "[" + " ".join(go_str(v) for v in value) + "]"
    return str(value)


def go_json(value):
    """``json.Marshal``: compact, HTML characters escaped like Go does."""
    text = json.dumps(_plain(value), separators=(",", ":"), ensure_ascii=False)
    return text.replace("<", "\\u003c").replace(">", "\\u003e").replace("&", "\\u0026")


def _plain(value):
    """Objects given to templates may expose ``to_json()`` for ``{{json .}}``."""
    if hasattr(value, "to_json"):
        return value.to_json()
    return value


def _index(item, *keys):
    for key in keys:
        try:
            if isinstance(item, dict):
                item = item.get(key, NO_VALUE)
            else:
                item = item[int(key)]
        except (IndexError, TypeError, ValueError):
            raise TemplateError(f"error calling index: index {key!r} out of range") from None
    return item


def _printf(fmt, *args):
    fmt = fmt.replace("%v", "%s").replace("%q", "%r")
    return fmt % tuple(go_str(a) if not isinstance(a, (int, float)) else a for a in args)


def _compare(op):
    def fn(a, *rest):
        try:
            return all(op(a, b) for b in rest)
        except TypeError:
            raise TemplateError("incompatible types for comparison") from None
    return fn


def _and(*args):
    for a in args:
        if not truth(a):
            return a
    return args[-1]


def _or(*args):
    for a in args:
        if truth(a):
            return a
    return args[-1]


def _truncate(s, n):
    s = go_str(s)
    return s[:int(n)] if len(s) > int(n) else s


FUNCS = {
    "json": go_json,
    "index": _index,
    "join": lambda items, sep: sep.join(go_str(i) for i in (items or [])),
    "split": lambda s, sep: s.split(sep),
    "upper": lambda s: go_str(s).upper(),
    "lower": lambda s: go_str(s).lower(),
    "title": lambda s: go_str(s).title(),
    "len": lambda v: len(v),
    "print": lambda *a: "".join(go_str(x) for x in a),
    "printf": _printf,
    "println": lambda *a: " ".join(go_str(x) for x in a) + "\n",
    "pad": lambda s, left, right: " " * int(left) + go_str(s) + " " * int(right),
    "truncate": _truncate,
    "eq": lambda a, *rest: any(a == b for b in rest),
    "ne": lambda a, b: a != b,
    "lt": _compare(lambda a, b: a < b),
    "le": _compare(lambda a, b: a <= b),
    "gt": _compare(lambda a, b: a > b),
    "ge": _compare(lambda a, b: a >= b),
    "and": _and,
    "or": _or,
    "not": lambda a: not truth(a),
}


class _Scope:
    def __init__(self, root):
        self.vars = [{"$": root}]

    def push(self):
        self.vars.append({})

    def pop(self):
        self.vars.pop()

    def lookup(self, name):
        for frame in reversed(self.vars):
            if name in frame:
                return frame[name]
        raise TemplateError(f"undefined variable: {name}")

    def declare(self, name, value):
        self.vars[-1][name] = value

    def assign(self, name, value):
        for frame in reversed(self.vars):
            if name in frame:
                frame[name] = value
                return
        raise TemplateError(f"undefined variable: {name}")


def _field(value, name, args):
    if isinstance(value, dict):
        if args:
            raise TemplateError(f"{name} is not a method but has arguments")
        return value.get(name, NO_VALUE)
    if value is None or value is NO_VALUE:
        raise TemplateError(f"nil pointer evaluating .{name}")
    attr = getattr(value, name, NO_VALUE) if not name.startswith("_") else NO_VALUE
    if attr is NO_VALUE:
        raise TemplateError(f"can't evaluate field {name} in type {type(value).__name__}")
    if callable(attr):
        try:
            return attr(*args)
        except TypeError as exc:
            raise TemplateError(f"wrong number of args for {name}: {exc}") from None
    if args:
        raise TemplateError(f"{name} is not a method but has arguments")
    return attr


class Template:
    """A parsed template; ``execute(data)`` returns the rendered text."""

    def __init__(self, text):
        self.text = text
        self.nodes = _parse(_split_actions(text))

    def execute(self, data):
        out = []
        self._run(self.nodes, data, _Scope(data), out)
        return "".join(out)

    def _run(self, nodes, dot, scope, out):
        for node in nodes:
            kind = node.kind
            if kind == "text":
                out.append(node.text)
            elif kind == "action":
                value = self._pipeline(node.pipe, dot, scope)
                if not node.pipe.decl:
                    out.append(go_str(value))
            elif kind in ("if", "with"):
                scope.push()
                value = self._pipeline(node.pipe, dot, scope)
                if truth(value):
                    self._run(node.body, value if kind == "with" else dot, scope, out)
                elif node.alt is not None:
                    self._run(node.alt, dot, scope, out)
                scope.pop()
            elif kind == "range":
                self._range(node, dot, scope, out)

    def _range(self, node, dot, scope, out):
        scope.push()
        decl = node.pipe.decl
        node.pipe.decl = []
        try:
            value = self._pipeline(node.pipe, dot, scope)
        finally:
            node.pipe.decl = decl
        if isinstance(value, dict):
            items = [(k, value[k]) for k in sorted(value)]
        elif isinstance(value, (list, tuple, str)) or value is None or value is NO_VALUE:
            items = list(enumerate(value or []))
        elif isinstance(value, int):
            items = [(i, i) for i in range(value)]
        else:
            raise TemplateError(f"range can't iterate over {go_str(value)}")
        if not items and node.alt is not None:
            self._run(node.alt, dot, scope, out)
        for key, item in items:
            scope.push()
            if len(decl) == 1:
                scope.declare(decl[0], item)
            elif len(decl) == 2:
                scope.declare(decl[0], key)
                scope.declare(decl[1], item)
            self._run(node.body, item, scope, out)
            scope.pop()
        scope.pop()

    def _pipeline(self, pipe, dot, scope):
        value = _UNSET
        for command in pipe.commands:
            value = self._command(command, dot, scope, value)
        for name in pipe.decl:
            (scope.assign if pipe.assign else scope.declare)(name, value)
        return value

    def _command(self, command, dot, scope, piped):
        head, args = command[0], command[1:]
        extra = [] if piped is _UNSET else [piped]
        if head[0] == "ident":
            func = FUNCS.get(head[1])
            if func is None:
                raise TemplateError(f'function "{head[1]}" not defined')
            values = [self._operand(a, dot, scope) for a in args] + extra
            try:
                return func(*values)
            except TemplateError:
                raise
            except (TypeError, ValueError, AttributeError) as exc:
                raise TemplateError(f"error calling {head[1]}: {exc}") from None
        if head[0] == "field":
            values = [self._operand(a, dot, scope) for a in args] + extra
            return self._operand(head, dot, scope, values)
        if args or extra:
            raise TemplateError(f"can't give argument to non-function {head[1]!r}")
        return self._operand(head, dot, scope)

    def _operand(self, token, dot, scope, call_args=()):
        kind, value = token
        if kind == "dot":
            return dot
        if kind == "field":
            var, path = value
            current = scope.lookup(var) if var else dot
            for i, name in enumerate(path):
                last = i == len(path) - 1
                current = _field(current, name, call_args if last else ())
            return current
        if kind in ("str", "num", "bool"):
            return value
        if kind == "nil":
            return None
        if kind == "pipe":
            return self._pipeline(value, dot, scope)
        if kind == "ident":
            return self._command([token], dot, scope, _UNSET)
        raise TemplateError(f"unexpected operand {value!r}")


_UNSET = object()


def render(text, data):
    """Parse and execute ``text`` on ``data`` in one step."""
    return Template(text).execute(data)
