"""The Dockerfile parser, stage grouping, shell-word expansion and .dockerignore matching
(no root, no daemon)."""

import pytest

from pydocker.builder import instructions, parser
from pydocker.builder.gofmt import go_quote_list, parse_duration
from pydocker.builder.dockerignore import Ignore
from pydocker.builder.shellwords import expand, expand_words, split_keeping_quotes
from pydocker.errdefs import InvalidParameter


def program(text):
    return instructions.group(parser.parse(text))


def test_continuations_comments_and_line_numbers():
    df = parser.parse("FROM busybox\n\n# a comment\nRUN echo a \\\n  # inside\n\n  && echo b\nCMD [\"sh\"]\n")
    run, cmd = df.lines[1], df.lines[2]
    assert (run.keyword, run.lineno) == ("run", 4)
    assert run.rest == "echo a   && echo b"
    assert cmd.json_args == ["sh"] and cmd.lineno == 8


def test_escape_directive_changes_the_continuation_character():
    df = parser.parse("# escape=`\nFROM busybox\nRUN dir c:\\ `\n  && echo ok\n")
    assert df.escape == "`"
    assert df.lines[1].rest == "dir c:\\   && echo ok"


def test_directives_stop_at_the_first_instruction_or_comment():
    df = parser.parse("# syntax=docker/dockerfile:1\n# hello\n# escape=`\nFROM busybox\n")
    assert df.escape == "\\"


def test_shell_form_is_kept_when_json_is_malformed():
    line = parser.parse("FROM x\nCMD [\"sh\", oops]\n").lines[1]
    assert line.json_args is None and line.rest == "[\"sh\", oops]"


@pytest.mark.parametrize("text,message", [
    ("FROM busybox\nFOO bar\n", "dockerfile parse error on line 2: unknown instruction: FOO"),
    ("FROM busybox\nRUN --mount=type=bind true\n", "the --mount option requires BuildKit"),
    ("FROM busybox\nCOPY --chmod=644 a b\n", "the --chmod option requires BuildKit"),
    ("FROM busybox\nCOPY --bogus=1 a b\n", "unknown flag: bogus"),
    ("FROM busybox\nRUN <<EOF\necho\nEOF\n", "line 2: heredocs in RUN require BuildKit"),
    ("FROM busybox\nCOPY a\n", "COPY requires at least two arguments, but only one was provided"),
    ("FROM a b\n", "FROM requires either one or three arguments"),
    ("ENV A=1\nFROM busybox\n", "no build stage in current context"),
    ("", "the Dockerfile (Dockerfile) cannot be empty"),
    ("FROM busybox AS x\nFROM busybox AS x\n", "duplicate name x"),
    ("FROM busybox\nONBUILD FROM x\n", "FROM isn't allowed as an ONBUILD trigger"),
    ("FROM busybox\nSHELL /bin/bash -c\n", "SHELL requires the arguments to be in JSON form"),
    ("FROM busybox\nENV ONLYKEY\n", "line 2: ENV must have two arguments"),
    ("FROM busybox\nENV A=1 B\n", "Syntax error - can't find = in \"B\""),
    ("FROM busybox\nLABEL =v\n", "LABEL names can not be blank"),
])
def test_bad_dockerfiles_are_refused_naming_the_problem(text, message):
    with pytest.raises(InvalidParameter) as caught:
        program(text)
    assert message in str(caught.value)


def test_stages_meta_args_and_step_count():
    p = program("ARG V=1\nFROM busybox AS build\nRUN true\nFROM scratch\nCOPY --from=build /a /a\n")
    assert [line.rest for line in p.meta_args] == ["V=1"]
    assert [(s.base, s.name) for s in p.stages] == [("busybox", "build"), ("scratch", "")]
    assert p.stage_index("BUILD") == 0 and p.stage_index("nope") is None
    assert p.step_count() == 5
    assert p.stages[1].commands[0].flags == {"from": ["build"]}


@pytest.mark.parametrize("word,expected", [
    ("$A", "a"), ("${A}b", "ab"), ("${UNSET:-dflt}", "dflt"), ("${EMPTY:-dflt}", "dflt"),
    ("${EMPTY-dflt}", ""), ("${A:+alt}", "alt"), ("${UNSET:+alt}", ""), ("'$A'", "$A"),
    ("\"$A b\"", "a b"), ("\\$A", "$A"), ("a$", "a$"), ("\"x\\\"y\"", "x\"y"), ("${A}${A}", "aa"),
])
def test_expansion_follows_dockerd(word, expected):
    assert expand(word, {"A": "a", "EMPTY": ""}) == expected


def test_expansion_errors_and_words():
    with pytest.raises(InvalidParameter):
        expand("${UNSET:?must be set}", {})
    with pytest.raises(InvalidParameter):
        expand("'open", {})
    assert expand_words("a \"b c\" $X ''", {"X": "x"}) == ["a", "b c", "x"]
    assert expand("a`$b", {"b": "B"}, escape="`") == "a$b"


def test_dockerignore_patterns():
    ignore = Ignore.parse("# comment\n*.log\n**/tmp\n!keep.log\nbuild/\n/abs\nsub/*/x\n")
    assert ignore.excluded("a.log") and not ignore.excluded("keep.log")
    assert ignore.excluded("deep/er/tmp") and ignore.excluded("tmp/file")
    assert ignore.excluded("build/out.o") and ignore.excluded("abs")
    assert ignore.excluded("sub/any/x") and not ignore.excluded("sub/x")
    assert not ignore.excluded("dir/a.log")  # * stays in one path component
    assert not ignore.excluded("src/main.c")


def test_history_formats_and_durations():
    assert go_quote_list(["/bin/sh", "-c", "echo \"hi\""]) == '["/bin/sh" "-c" "echo \\"hi\\""]'
    assert parse_duration("1m30s", "interval") == 90 * 10**9
    assert parse_duration("250ms", "timeout") == 250 * 10**6
    with pytest.raises(InvalidParameter):
        parse_duration("10", "interval")


def test_env_words_keep_their_quotes_until_expanded():
    assert split_keeping_quotes('A="x y" B=\'$z\' C=a\\ b') == ['A="x y"', "B='$z'", "C=a\\ b"]
    program('FROM busybox\nENV A="x y" B=2\nENV LEGACY value with spaces\nLABEL "k"="v"\n')
