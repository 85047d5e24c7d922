"""The board deck as an asset downstream of the serving file.

The weekly job materialises it after every build; the deck of a month is built once,
by the first build after that month is complete, so a deck the board has received never
changes underneath it. Delete the files to rebuild one.
"""

from dagster import AssetExecutionContext, MaterializeResult, asset

from pipelines.defs.resources import ClinicopsResource


@asset(
    key=["reports", "board_deck"],
    deps=[["serving"]],
    group_name="reports",
    kinds={"pptx", "pdf"},
    description="<home>/reports/board-YYYY-MM.pptx and .pdf: the last complete month's deck.",
)
def board_deck(context: AssetExecutionContext, clinicops: ClinicopsResource):
    # Imported here: loading the definitions should not pay for pptx, Plotly and kaleido.
    from dashboards.reports.deck import DeckOptions, build_deck
    from dashboards.reports.periods import last_complete_month
    from dashboards.reports.serving import published_as_of

    home = clinicops.practice_home()
    config = clinicops.practice_config()
    period = last_complete_month(published_as_of(home.serving))
    out = home.root / "reports" / f"board-{period.code}"
    pptx = out.with_name(out.name + ".pptx")
    if pptx.exists():
        context.log.info(f"{pptx} exists; the deck of {period.label} is already out")
        return MaterializeResult(metadata={"path": str(pptx), "built": False})
    options = DeckOptions(config.practice.name, config.reports.deck_provider_ids)
    result = build_deck(home.serving, period, out, options)
    context.log.info(f"wrote {result.pptx} and {result.pdf} in {result.seconds:.1f} s")
    return MaterializeResult(
        metadata={
            "path": str(result.pptx),
            "pdf": str(result.pdf),
            "period": period.code,
            "slides": len(result.slide_titles),
            "seconds": round(result.seconds, 1),
            "built": True,
        }
    )
