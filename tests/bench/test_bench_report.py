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


def test_peer_side_by_side_and_page_targets() -> None:
    results = Results(
        sizes=["30x52", "100x104"],
        increment_size=None,
        machine=_results().machine,
        command="python -m bench.run",
        load_before="1.00 / 1.00 / 1.00",
    )
    for peer, run in ((20, 5), (22, 8), (21, 6)):
        results.add("30x52", "pandas peer", Measurement(peer, GiB))
        results.add("30x52", "clinicops run", Measurement(run, GiB))
    results.add("100x104", "pandas peer", Measurement(200, GiB))
    results.add("100x104", "clinicops run", Measurement(20, GiB))
    for p95 in (0.25, 0.35):
        results.add_pages("100x104", {"scorecard": {"cold_s": 1, "p50_s": 0.1, "p95_s": p95}})
    results.add_pages("100x104", {"cost": {"cold_s": 1, "p50_s": 0.1, "p95_s": 0.2}})
    found = {name: (measured, met) for name, measured, met in targets(results)}
    # medians 21 s and 6 s: 3.5×, met; 10× at 100x104 misses 20×
    assert found["30x52: `clinicops run` ≥ 3× faster than the pandas peer"] == (
        "3.50× (6 s against 21 s)",
        True,
    )
    assert found["100x104: `clinicops run` ≥ 20× faster than the pandas peer"][1] is False
    # the worst page's worst repeat decides
    assert found["100x104: every page's warm server time p95 ≤ 300 ms"] == (
        "worst 350 ms (scorecard)",
        False,
    )
    text = markdown(results)
    assert "| 30x52 | 21.0 | 6.0 | 3.50× |" in text
    assert "| 100x104 | scorecard | 1.00 | 100 | 350 |" in text
