"""
`cordon dd` against `qemu-img dd`: operand and option parsing, the copy
window (bs/count/skip), and the errors users see.  Each case runs the same
arguments through both tools on identical files (see conftest.dd_compare),
once per sandbox kind.
"""
import pytest

from conftest import DIR, data

IN = {"in.raw": data(1500)}
IO = ["if=in.raw", "of=out.raw"]


def case(id_, args, inputs=None, marks=()):
    return pytest.param(list(args), IN if inputs is None else inputs,
                        id=id_, marks=marks)


SUFFIXES = "bBkKmMgGtTpPeE"

CASES = [
    # ---- every suffix, in bs (1..INT_MAX) and in count (0..INT64_MAX)
    *[case(f"bs-1{s}", [f"bs=1{s}", "count=1", *IO]) for s in SUFFIXES],
    *[case(f"count-1{s}", ["bs=1", f"count=1{s}", *IO]) for s in SUFFIXES],
    # ---- hex
    case("hex-0x200", ["bs=0x200", "count=1", *IO]),
    case("hex-0X200", ["bs=0X200", "count=1", *IO]),
    case("hex-suffix-warning", ["bs=0x1k", "count=1", *IO]),
    case("hex-fraction", ["bs=0x1.5", *IO]),
    case("hex-count", ["count=0x2", *IO]),
    case("hex-empty", ["bs=0x", *IO]),
    # ---- fractions
    case("frac-1.5k", ["bs=1.5k", "count=1", *IO]),
    case("frac-0.5k", ["bs=0.5k", "count=2", *IO]),
    case("frac-1.k", ["bs=1.k", "count=1", *IO]),
    case("frac-.5k", ["bs=.5k", *IO]),
    case("frac-1.5", ["bs=1.5", *IO]),
    case("frac-1.0", ["bs=1.0", "count=700", *IO]),
    case("frac-1.5b", ["bs=1.5b", *IO]),
    case("frac-exponent", ["bs=1.5e3k", *IO]),
    case("frac-rounds-to-one", ["bs=1.99999999999999999999k", "count=1", *IO]),
    case("frac-rounds-to-zero", ["bs=0.000001k", *IO]),
    case("frac-count-0.5e", ["count=0.5e", *IO]),
    # ---- whitespace and signs
    case("space-lead", ["bs= 512", "count=1", *IO]),
    case("tab-lead", ["bs=\t512", "count=1", *IO]),
    case("plus", ["bs=+512", "count=1", *IO]),
    case("minus", ["bs=-512", *IO]),
    case("minus-inside", ["bs=5-12", *IO]),
    case("minus-zero", ["count=-0", *IO]),
    case("minus-huge", ["count=-99999999999999999999", *IO]),
    # ---- overflow and range
    case("bs-2147483647", ["bs=2147483647", "count=1", *IO]),
    case("bs-2147483648", ["bs=2147483648", *IO]),
    case("bs-2g", ["bs=2g", *IO]),
    case("bs-0", ["bs=0", *IO]),
    case("count-8E", ["count=8E", *IO]),
    case("count-int64-max", ["count=9223372036854775807", *IO]),
    case("count-int64-max-plus-1", ["count=9223372036854775808", *IO]),
    case("bs-20-digits", ["bs=99999999999999999999", *IO]),
    case("bs-20-digits-k", ["bs=99999999999999999999k", *IO]),
    case("count-16E", ["count=16E", *IO]),
    case("skip-20-digits", ["skip=99999999999999999999", *IO]),
    case("count-overflows-with-bs", ["bs=1k", "count=9223372036854775807", *IO]),
    case("skip-overflows-with-bs", ["bs=1k", "skip=9223372036854775807", *IO]),
    # ---- trailing garbage and empty values
    case("trail-x", ["bs=512x", *IO]),
    case("trail-kk", ["bs=1kk", *IO]),
    case("trail-space", ["bs=512 ", *IO]),
    case("empty-bs", ["bs=", *IO]),
    case("empty-count", ["count=", *IO]),
    case("empty-skip", ["skip=", *IO]),
    case("first-error-wins", ["bs=0", "count=x", *IO]),
    case("first-error-wins-2", ["count=x", "bs=0", *IO]),
    # ---- count and skip over a 1500-byte input (2.93 blocks of 512)
    case("count-0", ["count=0", *IO]),
    case("count-1", ["count=1", *IO]),
    case("count-inside", ["count=2", *IO]),
    case("count-at-end", ["count=3", *IO]),
    case("count-past-end", ["count=4", *IO]),
    case("skip-1", ["skip=1", *IO]),
    case("skip-inside", ["skip=2", *IO]),
    case("skip-past-end", ["skip=3", *IO]),
    case("skip-far-past-end", ["skip=100", *IO]),
    case("skip-exactly-at-end", ["bs=100", "skip=15", *IO]),
    case("skip-0", ["skip=0", *IO]),
    case("skip-past-count", ["skip=2", "count=1", *IO]),
    case("skip-at-count", ["skip=1", "count=1", *IO]),
    case("skip-and-count", ["skip=1", "count=2", *IO]),
    case("skip-and-count-0", ["skip=1", "count=0", *IO]),
    # ---- block sizes that are not multiples of 512
    case("bs-1", ["bs=1", *IO]),
    case("bs-1-count-skip", ["bs=1", "count=700", "skip=13", *IO]),
    case("bs-777", ["bs=777", *IO]),
    case("bs-777-count", ["bs=777", "count=1", *IO]),
    case("bs-777-skip", ["bs=777", "skip=1", *IO]),
    case("bs-1000-count-skip", ["bs=1000", "count=2", "skip=1", *IO]),
    case("bs-4095", ["bs=4095", *IO]),
    case("bs-4095-count", ["bs=4095", "count=1", *IO]),
    case("bs-65537", ["bs=65537", *IO]),
    case("bs-65537-skip", ["bs=65537", "skip=1", *IO]),
    case("bs-1048577", ["bs=1048577", *IO]),
    case("bs-1048577-count", ["bs=1048577", "count=1", *IO]),
    # ---- input sizes that are not multiples of 512
    *[case(f"insize-{n}", IO, {"in.raw": data(n)}) for n in (0, 1, 511, 512, 513, 100000)],
    case("insize-0-count", ["count=1", *IO], {"in.raw": b""}),
    case("insize-0-skip", ["skip=1", *IO], {"in.raw": b""}),
    case("insize-513-bs-1000-skip", ["bs=1000", "skip=1", *IO], {"in.raw": data(513)}),
    case("insize-100000-bs-777", ["bs=777", "count=50", "skip=3", *IO],
         {"in.raw": data(100000)}),
    # ---- option errors
    case("opt-unknown", ["-x", *IO]),
    case("opt-unknown-after-U", ["-Ux", *IO]),
    case("opt-unknown-before-U", ["-xU", *IO]),
    case("opt-f-no-arg", [*IO, "-f"]),
    case("opt-Uf-no-arg", [*IO, "-Uf"]),
    case("opt-long-unknown", ["--foo", *IO]),
    case("opt-help-with-arg", ["--help=3", *IO]),
    case("opt-U", ["-U", *IO]),
    case("opt-force-share", ["--force-share", *IO]),
    case("operand-no-equals", ["foo", *IO]),
    case("operand-unknown-key", ["foo=1", *IO]),
    case("operand-empty-key", ["=1", *IO]),
    case("operand-conv", ["conv=notrunc", *IO]),
    # without of= standard output is written, as in Proxmox's qemu-img
    # (test_dd_pipes.py); without if= but with -f raw, standard input read
    case("missing-if", ["of=out.raw"]),
    case("no-operands", []),
    # ---- formats
    case("O-raw", ["-O", "raw", *IO]),
    case("O-foo", ["-O", "foo", *IO]),
    case("O-empty", ["-O", "", *IO]),
    case("O-long", ["-O", "a" * 40, *IO]),
    case("f-raw", ["-f", "raw", *IO]),
    case("f-foo", ["-f", "foo", *IO]),
    case("f-empty", ["-f", "", *IO]),
    case("f-long", ["-f", "b" * 40, *IO]),
    case("f-foo-missing-input", ["-f", "foo", "if=missing", "of=out.raw"]),
    case("O-foo-missing-input", ["-O", "foo", "if=missing", "of=out.raw"]),
    case("f-foo-O-foo", ["-f", "foo", "-O", "foo", *IO]),
    case("f-qcow2-on-raw", ["-f", "qcow2", *IO]),
    # ---- repeats, order, --
    case("repeat-bs", ["bs=1k", "bs=512", "count=1", *IO]),
    case("repeat-if", ["if=missing", *IO]),
    case("repeat-of", ["of=other.raw", *IO]),
    case("repeat-f", ["-f", "foo", "-f", "raw", *IO]),
    case("options-after-operands", [*IO, "-f", "raw", "-O", "raw"]),
    case("double-dash", ["--", *IO]),
    case("double-dash-after-options", ["-f", "raw", "--", *IO]),
    case("double-dash-then-dash-arg", [*IO, "--", "-f", "raw"]),
    # ---- files
    case("missing-input", ["if=missing", "of=out.raw"]),
    case("input-is-directory", ["if=d", "of=out.raw"], {"d": DIR}),
    case("output-in-missing-directory", ["if=in.raw", "of=nodir/out.raw"]),
    case("output-is-directory", ["if=in.raw", "of=d"], {**IN, "d": DIR}),
    case("output-empty-name", ["if=in.raw", "of="]),
    case("input-empty-name", ["if=", "of=out.raw"]),
    case("output-in-subdir", ["if=in.raw", "of=sub/out.raw"], {**IN, "sub": DIR}),
    case("long-input-name", [f"if={'a' * 5000}", "of=out.raw"]),
    case("long-output-name", ["if=in.raw", f"of={'a' * 5000}"]),
    case("long-component", [f"if={'a' * 300}", "of=out.raw"]),
]


@pytest.mark.parametrize("args,inputs", CASES)
def test_dd_matches_qemu_img(dd_compare, args, inputs):
    dd_compare(args, inputs)


# ---- the top-level command line -------------------------------------------

@pytest.mark.parametrize("args", [
    pytest.param(["foo"], id="unknown-command"),
    pytest.param([], id="no-command"),
    pytest.param(["-x"], id="unknown-global-option"),
    pytest.param(["--foo", "dd"], id="unknown-global-long-option"),
    pytest.param(["DD"], id="command-is-case-sensitive"),
    pytest.param(["--", "dd", *IO], id="double-dash-before-command"),
    pytest.param(["dd", "-f", "raw", *IO], id="plain"),
])
def test_toplevel_matches_qemu_img(dd_compare, args):
    dd_compare(args, IN, command=None)


@pytest.mark.parametrize("args", [["dd", "-h"], ["dd", "--help"], ["-h"],
                                  ["--help"], ["-V"], ["--version"]])
def test_help_and_version_exit_0(tmp_path, run_cordon, run_qemu, args):
    """The texts are cordon's own; the exit status and stream are qemu-img's."""
    q = run_qemu(args, tmp_path, command=None)
    c = run_cordon(args, tmp_path, command=None)
    assert (q.rc, c.rc) == (0, 0)
    assert c.stdout and c.stderr == ""
    assert "cordon" in c.stdout


# ---- deliberate divergences: cordon's behaviour, not a comparison -------------

@pytest.mark.parametrize("opt", ["--object", "--image-opts"])
def test_qom_and_image_opts_are_unrecognized(tmp_path, run_cordon, opt):
    (tmp_path / "in.raw").write_bytes(data(1500))
    c = run_cordon([opt, "x", *IO] if opt == "--object" else [opt, *IO], tmp_path)
    assert c.rc == 1
    assert c.stderr == (f"PROG: unrecognized option '{opt}'\n"
                        "Try 'PROG --help' for more information\n")
    assert "out.raw" not in c.files


# ---- cordon's own options and their environment defaults ----------------------

@pytest.mark.parametrize("args,env,message", [
    pytest.param(["--sandbox=foo"], {}, "Invalid sandbox specified. Must be "
                 "auto, kvm or process.", id="sandbox-kind"),
    pytest.param([], {"CORDON_SANDBOX": "foo"}, "Invalid CORDON_SANDBOX "
                 "specified. Must be auto, kvm or process.", id="env-kind"),
    pytest.param(["--sandbox-memory=1k"], {}, "Invalid sandbox-memory "
                 "specified. Must be between 4194304 and 4294967296.",
                 id="memory-too-small"),
    pytest.param(["--sandbox-memory=5G"], {}, "Invalid sandbox-memory "
                 "specified. Must be between 4194304 and 4294967296.",
                 id="memory-too-large"),
    pytest.param([], {"CORDON_SANDBOX_MEMORY": "lots"}, "Invalid "
                 "CORDON_SANDBOX_MEMORY specified. You may use k, M, G, T, P "
                 "or E suffixes for\nPROG: kilobytes, megabytes, gigabytes, "
                 "terabytes, petabytes and exabytes.", id="env-memory"),
    pytest.param(["--sandbox-timeout=0"], {}, "Invalid sandbox-timeout "
                 "specified. Must be between 1 and 4294967 seconds.",
                 id="timeout-zero"),
    pytest.param(["--sandbox-timeout=1m"], {}, "Invalid sandbox-timeout "
                 "specified. Must be between 1 and 4294967 seconds.",
                 id="timeout-suffix"),
    pytest.param([], {"CORDON_SANDBOX_TIMEOUT": "-5"}, "Invalid "
                 "CORDON_SANDBOX_TIMEOUT specified. Must be between 1 and "
                 "4294967 seconds.", id="env-timeout"),
])
def test_sandbox_option_errors(tmp_path, run_cordon, args, env, message):
    (tmp_path / "in.raw").write_bytes(data(1500))
    c = run_cordon([*args, *IO], tmp_path, extra_env=env)
    assert c.rc == 1
    assert c.stderr == f"PROG: {message}\n"
    assert "out.raw" not in c.files


def test_sandbox_option_missing_argument(tmp_path, run_cordon):
    c = run_cordon([*IO, "--sandbox"], tmp_path)
    assert c.rc == 1
    assert c.stderr == ("PROG: missing argument for option '--sandbox'\n"
                        "Try 'PROG --help' for more information\n")


@pytest.mark.parametrize("args,env", [
    pytest.param(["--sandbox=process"], {"CORDON_SANDBOX": "foo"},
                 id="option-overrides-env"),
    pytest.param(["--sandbox-memory=16M", "--sandbox-timeout=60"],
                 {"CORDON_SANDBOX_MEMORY": "1k", "CORDON_SANDBOX_TIMEOUT": "x"},
                 id="limits-override-env"),
    pytest.param([], {"CORDON_SANDBOX_MEMORY": "32M",
                      "CORDON_SANDBOX_TIMEOUT": "60"}, id="env-limits"),
    pytest.param([], {"CORDON_SANDBOX_MEMORY": ""}, id="empty-env-is-unset"),
])
def test_sandbox_settings_accepted(tmp_path, run_cordon, args, env):
    (tmp_path / "in.raw").write_bytes(data(1500))
    c = run_cordon([*args, *IO], tmp_path, extra_env=env)
    assert (c.rc, c.stderr) == (0, "")
    assert c.files["out.raw"][:1500] == data(1500)


# ---- seeded random operands: differential, beyond the hand-picked cases -------

def _random_cases(seed=2024, n=60):
    import random
    rng = random.Random(seed)
    tricky = ["0", "1", "512", "777", "1.5k", "0.5k", "1.k", "0x200", "0x1k",
              "1m", "2g", "16E", "8E", "-1", "+3", " 2", "1.99999999999999999999k",
              "9223372036854775807", "99999999999999999999", "3x", "1kk", "",
              "0.000001k", "0.5e", "1.5e", "0X10", "1.0"]

    def value():
        if rng.random() < 0.5:
            return str(rng.choice([0, 1, 2, 3, 7, 100, 511, 512, 513, 1000,
                                   1024, 1500, 4096, 65537, 2**31 - 1]))
        return rng.choice(tricky)

    for i in range(n):
        args = [f"{k}={value()}" for k in
                rng.sample(["bs", "count", "skip"], rng.randint(1, 3))]
        args += IO
        rng.shuffle(args)
        size = rng.choice([0, 1, 511, 512, 1500, 4097, 100000])
        yield pytest.param(args, {"in.raw": data(size, seed=i)},
                           id=f"random-{i}-{size}")


@pytest.mark.parametrize("args,inputs", list(_random_cases()))
def test_dd_random_operands_match_qemu_img(dd_compare, args, inputs):
    dd_compare(args, inputs)
