"""Shared helpers for the CLI tests: run ``crlqas`` in-process and check one-line errors."""

from crlqas_kit import cli


def run(capsys, *argv):
    rc = cli.main([str(a) for a in argv])
    out, err = capsys.readouterr()
    return rc, out, err


def assert_one_line_error(rc, out, err):
    assert rc == 2
    assert out == ""
    assert "Traceback" not in err
    lines = err.splitlines()
    assert len(lines) == 1 and err.endswith("\n"), err
    assert lines[0].startswith("crlqas: error: ") and len(lines[0]) > len("crlqas: error: ") + 10
    return lines[0]
