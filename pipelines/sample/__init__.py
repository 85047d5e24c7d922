"""A fake but realistic medical practice, written as deliveries in the inbox layout.

`generate_practice` writes the first delivery (two years of history by default);
`generate_corrections` writes the next one, which corrects some of those rows and
carries one broken row per kind of contract violation, so that every path of landing
and every KPI has something to chew on.
"""

from pipelines.sample.corrections import generate_corrections
from pipelines.sample.practice import generate_practice

__all__ = ["generate_corrections", "generate_practice"]
