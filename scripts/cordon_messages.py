"""
How cordon's messages are compared with qemu-img's: the program name in
front of a line ("qemu-img: " / "cordon: ") and in the "Try '... --help'"
hint is the only difference allowed.  A line may also start after text
qemu prints without a line end (the bitmaps warning's "... to fix.").  Shared by the integration tests
(tests/integration/conftest.py) and scripts/differential-fuzz.py, so that
both apply the same rule.
"""


def normalise(text, prog):
    """Replaces prog's name by PROG where qemu-img and cordon differ."""
    lines = []
    for line in text.splitlines(keepends=True):
        if line.startswith(prog + ": "):
            line = "PROG: " + line[len(prog) + 2:]
        line = line.replace(f"to fix.{prog}: ", "to fix.PROG: ")
        line = line.replace(f"Try '{prog} --help'", "Try 'PROG --help'")
        lines.append(line)
    return "".join(lines)
