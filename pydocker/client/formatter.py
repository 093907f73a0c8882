"""Tables and ``--format`` output shaped like the docker CLI's.

A list command gives ``write_list`` its rows as :class:`Context` objects (one
attribute per template field, e.g. ``.ID``, ``.Names``) and its default table
template. ``--format`` may be ``table``, ``json``, ``table <template>`` (a
header row, then columns aligned like Go's tabwriter with minwidth 10 and
padding 3) or a bare template (one rendered line per row, no alignment).
"""

from .errors import ClientError
from .template import Template, TemplateError

TABLE_PREFIX = "table"


class Context:
    """One row. Subclasses define ``HEADERS`` (field -> column title) and
    properties for the fields; ``to_json`` is what ``{{json .}}`` prints."""

    HEADERS = {}

    def to_json(self):
        # The docker CLI marshals a map here, so keys come out sorted.
        return {name: getattr(self, name) for name in sorted(self.HEADERS)}


class _Header(str):
    """A column title that also answers method-style calls (``.Label "x"``)."""

    def __call__(self, *args):
        return self


class _HeaderRow:
    def __init__(self, headers):
        self._headers = headers

    def __getattr__(self, name):
        if name.startswith("_"):
            raise AttributeError(name)
        return _Header(self._headers.get(name, name.upper()))

    def to_json(self):
        return dict(self._headers)


def parse_template(text):
    try:
        return Template(text)
    except TemplateError as exc:
        raise ClientError(f"template parsing error: {exc}", status=64) from None


def execute(template, data):
    try:
        return template.execute(data)
    except TemplateError as exc:
        raise ClientError(f"template: {exc}", status=64) from None


def tabwrite(lines, minwidth=10, padding=3):
    """Align tab-separated cells like Go's ``tabwriter.NewWriter(w, 10, 1, 3, ' ', 0)``.

    The text after a line's last tab is not a column cell and is not padded.
    """
    rows = [line.split("\t") for line in lines]
    widths = []
    for cells in rows:
        for j, cell in enumerate(cells[:-1]):
            if j == len(widths):
                widths.append(minwidth)
            widths[j] = max(widths[j], len(cell) + padding)
    out = []
    for cells in rows:
        text = "".join(cell.ljust(widths[j]) for j, cell in enumerate(cells[:-1]))
        out.append(text + cells[-1])
    return out


def resolve_format(fmt, default_table):
    """The template text for a ``--format`` value; None means the default table."""
    if not fmt or fmt == TABLE_PREFIX:
        return default_table
    if fmt == "json":
        return "{{json .}}"
    return fmt


def render_rows(fmt, rows, default_table, headers):
    """Render ``rows`` (Contexts) under ``--format`` ``fmt``; return the text."""
    text = resolve_format(fmt, default_table)
    is_table = text.startswith(TABLE_PREFIX + " ") or text.startswith(TABLE_PREFIX + "\t")
    if is_table:
        text = text[len(TABLE_PREFIX):].lstrip(" ")
    text = text.replace("\\t", "\t").replace("\\n", "\n")
    template = parse_template(text)
    lines = [execute(template, row) for row in rows]
    if not is_table:
        return "".join(line + "\n" for line in lines)
    header = execute(template, _HeaderRow(headers))
    table_lines = []
    for line in [header] + lines:
        table_lines.extend(line.split("\n"))
    while table_lines and table_lines[-1] == "":
        table_lines.pop()
    return "".join(line + "\n" for line in tabwrite(table_lines))


def write_rows(out, fmt, rows, default_table, headers):
    out.write(render_rows(fmt, rows, default_table, headers))
