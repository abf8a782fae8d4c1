"""Names cut in the middle keep their start and the end that tells them apart, neutralised."""

from ftui.textsafe import one_line_mid


def test_a_long_name_keeps_its_kind_and_its_distinguishing_end() -> None:
    cut = one_line_mid("run:20261203-190235-lora-demo-47fc", 24)
    assert len(cut) == 24 and cut.startswith("run:") and cut.endswith("lora-demo-47fc") and "…" in cut


def test_a_short_name_is_untouched_and_control_sequences_are_neutralised() -> None:
    assert one_line_mid("base", 24) == "base"
    cut = one_line_mid("run:\x1b[31mred\x1b[0m-" + "x" * 40 + "-tail", 20)
    assert "\x1b" not in cut and cut.endswith("-tail") and len(cut) == 20
