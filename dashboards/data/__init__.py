"""The one data layer the pages, the deck and the digest read."""
