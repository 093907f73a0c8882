"""Variable substitution in Dockerfile words, as the builder (not the shell) does it.

Quotes group and are removed, the escape character makes the next character literal,
``$name`` and ``${name}`` expand, and so do ``${name:-word}``, ``${name-word}``,
``${name:+word}``, ``${name+word}``, ``${name:?message}`` and ``${name?message}``.
Only the instructions dockerd expands use this (ENV, ARG, LABEL, COPY, ADD, WORKDIR,
USER, EXPOSE, VOLUME, STOPSIGNAL, FROM); RUN and CMD leave it to the shell.
"""

from pydocker.errdefs import InvalidParameter

_NAME_START = set("abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ_")
_NAME = _NAME_START | set("0123456789")


def env_map(env_list):
    """{"K": "v"} from ["K=v", ...] (the later entry wins)."""
    result = {}
    for item in env_list or ():
        key, _, value = item.partition("=")
        result[key] = value
    return result


def expand(word, env, escape="\\"):
    """``word`` with its quotes removed and its variables substituted from ``env`` (a dict)."""
    return "".join(_Lexer(word, env, escape).word())


def expand_words(text, env, escape="\\"):
    """``text`` split on unquoted whitespace, each word expanded (for EXPOSE, VOLUME...)."""
    return [w for w in _Lexer(text, env, escape).words() if w]


class _Lexer:
    def __init__(self, text, env, escape):
        self.text = text
        self.pos = 0
        self.env = env
        self.escape = escape

    def _peek(self):
        return self.text[self.pos] if self.pos < len(self.text) else ""

    def _next(self):
        ch = self._peek()
        self.pos += 1
        return ch

    def word(self, stop=""):
        """Characters up to ``stop`` (unquoted) or the end; returns a list of pieces."""
        out = []
        while self.pos < len(self.text):
            ch = self._peek()
            if stop and ch in stop:
                break
            self.pos += 1
            if ch == self.escape:
                nxt = self._next()
                out.append(nxt)
            elif ch == "'":
                out.append(self._single_quoted())
            elif ch == '"':
                out.append(self._double_quoted())
            elif ch == "$":
                out.append(self._variable())
            else:
                out.append(ch)
        return out

    def words(self):
        result, current, quoted = [], [], False
        while self.pos < len(self.text):
            ch = self._peek()
            if ch.isspace():
                self.pos += 1
                if current or quoted:
                    result.append("".join(current))
                current, quoted = [], False
                continue
            if ch in "'\"":
                quoted = True
            current.extend(self.word(stop=" \t\n"))
        if current or quoted:
            result.append("".join(current))
        return result

    def _single_quoted(self):
        end = self.text.find("'", self.pos)
        if end < 0:
            raise InvalidParameter("unexpected end of statement while looking for matching single-quote")
        piece = self.text[self.pos:end]
        self.pos = end + 1
        return piece

    def _double_quoted(self):
        out = []
        while True:
            if self.pos >= len(self.text):
                raise InvalidParameter("unexpected end of statement while looking for matching double-quote")
            ch = self._next()
            if ch == '"':
                return "".join(out)
            if ch == self.escape:
                nxt = self._next()
                out.append(nxt if nxt in ('"', "$", self.escape) else ch + nxt)
            elif ch == "$":
                out.append(self._variable())
            else:
                out.append(ch)

    def _variable(self):
        ch = self._peek()
        if ch == "{":
            self.pos += 1
            return self._braced()
        if ch in _NAME_START:
            start = self.pos
            while self._peek() and self._peek() in _NAME:
                self.pos += 1
            return self.env.get(self.text[start:self.pos], "")
        return "$"

    def _braced(self):
        start = self.pos
        while self._peek() and self._peek() in _NAME:
            self.pos += 1
        name = self.text[start:self.pos]
        if not name:
            raise InvalidParameter(f"bad substitution in {self.text!r}: a variable name is required after ${{")
        ch = self._next()
        if ch == "}":
            return self.env.get(name, "")
        colon = ch == ":"
        if colon:
            ch = self._next()
        if ch not in ("-", "+", "?"):
            raise InvalidParameter(f"unsupported modifier ({ch or 'end'}) in substitution of {name} in {self.text!r}")
        word = "".join(self.word(stop="}"))
        if self._next() != "}":
            raise InvalidParameter(f"missing '}}' in {self.text!r}")
        value = self.env.get(name)
        is_set = value is not None and (value != "" or not colon)
        if ch == "-":
            return value if is_set else word
        if ch == "+":
            return word if is_set else ""
        if not is_set:
            raise InvalidParameter(f"{name}: {word or 'is not allowed to be unset'}")
        return value


def split_keeping_quotes(text, escape="\\"):
    """Words split on unquoted whitespace, quotes and escapes kept (ENV and LABEL pairs,
    expanded one by one afterwards)."""
    words, current, quote, i = [], [], "", 0
    while i < len(text):
        ch = text[i]
        if ch == escape and i + 1 < len(text) and quote != "'":
            current.append(text[i:i + 2])
            i += 2
            continue
        if quote:
            if ch == quote:
                quote = ""
        elif ch in "'\"":
            quote = ch
        elif ch.isspace():
            if current:
                words.append("".join(current))
                current = []
            i += 1
            continue
        current.append(ch)
        i += 1
    if current:
        words.append("".join(current))
    return words
