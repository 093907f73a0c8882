"""The Go-template subset behind --format."""

import pytest

from pydocker.client.template import Template, TemplateError, go_json, go_str, render

DATA = {
    "Name": "/web",
    "State": {"Pid": 4242, "Running": True, "ExitCode": 0},
    "Config": {"Labels": {"b": "2", "a": "1"}, "Env": ["A=1", "B=2"], "Cmd": None},
    "Empty": [],
    "Ratio": 0.5,
}


@pytest.mark.parametrize("text, expected", [
    ("{{.Name}}", "/web"),
    ("{{.State.Pid}}", "4242"),
    ("{{ .State.Running }}", "true"),
    ("{{.Missing}}", "<no value>"),
    ("{{.Config.Cmd}}", "<nil>"),
    ("{{.Ratio}}", "0.5"),
    ("{{.Config.Labels}}", "map[a:1 b:2]"),
    ("{{.Config.Env}}", "[A=1 B=2]"),
    ('{{index .Config.Labels "a"}}', "1"),
    ("{{index .Config.Env 1}}", "B=2"),
    ("{{json .Config.Env}}", '["A=1","B=2"]'),
    ("{{json .State.Pid}}", "4242"),
    ("{{range .Config.Env}}[{{.}}]{{end}}", "[A=1][B=2]"),
    ("{{range $i, $e := .Config.Env}}{{$i}}={{$e}};{{end}}", "0=A=1;1=B=2;"),
    ("{{range $k, $v := .Config.Labels}}{{$k}}:{{$v}} {{end}}", "a:1 b:2 "),
    ("{{range .Empty}}x{{else}}none{{end}}", "none"),
    ("{{if .State.Running}}up{{else}}down{{end}}", "up"),
    ("{{if .Empty}}yes{{else if .State.Running}}elif{{else}}no{{end}}", "elif"),
    ('{{if eq .Name "/web"}}match{{end}}', "match"),
    ("{{if and .State.Running (not .Empty)}}both{{end}}", "both"),
    ("{{with .State}}{{.Pid}}{{end}}", "4242"),
    ("{{println .Name}}", "/web\n"),
    ("{{upper .Name}} {{lower \"ABC\"}}", "/WEB abc"),
    ('{{join .Config.Env ","}}', "A=1,B=2"),
    ("{{len .Config.Env}}", "2"),
    ("{{.Name | upper}}", "/WEB"),
    ('{{printf "%s has %d" .Name 3}}', "/web has 3"),
    ("{{$n := .Name}}{{$n}}{{$.State.Pid}}", "/web4242"),
    ("a {{- \" b \" -}} c", "a b c"),
    ("x{{/* a comment */}}y", "xy"),
    ('{{split "a:b" ":"}}', "[a b]"),
    ("{{.State.Pid | printf \"%v!\"}}", "4242!"),
])
def test_renders_like_go(text, expected):
    assert render(text, DATA) == expected


def test_json_of_whole_value_escapes_html_like_go():
    assert go_json({"a": "<b>&"}) == '{"a":"\\u003cb\\u003e\\u0026"}'
    assert render("{{json .}}", {"x": 1}) == '{"x":1}'


@pytest.mark.parametrize("text", [
    "{{.Name", "{{if .Name}}no end", "{{end}}", "{{nosuchfunc .Name}}", "{{else}}",
    "{{define \"x\"}}{{end}}", "{{.Name)}}",
])
def test_bad_templates_raise(text):
    with pytest.raises(TemplateError):
        Template(text).execute(DATA)


def test_method_calls_with_arguments_on_objects():
    class Row:
        Names = "web"

        def Label(self, key):
            return {"tier": "front"}.get(key, "")

    assert render('{{.Names}} {{.Label "tier"}}', Row()) == "web front"
    with pytest.raises(TemplateError):
        render("{{.NoSuchField}}", Row())


def test_go_str_formats_values():
    assert go_str(True) == "true"
    assert go_str(3.0) == "3"
    assert go_str({"k": [1, 2]}) == "map[k:[1 2]]"
