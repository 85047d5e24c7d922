"""The benchmark's arithmetic: medians, summed stages, ratios to the floor, targets."""

from __future__ import annotations

from bench.measure import Measurement
from bench.report import Results, markdown, rows, targets

GiB = 2**30


def _results() -> Results:
    results = Results(
        sizes=["small", "large"],
        increment_size="large",
        machine={
            "cpu": "test cpu",
            "cores": "2",
            "memory": "24.0 GiB",
            "os": "Linux",
            "python": "3.11",
            "versions": "duckdb 2.0.0",
            "commit": "abc1234",
        },
        command="python -m bench.run",
        load_before="1.00 / 1.00 / 1.00",
    )
    for seconds in (10, 30, 20):
        results.add("small", "clinicops run", Measurement(seconds, GiB))
    for floor, land, build, publish in ((10, 5, 20, 1), (12, 6, 30, 2), (11, 4, 25, 1)):
        results.add("large", "floor", Measurement(floor, GiB))
        results.add("large", "land", Measurement(land, 2 * GiB))
        results.add("large", "dbt build", Measurement(build, 3 * GiB))
        results.add("large", "publish", Measurement(publish, GiB))
        results.add("large", "increment land", Measurement(0.5, GiB))
        results.add("large", "increment build", Measurement(2, GiB))
        results.add("large", "increment publish", Measurement(0.5, GiB))
    return results


def test_full_build_sums_each_repeat_then_takes_the_median() -> None:
    by_step = {(r.size, r.step): r for r in rows(_results())}
    full = by_step[("large", "full build (land + build + publish)")]
    # repeats sum to 26, 38, 30: the median is 30, not the sum of the stage medians (31)
    assert full.seconds == 30
    assert full.peak_rss == 3 * GiB
    assert full.ratio == "2.7×"  # 30 / median floor 11
    assert by_step[("small", "clinicops run (Dagster)")].seconds == 20
    assert by_step[("large", "increment (one week)")].ratio == "10% of full build"


def test_targets_say_which_are_met() -> None:
    found = {name: (measured, met) for name, measured, met in targets(_results())}
    assert found["large full build ≤ 3× the floor"] == ("2.7×", True)
    assert found["large full build peak ≤ 4 GiB"] == ("3.00 GiB", True)
    assert found["increment ≤ 10% of the large full build"] == ("10%", True)
    assert found["small whole `clinicops run` ≤ 60 s"] == ("20 s", True)


def test_markdown_keeps_hand_written_findings() -> None:
    text = markdown(_results(), kept_findings="## Findings\nthe build spills.\n")
    assert "test cpu, 2 cores; memory 24.0 GiB" in text
    assert "| large | floor | 11.0 | 3 | 1.00 GiB | 1.0× |" in text
    assert text.rstrip().endswith("the build spills.")
