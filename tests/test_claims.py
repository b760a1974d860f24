"""claim(): ✅ when the check holds, ❌ when not, and no verdict on a quick-mode run that fails."""
import numpy as np
import pytest

from gan_lessons.claims import FAIL, PASS, TOO_SHORT, UNJUDGED, claim, quick_note


def test_a_claim_that_holds_prints_a_tick_and_its_numbers(capsys, monkeypatch):
    monkeypatch.setenv("GAN_LESSONS_QUICK", "0")
    c = claim("D is within 0.05 of 1/2", measured={"max |D - 1/2|": 0.0312, "n": 2500}, holds=0.0312 <= 0.05)
    out = capsys.readouterr().out
    assert out == f"{PASS} D is within 0.05 of 1/2 (measured: max |D - 1/2| = 0.0312, n = 2,500)\n"
    assert c.holds and c.mark == PASS


def test_a_claim_that_fails_in_full_mode_prints_a_cross(capsys, monkeypatch):
    monkeypatch.setenv("GAN_LESSONS_QUICK", "0")
    jsd = np.float64(0.041)
    c = claim("the JSD estimate is 0.01 nats or less", {"jsd": jsd}, holds=jsd <= 0.01)
    out = capsys.readouterr().out
    assert out.startswith(FAIL) and "jsd = 0.041" in out and TOO_SHORT not in out
    assert not c.holds


def test_in_quick_mode_a_failing_claim_is_not_judged_and_says_why(capsys, monkeypatch):
    monkeypatch.setenv("GAN_LESSONS_QUICK", "1")
    claim("G covers 8 of 8 modes", {"modes": 3}, holds=3 == 8)
    out = capsys.readouterr().out
    assert out.startswith(UNJUDGED) and FAIL not in out and out.rstrip().endswith(TOO_SHORT)
    claim("G covers at least 1 mode", {"modes": 3}, holds=3 >= 1)
    assert capsys.readouterr().out.startswith(PASS)  # one that holds is still ticked


@pytest.mark.parametrize("kwargs, fragment", [
    ({"statement": "", "holds": True}, "statement"),
    ({"statement": "x", "measured": [1, 2], "holds": True}, "measured"),
    ({"statement": "x", "holds": 0.3}, "holds"),
    ({"statement": "x", "holds": np.array([True, False])}, "holds"),
])
def test_bad_arguments_name_themselves(kwargs, fragment):
    with pytest.raises(ValueError, match=fragment):
        claim(**kwargs)


def test_quick_note_speaks_only_in_quick_mode(capsys, monkeypatch):
    monkeypatch.setenv("GAN_LESSONS_QUICK", "1")
    quick_note("300 iterations are too few to draw digits")
    assert capsys.readouterr().out == ("quick mode: 300 iterations are too few to draw digits "
                                       "(the committed lesson shows the full run)\n")
    monkeypatch.setenv("GAN_LESSONS_QUICK", "0")
    quick_note("300 iterations are too few to draw digits")
    assert capsys.readouterr().out == ""
    with pytest.raises(ValueError, match="what"):
        quick_note("  ")
