"""Sizes, durations, timestamps and tables shaped like the docker CLI's."""

import io

import pytest

from pydocker.client.formatter import Context, render_rows, tabwrite
from pydocker.client.times import filter_timestamp, parse_api_time
from pydocker.client.units import bytes_size, human_size, ram_in_bytes
from pydocker.timeutil import parse_go_duration
from pydocker.timeutil import human_duration


@pytest.mark.parametrize("size, text", [
    (0, "0B"), (999, "999B"), (1000, "1kB"), (4264960, "4.26MB"), (1234567890, "1.23GB"),
    (1e15, "1PB"),
])
def test_human_size_uses_decimal_units_with_three_digits(size, text):
    assert human_size(size) == text


def test_bytes_size_uses_binary_units():
    assert bytes_size(1048576) == "1MiB"
    assert bytes_size(123456789) == "117.7MiB"


@pytest.mark.parametrize("seconds, text", [
    (0.2, "Less than a second"), (1, "1 second"), (45, "45 seconds"), (60, "About a minute"),
    (119, "About a minute"), (120, "2 minutes"), (3600, "About an hour"),
    (5 * 3600, "5 hours"), (3 * 86400, "3 days"), (15 * 86400, "2 weeks"),
    (90 * 86400, "3 months"), (800 * 86400, "2 years"),
])
def test_human_duration_matches_go_units(seconds, text):
    assert human_duration(seconds) == text


def test_parses_sizes_and_durations():
    assert ram_in_bytes("512m") == 512 << 20
    assert ram_in_bytes("1g") == 1 << 30
    assert ram_in_bytes("100") == 100
    with pytest.raises(ValueError):
        ram_in_bytes("12x")
    assert parse_go_duration("1h30m") == 5400
    assert parse_go_duration("250ms") == 0.25
    with pytest.raises(ValueError):
        parse_go_duration("5 minutes")


def test_api_timestamps_with_nanoseconds_and_offsets():
    assert parse_api_time("2024-03-05T10:20:30Z") == 1709634030
    assert parse_api_time("2024-03-05T12:20:30+02:00") == 1709634030
    assert abs(parse_api_time("2024-03-05T10:20:30.123456789Z") - 1709634030.123456789) < 1e-6
    assert parse_api_time("0001-01-01T00:00:00Z") == 0


def test_since_until_values():
    assert filter_timestamp("1700000000") == "1700000000"
    assert float(filter_timestamp("10m", now=1000.0)) == 400.0
    assert filter_timestamp("2024-01-01") == "1704067200"


def test_tabwriter_pads_cells_but_not_the_last_column():
    lines = tabwrite(["CONTAINER ID\tNAMES", "abc\tx"])
    assert lines == ["CONTAINER ID   NAMES", "abc            x"]
    assert tabwrite(["a\tb\tc"]) == ["a         b         c"]  # minwidth 10


class Row(Context):
    HEADERS = {"ID": "CONTAINER ID", "Names": "NAMES"}

    def __init__(self, ident, names):
        self.ID, self.Names = ident, names


ROWS = [Row("0123456789ab", "web"), Row("ba9876543210", "db")]
DEFAULT = "table {{.ID}}\t{{.Names}}"


def test_default_table_has_header_and_aligned_columns():
    text = render_rows(None, ROWS, DEFAULT, Row.HEADERS)
    assert text == ("CONTAINER ID   NAMES\n"
                    "0123456789ab   web\n"
                    "ba9876543210   db\n")


def test_custom_table_template_and_plain_template():
    assert render_rows("table {{.Names}}", ROWS, DEFAULT, Row.HEADERS) == "NAMES\nweb\ndb\n"
    assert render_rows("{{.Names}}:{{.ID}}", ROWS, DEFAULT, Row.HEADERS) == \
        "web:0123456789ab\ndb:ba9876543210\n"


def test_json_format_prints_one_object_per_row_with_sorted_keys():
    assert render_rows("json", ROWS[:1], DEFAULT, Row.HEADERS) == \
        '{"ID":"0123456789ab","Names":"web"}\n'


def test_empty_table_still_prints_the_header():
    assert render_rows(None, [], DEFAULT, Row.HEADERS) == "CONTAINER ID   NAMES\n"


def test_containers_rows_truncate_and_quote_like_docker():
    from pydocker.client.commands.containers import ContainerRow, format_ports

    row = ContainerRow({"Id": "f" * 64, "Image": "busybox", "Command": "sh -c 'sleep 1000; true'",
                        "Created": 100, "Names": ["/web", "/other/web"], "State": "running",
                        "Status": "Up 2 minutes", "Ports": []}, now=100 + 130)
    assert row.ID == "f" * 12
    assert row.Command == '"sh -c \'sleep 1000; …"'
    assert row.RunningFor == "2 minutes ago"
    assert row.Names == "web"
    assert format_ports([{"IP": "0.0.0.0", "PrivatePort": 80, "PublicPort": 8080, "Type": "tcp"},
                         {"PrivatePort": 443, "Type": "tcp"},
                         {"IP": "::", "PrivatePort": 80, "PublicPort": 8080, "Type": "tcp"}]) == \
        "443/tcp, 0.0.0.0:8080->80/tcp, [::]:8080->80/tcp"
    same = [{"IP": "0.0.0.0", "PrivatePort": p, "PublicPort": p, "Type": "tcp"}
            for p in (8001, 8000, 8002)]
    assert format_ports(same + [{"PrivatePort": 53, "Type": "udp"},
                                {"PrivatePort": 54, "Type": "udp"}]) == \
        "53-54/udp, 0.0.0.0:8000-8002->8000-8002/tcp"


def test_image_rows_split_tags_and_mark_dangling():
    from pydocker.client.commands.images import image_rows

    rows = image_rows([
        {"Id": "sha256:" + "a" * 64, "RepoTags": ["busybox:latest", "localhost:5000/bb:1"],
         "Created": 0, "Size": 4264960},
        {"Id": "sha256:" + "b" * 64, "RepoTags": None, "RepoDigests": None, "Created": 0,
         "Size": 0},
    ])
    assert [(r.Repository, r.Tag, r.ID, r.Size) for r in rows] == [
        ("busybox", "latest", "a" * 12, "4.26MB"),
        ("localhost:5000/bb", "1", "a" * 12, "4.26MB"),
        ("<none>", "<none>", "b" * 12, "0B"),
    ]


def test_progress_renders_bars_on_a_tty_and_drops_them_elsewhere():
    from pydocker.client.errors import StreamError
    from pydocker.client.progress import ProgressPrinter, display_stream

    messages = [{"status": "Pulling fs layer", "id": "l1"},
                {"status": "Downloading", "id": "l1",
                 "progressDetail": {"current": 500, "total": 1000}},
                {"status": "Pull complete", "id": "l1"},
                {"status": "Digest: sha256:abc"}]
    plain = io.StringIO()
    display_stream(messages, plain, tty=False)
    assert plain.getvalue() == "l1: Pulling fs layer\nl1: Pull complete\nDigest: sha256:abc\n"
    tty = io.StringIO()
    display_stream(messages, tty, tty=True)
    assert "[=========================>" in tty.getvalue()
    assert "500B/1kB" in tty.getvalue()
    assert "\x1b[1A" in tty.getvalue()  # the layer's line is rewritten in place
    with pytest.raises(StreamError, match="boom"):
        ProgressPrinter(io.StringIO(), tty=False).feed({"errorDetail": {"message": "boom"},
                                                        "error": "boom"})
